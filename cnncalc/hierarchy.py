"""The block hierarchy of an analysed graph, as rows for the renderers.

Block instances and named groups (``layer3``, ``layer3.1``,
``layer3.1.downsample``) become rows that sum their layers; ``depth``
collapses every group deeper than N into one summed row, as torchinfo's
``depth`` does. Depth counts enclosing groups: top-level layers and groups
are at depth 0, the layers of ``layer3.1`` at depth 2.

Pure aggregation, no presentation: renderers turn :class:`Row` into text.
"""

from __future__ import annotations

from .analysis import Analysis, LayerResult
from .records import record


@record
class Row:
    name: str
    type_name: str  # layer type, or the block's name ("basic", "repeat", "group")
    depth: int
    output_shape: tuple
    params: int  # trainable
    buffers: int
    macs: int
    multiplications: int
    activation_bytes: int
    first_index: int
    last_index: int
    layer: LayerResult | None = None  # set for layer rows
    output: LayerResult | None = None  # the layer whose output a group row stands for
    collapsed: bool = False  # a group row standing for all its layers (no children shown)

    @property
    def is_group(self) -> bool:
        return self.layer is None

    @property
    def indices(self) -> str:
        if self.first_index == self.last_index:
            return str(self.first_index)
        return f"{self.first_index}–{self.last_index}"


def ancestors(graph, node_parent: str | None) -> list[str]:
    """Group names from the outermost to ``node_parent`` itself."""
    chain = []
    name = node_parent
    while name is not None:
        chain.append(name)
        info = graph.groups.get(name)
        name = info.parent if info is not None else None
    return chain[::-1]


def _group_row(graph, name, members: list[LayerResult], depth, collapsed, by_name) -> Row:
    info = graph.groups.get(name)
    output = by_name.get(info.output) if info is not None and info.output else None
    last = output or members[-1]
    return Row(
        name=name,
        type_name=info.kind if info is not None else "group",
        depth=depth,
        output_shape=last.output_shape,
        params=sum(r.params.trainable for r in members),
        buffers=sum(r.params.buffers for r in members),
        macs=sum(r.macs for r in members),
        multiplications=sum(r.multiplications for r in members),
        activation_bytes=sum(r.activation_bytes for r in members),
        first_index=min(r.node.index for r in members),
        last_index=max(r.node.index for r in members),
        collapsed=collapsed,
        output=last,
    )


def rows(analysis: Analysis, depth: int | None = None) -> list[Row]:
    """Layer rows with a summed row before each group's first layer, in
    topological order; with ``depth``, groups at that depth are collapsed and
    nothing deeper is shown."""
    graph = analysis.graph
    by_name = {r.name: r for r in analysis.layers}
    members: dict[str, list[LayerResult]] = {}
    chains = {}
    for r in analysis.layers:
        chain = ancestors(graph, r.node.parent)
        chains[r.name] = chain
        for g in chain:
            members.setdefault(g, []).append(r)
    out: list[Row] = []
    opened: set[str] = set()
    for r in analysis.layers:
        chain = chains[r.name]
        hidden = False
        for level, g in enumerate(chain):
            collapse = depth is not None and level >= depth
            if g not in opened:
                opened.add(g)
                out.append(_group_row(graph, g, members[g], level, collapse, by_name))
            if collapse:
                hidden = True
                break
        if hidden:
            continue
        out.append(Row(
            name=r.name,
            type_name=r.type_name,
            depth=len(chain),
            output_shape=r.output_shape,
            params=r.params.trainable,
            buffers=r.params.buffers,
            macs=r.macs,
            multiplications=r.multiplications,
            activation_bytes=r.activation_bytes,
            first_index=r.node.index,
            last_index=r.node.index,
            layer=r,
            output=r,
        ))
    return out
