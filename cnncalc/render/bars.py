"""Pictures in the terminal: share bars, per-layer bar charts and the
receptive-field growth view.

Everything here returns plain strings (the caller adds colour), so the same
code serves a terminal (Unicode eighth blocks) and a pipe or file (ASCII
``#``), and golden files can pin the output at a fixed width. Bar lengths are
exact integer arithmetic on the counts (cheap enough for 10,000-layer
tables): no floats decide a cell.
"""

from __future__ import annotations

from ..analysis import Analysis, LayerResult
from ..lazy import Fraction
from ..receptive import format_number
from ..units import grouped, human_bytes, human_count
from . import Chart  # noqa: F401  (re-exported: the vocabulary of --chart)

EIGHTHS = " ▏▎▍▌▋▊▉"
FULL = "█"


def bar(value: int | Fraction, total: int | Fraction, width: int, *, unicode: bool = True) -> str:
    """A left-aligned bar ``width`` cells wide, filled value/total of the way.

    Unicode bars resolve eighths of a cell; ASCII bars whole cells of ``#``.
    A non-zero value never disappears: it gets at least the smallest mark.
    """
    if width <= 0:
        return ""
    if total <= 0 or value <= 0:
        return " " * width
    steps = 8 if unicode else 1
    if value > total:
        value = total
    if value.__class__ is not int or total.__class__ is not int:  # Fractions: scale to integers
        value, total = Fraction(value), Fraction(total)
        value, total = value.numerator * total.denominator, total.numerator * value.denominator
    # n = round-half-up(value / total · width · steps), in integers
    n = (2 * value * width * steps + total) // (2 * total)
    if unicode:
        full, part = divmod(max(n, 1), 8)
        text = FULL * full + (EIGHTHS[part] if part else "")
    else:
        text = "#" * n if n else "."
    return text.ljust(width)


def percent(value: int, total: int) -> str:
    """Share as a percentage with one decimal (exact rounding), '0%' for nothing."""
    if total <= 0 or value <= 0:
        return "0%"
    tenths = (2000 * value + total) // (2 * total)  # ⌊1000·value/total + 1/2⌋, in integers
    if tenths == 0:
        return "<0.1%"
    return f"{tenths // 10}.{tenths % 10}%"


def share_cell(value: int, total: int, *, width: int, unicode: bool, with_percent: bool = True) -> str:
    """The table's share column: a bar and the percentage (terminal; the bar
    alone when ``with_percent`` is false), or the percentage alone (plain
    text); empty for a layer with none."""
    if value <= 0 or total <= 0:
        return ""
    pct = percent(value, total)
    if not unicode:
        return pct
    if not with_percent:
        return bar(value, total, width)
    return f"{bar(value, total, width)} {pct:>5}"


# -- analyze --chart ------------------------------------------------------------

def _value(r: LayerResult, chart: Chart) -> int:
    if chart is Chart.PARAMS:
        return r.params.trainable
    if chart is Chart.MACS:
        return r.macs
    return r.activation_bytes


def _total(analysis: Analysis, chart: Chart) -> int:
    t = analysis.totals
    return {Chart.PARAMS: t.params_trainable, Chart.MACS: t.macs, Chart.MEMORY: t.activation_bytes}[chart]


def _human(chart: Chart, n: int) -> str:
    return human_bytes(n) if chart is Chart.MEMORY else human_count(n)


