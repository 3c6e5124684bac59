"""``analyze --format html``: one self-contained report file.

Everything is inline — styles, a few lines of script, the drawing as SVG —
and a Content-Security-Policy forbids any fetch, so the report opens offline
and can be kept as a CI artifact. It holds:

* the network drawn by :mod:`cnncalc.render.layout` (one box per layer:
  name, type, output shape, parameters, MACs; an edge for every input;
  blocks as groups that collapse on a click; merges drawn as pills where the
  paths join), shaded by each layer's share of the MACs or the parameters;
* the per-layer table (sortable by any column; :func:`table_fragment` is the
  same table for notebooks, :func:`drawing_fragment` the drawing) and the
  totals with the counting convention;
* the receptive field: for a chosen layer, the input grid with that layer's
  field, jump and start drawn over it, and the field size layer by layer.

Every piece of spec text goes through :func:`esc` (HTML) or :func:`json_for_script`
(data for the script), so a layer named ``</script><script>…`` is text.
"""

from __future__ import annotations

import json
from fractions import Fraction

from ..receptive import format_number
from ..units import grouped, human_bytes, human_count

CHAR_W = 6.7  # px per character of the boxes' 11px monospace text
LINE_H = 14
BOX_PAD = 8
MIN_BOX, MAX_BOX = 120, 300
NAME_CHARS = 40
LINE_CHARS = int((MAX_BOX - 2 * BOX_PAD) / CHAR_W)  # what fits the widest box
GROUP_PAD, GROUP_LABEL = 6, 14
STATUS_FILL = {"added": "#e6ffec", "removed": "#ffebe9", "changed": "#fff8c5"}
MERGES = {"add", "concat", "multiply", "mul", "sub", "subtract", "maximum", "minimum", "average", "mean", "stack"}


_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"})


def esc(text) -> str:
    """Text or attribute value for HTML: & < > " ' as entities; line breaks
    kept (a description may have several lines), every other control character
    shown as an escape, and no line starting with ``::`` (an HTML report printed
    in a CI log must not pass for a workflow command): cnncalc.render.escape."""
    out = str(text).translate(_ESCAPES)
    if not out.isprintable() or out.lstrip().startswith("::"):
        from .escape import line_text

        out = "\n".join(line_text(line) for line in out.replace("\r\n", "\n").split("\n"))
    return out


