"""Hypothesis strategies that write random cnncalc specs.

Everything is driven by the layer registry and each layer class's typed fields
(``cnncalc.layers.fields``), so a newly registered layer type is fuzzed without
touching this file. Values are mostly valid (small sizes, so that many
generated networks fit their input) and sometimes deliberately wrong: wrong
types, zero and negative sizes, unknown modes, unknown fields, unknown types,
bad references. ``spec_docs()`` draws a Python document; ``spec_texts()`` its
YAML text.
"""

from __future__ import annotations

import yaml
from functools import lru_cache

from hypothesis import strategies as st

from cnncalc.layers import REGISTRY, Layer
from cnncalc.layers import fields as F
from cnncalc.layers.fields import REQUIRED, layer_fields

#: Values of the wrong type for almost any field.
GARBAGE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(-4, 4, allow_nan=False) | st.sampled_from([float("nan"), float("inf")]),
    st.text("abcsamevlidfu_ ", max_size=6),
    st.lists(st.integers(-2, 4), max_size=4),
    st.just({"a": 1}),
    st.just([[1, 2], [3]]),
)



def _weighted(valid, invalid, p_invalid):
    """``valid`` most of the time, ``invalid`` with probability about p_invalid."""
    # Drawn high for the rare branch, so that shrinking moves towards valid values.
    cut = 1000 - round(1000 * p_invalid)

    @st.composite
    def pick(draw):
        return draw(invalid if draw(_ints(0, 999)) >= cut and not _CLEAN[0] else valid)

    return pick()


@lru_cache(maxsize=None)
def _ints(lo: int, hi: int):
    return st.integers(lo, hi)


def _one_in(draw, n: int) -> bool:
    """True about once in n draws (shrinks to False)."""
    return draw(_ints(0, n - 1)) == n - 1


#: Set while spec_docs(clean=True) draws: no deliberately invalid values
#: (the executor property wants valid networks; the draws stay the same shape).
_CLEAN = [False]


def _bad(draw, n: int) -> bool:
    """Like _one_in, for a deliberately invalid branch (never when clean)."""
    return _one_in(draw, n) and not _CLEAN[0]


def _pick(draw, items):
    """One of ``items`` (a list that changes from draw to draw)."""
    return items[draw(_ints(0, len(items) - 1))]


def _axes(item, ndim_hint):
    return st.one_of(item, st.lists(item, min_size=1, max_size=3) if ndim_hint is None else st.lists(item, min_size=ndim_hint, max_size=ndim_hint))


@lru_cache(maxsize=None)
def value_for(kind, ndim):
    """A strategy for one field of the given kind (see cnncalc.layers.fields)."""
    if isinstance(kind, F.Int):
        lo = kind.minimum
        return _weighted(st.integers(lo, lo + 5), st.one_of(st.integers(lo - 3, lo - 1), GARBAGE), 0.04)
    if isinstance(kind, F.Axes):
        lo = kind.minimum
        good = _weighted(_axes(st.integers(lo, lo + 3), ndim), _axes(st.integers(lo, lo + 3), None), 0.05)
        return _weighted(good, st.one_of(st.integers(lo - 2, lo - 1), GARBAGE, st.just([])), 0.04)
    if isinstance(kind, F.OptionalAxes):
        lo = kind.minimum
        item = st.integers(lo, lo + 4) | st.none()
        good = st.one_of(st.integers(lo, lo + 4), st.lists(item, min_size=ndim or 1, max_size=ndim or 1))
        return _weighted(good, st.one_of(st.integers(lo - 2, lo - 1), GARBAGE, st.lists(item, max_size=4)), 0.04)
    if isinstance(kind, F.Padding):
        pad = st.integers(0, 2)
        pair = st.lists(pad, min_size=2, max_size=2)
        good = st.one_of(
            *([st.sampled_from(list(kind.modes))] if kind.modes else []),
            pad,
            _axes(pad, ndim),
            st.lists(pad | pair, min_size=ndim or 1, max_size=ndim or 1),
        )
        bad = st.one_of(st.sampled_from(["sam", "VALID", " same ", "reflect", ""]), st.integers(-3, -1), GARBAGE,
                        st.just([[1, 2, 3]]), st.just([[-1, 0]]))
        return _weighted(good, bad, 0.05)
    if hasattr(F, "Strides") and isinstance(kind, F.Strides):
        item = st.one_of(st.integers(1, 3), st.sampled_from(["1/2", "1/3", "3/2", "2/1", 0.5]))
        good = _weighted(_axes(st.integers(1, 3), ndim), _axes(item, ndim), 0.15)
        bad = st.one_of(st.integers(-2, 0), st.sampled_from(["0/1", "1/0", "a/b", "1//2", -0.5, 0.3]), GARBAGE)
        return _weighted(good, bad, 0.04)
    if isinstance(kind, F.Flag):
        return _weighted(st.booleans(), GARBAGE, 0.03)
    if isinstance(kind, F.Number):
        lo = 0.0 if kind.minimum is None else float(kind.minimum)
        hi = lo + 2.0 if kind.maximum is None else float(kind.maximum)
        good = st.floats(lo, hi, exclude_max=kind.exclusive_maximum, allow_nan=False)
        return _weighted(good, st.one_of(GARBAGE, st.floats(hi, hi + 3), st.floats(lo - 3, lo)), 0.04)
    if isinstance(kind, F.Choice):
        return _weighted(st.sampled_from(list(kind.choices)), GARBAGE, 0.05)
    if isinstance(kind, F.Text):  # layer_entry() mostly names an earlier layer instead
        return st.one_of(st.sampled_from(["max_pool1", "max_pool2"]), GARBAGE, st.text("abcxyz_", min_size=1, max_size=6))
    # A kind this file does not know yet: its schema may still say enough.
    return _from_schema(kind.schema(), ndim)


