"""``check --format html``: every limit as a bar against its budget (the
black mark is the limit; green within it, red past it), per spec, with the
baseline's changes — one self-contained page for a CI artifact."""

from __future__ import annotations

from fractions import Fraction

from .html import esc, page

BAR_PX = 360
LIMIT_AT = Fraction(2, 3)  # the limit mark sits at two thirds of the bar, room to show an excess


def _bar(c) -> str:
    """The measured value as a bar, the limit as a mark."""
    if c.limit > 0:
        ratio = Fraction(c.measured) / c.limit
    else:
        ratio = Fraction(0) if not c.measured else Fraction(3, 2)
    fill = min(ratio * LIMIT_AT, Fraction(1))
    cls = "bar" if c.passed else "bar fail"
    return (f'<div class="{cls}" role="img" aria-label="{esc(f"{float(ratio) * 100:.1f}% of the limit")}">'
            f'<i style="width:{float(fill) * BAR_PX:.1f}px"></i><b style="left:{float(LIMIT_AT) * BAR_PX:.1f}px"></b>'
            "</div>")


def render(reports) -> str:
    from .check import change_text, error_text, margin_text, row_change_text, value_text

    counts = {}
    for r in reports:
        counts[r.status] = counts.get(r.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    parts = [f"<header><h1>cnncalc check</h1><p><b>{esc(summary)}</b> ({len(reports)} spec"
             f"{'s' if len(reports) != 1 else ''})</p>"
             '<p class="note">Each bar is a measured value; the black mark is its limit (green: within, red: '
             "over; a ≥ limit passes at or past the mark).</p></header>"]
    for r in reports:
        title = r.name or r.spec
        parts.append(f'<section><h2>{esc(title)} <span class="{esc(r.status)}">{esc(r.status.upper())}</span></h2>'
                     f'<p class="note">{esc(r.spec)} · batch {r.batch}, {esc(r.dtype)}, optimizer {esc(r.optimizer)}, '
                     f"MACs under the {esc(r.convention)} convention"
                     + (f" · baseline {esc(r.baseline)}" if r.baseline else "") + "</p>")
        if r.error is not None:
            parts.append(f'<p class="error">{esc(error_text(r.error))}</p>')
        if r.skipped is not None:
            parts.append(f'<p class="note">{esc(r.skipped)}</p>')
        if r.checks:
            parts.append('<table class="bars"><thead><tr><th>Limit</th><th>Measured</th><th></th><th>Limit</th>'
                         "<th>Margin</th><th>Source</th></tr></thead><tbody>")
            for c in r.checks:
                what = c.title + (f" at {c.subject}" if c.subject else "")
                extra = ""
                if c.baseline is not None:
                    extra = f"<br><span class=\"note\">baseline {esc(value_text(c.baseline, c.unit))}, " \
                            f"change {esc(change_text(c.baseline, c.measured))}</span>"
                parts.append(
                    f'<tr><td class="{"pass" if c.passed else "fail"}">{esc(what)}</td>'
                    f"<td>{esc(value_text(c.measured, c.unit))}{extra}</td><td>{_bar(c)}</td>"
                    f"<td>{esc(value_text(c.limit, c.unit))}</td><td>{esc(margin_text(c.margin))}</td>"
                    f"<td>{esc(c.source)}</td></tr>")
            parts.append("</tbody></table>")
        if r.changes:
            parts.append("<h3>Changes against the baseline</h3><ul>"
                         + "".join(f"<li>{esc(row_change_text(row))}</li>" for row in r.changes) + "</ul>")
        for note in r.notes:
            parts.append(f'<p class="note">{esc(note)}</p>')
        parts.append("</section>")
    return page("cnncalc check", "\n".join(parts))