def json_for_script(data) -> str:
    """JSON safe inside <script type="application/json">: no '<', '>' or '&'
    (so no '</script>' or '<!--'), ASCII only (no U+2028 surprises)."""
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _text_width(text: str) -> float:
    if not text or max(text) < "\u0300":  # Latin-1 and the like (× and ·): one cell each
        return len(text) * CHAR_W
    from .fasttable import _width

    return _width(text) * CHAR_W


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def share_fill(value: int, total: int, hue: str) -> str:
    """Fill colour of a box by its share of a total: white → full colour at a
    quarter of the total (so the few expensive layers stand out)."""
    if total <= 0 or value <= 0:
        return "#ffffff"
    level = min(1000, (value * 4000 + total - 1) // total)  # per mille of "full"
    r0, g0, b0 = {"macs": (230, 120, 20), "params": (130, 80, 200)}[hue]
    mix = lambda c: 255 - (255 - c) * level // 1000  # noqa: E731
    return f"#{mix(r0):02x}{mix(g0):02x}{mix(b0):02x}"


def _pct(value: int, total: int) -> str:
    if total <= 0 or value <= 0:
        return ""
    tenths = (value * 1000 + total // 2) // total
    return "<0.1%" if tenths == 0 else f"{tenths // 10}.{tenths % 10}%"


# -- the drawing ------------------------------------------------------------------------


def svg_graph(g, *, totals: tuple[int, int] | None = None) -> str:
    """The network (a :class:`~cnncalc.render.netgraph.NetGraph`) as SVG,
    laid out in layers. ``totals``: (params, MACs) for shading the boxes
    (switchable in the page); a diff's boxes are coloured by their status."""
    from .layout import layered

    by_id = {n.id: n for n in g.nodes}
    boxes = {}
    for n in g.nodes:
        if n.is_input:
            lines = [("input", "b"), (n.shape, "")] if n.shape else [("input", "b")]
        else:
            lines = [(_clip(n.name, NAME_CHARS), "b"), (f"{n.type} · {n.shape}" if n.shape else n.type, "")]
            counts = []
            if n.params:
                counts.append(f"{human_count(n.params)} params")
            if n.macs:
                counts.append(f"{human_count(n.macs)} MACs")
            if counts:
                lines.append((" · ".join(counts), "m"))
            if n.detail:
                lines.append((_clip(n.detail, LINE_CHARS), "d"))
            lines = [(_clip(t, LINE_CHARS), k) for t, k in lines]
        w = max(MIN_BOX, min(MAX_BOX, max(_text_width(t) for t, _ in lines) + 2 * BOX_PAD))
        h = len(lines) * LINE_H + 2 * BOX_PAD - 2
        boxes[n.id] = (w, h, lines)
    ids = [n.id for n in g.nodes]
    sub, members = g.children()
    above, below = {}, {}
    first, last = {}, {}
    for n in g.nodes:  # room for the label and border of each group a node opens/closes
        gid = n.group
        while gid is not None:
            first.setdefault(gid, n.id)
            last[gid] = n.id
            gid = g.groups[gid].parent
    for gid in first:
        above[first[gid]] = above.get(first[gid], 0) + GROUP_LABEL + GROUP_PAD
        below[last[gid]] = below.get(last[gid], 0) + GROUP_PAD
    lay = layered(ids, {i: boxes[i][:2] for i in ids}, [(e.src, e.dst) for e in g.edges], above=above,
                  below=below, cluster={n.id: n.group for n in g.nodes})
    in_degree: dict = {}
    for e in g.edges:
        in_degree[e.dst] = in_degree.get(e.dst, 0) + 1

    # group boxes: around their members (and subgroups), padded by nesting
    bounds = {}

    def measure(gid, level):
        """The box around a group's members and subgroups (None if empty)."""
        xs0, ys0, xs1, ys1 = [], [], [], []
        for nid in members.get(gid, ()):
            w, h, _ = boxes[nid]
            xs0.append(lay.x[nid] - w / 2)
            xs1.append(lay.x[nid] + w / 2)
            ys0.append(lay.y[nid])
            ys1.append(lay.y[nid] + h)
        for child in sub.get(gid, ()):
            got = measure(child, level + 1)
            if got is not None:
                xs0.append(got[0])
                ys0.append(got[1])
                xs1.append(got[2])
                ys1.append(got[3])
        if not xs0:
            return None
        box = (min(xs0) - GROUP_PAD, min(ys0) - GROUP_PAD - GROUP_LABEL, max(xs1) + GROUP_PAD, max(ys1) + GROUP_PAD)
        bounds[gid] = (box, level)
        return box

    for top in sub.get(None, ()):
        measure(top, 0)
    if bounds:
        left = min(b[0][0] for b in bounds.values())
        top_y = min(b[0][1] for b in bounds.values())
    else:
        left = top_y = 0
    dx, dy = max(0.0, 10 - left), max(0.0, 10 - top_y)
    width = max(lay.width, max((b[0][2] for b in bounds.values()), default=0) + 10) + dx
    height = max(lay.height, max((b[0][3] for b in bounds.values()), default=0) + 10) + dy

    def px(v):
        return f"{v:.1f}".rstrip("0").rstrip(".")

    ancestors = {}
    for gid in g.groups:
        chain, cur = [], gid
        while cur is not None:
            chain.append(cur)
            cur = g.groups[cur].parent
        ancestors[gid] = chain
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="net" width="{px(width)}" height="{px(height)}" '
           f'viewBox="0 0 {px(width)} {px(height)}" role="img" aria-label="{esc(g.title)}">',
           f'<g transform="translate({px(dx)},{px(dy)})">']
    sums = _group_sums(by_id, members, sub)
    for gid, ((x0, y0, x1, y1), level) in sorted(bounds.items(), key=lambda kv: kv[1][1]):
        grp = g.groups[gid]
        title = grp.name if grp.kind == "group" else f"{grp.name} · {grp.kind}"
        out.append(
            f'<g class="grp" data-g="{gid}"><rect class="grp-box" x="{px(x0)}" y="{px(y0)}" width="{px(x1 - x0)}" '
            f'height="{px(y1 - y0)}" rx="8"/><text class="grp-label" x="{px(x0 + 8)}" y="{px(y0 + 13)}" '
            f'data-g="{gid}">▾ {esc(_clip(title, _fits(x1 - x0)))}<title>{esc(title)}</title></text></g>')
    for e, route in zip(g.edges, lay.routes):
        d = _path(route, px)
        cls = "edge elided" if e.elided else "edge"
        groups_of = " ".join(sorted(set(_groups_of(by_id, e.src, ancestors)) & set(_groups_of(by_id, e.dst,
                                                                                               ancestors))))
        out.append(f'<path class="{cls}" data-in="{groups_of}" d="{d}"><title>{esc(e.label)}</title></path>')
    params_total, macs_total = totals or (0, 0)
    for n in g.nodes:
        w, h, lines = boxes[n.id]
        x0, y0 = lay.x[n.id] - w / 2, lay.y[n.id]
        classes = ["node"]
        if n.is_input:
            classes.append("input")
        if in_degree.get(n.id, 0) > 1 or n.type in MERGES:
            classes.append("merge")
        if n.status:
            classes.append(n.status)
        if n.id.startswith("c"):
            classes.append("block")
        fm = STATUS_FILL.get(n.status) or share_fill(n.macs, macs_total, "macs")
        fp = STATUS_FILL.get(n.status) or share_fill(n.params, params_total, "params")
        groups_attr = " ".join(_groups_of(by_id, n.id, ancestors))
        tip = f"{n.name} ({n.type})" + (f" → {n.shape}" if n.shape else "")
        if n.params or n.macs:
            tip += f"\nparams {grouped(n.params)} · MACs {grouped(n.macs)}"
        if n.detail:
            tip += f"\n{n.detail}"
        rx = h / 2 if "merge" in classes or n.is_input else 6
        out.append(
            f'<g class="{" ".join(classes)}" data-id="{n.id}" data-name="{esc(n.name)}" data-in="{groups_attr}" '
            f'data-fm="{fm}" data-fp="{fp}"><title>{esc(tip)}</title>'
            f'<rect x="{px(x0)}" y="{px(y0)}" width="{px(w)}" height="{px(h)}" rx="{px(min(rx, 14))}" '
            f'style="fill:{fm}"/>')
        for k, (text, kind) in enumerate(lines):
            cls = {"b": ' class="nm"', "m": ' class="ct"', "d": ' class="dt"'}.get(kind, "")
            out.append(f'<text x="{px(lay.x[n.id])}" y="{px(y0 + BOX_PAD + 10 + k * LINE_H)}"{cls}>'
                       f'{esc(text)}</text>')
        out.append("</g>")
    # collapsed groups: an opaque box with the sums, shown instead of the members
    for gid, ((x0, y0, x1, y1), level) in sorted(bounds.items(), key=lambda kv: -kv[1][1]):
        grp = g.groups[gid]
        count, params, macs = sums[gid]
        title = grp.name if grp.kind == "group" else f"{grp.name} · {grp.kind}"
        summary = f"{count} layers · {human_count(params)} params · {human_count(macs)} MACs"
        out.append(
            f'<g class="fold" data-g="{gid}" data-in="{" ".join(ancestors[gid][1:])}"><rect x="{px(x0)}" '
            f'y="{px(y0)}" width="{px(x1 - x0)}" height="{px(y1 - y0)}" rx="8"/>'
            f'<text class="grp-label" x="{px(x0 + 8)}" y="{px(y0 + 13)}" data-g="{gid}">▸ '
            f'{esc(_clip(title, _fits(x1 - x0)))}<title>{esc(title)}</title></text>'
            f'<text x="{px((x0 + x1) / 2)}" y="{px(y0 + 32)}" class="ct">{esc(_clip(summary, _fits(x1 - x0)))}</text>'
            '</g>')
    out.append("</g></svg>")
    return "\n".join(out)


def _groups_of(by_id, nid, ancestors) -> list:
    """Ids of the groups around node ``nid``, innermost first."""
    node = by_id.get(nid)
    if node is None or node.group is None:
        return []
    return ancestors[node.group]


def _group_sums(by_id, members, sub) -> dict:
    """Group id → (layers, parameters, MACs) of everything inside it."""
    out = {}

    def walk(gid):
        count = params = macs = 0
        for nid in members.get(gid, ()):
            n = by_id[nid]
            count, params, macs = count + 1, params + n.params, macs + n.macs
        for child in sub.get(gid, ()):
            c, p, m = walk(child)
            count, params, macs = count + c, params + p, macs + m
        out[gid] = (count, params, macs)
        return count, params, macs

    for top in sub.get(None, ()):
        walk(top)
    return out


def _fits(width: float) -> int:
    """Characters of box text that fit ``width`` px (at least 4)."""
    return max(4, int((width - 20) / CHAR_W))


def _path(points, px) -> str:
    """A smooth path through the route: vertical tangents at every point."""
    (x0, y0) = points[0]
    d = [f"M{px(x0)},{px(y0)}"]
    for (xa, ya), (xb, yb) in zip(points, points[1:]):
        mid = (ya + yb) / 2
        d.append(f"C{px(xa)},{px(mid)} {px(xb)},{px(mid)} {px(xb)},{px(yb)}")
    return "".join(d)


# -- the table ---------------------------------------------------------------------------

_TABLE_COLUMNS = ("#", "Layer", "Type", "Inputs", "Output", "Params", "Buffers", "MACs", "FLOPs", "RF",
                  "Memory", "Kept", "Params %", "MACs %")


def table_fragment(analysis, *, table_id: str = "layers") -> str:
    """The per-layer table as an HTML fragment (a <table>; exact numbers, one
    row per layer, totals in the footer). Sortable when the report's script
    runs; plain and complete without it (e.g. in a notebook)."""
    from .common import axes_label, rf_text

    t = analysis.totals
    kept = analysis.training_memory
    label = axes_label(len(analysis.input_shape) - 1)
    numeric = ' class="n"'
    head = "".join(
        f'<th data-col="{k}"{"" if c in ("Layer", "Type", "Inputs") else numeric} title="sort by {esc(c)}">'
        f'{esc(c if c != "Output" else f"Output ({label})")}</th>'
        for k, c in enumerate(_TABLE_COLUMNS))
    rows = []
    for r in analysis.layers:
        size = max((a.size for a in r.rf), default=0)
        cells = [
            (r.node.index, str(r.node.index)),
            (None, r.name),
            (None, r.type_name),
            (None, ", ".join(r.node.inputs)),
            (_prod(r.output_shape), "×".join(map(str, r.output_shape))),
            (r.params.trainable, grouped(r.params.trainable)),
            (r.params.buffers, grouped(r.params.buffers)),
            (r.macs, grouped(r.macs)),
            (r.flops, grouped(r.flops)),
            (float(size) if r.rf else -1, rf_text(r.rf)),
            (r.activation_bytes, human_bytes(r.activation_bytes)),
            (kept.layers[r.name].bytes, human_bytes(kept.layers[r.name].bytes)),
            (r.params.trainable, _pct(r.params.trainable, t.params_trainable)),
            (r.macs, _pct(r.macs, t.macs)),
        ]
        tds = []
        for k, (value, text) in enumerate(cells):
            num = "" if value is None else f' data-v="{value}"'
            cls = ' class="n"' if value is not None else ""
            tds.append(f"<td{cls}{num}>{esc(text)}</td>")
        rows.append(f'<tr data-name="{esc(r.name)}">' + "".join(tds) + "</tr>")
    last = analysis.layers[-1].output_shape if analysis.layers else ()
    foot = ["", "Total", "", "", "×".join(map(str, last)), grouped(t.params_trainable), grouped(t.params_buffers),
            grouped(t.macs), grouped(t.flops), "", human_bytes(t.activation_bytes), human_bytes(kept.activations),
            "100%" if t.params_trainable else "", "100%" if t.macs else ""]
    return (f'<table class="layers" id="{esc(table_id)}"><thead><tr>{head}</tr></thead><tbody>\n'
            + "\n".join(rows)
            + "\n</tbody><tfoot><tr>" + "".join(f"<td>{esc(c)}</td>" for c in foot) + "</tr></tfoot></table>")


def _prod(shape) -> int:
    out = 1
    for n in shape:
        out *= n
    return out


# -- the receptive field -----------------------------------------------------------------


def _num(x) -> float:
    return float(x) if x.__class__ is int else float(Fraction(x))


def rf_data(analysis) -> dict:
    """What the receptive-field picture needs: input extents and, per layer,
    size/jump/start per axis (exact text and float for drawing)."""
    extents = list(analysis.input_shape[1:])
    layers = []
    for r in analysis.layers:
        if not r.rf:
            continue
        layers.append({
            "name": r.name,
            "index": r.node.index,
            "type": r.type_name,
            "whole": any(a.whole for a in r.rf),
            "size": [_num(a.size) for a in r.rf],
            "jump": [_num(a.jump) for a in r.rf],
            "start": [_num(a.start) for a in r.rf],
            "text": {
                "size": "×".join(format_number(a.size) for a in r.rf),
                "jump": "×".join(format_number(a.jump) for a in r.rf),
                "start": ", ".join(format_number(a.start) for a in r.rf),
                "padding": ", ".join(format_number(a.padding) for a in r.rf),
            },
            "out": list(r.output_shape[1:]),
        })
    return {"extents": extents, "layers": layers}


def growth_svg(analysis, width: int = 720, height: int = 220) -> str:
    """The field size (largest axis) after each layer, against the input size."""
    points = [(r.node.index, max(a.size for a in r.rf), any(a.whole for a in r.rf))
              for r in analysis.layers if r.rf]
    if not points:
        return '<p class="note">No spatial axes: no receptive field to draw.</p>'
    extent = max(analysis.input_shape[1:])
    top = max(max(p[1] for p in points), extent)
    last = max(p[0] for p in points)
    left, bottom, right, upper = 48, height - 28, width - 12, 12

    def X(i):
        return left + (right - left) * (i - 1) / max(last - 1, 1)

    def Y(v):
        return bottom - (bottom - upper) * float(v) / float(top)

    path = " ".join(f"{'M' if k == 0 else 'L'}{X(i):.1f},{Y(v):.1f}" for k, (i, v, _) in enumerate(points))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="growth" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="receptive field size per layer">',
           f'<line class="axis" x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}"/>',
           f'<line class="axis" x1="{left}" y1="{upper}" x2="{left}" y2="{bottom}"/>',
           f'<line class="extent" x1="{left}" y1="{Y(extent):.1f}" x2="{right}" y2="{Y(extent):.1f}"/>',
           f'<text x="{right}" y="{Y(extent) - 4:.1f}" text-anchor="end" class="lbl">input {extent}</text>',
           f'<text x="{left - 6}" y="{upper + 8}" text-anchor="end" class="lbl">{format_number(top)}</text>',
           f'<text x="{left - 6}" y="{bottom}" text-anchor="end" class="lbl">0</text>',
           f'<text x="{left + 6}" y="{upper + 8}" class="lbl">field size (input pixels)</text>',
           f'<text x="{(left + right) / 2:.0f}" y="{height - 6}" text-anchor="middle" class="lbl">layer # (1–{last})'
           f'</text>',
           f'<path class="curve" d="{path}"/>']
    for i, v, whole in points:
        out.append(f'<circle class="pt{" whole" if whole else ""}" data-i="{i}" cx="{X(i):.1f}" cy="{Y(v):.1f}" '
                   f'r="3"><title>#{i}: {format_number(v)}{" (whole input)" if whole else ""}</title></circle>')
    out.append("</svg>")
    return "\n".join(out)


