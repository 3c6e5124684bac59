"""Architecture budgets: limits on a network's size, cost and memory.

A budget is written in a spec's top-level ``budget:`` section, in a separate
budget file (``--budget FILE``, either a ``budget:`` mapping or the mapping
itself), or as command-line flags; later sources win key by key
(spec < budget file < flags)::

    budget:
      params: 25M                   # trainable parameters (SI suffixes K, M, G, T)
      macs: 4.2G                    # multiply-accumulates per sample, under the convention
      activation_memory: 120MiB     # sum of every layer's output, at batch and dtype below
      training_memory: 6GiB         # see cnncalc.checking.training_memory
      batch: 32
      dtype: float16
      optimizer: adam               # for training_memory: sgd, momentum or adam
      receptive_field: {min: 200}   # every spatial axis, at 'at:' (default: the last layer with a spatial field)
      layer:                        # limits on any single layer
        params: 3M
      max_increase: 2%              # against --baseline; or {params: 1%, macs: 100M}

Every value keeps the file, line and column it was written at, so a failed
limit can point there (``--format github``) and a bad value is reported there.
Importing this module registers the ``budget`` section with the spec loader.
"""

from __future__ import annotations

from enum import Enum
from fractions import Fraction

from . import spec as _spec
from .errors import Loc, SpecError, did_you_mean
from .numbers import NumberError, parse_decimal
from .records import field, record
from .units import parse_bytes, parse_count
from .yamlio import YMap, load_file

SECTION = "budget"
_spec.SECTIONS.add(SECTION)

OPTIMIZERS = ("sgd", "momentum", "adam")
#: Largest batch a budget may name (the 10^18 rule for every size).
MAX_BATCH = 10**18


class Quantity(str, Enum):
    """What a limit is about. Counts take SI suffixes, memory binary (or SI) byte suffixes."""

    PARAMS = "params"
    MACS = "macs"
    ACTIVATION_MEMORY = "activation_memory"
    TRAINING_MEMORY = "training_memory"
    RECEPTIVE_FIELD = "receptive_field"

    def __str__(self) -> str:
        return self.value

    @property
    def unit(self) -> str:
        if self in (Quantity.ACTIVATION_MEMORY, Quantity.TRAINING_MEMORY):
            return "bytes"
        if self is Quantity.RECEPTIVE_FIELD:
            return "pixels"
        return "count"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")

    def parse(self, value) -> int:
        """A limit value in this quantity's unit; ValueError with the allowed forms."""
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise ValueError(f"a limit must be ≥ 0, got {value}")
        if self.unit == "bytes":
            return parse_bytes(value)
        if self.unit == "pixels":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"expected a size in input pixels (an integer ≥ 1), got {value!r}")
            return value
        try:
            return parse_count(value)
        except ValueError as exc:
            if isinstance(value, str) and value.strip().lower().endswith("b"):
                raise ValueError(f"{exc}; {value!r} looks like a byte size, but {self.value} is a count") from None
            raise


TOTAL_KEYS = (Quantity.PARAMS, Quantity.MACS, Quantity.ACTIVATION_MEMORY, Quantity.TRAINING_MEMORY)
#: Limits that apply to every single layer (``layer:``); activation memory is that layer's output.
LAYER_KEYS = (Quantity.PARAMS, Quantity.MACS, Quantity.ACTIVATION_MEMORY)
#: Quantities compared against a baseline with ``max_increase``.
INCREASE_KEYS = TOTAL_KEYS
SETTING_KEYS = ("batch", "dtype", "optimizer")
BUDGET_KEYS = (*(q.value for q in TOTAL_KEYS), "receptive_field", "layer", "max_increase", *SETTING_KEYS)


