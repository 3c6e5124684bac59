"""``diff --format html``: one self-contained page with both versions in one
drawing (added layers green, removed red and dashed, changed yellow), the
totals with their deltas and the aligned layer table."""

from __future__ import annotations

from ..compare import ADDED, CHANGED, REMOVED, SAME
from ..units import grouped
from .html import esc, page, svg_graph

_CSS_ROWS = ("<style>tr.added td{background:#e6ffec}tr.removed td{background:#ffebe9;text-decoration:line-through}"
             "tr.changed td{background:#fff8c5}.legend-box{display:inline-block;width:14px;height:14px;"
             "vertical-align:middle;border:2px solid;border-radius:3px;margin:0 4px 0 12px}</style>")


def _signed(n: int) -> str:
    return "0" if n == 0 else (f"+{n:,}" if n > 0 else f"−{-n:,}")


def render(d, *, changes_only: bool = False) -> str:
    from .diff import _pct, renamed_line, settings_line, summary_line, what_changed
    from .netgraph import from_diff

    g = from_diff(d, context=1 if changes_only else None)
    parts = [_CSS_ROWS, f"<header><h1>{esc(d.old.label)} → {esc(d.new.label)}</h1>",
             f'<p><b>{esc(summary_line(d))}</b></p><p class="note">{esc(settings_line(d))}</p>']
    if d.auto_renamed:
        parts.append(f'<p class="note">{esc(renamed_line(d))}</p>')
    for w in d.warnings():
        parts.append(f'<p class="note">warning: {esc(w)}</p>')
    parts.append('<table class="layers"><thead><tr><th></th><th>old</th><th>new</th><th>Δ</th><th>Δ %</th></tr>'
                 "</thead><tbody>")
    for label, _unit, old, new in d.totals():
        parts.append(f'<tr><td>{esc(label)}</td><td class="n">{grouped(old)}</td><td class="n">{grouped(new)}</td>'
                     f'<td class="n">{esc(_signed(new - old))}</td><td class="n">{esc(_pct(old, new))}</td></tr>')
    parts.append("</tbody></table></header>")
    legend = ('<p class="note"><span class="legend-box" style="background:#e6ffec;border-color:#1a7f37"></span>added'
              '<span class="legend-box" style="background:#ffebe9;border-color:#cf222e;border-style:dashed"></span>'
              'removed<span class="legend-box" style="background:#fff8c5;border-color:#9a6700"></span>changed'
              + (f" · {esc(g.note)}" if g.note else "") + "</p>")
    if g.nodes:
        drawing = svg_graph(g)
        parts.append(f'<section id="graph"><h2>Network</h2>{legend}<div class="scroll">{drawing}</div></section>')
    else:
        parts.append(f'<section id="graph"><h2>Network</h2><p>{esc(g.note)}</p></section>')
    rows = []
    for row in d.rows:
        if changes_only and not row.notable:
            continue
        cells = []
        for rec in (row.old, row.new):
            if rec is None:
                cells += [""] * 5
            else:
                cells += [str(rec.index), rec.name, rec.type, rec.shape_text, grouped(rec.params), grouped(rec.macs)][1:]
        what = what_changed(row) if row.status in (SAME, CHANGED) else row.status
        cls = "" if row.status == SAME else f' class="{row.status}"'
        tds = "".join(f"<td>{esc(c)}</td>" for c in cells)
        rows.append(f"<tr{cls}><td>{esc({ADDED: '+', REMOVED: '−', CHANGED: '~'}.get(row.status, ''))}</td>{tds}"
                    f'<td class="n">{esc(_signed(row.delta("params")))}</td>'
                    f'<td class="n">{esc(_signed(row.delta("macs")))}</td><td>{esc(what)}</td></tr>')
    head = "".join(f"<th>{h}</th>" for h in (
        "", "Layer (old)", "Type", "Output", "Params", "MACs", "Layer (new)", "Type", "Output", "Params", "MACs",
        "Δ Params", "Δ MACs", "What changed"))
    parts.append(f'<section id="table"><h2>Layers</h2><p class="note">Click a column heading to sort.</p>'
                 f'<div class="tablewrap"><table class="layers"><thead><tr>{head}</tr></thead><tbody>'
                 + "\n".join(rows) + "</tbody></table></div></section>")
    parts.append('<footer><p class="note">Made by cnncalc diff; this file needs no network and loads nothing.'
                 "</p></footer>")
    return page(f"{d.old.label} → {d.new.label} · cnncalc diff", "\n".join(parts))