# -- the page ----------------------------------------------------------------------------

CSP = ("default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
       "connect-src 'none'; font-src 'none'; form-action 'none'; base-uri 'none'")

CSS = """
:root{--fg:#1f2328;--mute:#59636e;--line:#d1d9e0;--bg:#ffffff;--panel:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg)}
header,section,footer{padding:12px 24px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:10px 0 6px}
.sub{color:var(--mute)}
.totals{display:flex;flex-wrap:wrap;gap:8px 28px;margin:8px 0}
.totals div b{display:block;font-size:18px}
.controls{display:flex;flex-wrap:wrap;gap:6px 16px;align-items:center;margin:6px 0}
.controls label{cursor:pointer}
button{font:inherit;padding:2px 10px;border:1px solid var(--line);background:var(--panel);border-radius:6px;cursor:pointer}
.scroll{overflow:auto;border:1px solid var(--line);border-radius:8px;max-height:80vh;background:#fff}
svg text{font:11px ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;fill:var(--fg)}
svg.net .node text{text-anchor:middle}
svg.net .node text.nm{font-weight:700}
svg.net .node text.ct{fill:#6e3b00}
svg.net .node text.dt{fill:#7d4e00;font-style:italic}
svg.net .node rect{stroke:#57606a;stroke-width:1}
svg.net .node.merge rect{stroke:#0969da;stroke-width:2}
svg.net .node.input rect{stroke:#1a7f37;stroke-width:2}
svg.net .node.block rect{stroke:#0550ae;stroke-width:2;stroke-dasharray:8 2}
svg.net .node.added rect{stroke:#1a7f37;stroke-width:3}
svg.net .node.removed rect{stroke:#cf222e;stroke-width:3;stroke-dasharray:6 3}
svg.net .node.changed rect{stroke:#9a6700;stroke-width:3}
svg.net .node.sel rect{stroke:#cf222e;stroke-width:3}
svg.net .edge{fill:none;stroke:#8c959f;stroke-width:1.3}
svg.net .edge.elided{stroke-dasharray:3 3}
svg.net .grp-box{fill:rgba(84,174,255,.06);stroke:#54aeff;stroke-dasharray:4 3}
svg.net .grp-label{fill:#0550ae;cursor:pointer;font-weight:600}
svg.net .fold{display:none}
svg.net .fold rect{fill:#ddf4ff;stroke:#0969da}
svg.net .fold text.ct{text-anchor:middle}
svg.net .hid{display:none}
svg.net .fold.on{display:inline}
table.layers{border-collapse:collapse;font-size:12.5px;width:100%}
table.layers th,table.layers td{border-bottom:1px solid var(--line);padding:3px 8px;text-align:left;white-space:nowrap}
table.layers td.n,table.layers th.n{text-align:right;font-variant-numeric:tabular-nums}
table.layers th{position:sticky;top:0;background:var(--panel);cursor:pointer;user-select:none}
table.layers th.asc::after{content:" ▲"}table.layers th.desc::after{content:" ▼"}
table.layers tfoot td{font-weight:700;border-top:2px solid var(--fg)}
table.layers tr.sel td{background:#fff8c5}
.tablewrap{overflow:auto;max-height:70vh;border:1px solid var(--line);border-radius:8px}
.rfbox{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
.rfgrid rect.px{fill:#fff;stroke:#d1d9e0;stroke-width:.5}
.rfgrid rect.img{fill:#eef6ee;stroke:#1a7f37;stroke-width:2}
.rfgrid text.img{fill:#1a7f37;font-weight:700}
.rfgrid rect.field{fill:rgba(207,34,46,.15);stroke:#cf222e;stroke-width:2}
.rfgrid rect.field2{fill:rgba(9,105,218,.10);stroke:#0969da;stroke-width:1.5;stroke-dasharray:4 3}
.rfgrid circle{fill:#0969da}.rfgrid circle.first{fill:#cf222e}
.growth .axis{stroke:#57606a}.growth .extent{stroke:#1a7f37;stroke-dasharray:5 4}
.growth .curve{fill:none;stroke:#cf222e;stroke-width:2}.growth .pt{fill:#cf222e;cursor:pointer}
.growth .pt.whole{fill:#8c959f}.growth .pt.sel{r:6;fill:#0969da}
.growth .lbl{fill:var(--mute)}
.legend span{display:inline-block;width:60px;height:10px;vertical-align:middle;border:1px solid var(--line)}
.note{color:var(--mute);font-size:13px}
.bars td{padding:4px 8px;vertical-align:middle;white-space:nowrap}
.bar{position:relative;width:360px;height:16px;background:var(--panel);border:1px solid var(--line);border-radius:3px}
.bar i{position:absolute;left:0;top:0;bottom:0;background:#2da44e;border-radius:2px}
.bar.fail i{background:#cf222e}
.bar b{position:absolute;top:-3px;bottom:-3px;width:2px;background:var(--fg)}
.pass{color:#1a7f37;font-weight:700}.fail{color:#cf222e;font-weight:700}.error{color:#cf222e;font-weight:700}
"""