@record
class Limit:
    """One limit: ``measured ≤ value`` (bound "max") or ``measured ≥ value`` ("min")."""

    quantity: Quantity
    value: int
    bound: str = "max"  # "max" or "min"
    scope: str = "total"  # "total" or "layer"
    text: str = ""  # as written, e.g. "25M"
    source: str = "spec"  # "spec", "budget file", or the flag, e.g. "--max-params"
    loc: Loc | None = None  # where it was written (None for flags)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.scope, self.quantity.value, self.bound)


@record
class Allowance:
    """How much a quantity may grow over the baseline: a percentage or an absolute amount."""

    quantity: Quantity
    percent: Fraction | None = None
    absolute: int | None = None
    text: str = ""
    source: str = "spec"
    loc: Loc | None = None

    def allowed(self, baseline: int) -> int:
        """The largest value that passes, rounded down to a whole unit."""
        if self.percent is not None:
            return baseline + int(Fraction(baseline) * self.percent / 100)
        return baseline + (self.absolute or 0)


@record
class Setting:
    value: object
    source: str = "spec"
    loc: Loc | None = None


@record(frozen=False)
class Budget:
    limits: dict[tuple, Limit] = field(default_factory=dict)
    increases: dict[Quantity, Allowance] = field(default_factory=dict)
    settings: dict[str, Setting] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.limits or self.increases)

    def merged(self, other: "Budget") -> "Budget":
        """This budget overridden, key by key, by ``other``."""
        return Budget(
            {**self.limits, **other.limits},
            {**self.increases, **other.increases},
            {**self.settings, **other.settings},
        )

    def setting(self, name: str, default=None):
        s = self.settings.get(name)
        return default if s is None else s.value

    @property
    def batch(self) -> int:
        return self.setting("batch", 1)

    @property
    def dtype(self) -> str:
        return self.setting("dtype", "float32")

    @property
    def optimizer(self) -> str:
        return self.setting("optimizer", "sgd")

    @property
    def receptive_field_at(self) -> str | None:
        return self.setting("receptive_field_at")

    def sorted_limits(self) -> list[Limit]:
        order = {q: i for i, q in enumerate(Quantity)}
        return sorted(self.limits.values(), key=lambda l: (l.scope != "total", order[l.quantity], l.bound))


# -- parsing -------------------------------------------------------------------


def _err(message: str, loc: Loc | None, key: str) -> SpecError:
    return SpecError(message, loc=loc, field=f"{SECTION}.{key}")


def _text(value) -> str:
    return str(value)


def parse_percent_or_amount(quantity: Quantity, value, *, source="spec", loc=None) -> Allowance:
    """``2%``, ``0.5 %`` or an absolute amount in the quantity's unit (``100K``, ``16MiB``, ``0``)."""
    if isinstance(value, str) and value.strip().endswith("%"):
        number = value.strip()[:-1].strip()
        try:
            percent = parse_decimal(number, what="percentage")
        except NumberError as exc:
            raise ValueError(f"expected a percentage such as 2% or 0.5%: {exc}") from None
        if percent < 0:
            raise ValueError(f"a percentage must be ≥ 0, got {value!r}")
        return Allowance(quantity, percent=percent, text=str(value).strip(), source=source, loc=loc)
    try:
        amount = quantity.parse(value)
    except ValueError as exc:
        raise ValueError(f"expected a percentage such as 2% or an absolute amount: {exc}") from None
    return Allowance(quantity, absolute=amount, text=_text(value), source=source, loc=loc)


def _limit(quantity: Quantity, value, loc, key, *, bound="max", scope="total", source="spec") -> Limit:
    try:
        parsed = quantity.parse(value)
    except ValueError as exc:
        raise _err(f"{exc}", loc, key) from None
    return Limit(quantity, parsed, bound, scope, _text(value), source, loc)


def _mapping(value, loc, key, what) -> YMap:
    if not isinstance(value, YMap):
        raise _err(f"'{key}' must be a mapping such as {what}, got {value!r}", loc, key)
    return value


def _unknown(key, allowed, loc, path):
    raise _err(f"unknown budget key '{key}'{did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}", loc, path)


