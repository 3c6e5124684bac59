"""Stage 2: the list of entries → the flat list of nodes. Expands
``repeat:``, groups (``{repeat: N, layers: [...]}``), block instances (each
in a scope of its own, so names are hierarchical: ``layer3.1.conv2``),
``when: false`` (skipped entries pass their input through) and
``activation:`` (a node after its conv/dense); names nodes; and refuses a
spec that would expand beyond MAX_LAYERS before expanding anything."""

from __future__ import annotations

import sys

from ..errors import Loc, SpecError, did_you_mean
from ..graph import INPUT
from ..layers import base as layer_base
from ..yamlio import YList, YMap
from .common import _describe, _empty_map, _err
from .layer import _build_layer, _type_of
from .resolve import _parse_inputs
from .state import GroupInfo, _Ctx, _Pending, _Ref, _Scope

#: Keys of a layer entry that are not layer fields.
ENTRY_KEYS = ("name", "inputs", "repeat", "when")
#: Entry keys owned by other features (kept in ``Node.extra``), listed here
#: for the same reason as load.SECTIONS.
EXTRA_ENTRY_KEYS: set[str] = {"expect", "weights", "biases"}  # cnncalc.homework.keys



def _limits():
    """The package, whose MAX_LAYERS and MAX_BLOCK_DEPTH (cnncalc.spec, see README,
    "Limits") are read at call time, so that setting them there takes effect."""
    return sys.modules[__package__]


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
        if len(active) >= _limits().MAX_BLOCK_DEPTH:
            raise _err(
                f"blocks nest more than {_limits().MAX_BLOCK_DEPTH} deep ({' → '.join([*active[:3], '…', name])}); "
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
            if n > _limits().MAX_LAYERS:
                rep = isinstance(entry, YMap) and "repeat" in entry
                _guard_size_error(n, entry.loc_of("repeat") if rep else entries.loc_of(i))
            total += n
            if total > _limits().MAX_LAYERS:
                _guard_size_error(total, entries.loc_of(i))
        memo[key] = total
        return total

    count(layers)


def _guard_size_error(n, loc):
    raise _err(
        f"the spec expands to {n:,} layers, more than the limit of {_limits().MAX_LAYERS:,}; cnncalc refuses it "
        "(set CNNCALC_MAX_LAYERS to raise the limit)",
        loc,
        field="repeat",
    )


def _guard_size(ctx, extra, loc):
    if len(ctx.nodes) + extra > _limits().MAX_LAYERS:
        raise _err(
            f"the spec expands to more than {_limits().MAX_LAYERS:,} layers; cnncalc refuses it "
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
    from ..blocks import bind_args, substitute_tree  # (imported with the first block a spec uses)

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
    names = layer_base.activation_names()
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
