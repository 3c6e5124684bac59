"""Mermaid flowcharts (GitHub draws them in Markdown): one box per layer,
the shape each edge carries on the edge, blocks as subgraphs; for a diff,
added, removed and changed layers coloured (by default only the changed part
of the network, with one layer of context).

Every label is quoted, and inside the quotes each character that Mermaid or
HTML could read as syntax is written as Mermaid's ``#code;`` entity, so a
layer named ``<script>`` or ``a"]-->b`` is text. Ids (``n3``, ``g2``) are
cnncalc's own.
"""

from __future__ import annotations

from ..units import human_count
from .escape import hidden
from .netgraph import NetGraph

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,_-+×/:=·→%")

CLASSES = {
    "added": "fill:#e6ffec,stroke:#1a7f37,stroke-width:2px",
    "removed": "fill:#ffebe9,stroke:#cf222e,stroke-width:2px,stroke-dasharray:5 3",
    "changed": "fill:#fff8c5,stroke:#9a6700,stroke-width:2px",
}


def escape(text: str) -> str:
    """Text for the inside of a quoted Mermaid label."""
    return "".join(
        c if c in _SAFE or (ord(c) > 127 and c.isprintable() and c not in "\u2028\u2029") else f"#{ord(c)};"
        for c in str(text)
    )


def node_label(n) -> str:
    if n.is_input:
        return escape("input") + (f"<br/>{escape(n.shape)}" if n.shape else "")
    second = n.type
    if n.params:
        second += f" · {human_count(n.params)} params"
    if n.macs:
        second += f" · {human_count(n.macs)} MACs"
    lines = [escape(n.name), escape(second)]
    if n.is_output and n.shape:
        lines.append(escape(f"→ {n.shape}"))
    if n.detail:
        lines.append(escape(n.detail))
    return "<br/>".join(lines)


def _shape_of(n, label: str) -> str:
    if n.is_input:
        return f'(["{label}"])'
    if n.id.startswith("c"):  # a collapsed block
        return f'[["{label}"]]'
    return f'["{label}"]'



def flowchart(g: NetGraph) -> list[str]:
    """The ``flowchart TD`` lines (no Markdown fence)."""
    lines = ["flowchart TD"]
    if not g.nodes:
        lines.append(f'  empty["{escape(g.note or "nothing to draw")}"]')
        return lines
    sub, members = g.children()
    by_id = {n.id: n for n in g.nodes}

    def emit(group_id, indent):
        for nid in members.get(group_id, ()):
            n = by_id[nid]
            label = node_label(n)
            lines.append(f"{indent}{nid}{_shape_of(n, label)}")
        for gid in sub.get(group_id, ()):
            grp = g.groups[gid]
            title = grp.name if grp.kind == "group" else f"{grp.name} · {grp.kind}"
            lines.append(f'{indent}subgraph {gid}["{escape(title)}"]')
            emit(gid, indent + "  ")
            lines.append(f"{indent}end")

    emit(None, "  ")
    for e in g.edges:
        arrow = "-.->" if e.elided else "-->"
        label = escape(f"… {e.label}" if e.elided else e.label)
        lines.append(f'  {e.src} {arrow}|"{label}"| {e.dst}' if label else f"  {e.src} {arrow} {e.dst}")
    used = sorted({n.status for n in g.nodes if n.status})
    for status in used:
        lines.append(f"  classDef {status} {CLASSES[status]}")
        ids = [n.id for n in g.nodes if n.status == status]
        for start in range(0, len(ids), 50):
            lines.append(f"  class {','.join(ids[start:start + 50])} {status}")
    return lines


def render(analysis, depth: int | None = None) -> str:
    """``analyze --format mermaid``: Markdown with the network as a Mermaid
    flowchart (``depth``: blocks that deep drawn as one box each)."""
    from .netgraph import from_analysis

    t = analysis.totals
    g = from_analysis(analysis, depth)
    head = (f"**{escape_md(g.title)}**: {t.params_trainable:,} parameters, {t.macs:,} MACs per sample "
            f"({analysis.convention.value} convention); edges carry output shapes (C×H×W).")
    return head + "\n\n```mermaid\n" + "\n".join(flowchart(g)) + "\n```\n"


def render_diff(d, *, context: int | None = 1) -> str:
    """``diff --format mermaid``: the changed part of the network, coloured,
    ready for a pull-request comment."""
    from .diff import summary_line
    from .netgraph import from_diff

    g = from_diff(d, context=context)
    legend = "green: added · red, dashed: removed · yellow: changed"
    head = f"**{escape_md(g.title)}**: {summary_line(d)}. {legend}."
    if g.note:
        head += f" ({escape_md(g.note)})"
    return head + "\n\n```mermaid\n" + "\n".join(flowchart(g)) + "\n```\n"


def escape_md(text: str) -> str:
    """Spec text for Markdown prose: HTML and Markdown syntax characters as
    entities (GitHub renders no raw HTML from them), newlines as spaces."""
    out = []
    for c in str(text):
        if c in "\r\n\t" or (ord(c) < 32) or hidden(c):  # controls, C1, separators, direction overrides
            out.append(" ")
        elif c in "<>&\"'`*[]()#|\\!~":
            out.append(f"&#{ord(c)};")
        else:
            out.append(c)
    return "".join(out)