SCRIPT = r"""
(function(){
  "use strict";
  var svg = document.getElementById("drawings") || document.querySelector("svg.net");
  function shade(mode){
    if(!svg) return;
    svg.querySelectorAll("g.node").forEach(function(n){
      var r = n.querySelector("rect");
      r.style.fill = mode === "macs" ? n.getAttribute("data-fm") : mode === "params" ? n.getAttribute("data-fp") : "#ffffff";
    });
  }
  document.querySelectorAll("input[name=shade]").forEach(function(el){
    el.addEventListener("change", function(){ shade(el.value); });
  });
  document.querySelectorAll("input[name=level]").forEach(function(el){
    el.addEventListener("change", function(){
      document.querySelectorAll(".view").forEach(function(v){ v.hidden = v.id !== "view-" + el.value; });
    });
  });
  var closed = {};
  function refold(){
    if(!svg) return;
    svg.querySelectorAll("[data-in]").forEach(function(el){
      var gs = el.getAttribute("data-in").split(" "), hide = false;
      for(var i = 0; i < gs.length; i++){ if(gs[i] && closed[gs[i]]) { hide = true; break; } }
      el.classList.toggle("hid", hide);
    });
    svg.querySelectorAll("g.fold").forEach(function(f){ f.classList.toggle("on", !!closed[f.getAttribute("data-g")]); });
  }
  if(svg) svg.addEventListener("click", function(ev){
    var t = ev.target.closest ? ev.target.closest(".grp-label") : null;
    if(t){ var g = t.getAttribute("data-g"); closed[g] = !closed[g]; refold(); return; }
    var n = ev.target.closest ? ev.target.closest("g.node") : null;
    if(n && rfSelect){ rfSelect.value = n.getAttribute("data-name"); if(rfSelect.value === n.getAttribute("data-name")) drawRF(); }
  });
  function foldAll(on){ if(!svg) return; svg.querySelectorAll("g.grp").forEach(function(g){ closed[g.getAttribute("data-g")] = on; }); refold(); }
  var b1 = document.getElementById("collapse-all"), b2 = document.getElementById("expand-all");
  if(b1) b1.addEventListener("click", function(){ foldAll(true); });
  if(b2) b2.addEventListener("click", function(){ foldAll(false); });

  document.querySelectorAll("table.layers").forEach(function(table){
    var ths = table.querySelectorAll("thead th");
    ths.forEach(function(th, col){
      th.addEventListener("click", function(){
        var asc = !th.classList.contains("asc");
        ths.forEach(function(h){ h.classList.remove("asc", "desc"); });
        th.classList.add(asc ? "asc" : "desc");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function(a, b){
          var x = a.cells[col], y = b.cells[col], vx = x.getAttribute("data-v"), vy = y.getAttribute("data-v"), c;
          if(vx !== null && vy !== null){ c = parseFloat(vx) - parseFloat(vy); }
          else { c = x.textContent.localeCompare(y.textContent); }
          return asc ? c : -c;
        });
        rows.forEach(function(r){ body.appendChild(r); });
      });
    });
  });

  var dataEl = document.getElementById("rf-data"), rfSelect = document.getElementById("rf-layer");
  var rf = dataEl ? JSON.parse(dataEl.textContent) : null;
  var NS = "http://www.w3.org/2000/svg";
  function el(name, attrs, parent){
    var e = document.createElementNS(NS, name);
    for(var k in attrs){ e.setAttribute(k, attrs[k]); }
    parent.appendChild(e); return e;
  }
  function drawRF(){
    if(!rf || !rfSelect) return;
    var layer = null;
    for(var i = 0; i < rf.layers.length; i++){ if(rf.layers[i].name === rfSelect.value){ layer = rf.layers[i]; } }
    var box = document.getElementById("rf-grid"), info = document.getElementById("rf-info");
    while(box.firstChild) box.removeChild(box.firstChild);
    if(!layer) return;
    var ext = rf.extents, two = ext.length >= 2;
    var H = two ? ext[ext.length - 2] : 1, W = ext[ext.length - 1];
    var ax = two ? [ext.length - 2, ext.length - 1] : [null, 0];
    function get(arr, a, dflt){ return a === null ? dflt : arr[a]; }
    var size = [get(layer.size, ax[0], 1), get(layer.size, ax[1], 1)];
    var jump = [get(layer.jump, ax[0], 1), get(layer.jump, ax[1], 1)];
    var start = [get(layer.start, ax[0], 0), get(layer.start, ax[1], 0)];
    var outs = two ? [layer.out[layer.out.length - 2] || 1, layer.out[layer.out.length - 1] || 1] : [1, layer.out[layer.out.length - 1] || 1];
    var half = [(size[0] - 1) / 2, (size[1] - 1) / 2];
    var lo = [Math.min(-0.5, start[0] - half[0] - 0.5), Math.min(-0.5, start[1] - half[1] - 0.5)];
    var hi = [Math.max(H - 0.5, start[0] + half[0] + 0.5), Math.max(W - 0.5, start[1] + half[1] + 0.5)];
    var span = Math.max(hi[0] - lo[0], hi[1] - lo[1]), S = 420, k = S / span;
    var svgEl = el("svg", {width: S + 20, height: (hi[0] - lo[0]) * k + 20, class: "rfgrid", role: "img"}, box);
    var g = el("g", {transform: "translate(10,10)"}, svgEl);
    function X(c){ return (c - lo[1]) * k; } function Y(r){ return (r - lo[0]) * k; }
    el("rect", {class: "img", x: X(-0.5), y: Y(-0.5), width: W * k, height: H * k}, g);
    el("text", {class: "img", x: X(-0.5) + 4, y: Y(-0.5) + 13}, g).textContent = "input " + (two ? H + "×" + W : W);
    if(W * H <= 4096){
      for(var r = 0; r < H; r++) for(var c = 0; c < W; c++) el("rect", {class: "px", x: X(c - 0.5), y: Y(r - 0.5), width: k, height: k}, g);
    }
    var mid = [Math.floor((outs[0] - 1) / 2), Math.floor((outs[1] - 1) / 2)];
    var cm = [start[0] + mid[0] * jump[0], start[1] + mid[1] * jump[1]];
    if(!layer.whole){
      el("rect", {class: "field2", x: X(cm[1] - half[1] - 0.5), y: Y(cm[0] - half[0] - 0.5), width: size[1] * k, height: size[0] * k}, g);
    }
    el("rect", {class: "field", x: X(start[1] - half[1] - 0.5), y: Y(start[0] - half[0] - 0.5), width: size[1] * k, height: size[0] * k}, g);
    var step = [Math.max(1, Math.ceil(outs[0] / 48)), Math.max(1, Math.ceil(outs[1] / 48))];
    for(var i0 = 0; i0 < outs[0]; i0 += step[0]) for(var j0 = 0; j0 < outs[1]; j0 += step[1]){
      el("circle", {class: (i0 === 0 && j0 === 0) ? "first" : "", cx: X(start[1] + j0 * jump[1]), cy: Y(start[0] + i0 * jump[0]), r: Math.max(1.5, Math.min(4, k * jump[1] / 4))}, g);
    }
    info.textContent = "";
    var lines = [
      "#" + layer.index + " " + layer.name + " (" + layer.type + ")" + (layer.whole ? ": sees the whole input" : ""),
      "field size " + layer.text.size + " input pixels · jump " + layer.text.jump + " · start (centre of the first output's field) " + layer.text.start + " · effective padding " + layer.text.padding,
      "red: the field of output (0, 0), centred at start; blue dashed: the field of the middle output; dots: centres of the outputs' fields, jump apart" + (step[0] > 1 || step[1] > 1 ? " (every " + Math.max(step[0], step[1]) + "th)" : "")
    ];
    lines.forEach(function(t){ var p = document.createElement("div"); p.textContent = t; info.appendChild(p); });
    document.querySelectorAll(".growth .pt").forEach(function(p){ p.classList.toggle("sel", p.getAttribute("data-i") === String(layer.index)); });
    if(svg) svg.querySelectorAll("g.node").forEach(function(n){ n.classList.toggle("sel", n.getAttribute("data-name") === layer.name); });
  }
  if(rfSelect){ rfSelect.addEventListener("change", drawRF); drawRF(); }
  document.querySelectorAll(".growth .pt").forEach(function(p){
    p.addEventListener("click", function(){
      var i = p.getAttribute("data-i");
      for(var k = 0; k < rf.layers.length; k++){ if(String(rf.layers[k].index) === i){ rfSelect.value = rf.layers[k].name; drawRF(); } }
    });
  });
})();
"""


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>\n{body}\n"
        f"<script>{SCRIPT}</script></body></html>\n"
    )


