"""Graphviz DOT: one box per layer (name, type, parameters, MACs), the
shape each edge carries as its label, blocks as clusters, boxes shaded by
their share of the MACs. ``cnncalc analyze spec --format dot | dot -Tsvg``.

Every string is a quoted DOT string with backslashes and quotes escaped and
control characters replaced, so spec text cannot end a label, start an
attribute, or use DOT's ``\\N``/``\\G`` escapes; ids (``n3``,
``cluster_g2``) are cnncalc's own.
"""

from __future__ import annotations

from ..units import human_count
from .escape import hidden
from .netgraph import NetGraph

STATUS = {
    "added": ('"#e6ffec"', '"#1a7f37"', "solid"),
    "removed": ('"#ffebe9"', '"#cf222e"', "dashed"),
    "changed": ('"#fff8c5"', '"#9a6700"', "solid"),
}


def quote(text: str) -> str:
    """A DOT double-quoted string holding ``text`` literally."""
    return '"' + _inner(text) + '"'


def _inner(text: str) -> str:
    out = []
    for c in str(text):
        if c == "\\":
            out.append("\\\\")
        elif c == '"':
            out.append('\\"')
        elif ord(c) < 32 or hidden(c):  # controls, C1, separators, direction overrides
            out.append(" ")
        else:
            out.append(c)
    return "".join(out)


def _lines(*parts: str) -> str:
    """A multi-line label: each part escaped on its own, joined by DOT's centred line break."""
    return '"' + "\\n".join(_inner(p) for p in parts) + '"'



def shade(share_num: int, share_den: int) -> str:
    """White → orange by a share (exact integers; 0 stays white)."""
    if share_den <= 0 or share_num <= 0:
        return "#ffffff"
    level = min(255, (share_num * 255 * 4 + share_den - 1) // share_den)  # 25% of the total is full colour
    r, g, b = 255, 255 - level * 110 // 255, 255 - level * 200 // 255
    return f"#{r:02x}{g:02x}{b:02x}"


def digraph(g: NetGraph, total_macs: int = 0) -> list[str]:
    lines = [
        "digraph cnncalc {",
        f"  graph [rankdir=TB, labelloc=t, fontname=Helvetica, label={quote(g.title)}];",
        '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname=Helvetica, fontsize=10];',
        "  edge [fontname=Helvetica, fontsize=9, color=\"#57606a\"];",
    ]
    if g.note:
        lines.append(f"  note [shape=note, label={quote(g.note)}];")
    sub, members = g.children()
    by_id = {n.id: n for n in g.nodes}

    def node_line(n, indent):
        if n.is_input:
            return f"{indent}{n.id} [shape=oval, label={_lines('input', n.shape) if n.shape else quote('input')}];"
        second = n.type + (f" · {human_count(n.params)} params" if n.params else "")
        parts = [n.name, second]
        if n.macs:
            parts.append(f"{human_count(n.macs)} MACs")
        if n.is_output and n.shape:
            parts.append(f"→ {n.shape}")
        if n.detail:
            parts.append(n.detail)
        attrs = [f"label={_lines(*parts)}"]
        if n.id.startswith("c"):  # a collapsed block
            attrs.append("peripheries=2")
        if n.status:
            fill, stroke, style = STATUS[n.status]
            attrs += [f"fillcolor={fill}", f"color={stroke}", f'style="rounded,filled,{style}"', "penwidth=2"]
        elif total_macs and n.macs:
            attrs.append(f'fillcolor="{shade(n.macs, total_macs)}"')
        return f"{indent}{n.id} [{', '.join(attrs)}];"

    def emit(group_id, indent):
        for nid in members.get(group_id, ()):
            lines.append(node_line(by_id[nid], indent))
        for gid in sub.get(group_id, ()):
            grp = g.groups[gid]
            title = grp.name if grp.kind == "group" else f"{grp.name} ({grp.kind})"
            lines.append(f"{indent}subgraph cluster_{gid} {{")
            lines.append(f'{indent}  label={quote(title)}; style="rounded,dashed"; color="#8c959f"; fontsize=10;')
            emit(gid, indent + "  ")
            lines.append(f"{indent}}}")

    emit(None, "  ")
    for e in g.edges:
        attrs = [f"label={quote(('… ' if e.elided else '') + e.label)}"] if e.label else []
        if e.elided:
            attrs.append("style=dotted")
        lines.append(f"  {e.src} -> {e.dst}" + (f" [{', '.join(attrs)}]" if attrs else "") + ";")
    lines.append("}")
    return lines


def render(analysis, depth: int | None = None) -> str:
    """``analyze --format dot`` (``depth``: blocks that deep drawn as one box each)."""
    from .netgraph import from_analysis

    return "\n".join(digraph(from_analysis(analysis, depth), analysis.totals.macs)) + "\n"


def render_diff(d, *, context: int | None = None) -> str:
    """``diff --format dot``: both versions in one drawing, changes coloured."""
    from .netgraph import from_diff

    return "\n".join(digraph(from_diff(d, context=context))) + "\n"
