"""The in-memory network: a graph of named nodes in topological order."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .errors import Loc
from .layers.base import Layer
from .records import Record, field, record

#: The name by which nodes refer to the network input.
INPUT = "input"

_EMPTY: Mapping = MappingProxyType({})


@record
class Node(Record):
    """One layer instance in a network.

    ``index`` is the 1-based position in the expanded spec (the row number of
    the table); ``loc`` where its entry stands, ``field_locs`` where each of its
    field values stands (a value taken from ``defaults:`` points there);
    ``parent`` is the name of the enclosing block or repeat group, if any;
    ``extra`` holds entry keys owned by other features (``expect:``).
    """

    name: str
    layer: Layer
    inputs: tuple[str, ...]
    index: int
    loc: Loc = Loc()
    field_locs: Mapping[str, Loc] = field(default_factory=lambda: _EMPTY)
    parent: str | None = None
    extra: Mapping[str, object] = field(default_factory=lambda: _EMPTY)

    @property
    def type_name(self) -> str:
        return self.layer.type_name

    def loc_of(self, field_name: str | None) -> Loc:
        if field_name is not None and field_name in self.field_locs:
            return self.field_locs[field_name]
        return self.loc


@record(frozen=False)
class Graph:
    """Nodes in topological order (every input precedes its consumers)."""

    input_shape: tuple[int, ...]
    nodes: list[Node]
    file: str | None = None
    input_loc: Loc = Loc()
    name: str | None = None
    description: str | None = None
    #: top-level sections owned by other features (budget, expect_total, ...)
    sections: dict = field(default_factory=dict)
    #: block instances and named groups by full name (→ spec.GroupInfo: kind, parent, loc)
    groups: dict = field(default_factory=dict)

    def __post_init__(self):
        self._by_name = {n.name: n for n in self.nodes}

    def __getitem__(self, name: str) -> Node:
        return self._by_name[name]

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self.nodes)

    def consumers(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {INPUT: []}
        for node in self.nodes:
            out.setdefault(node.name, [])
            for src in node.inputs:
                out.setdefault(src, []).append(node.name)
        return out

    def outputs(self) -> list[str]:
        """Nodes whose output no other node uses (the network's outputs)."""
        used = {src for node in self.nodes for src in node.inputs}
        return [n.name for n in self.nodes if n.name not in used]