def parse_budget(section, *, source: str = "spec", loc: Loc | None = None) -> Budget:
    """A ``budget:`` mapping (with locations) → :class:`Budget`; SpecError at the bad entry."""
    if section is None:
        return Budget()
    if not isinstance(section, YMap):
        raise _err(
            "'budget' must be a mapping such as {params: 25M, macs: 4.2G}, got " + repr(section),
            getattr(section, "loc", loc), "",
        )
    budget = Budget()
    for key, value in section.items():
        vloc = section.loc_of(key)
        if key not in BUDGET_KEYS:
            _unknown(key, BUDGET_KEYS, section.key_locs.get(key, vloc), str(key))
        if key in {q.value for q in TOTAL_KEYS}:
            lim = _limit(Quantity(key), value, vloc, key, source=source)
            budget.limits[lim.key] = lim
        elif key == "receptive_field":
            if isinstance(value, int) and not isinstance(value, bool):
                value_map = {"min": value}
                locs = {"min": vloc}
            else:
                value_map = _mapping(value, vloc, key, "{min: 200} or {min: 100, max: 400}")
                locs = {k: value_map.loc_of(k) for k in value_map}
                if not value_map:
                    raise _err("'receptive_field' needs 'min', 'max' or both", vloc, key)
            for bound, v in value_map.items():
                if bound == "at":  # the node the field is measured at (default: the last spatial one)
                    if not isinstance(v, str) or not v.strip():
                        raise _err(f"'receptive_field.at' names a layer, e.g. at: layer4, got {v!r}", locs[bound],
                                   f"{key}.at")
                    budget.settings["receptive_field_at"] = Setting(v.strip(), source, locs[bound])
                    continue
                if bound not in ("min", "max"):
                    _unknown(bound, ("min", "max", "at"), value_map.key_locs.get(bound, vloc), f"{key}.{bound}")
                lim = _limit(Quantity.RECEPTIVE_FIELD, v, locs[bound], f"{key}.{bound}", bound=bound, source=source)
                budget.limits[lim.key] = lim
        elif key == "layer":
            per_layer = _mapping(value, vloc, key, "{params: 3M}")
            allowed = tuple(q.value for q in LAYER_KEYS)
            for sub, v in per_layer.items():
                if sub not in allowed:
                    _unknown(sub, allowed, per_layer.key_locs.get(sub, vloc), f"layer.{sub}")
                lim = _limit(Quantity(sub), v, per_layer.loc_of(sub), f"layer.{sub}", scope="layer", source=source)
                budget.limits[lim.key] = lim
        elif key == "max_increase":
            allowed = tuple(q.value for q in INCREASE_KEYS)
            if isinstance(value, YMap):
                items = [(sub, v, value.loc_of(sub), value.key_locs.get(sub, vloc)) for sub, v in value.items()]
            else:
                items = [(q.value, value, vloc, vloc) for q in INCREASE_KEYS]
            for sub, v, sloc, kloc in items:
                if sub not in allowed:
                    _unknown(sub, allowed, kloc, f"max_increase.{sub}")
                try:
                    budget.increases[Quantity(sub)] = parse_percent_or_amount(Quantity(sub), v, source=source, loc=sloc)
                except ValueError as exc:
                    raise _err(str(exc), sloc, f"max_increase.{sub}") from None
        else:
            budget.settings[key] = Setting(_setting(key, value, vloc), source, vloc)
    return budget


def _setting(key, value, loc):
    from .analysis import DTYPE_BYTES

    if key == "batch":
        if isinstance(value, bool) or not isinstance(value, int) or value < 1 or value > MAX_BATCH:
            shown = value if not isinstance(value, int) or value <= MAX_BATCH else f"a {len(str(value))}-digit number"
            raise _err(f"'batch' must be an integer ≥ 1 (and at most 10^18), got {shown!r}", loc, key)
        return value
    if key == "dtype":
        if not isinstance(value, str) or value not in DTYPE_BYTES:
            raise _err(
                f"unknown dtype {value!r}{did_you_mean(value, DTYPE_BYTES)}; allowed: {', '.join(DTYPE_BYTES)}",
                loc, key,
            )
        return value
    if not isinstance(value, str) or value not in OPTIMIZERS:
        raise _err(
            f"unknown optimizer {value!r}{did_you_mean(value, OPTIMIZERS)}; allowed: {', '.join(OPTIMIZERS)}",
            loc, key,
        )
    return value


