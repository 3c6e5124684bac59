"""Spec files (format v1) → :class:`~cnncalc.graph.Graph`.

A spec is a YAML mapping::

    name: vgg16                # optional
    input: [3, 224, 224]       # one sample, channels first: [C, L], [C, H, W] or [C, D, H, W]
    defaults:                  # optional, per layer type
      conv: {kernel_size: 3, padding: same, activation: relu}
    layers:
      - conv: {out_channels: 64}        # compact form
        repeat: 2
      - max_pool: {kernel_size: 2}
      - type: dense                     # explicit form
        out_features: 10
        name: head
      - relu                            # bare form

A layer entry may also carry ``name``, ``inputs`` (earlier node names, or
``input``) and ``repeat: N``; a ``{repeat: N, layers: [...]}`` entry repeats a
list. Reusable blocks live under ``blocks:`` (see :mod:`cnncalc.blocks`):
each instance expands in a scope of its own, so node names are hierarchical
(``layer3.1.conv2``) and ``input`` inside a block is the block's input;
``when: false`` skips an entry. Everything is checked here, with the file,
line and column of each value, before any arithmetic runs.
"""

from __future__ import annotations

import dataclasses
import os
from types import MappingProxyType

from .blocks import bind_args, parse_blocks, substitute_tree
from .errors import FieldError, Loc, SpecError, did_you_mean
from .graph import INPUT, Graph, Node
from .layers import base as layer_base
from .layers.activation import activation_names
from .layers.fields import REQUIRED, layer_fields
from .yamlio import YList, YMap, load_file, load_text, loc_of

#: Top-level keys of a spec. Other features add theirs to SECTIONS.
CORE_KEYS = ("name", "description", "input", "defaults", "blocks", "layers")
SECTIONS: set[str] = set()

#: Keys of a layer entry that are not layer fields.
ENTRY_KEYS = ("name", "inputs", "repeat", "when")
#: Entry keys owned by other features (kept in ``Node.extra``).
EXTRA_ENTRY_KEYS: set[str] = set()

#: Safety limit on the expanded number of nodes (``repeat`` can multiply);
#: checked before anything is expanded (see README, "Limits").
MAX_LAYERS = int(os.environ.get("CNNCALC_MAX_LAYERS", 50_000))
#: Largest integer accepted in a field or the input shape.
MAX_INT = 10**18
#: How deeply block definitions may use one another.
MAX_BLOCK_DEPTH = int(os.environ.get("CNNCALC_MAX_BLOCK_DEPTH", 32))


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


@dataclasses.dataclass(frozen=True)
class _Ref:
    """A reference to a node as written (``name`` looked up from ``scope``),
    or an already-resolved full node name (``scope`` None)."""

    name: str
    scope: object = None
    loc: Loc | None = None


@dataclasses.dataclass
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


@dataclasses.dataclass
class _Pending:
    name: str
    layer: object
    inputs: tuple  # of _Ref
    loc: Loc
    field_locs: dict
    parent: str | None
    extra: dict
    inputs_loc: Loc | None = None


def _empty_map(loc) -> YMap:
    out = YMap()
    out.loc, out.key_locs, out.value_locs = loc, {}, {}
    return out


def _err(message, loc, **kw):
    return SpecError(message, loc=loc, **kw)


def load_spec(path, input_shape=None) -> Graph:
    """Read and check a spec file. ``input_shape`` overrides its ``input:``."""
    return parse_spec(load_file(path), str(path), input_shape)


def loads_spec(text: str, file: str = "<spec>", input_shape=None) -> Graph:
    """Like :func:`load_spec` for YAML text."""
    return parse_spec(load_text(text, file), file, input_shape)