def shade_controls(*, with_status: bool = False) -> str:
    legend = ('<span class="legend">white → orange: share of the MACs (full at ≥25%) · purple: of the parameters'
              ' · blue outline: merges</span>')
    return ('<div class="controls"><b>Shade boxes by</b>'
            '<label><input type="radio" name="shade" value="macs" checked> MACs</label>'
            '<label><input type="radio" name="shade" value="params"> parameters</label>'
            '<label><input type="radio" name="shade" value="none"> nothing</label>'
            '<button id="collapse-all" type="button">Collapse all blocks</button>'
            '<button id="expand-all" type="button">Expand all</button>'
            f'{legend}</div><p class="note">Click a block\'s name to fold it into one box with its sums; click a '
            'layer to show its receptive field below.</p>')


def drawing_fragment(analysis, depth: int | None = None) -> str:
    """The network drawing alone, as an HTML fragment with its own styles (no
    script: static, for a notebook's ``_repr_html_`` or another page)."""
    from .netgraph import from_analysis

    t = analysis.totals
    style = "".join(line for line in CSS.splitlines(True) if line.startswith("svg"))
    return (f"<div class=\"cnncalc-drawing\"><style>{style}</style>"
            f"{svg_graph(from_analysis(analysis, depth), totals=(t.params_trainable, t.macs))}</div>")