def budget_of_graph(graph) -> Budget:
    """The budget written in a spec's own ``budget:`` section (empty if none)."""
    return parse_budget(graph.sections.get(SECTION), source="spec", loc=graph.input_loc)


def load_budget_file(path) -> Budget:
    """A budget file: a mapping with a ``budget:`` key, or the budget mapping itself."""
    doc = load_file(path)
    name = str(path)
    if doc is None:
        raise SpecError("the budget file is empty", loc=Loc(name, 1, 1))
    if isinstance(doc, YMap) and set(doc) == {SECTION}:
        return parse_budget(doc[SECTION], source="budget file", loc=doc.loc_of(SECTION))
    if isinstance(doc, YMap) and SECTION in doc:
        # a spec used as a budget file: take its budget section only
        return parse_budget(doc[SECTION], source="budget file", loc=doc.loc_of(SECTION))
    return parse_budget(doc, source="budget file", loc=Loc(name, 1, 1))


# -- JSON Schema (for editors), registered with `cnncalc schema` -----------------------------

_NUMBER = r"^\s*[0-9][0-9_,]*(?:\.[0-9]+)?\s*"


def budget_schema() -> dict:
    count = {"oneOf": [{"type": "integer", "minimum": 0},
                       {"type": "string", "pattern": _NUMBER + r"[KMGTPkmgtp]?\s*$"}],
             "description": "a count: 1500, 25M, 4.2G (SI suffixes K, M, G, T, P)"}
    size = {"oneOf": [{"type": "integer", "minimum": 0},
                      {"type": "string", "pattern": _NUMBER + r"(?:[KMGTPkmgtp]i?[Bb]|[Bb])?\s*$"}],
            "description": "bytes: 4096, 120MiB, 6GiB (binary KiB..TiB, or SI KB..TB)"}
    allowance = {"oneOf": [{"type": "string", "pattern": r"^\s*[0-9.]+\s*%\s*$"}, count, size],
                 "description": "growth allowed over the baseline: 2% or an absolute amount"}
    pixels = {"type": "integer", "minimum": 1}
    return {
        "type": "object",
        "description": "architecture budget checked by `cnncalc check`",
        "properties": {
            "params": {**count, "description": "max trainable parameters"},
            "macs": {**count, "description": "max MACs per sample"},
            "activation_memory": {**size, "description": "max sum of layer outputs at batch and dtype"},
            "training_memory": {**size, "description": "max training memory at batch, dtype and optimizer"},
            "batch": {"type": "integer", "minimum": 1},
            "dtype": {"enum": ["float32", "float16", "bfloat16", "float64", "int8"]},
            "optimizer": {"enum": list(OPTIMIZERS)},
            "receptive_field": {"oneOf": [pixels, {
                "type": "object", "additionalProperties": False,
                "properties": {"min": pixels, "max": pixels, "at": {
                    "type": "string", "description": "the layer measured (default: the last with a spatial field)"}},
            }]},
            "layer": {
                "type": "object",
                "description": "limits on any single layer",
                "properties": {"params": count, "macs": count, "activation_memory": size},
                "additionalProperties": False,
            },
            "max_increase": {"oneOf": [allowance, {
                "type": "object",
                "properties": {q.value: allowance for q in INCREASE_KEYS},
                "additionalProperties": False,
            }]},
        },
        "additionalProperties": False,
    }


def _register_schema() -> None:
    from . import schema

    schema.SECTION_SCHEMAS[SECTION] = budget_schema()


_register_schema()