def _from_schema(schema: dict, ndim):
    if "enum" in schema:
        return _weighted(st.sampled_from(schema["enum"]), GARBAGE, 0.1)
    if "oneOf" in schema:
        return st.one_of(*[_from_schema(s, ndim) for s in schema["oneOf"]])
    t = schema.get("type")
    if t == "integer":
        lo = schema.get("minimum", 0)
        return _weighted(st.integers(lo, lo + 4), GARBAGE, 0.05)
    if t == "number":
        lo = schema.get("minimum", 0)
        return _weighted(st.floats(lo, lo + 2, allow_nan=False), GARBAGE, 0.05)
    if t == "boolean":
        return st.booleans()
    if t == "string":
        return st.text("abc", min_size=1, max_size=4)
    if t == "array":
        item = _from_schema(schema.get("items", {"type": "integer", "minimum": 1}), ndim)
        n = ndim or 1
        return st.lists(item, min_size=schema.get("minItems", n), max_size=max(schema.get("minItems", n), n))
    return GARBAGE


@lru_cache(maxsize=None)
def _activations():
    from cnncalc.layers.activation import activation_names

    return _weighted(st.sampled_from([*activation_names(), "none"]), GARBAGE, 0.05)


@lru_cache(maxsize=None)
def _type_names():
    """Every registered layer type (read when first drawn, after all
    registrations), now and then a name that does not exist."""
    return _weighted(st.sampled_from(sorted(REGISTRY)), st.sampled_from(["convv", "pool", "Conv2D", "dense "]), 0.02)


_BAD_INPUTS = st.one_of(st.just(["nowhere"]), GARBAGE, st.just([]))
_BAD_REPEAT = st.one_of(st.integers(-1, 0), GARBAGE)
_BAD_SHAPES = st.one_of(st.just([3, 4, 4, 4, 4]), st.just([]), st.just([0, 4]), st.just([3, -1]), GARBAGE)


@st.composite
def layer_entry(draw, ndim, names: list[str], depth: int = 0):
    """One entry of ``layers:`` (possibly a repeated group)."""
    if depth < 2 and _one_in(draw, 15):
        body = [draw(layer_entry(ndim, names, depth + 1)) for _ in range(draw(_ints(1, 3)))]
        group = {"layers": body, "repeat": draw(_BAD_REPEAT) if _bad(draw, 20) else draw(_ints(1, 3))}
        if draw(st.booleans()):
            group["name"] = f"g{len(names)}"
        return group
    type_name = draw(_type_names())
    cls = REGISTRY.get(type_name)
    fields = {}
    if cls is not None:
        for f in layer_fields(cls):
            required = f.default is REQUIRED
            if (not _bad(draw, 50)) if required else _one_in(draw, 3):
                kind = f.metadata["kind"]
                if isinstance(kind, F.Text) and names and not _one_in(draw, 10):
                    fields[f.name] = _pick(draw, names)  # a reference such as max_unpool's pool
                else:
                    fields[f.name] = draw(value_for(kind, ndim))
        if cls.takes_activation and _one_in(draw, 4):
            fields["activation"] = draw(_activations())
    if _bad(draw, 41):
        fields[_pick(draw, ["kernal_size", "strides", "units", "x"])] = 1
    entry: dict = {}
    form = draw(_ints(0, 2))
    if form == 0 and not fields:
        entry = None  # bare name
    elif form == 1:
        entry = {"type": type_name, **fields}
    else:
        entry = {type_name: fields or None}
    name = None
    if _one_in(draw, 3):
        name = _pick(draw, ["input", "", 3, *names[-1:]]) if _bad(draw, 30) else f"n{len(names)}"
    if cls is not None and (cls.max_inputs > 1 or _one_in(draw, 10)):
        pool = ["input", *names]
        lo = cls.min_inputs
        hi = max(lo, min(cls.max_inputs, 3))
        refs = [_pick(draw, pool) for _ in range(draw(_ints(lo, hi)))]
        inputs = draw(_BAD_INPUTS) if _bad(draw, 30) else refs
        if entry is None:
            entry = {type_name: None}
        entry["inputs"] = inputs
    if name is not None:
        if entry is None:
            entry = {type_name: None}
        entry["name"] = name
        if isinstance(name, str) and name:
            names.append(name)
            if cls is not None and cls.piece is not Layer.piece:  # a split: its pieces are inputs too
                pieces = fields.get("names") if isinstance(fields.get("names"), list) else ["0", "1", "2"]
                names.extend(f"{name}.{p}" for p in pieces[:2] if isinstance(p, (str, int)))
                if _bad(draw, 4):
                    names.append(f"{name}.{_pick(draw, ['9', 'x', '01', ''])}")
    if _one_in(draw, 13):
        if entry is None:
            entry = {type_name: None}
        entry["repeat"] = draw(_BAD_REPEAT) if _bad(draw, 5) else draw(_ints(1, 3))
    return type_name if entry is None else entry


