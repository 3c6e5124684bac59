"""The layer protocol and the registry of layer types.

A layer is a frozen record (``cnncalc.records``) with PyTorch-named fields. It answers pure
questions about its input shapes (channels first, no batch axis) without
touching data:

* ``out_shape(xs)`` — the output shape (raises FieldError when the input
  does not fit);
* ``params(xs)`` — trainable parameters and non-trainable buffers;
* ``macs(xs, y)`` — multiplications per sample (the lectures' count);
* ``rf(xs)`` — how the receptive field steps through it: ``None`` for
  "unchanged", a tuple of :class:`~cnncalc.receptive.AxisStep` (one per
  spatial axis), or :data:`WHOLE` when every output sees the whole input;
* ``saved_for_backward(xs, y)`` — what it keeps from the forward pass for its
  backward pass (a :class:`Saved`): which of its inputs, whether its output,
  and private arrays (argmax indices, masks, per-channel statistics). The
  training-memory estimate is built from it and ``cnncalc verify`` checks it
  against the bytes the numpy executor actually holds.

Optionally, ``tool_macs`` says how other tools (torchinfo, fvcore, ptflops)
count it, for the ``--convention`` presets, and ``piece(key)`` gives the
layers that take named pieces of its output (``split``: ``inputs: s.0``).

Adding a layer type is one small class with ``@register`` in the module of
its family (and its executor kernel in ``cnncalc/executor/kernels/``).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Mapping
from math import prod

from .. import records
from ..errors import FieldError
from ..lazy import Fraction
from . import catalog as _catalog
from .fields import Record, layer_fields, record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import ClassVar

Shape = tuple  # (C, *spatial) of ints

_CATALOG_ALIASES = {alias: name for name, (_, aliases) in _catalog.LAYER_TYPES.items() for alias in aliases}

WHOLE = "whole"


class Params(namedtuple("Params", ("trainable", "buffers"), defaults=(0, 0))):
    """Parameter counts: ``trainable``, and ``buffers`` (non-trainable state
    such as batch norm running statistics)."""

    __slots__ = ()

    @property
    def total(self) -> int:
        return self.trainable + self.buffers


class Saved(namedtuple("Saved", ("inputs", "output", "values", "indices", "masks", "shared"),
                       defaults=((), False, 0, 0, 0, 0))):
    """What a layer keeps for its backward pass, in elements.

    ``inputs`` (indices into ``xs``) and ``output`` name whole tensors that
    several layers may keep at once (a ReLU's output is the next conv's
    input): the training-memory total counts each such tensor once.
    The other fields are the layer's private arrays:

    - ``inputs``: which inputs it keeps (shared with other layers), a tuple of indices;
    - ``output``: keeps its own output (shared);
    - ``values``: private elements of the compute dtype, per sample;
    - ``indices``: private int64 elements per sample (argmax positions);
    - ``masks``: private 1-byte elements per sample (dropout masks);
    - ``shared``: private compute-dtype elements for the whole batch (per-channel statistics).
    """

    __slots__ = ()


#: Bytes of one saved index (int64, as numpy and PyTorch store argmax positions).
INDEX_BYTES = 8
#: Bytes of one saved mask element (bool).
MASK_BYTES = 1

#: Layer classes registered so far, by canonical name (only the modules
#: imported yet: see REGISTRY for the complete, lazily loaded view).
REGISTERED: dict[str, type["Layer"]] = {}
_REGISTERED_ALIASES: dict[str, str] = {}


def _import_layer_module(module: str) -> None:
    from ..lazy import import_submodule

    import_submodule(__package__, module)


_ALL_LOADED = False


def load_all() -> None:
    """Import every layer module (for listings: ``cnncalc layers``, the schema,
    suggestions for a misspelt type name)."""
    global _ALL_LOADED
    if _ALL_LOADED:
        return
    from .catalog import layer_modules

    for module in layer_modules():
        _import_layer_module(module)
    _ALL_LOADED = True


class _LazyTable(Mapping):
    """A read-only mapping over the layer types that imports a layer module the
    first time one of its names is looked up (through
    :data:`~cnncalc.layers.catalog.LAYER_TYPES`), and every layer module when
    it is iterated or counted: looking up ``conv`` costs one module, listing
    all types costs all of them."""

    def __init__(self, data: dict, module_of):
        self._data = data
        self._module_of = module_of  # name → module that defines it, or None

    def __getitem__(self, name):
        try:
            return self._data[name]
        except (KeyError, TypeError):
            pass
        module = self._module_of(name)
        if module is not None:
            _import_layer_module(module)
        return self._data[name]

    def __iter__(self):
        load_all()
        return iter(self._data)

    def __len__(self) -> int:
        load_all()
        return len(self._data)

    def __setitem__(self, name, value):  # a test registering a type for a while (monkeypatch.setitem)
        self._data[name] = value

    def __delitem__(self, name):
        del self._data[name]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict(self)!r})"


def _module_of_type(name):
    entry = _catalog.LAYER_TYPES.get(name) if isinstance(name, str) else None
    return entry[0] if entry else None


def _module_of_alias(name):
    canonical = _CATALOG_ALIASES.get(name) if isinstance(name, str) else None
    return _module_of_type(canonical)


#: Every layer type by canonical name, loaded on first use (see _LazyTable).
REGISTRY: Mapping = _LazyTable(REGISTERED, _module_of_type)
#: Every alias → its canonical name, loaded on first use.
ALIASES: Mapping = _LazyTable(_REGISTERED_ALIASES, _module_of_alias)


def register(cls):
    """Class decorator: make a layer type available in specs under its names.
    A new type also needs its line in :data:`cnncalc.layers.catalog.LAYER_TYPES`
    (a test says which) so that specs using it find it without importing every module."""
    for name in (cls.type_name, *cls.aliases):
        if name in REGISTERED or name in _REGISTERED_ALIASES:
            raise RuntimeError(f"layer type name {name!r} registered twice")
    REGISTERED[cls.type_name] = cls
    for alias in cls.aliases:
        _REGISTERED_ALIASES[alias] = cls.type_name
    return cls


def canonical_type(name: str) -> str | None:
    """The registered type name for a name or alias, or None. The catalog
    lists every type of every layer module (tests/test_layer_catalog.py), and a
    type registered at run time is in REGISTERED, so no layer module is
    imported to answer None (a spec's block names are asked about too)."""
    if name in _catalog.LAYER_TYPES or name in REGISTERED:
        return name
    return _CATALOG_ALIASES.get(name) or _REGISTERED_ALIASES.get(name)


def all_type_names() -> list[str]:
    return sorted([*REGISTRY, *ALIASES])


def activation_names() -> list[str]:
    """Names accepted by the ``activation:`` shorthand of conv and dense layers
    (from the catalog: no layer module is imported)."""
    return sorted(_catalog.ACTIVATIONS)


@record
class Layer(Record):
    type_name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: Human formulas for the layer reference (shape, params, macs, rf).
    formulas: ClassVar[dict[str, str]] = {}
    #: How many inputs the layer takes (merges take several).
    min_inputs: ClassVar[int] = 1
    max_inputs: ClassVar[int] = 1
    #: Accepts an ``activation:`` shorthand (conv, dense).
    takes_activation: ClassVar[bool] = False
    #: The output is a view of the first input's storage (flatten, identity):
    #: keeping one keeps the other, so memory counts them once.
    output_is_view: ClassVar[bool] = False
    #: How other tools count this layer, by convention preset name ("torchinfo",
    #: "fvcore", "ptflops") → rule (layer, input shapes, output shape,
    #: multiplications) → MACs; a preset's own table in cnncalc.conventions
    #: wins, then this, then the preset's default. Keeps a new layer type's
    #: tool counts in its own module.
    tool_macs: ClassVar[dict] = {}

    # -- the questions every layer answers -------------------------------
    def out_shape(self, xs: tuple[Shape, ...]) -> Shape:
        """Output shape for input shapes ``xs``; default: unchanged."""
        return xs[0]

    def params(self, xs: tuple[Shape, ...]) -> Params:
        return Params()

    def macs(self, xs: tuple[Shape, ...], y: Shape) -> int:
        return 0

    def rf(self, xs: tuple[Shape, ...]):
        return None

    def bind(self, known) -> "Layer":
        """Resolve references to other nodes before the questions above are
        asked. ``known`` maps the names of the nodes analysed so far (those
        before this one) to their results (``.node``, ``.input_shapes``,
        ``.output_shape``). Default: no references, the layer itself."""
        return self

    def piece(self, key: str) -> "tuple[str, Layer] | None":
        """For a layer whose output comes in named pieces (``split``): the
        canonical key and the layer that takes piece ``key`` (as written after
        the node's name in ``inputs: split1.0``) of this layer's output, or
        None when ``key`` names no piece. The spec adds a node
        ``<name>.<key>`` with that layer the first time a piece is named."""
        return None

    def saved_for_backward(self, xs: tuple[Shape, ...], y: Shape) -> "Saved":
        """What the backward pass needs from the forward pass; default: every
        input (what a layer with weights needs to form its weight gradient)."""
        return Saved(inputs=tuple(range(len(xs))))

    # -- helpers ----------------------------------------------------------
    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in layer_fields(cls)]

    def settings(self) -> dict:
        """The field values as given (for JSON output)."""
        out = {}
        for f in layer_fields(type(self)):
            out[f.name] = _plain(getattr(self, f.name))
        return out


def _plain(value):
    """A field value as JSON: tuples become lists, fractions "a/b"."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    return value


def spatial(shape: Shape) -> tuple[int, ...]:
    return tuple(shape[1:])


def numel(shape: Shape) -> int:
    return prod(shape)


def require_rank(xs: tuple[Shape, ...], ranks: tuple[int, ...], what: str, field: str | None = None):
    """Check the input has one of the allowed numbers of spatial axes."""
    nd = len(xs[0]) - 1
    if nd not in ranks:
        names = {0: "a flat vector [C]", 1: "1D [C, L]", 2: "2D [C, H, W]", 3: "3D [C, D, H, W]"}
        allowed = " or ".join(names[r] for r in ranks)
        raise FieldError(
            field,
            f"{what} needs a {allowed} input, got shape {list(xs[0])}",
        )
    return nd


def replace(layer: Layer, **changes) -> Layer:
    return records.replace(layer, **changes)