def parse_spec(doc, file: str | None = None, input_shape=None) -> Graph:
    top = Loc(file, 1, 1)
    if doc is None:
        raise _err("the spec is empty; it needs at least 'input:' and 'layers:'", top)
    if not isinstance(doc, YMap):
        kind = "a list" if isinstance(doc, list) else f"a single value ({doc!r})"
        raise _err(
            f"the spec must be a mapping with 'input:' and 'layers:', but the file holds {kind}",
            loc_of(doc, top),
        )
    allowed = (*CORE_KEYS, *sorted(SECTIONS))
    for key in doc:
        if key not in allowed:
            raise _err(
                f"unknown top-level key '{key}'{did_you_mean(key, allowed)}; allowed: " + ", ".join(allowed),
                doc.key_locs[key],
                field=str(key),
            )
    shape = _parse_input(doc, file) if input_shape is None else tuple(input_shape)
    if input_shape is not None:
        _check_input_shape(list(shape), Loc(file), "--input")
    if "layers" not in doc:
        raise _err("missing 'layers:' (the list of layers)", doc.loc, field="layers")
    layers = doc["layers"]
    if not isinstance(layers, YList):
        raise _err(
            f"'layers' must be a list of layer entries, got {_describe(layers)}",
            doc.loc_of("layers"),
            field="layers",
        )
    if not layers:
        raise _err("'layers' is empty; a network needs at least one layer", doc.loc_of("layers"), field="layers")
    blocks = parse_blocks(doc.get("blocks"), doc.loc_of("blocks"), lambda n: layer_base.canonical_type(n.lower()) is not None)
    ctx = _Ctx(file, _parse_defaults(doc.get("defaults"), doc.loc_of("defaults")), blocks)
    _check_expanded_size(layers, blocks)
    try:
        _expand_list(layers, ctx, _Scope())
    except RecursionError:  # blocks within groups within blocks …: the limits above make this rare
        raise _err(
            "the spec nests blocks and groups too deeply to expand; flatten some of them",
            doc.loc_of("layers"),
            field="layers",
        ) from None
    nodes = _link(ctx, file)
    name = doc.get("name")
    description = doc.get("description")
    for key, value in (("name", name), ("description", description)):
        if value is not None and not isinstance(value, str):
            raise _err(f"'{key}' must be a string, got {_describe(value)}", doc.loc_of(key), field=key)
    return Graph(
        input_shape=shape,
        nodes=nodes,
        file=file,
        input_loc=doc.loc_of("input") if "input" in doc else doc.loc,
        name=name,
        description=description,
        sections={k: doc[k] for k in doc if k in SECTIONS},
        groups=_group_outputs(ctx),
    )


def _describe(value) -> str:
    if isinstance(value, bool):
        return f"the boolean {value}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return f"{type(value).__name__} {value!r}"


def _check_magnitude(field, value):
    """Integers beyond MAX_INT (10^18) are no size or count of any network;
    refusing them keeps every product printable (Python refuses to print
    integers of more than 4,300 digits)."""
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, list):
            _check_magnitude(field, item)
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INT:
            raise FieldError(field, f"integer with {len(str(abs(item)))} digits is too large; cnncalc accepts integers up to 10^18")


def _check_input_shape(shape, loc, what="input"):
    if not isinstance(shape, list) or not shape:
        raise _err(
            f"{what} must be a list [C, L], [C, H, W] or [C, D, H, W], got {_describe(shape)}", loc, field="input"
        )
    for item in shape:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise _err(f"{what} sizes must be integers ≥ 1, got {item!r} in {list(shape)}", loc, field="input")
        try:
            _check_magnitude("input", item)
        except FieldError as exc:
            raise _err(exc.message, loc, field="input") from None
    if len(shape) > 4:
        raise _err(
            f"{what} {list(shape)} has {len(shape) - 1} spatial axes; cnncalc handles [C] (flat), "
            "[C, L] (1D), [C, H, W] (2D) and [C, D, H, W] (3D), channels first, without the batch axis",
            loc,
            field="input",
        )


def _parse_input(doc, file):
    if "input" not in doc:
        raise _err(
            "missing 'input:' (the shape of one sample, channels first, e.g. [3, 224, 224]); "
            "or give it with --input",
            doc.loc,
            field="input",
        )
    value = doc["input"]
    _check_input_shape(value, doc.loc_of("input"))
    return tuple(value)


def _type_of(name, loc, blocks=()) -> type:
    if not isinstance(name, str):
        raise _err(f"a layer type must be a name, got {_describe(name)}", loc, field="type")
    canonical = layer_base.canonical_type(name.strip().lower())
    if canonical is None:
        known = [*layer_base.all_type_names(), *blocks]
        raise _err(
            f"unknown layer type or block '{name}'{did_you_mean(name, known)}; "
            "'cnncalc layers' lists the layer types",
            loc,
            field="type",
        )
    return layer_base.REGISTRY[canonical]


def _parse_defaults(defaults, loc):
    if defaults is None:
        return {}
    if not isinstance(defaults, YMap):
        raise _err(f"'defaults' must map layer types to fields, got {_describe(defaults)}", loc, field="defaults")
    out = {}
    for key, fields in defaults.items():
        cls = _type_of(key, defaults.key_locs[key])
        if not isinstance(fields, YMap):
            raise _err(
                f"defaults for '{key}' must be a mapping of fields, got {_describe(fields)}",
                defaults.loc_of(key),
                field=str(key),
            )
        out.setdefault(cls.type_name, {}).update(
            {k: (v, fields.loc_of(k)) for k, v in fields.items()}
        )
    return out


