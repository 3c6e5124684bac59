"""The data the stages pass along while one spec is read: scopes (where
names are looked up), references to nodes as written, block instances and
groups, the expansion context and the nodes waiting to be linked."""

from __future__ import annotations

from ..errors import Loc
from ..graph import INPUT
from ..records import record


class _Scope:
    """Where names are looked up while expanding: the root, a named group,
    or a block instance (which has an input of its own)."""

    def __init__(self, prefix="", parent=None, group=None, block_input=None, counters=None):
        self.prefix = prefix  # "layer3.1." for the nodes of this scope
        self.parent = parent
        self.group = group  # full name of the enclosing group/block (Node.parent)
        self.block_input = block_input  # _Ref the block's 'input' stands for
        self.aliases: dict[str, _Ref] = {}  # names of skipped entries → their input
        # auto-name counters: one set per block instance, shared by plain groups
        self.counters = counters if counters is not None else {}


@record
class _Ref:
    """A reference to a node as written (``name`` looked up from ``scope``),
    or an already-resolved full node name (``scope`` None)."""

    name: str
    scope: object = None
    loc: Loc | None = None


@record(frozen=False)
class GroupInfo:
    """A block instance or named group, for the hierarchy of the table."""

    name: str  # full name, e.g. "layer3.1"
    kind: str  # block name, or "group"
    parent: str | None
    loc: Loc
    output: str | None = None  # the node whose output the group's name stands for


class _Ctx:
    """State while expanding one spec."""

    def __init__(self, file, defaults, blocks=None):
        self.file = file
        self.defaults = defaults
        self.blocks = blocks or {}
        self.nodes: list[_Pending] = []
        self.names: dict[str, Loc] = {}
        self.groups: dict[str, GroupInfo] = {}
        self.group_out: dict[str, _Ref] = {}  # group name → its output
        self.previous = _Ref(INPUT)  # default input of the next entry
        self.active_blocks: list[str] = []  # to refuse a block that uses itself
        self.pieces: dict[str, _Pending] = {}  # nodes for pieces of a split named in inputs (split1.0)
        self.by_name: dict[str, _Pending] | None = None  # the nodes by name, once linking starts

    def auto_name(self, type_name: str, scope: "_Scope") -> str:
        n = scope.counters.get(type_name, 0) + 1
        name = f"{type_name}{n}"
        while scope.prefix + name in self.names or scope.prefix + name in self.groups:
            n += 1
            name = f"{type_name}{n}"
        scope.counters[type_name] = n
        return name


@record(frozen=False)
class _Pending:
    name: str
    layer: object
    inputs: tuple  # of _Ref
    loc: Loc
    field_locs: dict
    parent: str | None
    extra: dict
    inputs_loc: Loc | None = None