def _views(analysis, g, depth: int | None) -> tuple[str, str]:
    """The drawing, plus — for a network with blocks — the same network with
    its blocks as single boxes (top level; and one level in), each laid out
    anew, and the radio buttons that switch between them."""
    t = analysis.totals
    totals = (t.params_trainable, t.macs)
    deepest = -1
    for grp in g.groups.values():
        level, cur = 0, grp.parent
        while cur is not None:
            level, cur = level + 1, g.groups[cur].parent
        deepest = max(deepest, level)
    first = "every layer" if depth is None else f"blocks to depth {depth}"
    views = [("all", first, svg_graph(g, totals=totals))]
    if depth is None and deepest >= 0:
        from .netgraph import from_analysis

        for level in ((1, 0) if deepest >= 1 else (0,)):
            label = "top-level blocks as boxes" if level == 0 else "blocks one level in as boxes"
            views.append((f"d{level}", label, svg_graph(from_analysis(analysis, level), totals=totals)))
    html_views = "".join(f'<div class="view" id="view-{key}"{" hidden" if k else ""}>{svg}</div>'
                         for k, (key, _, svg) in enumerate(views))
    if len(views) == 1:
        return html_views, ""
    buttons = "".join(f'<label><input type="radio" name="level" value="{key}"{" checked" if not k else ""}> '
                      f"{esc(label)}</label>" for k, (key, label, _) in enumerate(views))
    return html_views, f'<div class="controls"><b>Show</b>{buttons}</div>'