def _expand_list(entries: YList, ctx: _Ctx, scope: _Scope):
    for i, entry in enumerate(entries):
        _expand_entry(entry, entries.loc_of(i), ctx, scope)


def _repeat_count(entry: YMap) -> int:
    if "repeat" not in entry:
        return 1
    n = entry["repeat"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _err(f"'repeat' must be an integer ≥ 1, got {_describe(n)}", entry.loc_of("repeat"), field="repeat")
    return n


def _check_expanded_size(layers: YList, blocks: dict) -> None:
    """Refuse a spec whose ``repeat``s, nested groups and block uses would
    expand to more than MAX_LAYERS nodes, before expanding anything (an upper
    bound: skipped entries count too). Shared (aliased) lists and blocks are
    counted once each, so this is linear in the document; blocks may nest
    MAX_BLOCK_DEPTH deep."""
    memo: dict[int, int] = {}
    block_memo: dict[str, int] = {}
    active: list[str] = []

    def block_size(name: str, loc) -> int:
        if name in block_memo:
            return block_memo[name]
        if name in active:
            return 1  # a block that uses itself: reported during expansion
        if len(active) >= MAX_BLOCK_DEPTH:
            raise _err(
                f"blocks nest more than {MAX_BLOCK_DEPTH} deep ({' → '.join([*active[:3], '…', name])}); "
                "set CNNCALC_MAX_BLOCK_DEPTH to raise the limit",
                loc,
                field="type",
            )
        active.append(name)
        block_memo[name] = n = count(blocks[name].body)
        active.pop()
        return n

    def entry_size(entry, loc) -> int:
        if isinstance(entry, str):
            return block_size(entry, loc) if entry in blocks else 1
        if not isinstance(entry, YMap):
            return 1
        repeat = entry.get("repeat", 1)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            repeat = 1  # reported (or substituted) with its location during expansion
        body = entry.get("layers")
        if isinstance(body, YList):
            return repeat * count(body)
        type_name = entry.get("type")
        if type_name is None:
            keys = [k for k in entry if k not in (*ENTRY_KEYS, "overrides", "when", *EXTRA_ENTRY_KEYS)]
            type_name = keys[0] if len(keys) == 1 else None
        if isinstance(type_name, str) and type_name in blocks:
            return repeat * block_size(type_name, loc)
        return repeat

    def count(entries: YList) -> int:
        key = id(entries)
        if key in memo:
            return memo[key]
        total = 0
        for i, entry in enumerate(entries):
            n = entry_size(entry, entries.loc_of(i))
            if n > MAX_LAYERS:
                rep = isinstance(entry, YMap) and "repeat" in entry
                _guard_size_error(n, entry.loc_of("repeat") if rep else entries.loc_of(i))
            total += n
            if total > MAX_LAYERS:
                _guard_size_error(total, entries.loc_of(i))
        memo[key] = total
        return total

    count(layers)


def _guard_size_error(n, loc):
    raise _err(
        f"the spec expands to {n:,} layers, more than the limit of {MAX_LAYERS:,}; cnncalc refuses it "
        "(set CNNCALC_MAX_LAYERS to raise the limit)",
        loc,
        field="repeat",
    )


def _guard_size(ctx, extra, loc):
    if len(ctx.nodes) + extra > MAX_LAYERS:
        raise _err(
            f"the spec expands to more than {MAX_LAYERS:,} layers; cnncalc refuses it "
            "(set CNNCALC_MAX_LAYERS to raise the limit)",
            loc,
            field="repeat",
        )


def _when(entry: YMap) -> bool:
    """``when: false`` skips an entry (after block substitution: ``when: $downsample``)."""
    if "when" not in entry:
        return True
    value = entry["when"]
    if not isinstance(value, bool):
        raise _err(
            f"'when' must be true or false (e.g. $downsample or $(stride == 1)), got {_describe(value)}",
            entry.loc_of("when"),
            field="when",
        )
    return value


def _skip(entry: YMap, ctx: _Ctx, scope: _Scope, name):
    """A skipped entry passes its input through: its name (if any) stands for
    that input, and so does the default input of the next entry."""
    inputs = _parse_inputs(entry, scope)
    source = inputs[0] if inputs else ctx.previous
    if name is not None:
        scope.aliases[name] = source
    ctx.previous = source


def _instance_name(scope, name, count, r):
    return f"{scope.prefix}{name}" if count == 1 else f"{scope.prefix}{name}.{r}"


def _open_group(ctx: _Ctx, scope: _Scope, full: str, kind: str, loc: Loc):
    if full in ctx.names or full in ctx.groups:
        where = ctx.names.get(full) or ctx.groups[full].loc
        raise _err(f"name '{full}' is already used on line {where.line}", loc, field="name", layer_name=full)
    ctx.groups[full] = GroupInfo(full, kind, scope.group, loc)


def _expand_entry(entry, loc, ctx: _Ctx, scope: _Scope):
    if isinstance(entry, str):
        if entry in ctx.blocks:
            _expand_block(ctx.blocks[entry], _empty_map(loc), _empty_map(loc), loc, ctx, scope)
            return
        _add_layer(entry, _empty_map(loc), loc, ctx, scope, name=None, inputs=None, extra={})
        return
    if not isinstance(entry, YMap):
        raise _err(
            f"a layer entry must be a layer type name or a mapping, got {_describe(entry)}", loc
        )
    if not entry:
        raise _err("empty layer entry", loc)
    count = _repeat_count(entry)
    name = entry.get("name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise _err(f"'name' must be a non-empty string, got {_describe(name)}", entry.loc_of("name"), field="name")
    if not _when(entry):
        _skip(entry, ctx, scope, name)
        return
    extra = {k: entry[k] for k in entry if k in EXTRA_ENTRY_KEYS}
    extra_locs = {k: entry.loc_of(k) for k in extra}

    if "layers" in entry:  # a (repeated) group of entries
        stray = [k for k in entry if k not in ("layers", "repeat", "name", "inputs", "when")]
        if stray:
            raise _err(
                f"a group entry takes 'layers', 'repeat', 'name', 'inputs' and 'when' only; unexpected '{stray[0]}'",
                entry.key_locs[stray[0]],
                field=str(stray[0]),
            )
        body = entry["layers"]
        if not isinstance(body, YList) or not body:
            raise _err("'layers' of a group must be a non-empty list", entry.loc_of("layers"), field="layers")
        _guard_size(ctx, count * len(body), entry.loc_of("repeat"))
        inputs = _parse_inputs(entry, scope)
        if inputs:
            if len(inputs) > 1:
                raise _err("a group takes one input (its first layer's); give several to a merge layer inside it",
                           entry.loc_of("inputs"), field="inputs")
            ctx.previous = inputs[0]
        if name is not None and count > 1:
            _open_group(ctx, scope, scope.prefix + name, f"group ×{count}", entry.loc)
        for r in range(count):
            if name is None:
                _expand_list(body, ctx, scope)
                continue
            full = _instance_name(scope, name, count, r)
            _open_group(ctx, scope, full, "group", entry.loc)
            inner = _Scope(full + ".", scope, full, counters=scope.counters)
            _expand_list(body, ctx, inner)
            ctx.group_out[full] = ctx.previous
        if name is not None and count > 1:
            ctx.group_out[scope.prefix + name] = ctx.previous
        return

    type_name, type_loc, fields = _entry_type(entry)
    if isinstance(type_name, str) and type_name in ctx.blocks:
        _expand_block(ctx.blocks[type_name], entry, fields, type_loc, ctx, scope, count=count, name=name)
        return
    if "overrides" in entry:
        raise _err("'overrides' belongs to a repeated block instance", entry.key_locs["overrides"], field="overrides")
    inputs = _parse_inputs(entry, scope)
    _guard_size(ctx, count, entry.loc_of("repeat"))
    if name is not None and count > 1:
        _open_group(ctx, scope, scope.prefix + name, f"{type_name} ×{count}", entry.loc)
    for r in range(count):
        node_name = None
        if name is not None:
            node_name = _instance_name(scope, name, count, r)
        inner = scope
        if name is not None and count > 1:
            inner = _Scope(scope.prefix, scope, scope.prefix + name, counters=scope.counters)
        _add_layer(
            type_name,
            fields,
            type_loc,
            ctx,
            inner,
            name=node_name,
            inputs=inputs if r == 0 else None,
            extra=extra,
            extra_locs=extra_locs,
            inputs_loc=entry.loc_of("inputs") if "inputs" in entry else None,
            name_loc=entry.loc_of("name") if "name" in entry else None,
        )
    if name is not None and count > 1:
        ctx.group_out[scope.prefix + name] = ctx.previous


def _entry_type(entry: YMap):
    """(type or block name, its location, its fields) of a layer entry."""
    own_keys = (*ENTRY_KEYS, "overrides", *EXTRA_ENTRY_KEYS)
    if "type" in entry:
        type_name = entry["type"]
        type_loc = entry.loc_of("type")
        fields = YMap({k: v for k, v in entry.items() if k not in (*own_keys, "type")})
        fields.loc = entry.loc
        fields.key_locs = entry.key_locs
        fields.value_locs = entry.value_locs
        return type_name, type_loc, fields
    type_keys = [k for k in entry if k not in own_keys]
    if not type_keys:
        raise _err("the entry names no layer type", entry.loc)
    if len(type_keys) > 1:
        known = [k for k in type_keys if isinstance(k, str) and layer_base.canonical_type(k)]
        if len(known) == 1:
            other = next(k for k in type_keys if k not in known)
            raise _err(
                f"unexpected key '{other}' beside '{known[0]}'; put layer fields inside "
                f"'{known[0]}: {{...}}' (or use the explicit form with 'type: {known[0]}')",
                entry.key_locs[other],
                field=str(other),
            )
        raise _err(
            f"a layer entry has one layer type key, found {', '.join(map(str, type_keys))}",
            entry.loc,
        )
    type_name = type_keys[0]
    type_loc = entry.key_locs[type_name]
    fields = entry[type_name]
    if fields is None:
        fields = _empty_map(type_loc)
    elif not isinstance(fields, YMap):
        raise _err(
            f"the fields of '{type_name}' must be a mapping like {{out_channels: 64}}, got {_describe(fields)}",
            entry.loc_of(type_name),
            field=str(type_name),
        )
    return type_name, type_loc, fields


def _expand_block(block, entry: YMap, args: YMap, loc: Loc, ctx: _Ctx, scope: _Scope, *, count=1, name=None):
    """Instantiate ``block`` ``count`` times, chained; each instance in a
    scope of its own, named ``<name>`` or ``<name>.<r>``."""
    overrides = _parse_overrides(entry, count)
    if block.name in ctx.active_blocks:
        chain = " → ".join([*ctx.active_blocks[ctx.active_blocks.index(block.name):], block.name])
        raise _err(f"block '{block.name}' uses itself ({chain})", loc, field="type")
    inputs = _parse_inputs(entry, scope)
    if inputs:
        if len(inputs) > 1:
            raise _err(
                "a block takes one input (its 'input'); pass other nodes as arguments", entry.loc_of("inputs"),
                field="inputs",
            )
        ctx.previous = inputs[0]
    base = name if name is not None else None
    if base is not None and count > 1:
        _open_group(ctx, scope, scope.prefix + base, f"{block.name} ×{count}", entry.loc)
    outer = _Scope(scope.prefix + base + ".", scope, scope.prefix + base, counters=scope.counters) \
        if base is not None and count > 1 else scope
    ctx.active_blocks.append(block.name)
    for r in range(count):
        params = bind_args(block, args, loc, overrides.get(r))
        if base is None:
            full = scope.prefix + ctx.auto_name(block.name, scope)
        else:
            full = _instance_name(scope, base, count, r)
        _open_group(ctx, outer, full, block.name, loc)
        body = substitute_tree(block.body, params, block.loc)
        _guard_size(ctx, len(body), loc)
        inner = _Scope(full + ".", outer, full, block_input=ctx.previous)
        _expand_list(body, ctx, inner)
        ctx.group_out[full] = ctx.previous
    ctx.active_blocks.pop()
    if base is not None and count > 1:
        ctx.group_out[scope.prefix + base] = ctx.previous


def _parse_overrides(entry: YMap, count: int) -> dict:
    """``overrides: {0: {stride: 2, downsample: true}}``: arguments for single repetitions."""
    if "overrides" not in entry:
        return {}
    value = entry["overrides"]
    loc = entry.loc_of("overrides")
    if not isinstance(value, YMap):
        raise _err(
            "'overrides' maps a repetition index to arguments, e.g. {0: {stride: 2}}", loc, field="overrides"
        )
    out = {}
    for key, args in value.items():
        key_loc = value.key_locs[key]
        if isinstance(key, bool) or not isinstance(key, int) or not -count <= key < count:
            raise _err(
                f"override index must be a repetition 0 … {count - 1} (or −1 for the last), got {key!r}",
                key_loc,
                field="overrides",
            )
        if not isinstance(args, YMap):
            raise _err(f"override {key} must be a mapping of arguments, got {_describe(args)}",
                       value.loc_of(key), field="overrides")
        out[key % count] = args
    return out


def _parse_inputs(entry: YMap, scope: _Scope):
    if "inputs" not in entry:
        return None
    value = entry["inputs"]
    loc = entry.loc_of("inputs")
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise _err(
            f"'inputs' must be a node name or a list of node names, got {_describe(value)}", loc, field="inputs"
        )
    return tuple(_Ref(n, scope, loc) for n in names)


def _build_layer(cls, fields: YMap, defaults: dict, type_loc: Loc):
    """Check every field value and build the frozen layer; returns
    (layer, field_locs, activation or None, activation_loc)."""
    declared = {f.name: f for f in layer_fields(cls)}
    values = {}
    locs = {}
    merged = dict(defaults)
    for key, value in fields.items():
        merged[key] = (value, fields.loc_of(key))
    activation = None
    activation_loc = None
    for key, (value, loc) in merged.items():
        if key == "activation" and cls.takes_activation:
            activation, activation_loc = value, loc
            continue
        if key not in declared:
            allowed = list(declared) + (["activation"] if cls.takes_activation else [])
            key_loc = fields.key_locs.get(key, loc) if key in fields else loc
            raise SpecError(
                f"unknown field '{key}' for {cls.type_name}{did_you_mean(key, allowed)}; "
                f"its fields are: {', '.join(allowed) or '(none)'}",
                loc=key_loc,
                field=str(key),
            )
        kind = declared[key].metadata["kind"]
        if value is None and declared[key].default is None:
            values[key] = None
        else:
            try:
                _check_magnitude(key, value)
                values[key] = kind.parse(key, value)
            except FieldError as exc:
                raise SpecError(exc.message, loc=loc, field=key) from None
        locs[key] = loc
    missing = [n for n, f in declared.items() if f.default is REQUIRED and n not in values]
    if missing:
        raise SpecError(
            f"missing required field{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"'{m}'" for m in missing)
            + f" (e.g. {{{missing[0]}: ...}})",
            loc=type_loc,
            field=missing[0],
        )
    try:
        layer = cls(**values)
    except FieldError as exc:
        raise SpecError(exc.message, loc=locs.get(exc.field, type_loc), field=exc.field) from None
    return layer, locs, activation, activation_loc


def _add_layer(type_name, fields, type_loc, ctx: _Ctx, scope: _Scope, *, name, inputs, extra,
               extra_locs=None, inputs_loc=None, name_loc=None):
    cls = _type_of(type_name, type_loc, ctx.blocks)
    index = len(ctx.nodes) + 1
    node_name = name or (scope.prefix + ctx.auto_name(cls.type_name, scope))
    try:
        layer, locs, activation, act_loc = _build_layer(cls, fields, ctx.defaults.get(cls.type_name, {}), type_loc)
    except SpecError as exc:
        raise exc.with_context(layer_index=index, layer_name=node_name, layer_type=cls.type_name) from None
    _claim_name(ctx, node_name, name_loc or type_loc, index, cls.type_name)
    locs = dict(locs)
    if extra_locs:
        locs.update(extra_locs)
    if inputs_loc is not None:
        locs["inputs"] = inputs_loc
    ctx.nodes.append(_Pending(node_name, layer, inputs or (ctx.previous,), type_loc, locs, scope.group,
                              dict(extra), inputs_loc))
    ctx.previous = _Ref(node_name)
    if activation is not None and not (isinstance(activation, str) and activation.lower() in ("none", "linear")):
        _add_activation(activation, act_loc, ctx, node_name, scope.group)


def _add_activation(activation, loc, ctx: _Ctx, owner: str, parent):
    """``activation: relu`` (or ``{leaky_relu: {negative_slope: 0.2}}``) after a conv/dense."""
    if isinstance(activation, str):
        type_name, fields = activation, _empty_map(loc)
    elif isinstance(activation, YMap) and len(activation) == 1:
        type_name, fields = next(iter(activation.items()))
        if fields is None:
            fields = _empty_map(loc)
        if not isinstance(fields, YMap):
            raise SpecError(f"activation fields must be a mapping, got {_describe(fields)}", loc=loc, field="activation")
    else:
        raise SpecError(
            "'activation' must be a name such as relu, or {leaky_relu: {negative_slope: 0.2}}",
            loc=loc,
            field="activation",
        )
    canonical = layer_base.canonical_type(str(type_name).lower())
    names = activation_names()
    if canonical not in names:
        raise SpecError(
            f"unknown activation '{type_name}'{did_you_mean(type_name, names)}; allowed: {', '.join(names)}",
            loc=loc,
            field="activation",
            layer_index=len(ctx.nodes),
            layer_name=owner,
        )
    cls = layer_base.REGISTRY[canonical]
    layer, locs, _, _ = _build_layer(cls, fields, {}, loc)
    node_name = f"{owner}.{cls.type_name}"
    _claim_name(ctx, node_name, loc, len(ctx.nodes) + 1, cls.type_name)
    ctx.nodes.append(_Pending(node_name, layer, (_Ref(owner),), loc, locs, parent, {}))
    ctx.previous = _Ref(node_name)


def _claim_name(ctx, name, loc, index, type_name):
    if name == INPUT:
        raise SpecError(
            f"the name '{INPUT}' is reserved for the network input", loc=loc, field="name",
            layer_index=index, layer_type=type_name,
        )
    if name in ctx.names or name in ctx.groups:
        where = ctx.names[name] if name in ctx.names else ctx.groups[name].loc
        what = "the layer" if name in ctx.names else "the block or group"
        raise SpecError(
            f"name '{name}' is already used by {what} on line {where.line}",
            loc=loc,
            field="name",
            layer_index=index,
            layer_name=name,
            layer_type=type_name,
        )
    ctx.names[name] = loc


def _resolve(ctx: _Ctx, ref: _Ref, p: _Pending, index: int) -> str:
    """The full node name a reference stands for. Lookup goes outwards
    through the scopes: inside a block ``input`` is the block's input, then
    nodes and groups of this scope (a group stands for its output), names of
    skipped entries, then the enclosing scopes; at the root ``input`` is the
    network input."""
    original = ref
    for _ in range(10_000):  # a loop, not recursion: chains of skipped entries can be long
        nxt = _resolve_step(ctx, ref)
        if isinstance(nxt, str):
            return nxt
        if nxt is None:
            break
        ref = nxt
    else:
        raise SpecError(f"'{original.name}' refers to itself through skipped entries", loc=original.loc or p.loc,
                        field="inputs", layer_index=index, layer_name=p.name)
    piece = _piece(ctx, ref)
    if piece is not None:
        return piece
    name = ref.name
    candidates = {INPUT, *ctx.names, *ctx.group_out}
    scope = ref.scope
    while scope is not None:  # names as written from where the reference stands
        candidates |= {n[len(scope.prefix):] for n in (*ctx.names, *ctx.group_out) if n.startswith(scope.prefix)}
        candidates |= set(scope.aliases)
        scope = scope.parent
    raise SpecError(
        f"unknown input '{name}'{did_you_mean(name, sorted(candidates))}",
        loc=ref.loc or p.loc,
        field="inputs",
        layer_index=index,
        layer_name=p.name,
        layer_type=p.layer.type_name,
    )


def _resolve_step(ctx: _Ctx, ref: _Ref):
    """One lookup step of :func:`_resolve`: a full node name, another
    reference to follow, or None when the name is unknown."""
    if ref.scope is None:
        return ref.name
    name = ref.name
    scope = ref.scope
    while scope is not None:
        if name == INPUT and scope.block_input is not None:
            return scope.block_input
        full = scope.prefix + name
        if full in ctx.names:
            return full
        if full in ctx.group_out:
            return ctx.group_out[full]
        if name in scope.aliases:
            return scope.aliases[name]
        scope = scope.parent
    if name == INPUT:
        return INPUT
    return None


# -- pieces of a node's output (split1.0): Layer.piece ------------------------

def _piece(ctx: _Ctx, ref: _Ref) -> str | None:
    """``<node>.<key>`` where ``<node>`` is a layer whose output has pieces
    (``split``): the full name of the piece's node, added (once) as a pending
    node right after its source, or None."""
    head, dot, key = ref.name.rpartition(".")
    if not dot or not head:
        return None
    source = _Ref(head, ref.scope, ref.loc)
    for _ in range(10_000):
        source = _resolve_step(ctx, source)
        if source is None or isinstance(source, str):
            break
    if ctx.by_name is None:  # only linking resolves references: every node is known by now
        ctx.by_name = {p.name: p for p in ctx.nodes}
    owner = ctx.by_name.get(source) if isinstance(source, str) else None
    found = owner.layer.piece(key) if owner is not None else None
    if found is None:
        return None
    canonical, layer = found
    name = f"{owner.name}.{canonical}"
    if name not in ctx.pieces:
        if name in ctx.names or name in ctx.groups:
            return None  # an entry of that name exists; the caller reports the reference
        if len(ctx.nodes) + len(ctx.pieces) >= MAX_LAYERS:  # pieces are nodes too (see "Limits")
            raise _err(
                f"the spec expands to more than {MAX_LAYERS:,} layers with the split pieces it names; cnncalc "
                "refuses it (set CNNCALC_MAX_LAYERS to raise the limit)",
                ref.loc or owner.loc,
                field="inputs",
            )
        ctx.pieces[name] = _Pending(name, layer, (_Ref(owner.name),), ref.loc or owner.loc, {}, owner.parent, {})
    return name


def _with_pieces(ctx: _Ctx, resolved: list) -> list:
    """``resolved`` with each piece node right after the node it comes from."""
    if not ctx.pieces:
        return resolved
    after: dict[str, list] = {}
    for p in sorted(ctx.pieces.values(), key=lambda p: getattr(p.layer, "start", 0)):  # in the order of the axis
        after.setdefault(p.inputs[0].name, []).append((p, (p.inputs[0].name,)))
    out = []
    for item in resolved:
        out.append(item)
        out.extend(after.get(item[0].name, ()))
    return out


def _group_outputs(ctx: _Ctx) -> dict:
    """The groups with their output node filled in (a group ending in a
    skipped entry stands for that entry's input, possibly outside it)."""
    out = {}
    for name, info in ctx.groups.items():
        ref = ctx.group_out.get(name)
        output = None
        for _ in range(10_000):
            if ref is None or isinstance(ref, str):
                output = ref
                break
            ref = _resolve_step(ctx, ref)
        out[name] = dataclasses.replace(info, output=output)
    return out


def _link(ctx: _Ctx, file) -> list[Node]:
    """Resolve ``inputs`` (default: the previous node) and order the nodes
    topologically; unknown names and cycles are errors."""
    pending = ctx.nodes
    resolved: list[tuple] = []
    for i, p in enumerate(pending, 1):
        inputs = tuple(_resolve(ctx, ref, p, i) for ref in p.inputs)
        for src in inputs:
            if src == p.name:
                raise SpecError(
                    "a layer cannot take its own output as input",
                    loc=p.inputs_loc or p.loc,
                    field="inputs",
                    layer_index=i,
                    layer_name=p.name,
                )
        resolved.append((p, inputs))
    resolved = _with_pieces(ctx, resolved)
    order = _topological([(p.name, inputs) for p, inputs in resolved])
    if order is None:
        cycle = _find_cycle({p.name: inputs for p, inputs in resolved})
        first = next(p for p, _ in resolved if p.name == cycle[0])
        raise SpecError(
            "the inputs form a cycle: " + " → ".join([*cycle, cycle[0]]),
            loc=first.inputs_loc or first.loc,
            field="inputs",
            layer_name=first.name,
        )
    by_name = {p.name: (p, inputs) for p, inputs in resolved}
    nodes = []
    for i, name in enumerate(order, 1):
        p, inputs = by_name[name]
        nodes.append(
            Node(
                name=p.name,
                layer=p.layer,
                inputs=tuple(inputs),
                index=i,
                loc=p.loc,
                field_locs=MappingProxyType(p.field_locs),
                parent=p.parent,
                extra=MappingProxyType(p.extra),
            )
        )
    return nodes


def _topological(edges):
    """Kahn's algorithm, stable: keeps spec order where the inputs allow."""
    names = [n for n, _ in edges]
    deps = {n: [s for s in inputs if s != INPUT] for n, inputs in edges}
    position = {n: i for i, n in enumerate(names)}
    if all(position[s] < position[n] for n in names for s in deps[n]):
        return names  # already in order: the common case
    import heapq

    waiting = {n: len(set(d)) for n, d in deps.items()}
    users: dict[str, list[str]] = {}
    for n, d in deps.items():
        for s in set(d):
            users.setdefault(s, []).append(n)
    ready = [position[n] for n in names if waiting[n] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        n = names[heapq.heappop(ready)]
        out.append(n)
        for u in users.get(n, []):
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, position[u])
    return out if len(out) == len(names) else None


def _find_cycle(deps):
    """One cycle of the input graph, as a list of names (iterative DFS, so a
    cycle through thousands of layers cannot exhaust the stack)."""
    state: dict[str, int] = {}
    for root in deps:
        if root in state:
            continue
        path: list[str] = []
        stack = [(root, iter(deps.get(root, ())))]
        state[root] = 1
        path.append(root)
        while stack:
            n, it = stack[-1]
            for s in it:
                if s == INPUT or s not in deps:
                    continue
                if state.get(s) == 1:
                    return path[path.index(s):]
                if s not in state:
                    state[s] = 1
                    path.append(s)
                    stack.append((s, iter(deps.get(s, ()))))
                    break
            else:
                stack.pop()
                path.pop()
                state[n] = 2
    return [next(iter(deps))]  # pragma: no cover