_TITLES = {
    Chart.PARAMS: "Trainable parameters per layer",
    Chart.MACS: "Multiplications (MACs) per layer, per sample",
    Chart.MEMORY: "Output activation memory per layer",
}


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def chart_lines(analysis: Analysis, chart: Chart, *, width: int = 100, unicode: bool = True) -> list[str]:
    """A horizontal bar chart of one quantity, one line per layer:
    ``name  type  bar  value  share``, fitted to ``width`` columns."""
    chart = Chart(chart)
    total = _total(analysis, chart)
    rows = [r for r in analysis.layers if _value(r, chart)]  # layers with none are left out
    omitted = len(analysis.layers) - len(rows)
    name_w = min(max([len(r.name) for r in rows] + [5]), 24)
    type_w = min(max([len(r.type_name) for r in rows] + [4]), 20)
    values = [_value(r, chart) for r in rows]
    value_w = max([len(_human(chart, v)) for v in values] + [5])
    fixed = name_w + 2 + type_w + 2 + 2 + value_w + 2 + 6
    bar_w = max(width - fixed, 10)
    title = analysis.graph.name or analysis.graph.file or "network"
    head = f"{_TITLES[chart]}: {title}, total {_human(chart, total)} ({grouped(total)}"
    head += " bytes)" if chart is Chart.MEMORY else ")"
    lines = [head]
    for r, v in zip(rows, values):
        lines.append(
            f"{_clip(r.name, name_w):<{name_w}}  {_clip(r.type_name, type_w):<{type_w}}  "
            f"{bar(v, total, bar_w, unicode=unicode)}  {_human(chart, v):>{value_w}}  {percent(v, total):>6}".rstrip()
        )
    if omitted:
        lines.append(f"({omitted} of {len(analysis.layers)} layers have none and are not shown.)")
    if chart is Chart.MACS:
        lines.append(f"Convention: {analysis.convention.value}.")
    elif chart is Chart.MEMORY:
        lines.append(f"Outputs × batch {analysis.batch} × {analysis.dtype}.")
    return lines


# -- analyze --rf ----------------------------------------------------------------

def _axes(rf, attr) -> str:
    return "×".join(format_number(getattr(a, attr)) for a in rf)


def rf_lines(analysis: Analysis, *, width: int = 100, unicode: bool = True) -> list[str]:
    """How the receptive field grows layer by layer: size r, jump j and start
    per axis, and a bar of r as a share of the input extent (full = the whole
    input; '+' when the field is larger than the input)."""
    extents = analysis.input_shape[1:]
    rows = analysis.layers
    cells = []
    for r in rows:
        if not r.rf:
            cells.append((r, "—", "—", "—", None))
            continue
        whole = any(a.whole for a in r.rf)
        size = "whole" if whole else _axes(r.rf, "size")
        share = max(Fraction(a.size) / e for a, e in zip(r.rf, extents)) if extents else Fraction(1)
        cells.append((r, size, _axes(r.rf, "jump"), _axes(r.rf, "start"), Fraction(1) if whole else share))
    name_w = min(max([len(r.name) for r in rows] + [5]), 24)
    type_w = min(max([len(r.type_name) for r in rows] + [4]), 20)
    size_w = max([len(c[1]) for c in cells] + [4])
    jump_w = max([len(c[2]) for c in cells] + [4])
    start_w = max([len(c[3]) for c in cells] + [5])
    fixed = name_w + 2 + type_w + 2 + size_w + 2 + jump_w + 2 + start_w + 2 + 1
    bar_w = max(width - fixed, 10)
    title = analysis.graph.name or analysis.graph.file or "network"
    lines = [
        f"Receptive field per layer: {title}, input {'×'.join(map(str, extents))} (per spatial axis, in input pixels)",
        f"{'layer':<{name_w}}  {'type':<{type_w}}  {'size':>{size_w}}  {'jump':>{jump_w}}  {'start':>{start_w}}  "
        f"size / input",
    ]
    for r, size, jump, start, share in cells:
        picture = "" if share is None else bar(min(share, Fraction(1)), 1, bar_w, unicode=unicode)
        over = "+" if share is not None and share > 1 else ""
        lines.append(
            f"{_clip(r.name, name_w):<{name_w}}  {_clip(r.type_name, type_w):<{type_w}}  {size:>{size_w}}  "
            f"{jump:>{jump_w}}  {start:>{start_w}}  {picture}{over}".rstrip()
        )
    lines.append("size: input pixels one output sees; jump: input pixels between adjacent outputs; "
                 "start: centre of the first output's field (may be negative or a half-integer).")
    return lines