def render(analysis, depth: int | None = None) -> str:
    """The whole report for ``analyze --format html`` (``depth``: blocks that
    deep drawn as one box each, laid out again; the table keeps every layer)."""
    from .common import axes_label, convention_lines, memory_text, output_rf_text, training_memory_text
    from .netgraph import from_analysis

    t = analysis.totals
    graph = analysis.graph
    title = graph.name or graph.file or "network"
    label = axes_label(len(analysis.input_shape) - 1)
    g = from_analysis(analysis, depth)
    drawing, levels = _views(analysis, g, depth)
    parts = [
        f"<header><h1>{esc(title)}</h1>",
        f'<div class="sub">input {esc("×".join(map(str, analysis.input_shape)))} ({esc(label)}) · '
        f"{len(analysis.layers)} layers" + (f" · {esc(graph.file)}" if graph.file else "") + "</div>",
    ]
    if graph.description:
        parts.append(f'<p class="sub">{esc(graph.description)}</p>')
    parts.append('<div class="totals">'
                 f"<div>Parameters<b>{grouped(t.params_trainable)}</b>{human_count(t.params_trainable)} trainable"
                 + (f", {grouped(t.params_buffers)} buffers" if t.params_buffers else "") + "</div>"
                 f"<div>MACs per sample<b>{grouped(t.macs)}</b>{human_count(t.macs)} · FLOPs {human_count(t.flops)}</div>"
                 f"<div>Receptive field at the output<b>{esc(output_rf_text(analysis))}</b></div>"
                 f"<div>Activation memory<b>{human_bytes(t.activation_bytes)}</b>{esc(memory_text(analysis))}</div>"
                 "</div>")
    parts.append("</header>")
    parts.append('<section id="graph"><h2>Network</h2>' + shade_controls() + levels
                 + f'<div class="scroll" id="drawings">{drawing}</div></section>')
    parts.append('<section id="table"><h2>Layers</h2><p class="note">Click a column heading to sort; '
                 "exact integers.</p>"
                 f'<div class="tablewrap">{table_fragment(analysis)}</div>'
                 f'<p class="note">{esc(convention_lines(analysis)[0])}</p>'
                 f'<p class="note">Training memory: {esc(training_memory_text(analysis))}</p></section>')
    data = rf_data(analysis)
    if data["layers"]:
        options = "".join(
            f'<option value="{esc(r["name"])}"{" selected" if k == len(data["layers"]) - 1 else ""}>'
            f'#{r["index"]} {esc(r["name"])} ({esc(r["text"]["size"])})</option>'
            for k, r in enumerate(data["layers"]))
        spatial = [r for r in data["layers"] if not r["whole"]]
        if spatial:  # start on the last layer with a spatial field: the most telling picture
            options = options.replace(" selected", "").replace(
                f'value="{esc(spatial[-1]["name"])}">', f'value="{esc(spatial[-1]["name"])}" selected>', 1)
        parts.append(
            '<section id="rf"><h2>Receptive field</h2><div class="controls"><label>Layer '
            f'<select id="rf-layer">{options}</select></label></div><div class="rfbox"><div id="rf-grid"></div>'
            '<div><div id="rf-info" class="note"></div><h3>Field size per layer (largest axis)</h3>'
            f"{growth_svg(analysis)}</div></div></section>"
            f'<script type="application/json" id="rf-data">{json_for_script(data)}</script>')
    parts.append("<footer>" + "".join(f'<p class="note">{esc(line)}</p>' for line in convention_lines(analysis))
                 + "".join(f'<p class="note">warning: {esc(n)}: {esc(m)}</p>' for n, m in analysis.warnings)
                 + '<p class="note">Made by cnncalc; this file needs no network and loads nothing.</p></footer>')
    return page(f"{title} · cnncalc", "\n".join(parts))
