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
list. Everything is checked here, with the file, line and column of each
value, before any arithmetic runs.
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType

from .errors import FieldError, Loc, SpecError, did_you_mean
from .graph import INPUT, Graph, Node
from .layers import base as layer_base
from .layers.activation import activation_names
from .layers.fields import REQUIRED, layer_fields
from .yamlio import YList, YMap, load_file, load_text, loc_of

#: Top-level keys of a spec. Other features add theirs to SECTIONS.
CORE_KEYS = ("name", "description", "input", "defaults", "layers")
SECTIONS: set[str] = set()

#: Keys of a layer entry that are not layer fields.
ENTRY_KEYS = ("name", "inputs", "repeat")
#: Entry keys owned by other features (kept in ``Node.extra``).
EXTRA_ENTRY_KEYS: set[str] = set()

#: Safety limit on the expanded number of nodes (``repeat`` can multiply).
MAX_LAYERS = 1_000_000


class _Ctx:
    """State while expanding one spec."""

    def __init__(self, file, defaults):
        self.file = file
        self.defaults = defaults
        self.nodes: list[_Pending] = []
        self.counters: dict[str, int] = {}
        self.names: dict[str, Loc] = {}

    def auto_name(self, type_name: str) -> str:
        n = self.counters.get(type_name, 0) + 1
        self.counters[type_name] = n
        name = f"{type_name}{n}"
        while name in self.names:
            n += 1
            self.counters[type_name] = n
            name = f"{type_name}{n}"
        return name


@dataclasses.dataclass
class _Pending:
    name: str
    layer: object
    inputs: tuple | None
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
        raise _err("missing 'layers:' (the list of layers)", doc.loc)
    layers = doc["layers"]
    if not isinstance(layers, YList):
        raise _err(
            f"'layers' must be a list of layer entries, got {_describe(layers)}",
            doc.loc_of("layers"),
            field="layers",
        )
    if not layers:
        raise _err("'layers' is empty; a network needs at least one layer", doc.loc_of("layers"), field="layers")
    ctx = _Ctx(file, _parse_defaults(doc.get("defaults"), doc.loc_of("defaults")))
    _expand_list(layers, ctx, parent=None, prefix="")
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


def _check_input_shape(shape, loc, what="input"):
    if not isinstance(shape, list) or not shape:
        raise _err(
            f"{what} must be a list [C, L], [C, H, W] or [C, D, H, W], got {_describe(shape)}", loc, field="input"
        )
    for item in shape:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise _err(f"{what} sizes must be integers ≥ 1, got {item!r} in {list(shape)}", loc, field="input")
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