def _parametrise(value, draw):
    """Put block parameters into a body: out_channels/out_features become
    $width or an expression of it, now and then a `when: $on`."""
    if isinstance(value, list):
        return [_parametrise(v, draw) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, v in value.items():
        if key in ("out_channels", "out_features") and not _one_in(draw, 4):
            v = _pick(draw, ["$width", "$(width * 2)", "$(width // 2 + 1)", "$(width - width)", "$nothing", "$(width +)"])
        out[key] = _parametrise(v, draw)
    if "layers" not in out and _one_in(draw, 6):
        out["when"] = _pick(draw, ["$on", "$(not on)", "$(width > 2)", "maybe"])
    return out


@st.composite
def block_def(draw, ndim):
    """A block with parameters width (sometimes required) and on."""
    local: list[str] = []
    body = [draw(layer_entry(ndim, local, depth=1)) for _ in range(draw(_ints(1, 3)))]
    width_default = None if _one_in(draw, 3) else draw(_ints(1, 4))
    return {"params": {"width": width_default, "on": draw(st.booleans())}, "layers": _parametrise(body, draw)}


@st.composite
def block_use(draw):
    """One use of block 'unit': bare, with arguments, repeated, with overrides or bad arguments."""
    form = draw(_ints(0, 5))
    if form == 0:
        return "unit"
    entry = {"unit": {"width": draw(_ints(1, 4))}}
    if form == 2:
        entry["repeat"] = draw(_ints(1, 3))
    elif form == 3:
        entry["repeat"] = 2
        entry["overrides"] = {draw(_ints(-1, 2)): {"on": draw(st.booleans())}}
    elif form == 4:
        entry["unit"] = draw(st.one_of(st.just({"widht": 2}), st.just({"width": "$width"}), GARBAGE))
    elif form == 5:
        entry["unit"]["on"] = draw(st.booleans())
    return entry


@st.composite
def spec_docs(draw, max_layers: int = 6, clean: bool = False):
    """A whole spec as a Python document (dicts, lists, scalars); with
    ``clean`` no value is deliberately invalid (shapes may still not fit)."""
    outer, _CLEAN[0] = _CLEAN[0], clean
    try:
        return _spec_doc(draw, max_layers)
    finally:
        _CLEAN[0] = outer


def _spec_doc(draw, max_layers):
    ndim = draw(_ints(0, 3))
    shape = [draw(_ints(1, 6)), *(draw(_ints(1, 12)) for _ in range(ndim))]
    if _bad(draw, 30):
        shape = draw(_BAD_SHAPES)
    names: list[str] = []
    layers = []
    block = draw(block_def(ndim)) if _one_in(draw, 5) else None
    for _ in range(draw(_ints(1, max_layers))):
        if block is not None and _one_in(draw, 3):
            layers.append(draw(block_use()))
        else:
            layers.append(draw(layer_entry(ndim, names)))
    doc = {"input": shape, "layers": layers}
    if block is not None:
        doc = {"input": shape, "blocks": {"unit": block}, "layers": layers}
    if _one_in(draw, 6):
        default_type = _pick(draw, sorted(REGISTRY))
        default_fields = {}
        for f in layer_fields(REGISTRY[default_type]):
            if _one_in(draw, 3):
                default_fields[f.name] = draw(value_for(f.metadata["kind"], ndim))
        doc["defaults"] = {default_type: default_fields}
    if _bad(draw, 61):
        doc[_pick(draw, ["layerz", "inputs", "nmae"])] = 1
    if _bad(draw, 61):
        del doc[_pick(draw, ["input", "layers"])]
    return doc


def to_yaml(doc) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(doc, Dumper=dumper, default_flow_style=None, sort_keys=False, allow_unicode=True)


def spec_texts(max_layers: int = 6):
    return spec_docs(max_layers).map(to_yaml)
