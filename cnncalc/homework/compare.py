"""Two designs side by side: receptive field, parameters, multiplications, memory, with exact ratios."""

from __future__ import annotations

from fractions import Fraction

from ..receptive import format_number
from ..records import record
from ..units import grouped, human_bytes
from .explain import decimal


@record
class Row:
    quantity: str
    a: str
    b: str
    ratio: str  # a / b


def _ratio(a, b) -> str:
    if b == 0:
        return "—" if a == 0 else "∞"
    r = Fraction(a) / Fraction(b)
    if r == 1:
        return "1 (same)"
    return decimal(r)


def _rf(analysis):
    rf = analysis.output_rf
    if rf and not any(a.whole for a in rf):
        return tuple(a.size for a in rf), "at the output"
    spatial = [r for r in analysis.layers if r.rf and not any(a.whole for a in r.rf)]
    if spatial:
        return tuple(a.size for a in spatial[-1].rf), f"largest spatial field ({spatial[-1].name})"
    return None, "whole input"


def compare(a, b) -> list[Row]:
    """Rows for analyses ``a`` and ``b`` (ratios are a / b)."""
    ta, tb = a.totals, b.totals
    rows = []
    rfa, where_a = _rf(a)
    rfb, where_b = _rf(b)
    if rfa and rfb:
        same = rfa == rfb
        ra = "×".join(map(format_number, rfa))
        rb = "×".join(map(format_number, rfb))
        ratio = "1 (same)" if same else " × ".join(_ratio(x, y) for x, y in zip(rfa, rfb))
        rows.append(Row(f"receptive field ({where_a})" if where_a == where_b else "receptive field", ra, rb, ratio))
    rows.append(Row("output shape", "×".join(map(str, a.layers[-1].output_shape)),
                    "×".join(map(str, b.layers[-1].output_shape)), ""))
    from .grade import has_weights

    wa, wb = (sum(1 for r in x.layers if has_weights(r)) for x in (a, b))
    rows.append(Row("layers with weights (the lectures' count)", str(wa), str(wb), _ratio(wa, wb)))
    rows.append(Row("layers (every row: activations, pools…)", str(len(a.layers)), str(len(b.layers)), ""))
    rows.append(Row("parameters", grouped(ta.params_trainable), grouped(tb.params_trainable),
                    _ratio(ta.params_trainable, tb.params_trainable)))
    rows.append(Row("multiplications", grouped(ta.multiplications), grouped(tb.multiplications),
                    _ratio(ta.multiplications, tb.multiplications)))
    rows.append(Row("activation memory", human_bytes(ta.activation_bytes), human_bytes(tb.activation_bytes),
                    _ratio(ta.activation_bytes, tb.activation_bytes)))
    rows.append(Row("parameter and buffer memory", human_bytes(ta.param_bytes), human_bytes(tb.param_bytes),
                    _ratio(ta.param_bytes, tb.param_bytes)))
    return rows


def render(rows, name_a: str, name_b: str) -> list[str]:
    head = ("", name_a, name_b, f"ratio {name_a} / {name_b}" if len(name_a) + len(name_b) < 30 else "ratio A / B")
    table = [head] + [(r.quantity, r.a, r.b, r.ratio) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    lines = []
    for n, row in enumerate(table):
        lines.append("  ".join((row[0].ljust(widths[0]), row[1].rjust(widths[1]), row[2].rjust(widths[2]),
                                row[3])).rstrip())
        if n == 0:
            lines.append("  ".join("─" * w for w in widths))
    return lines