def _type_of(name, loc) -> type:
    if not isinstance(name, str):
        raise _err(f"a layer type must be a name, got {_describe(name)}", loc, field="type")
    canonical = layer_base.canonical_type(name.strip().lower())
    if canonical is None:
        raise _err(
            f"unknown layer type '{name}'{did_you_mean(name, layer_base.all_type_names())}; "
            "'cnncalc layers' lists them",
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


def _expand_list(entries: YList, ctx: _Ctx, parent, prefix):
    for i, entry in enumerate(entries):
        _expand_entry(entry, entries.loc_of(i), ctx, parent, prefix)


def _repeat_count(entry: YMap) -> int:
    if "repeat" not in entry:
        return 1
    n = entry["repeat"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise _err(f"'repeat' must be an integer ≥ 1, got {_describe(n)}", entry.loc_of("repeat"), field="repeat")
    return n


def _guard_size(ctx, extra, loc):
    if len(ctx.nodes) + extra > MAX_LAYERS:
        raise _err(
            f"the spec expands to more than {MAX_LAYERS:,} layers; cnncalc refuses it "
            "(set cnncalc.spec.MAX_LAYERS to raise the limit)",
            loc,
            field="repeat",
        )


def _expand_entry(entry, loc, ctx: _Ctx, parent, prefix):
    if isinstance(entry, str):
        _add_layer(entry, _empty_map(loc), loc, ctx, parent, prefix, name=None, inputs=None, extra={})
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
    extra = {k: entry[k] for k in entry if k in EXTRA_ENTRY_KEYS}
    extra_locs = {k: entry.loc_of(k) for k in extra}

    if "layers" in entry:  # a repeated group
        stray = [k for k in entry if k not in ("layers", "repeat", "name")]
        if stray:
            raise _err(
                f"a group entry takes 'layers', 'repeat' and 'name' only; unexpected '{stray[0]}'",
                entry.key_locs[stray[0]],
                field=str(stray[0]),
            )
        body = entry["layers"]
        if not isinstance(body, YList) or not body:
            raise _err("'layers' of a group must be a non-empty list", entry.loc_of("layers"), field="layers")
        _guard_size(ctx, count * len(body), entry.loc_of("repeat"))
        for r in range(count):
            if name is not None:
                group = f"{prefix}{name}" if count == 1 else f"{prefix}{name}.{r}"
                _expand_list(body, ctx, group, group + ".")
            else:
                _expand_list(body, ctx, parent, prefix)
        return

    if "type" in entry:
        type_name = entry["type"]
        type_loc = entry.loc_of("type")
        fields = YMap({k: v for k, v in entry.items() if k not in (*ENTRY_KEYS, "type", *EXTRA_ENTRY_KEYS)})
        fields.loc = entry.loc
        fields.key_locs = entry.key_locs
        fields.value_locs = entry.value_locs
    else:
        type_keys = [k for k in entry if k not in (*ENTRY_KEYS, *EXTRA_ENTRY_KEYS)]
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
    inputs = _parse_inputs(entry)
    _guard_size(ctx, count, entry.loc_of("repeat"))
    for r in range(count):
        node_name = None
        if name is not None:
            node_name = f"{prefix}{name}" if count == 1 else f"{prefix}{name}.{r}"
        _add_layer(
            type_name,
            fields,
            type_loc,
            ctx,
            parent,
            prefix,
            name=node_name,
            inputs=inputs if r == 0 else None,
            extra=extra,
            extra_locs=extra_locs,
            inputs_loc=entry.loc_of("inputs") if "inputs" in entry else None,
            name_loc=entry.loc_of("name") if "name" in entry else None,
        )


def _parse_inputs(entry: YMap):
    if "inputs" not in entry:
        return None
    value = entry["inputs"]
    loc = entry.loc_of("inputs")
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise _err(
            f"'inputs' must be a node name or a list of node names, got {_describe(value)}", loc, field="inputs"
        )
    return tuple(names)


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


def _add_layer(type_name, fields, type_loc, ctx: _Ctx, parent, prefix, *, name, inputs, extra,
               extra_locs=None, inputs_loc=None, name_loc=None):
    cls = _type_of(type_name, type_loc)
    index = len(ctx.nodes) + 1
    node_name = name or (prefix + ctx.auto_name(cls.type_name))
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
    ctx.nodes.append(_Pending(node_name, layer, inputs, type_loc, locs, parent, dict(extra), inputs_loc))
    if activation is not None and not (isinstance(activation, str) and activation.lower() in ("none", "linear")):
        _add_activation(activation, act_loc, ctx, node_name, parent)


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
    ctx.nodes.append(_Pending(node_name, layer, None, loc, locs, parent, {}))


def _claim_name(ctx, name, loc, index, type_name):
    if name == INPUT:
        raise SpecError(
            f"the name '{INPUT}' is reserved for the network input", loc=loc, field="name",
            layer_index=index, layer_type=type_name,
        )
    if name in ctx.names:
        raise SpecError(
            f"name '{name}' is already used by the layer on line {ctx.names[name].line}",
            loc=loc,
            field="name",
            layer_index=index,
            layer_name=name,
            layer_type=type_name,
        )
    ctx.names[name] = loc


def _link(ctx: _Ctx, file) -> list[Node]:
    """Resolve ``inputs`` (default: the previous node) and order the nodes
    topologically; unknown names and cycles are errors."""
    pending = ctx.nodes
    known = {p.name for p in pending}
    resolved: list[tuple] = []
    previous = INPUT
    for i, p in enumerate(pending, 1):
        inputs = p.inputs if p.inputs is not None else (previous,)
        for src in inputs:
            if src != INPUT and src not in known:
                raise SpecError(
                    f"unknown input '{src}'{did_you_mean(src, [INPUT, *known])}",
                    loc=p.inputs_loc or p.loc,
                    field="inputs",
                    layer_index=i,
                    layer_name=p.name,
                    layer_type=p.layer.type_name,
                )
            if src == p.name:
                raise SpecError(
                    "a layer cannot take its own output as input",
                    loc=p.inputs_loc or p.loc,
                    field="inputs",
                    layer_index=i,
                    layer_name=p.name,
                )
        resolved.append((p, inputs))
        previous = p.name
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
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for s in deps.get(n, ()):
            if s == INPUT:
                continue
            if state.get(s) == 1:
                return stack[stack.index(s):]
            if s not in state:
                found = visit(s)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in deps:
        if n not in state:
            found = visit(n)
            if found:
                return found
    return [next(iter(deps))]  # pragma: no cover
