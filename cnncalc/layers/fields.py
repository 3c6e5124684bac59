"""Typed layer fields: one description drives parsing, validation, the JSON
Schema and the layer reference.

A layer class declares its fields as record fields built with the helpers
below (``positive_axes()``, ``flag()``, ...). The spec parser calls
``kind.parse(value)`` on every user value; ``kind.schema()`` feeds
``cnncalc schema``. Values that depend on the input rank (an int meaning
"every spatial axis") are kept as given and expanded by :func:`per_axis` once
the rank is known.
"""

from __future__ import annotations

from .. import records
from ..errors import FieldError
from ..lazy import Fraction
from ..records import Record, field, record  # noqa: F401  (layer modules import record from here)

REQUIRED = records.MISSING


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


class Kind(Record):
    """How one field's value is checked and described."""

    description = ""

    def parse(self, field: str, value):  # pragma: no cover - interface
        raise NotImplementedError

    def schema(self) -> dict:  # pragma: no cover - interface
        raise NotImplementedError


@record
class Int(Kind):
    minimum: int = 1

    @property
    def description(self) -> str:
        return "integer ≥ %d" % self.minimum

    def parse(self, field, value):
        if not _is_int(value):
            raise FieldError(field, f"must be {self.description}, got {_type_name(value)} {value!r}")
        if value < self.minimum:
            raise FieldError(field, f"must be {self.description}, got {value}")
        return value

    def schema(self):
        return {"type": "integer", "minimum": self.minimum}


@record
class Axes(Kind):
    """An int for every spatial axis, or a list with one int per axis."""

    minimum: int = 1

    @property
    def description(self) -> str:
        return f"integer ≥ {self.minimum} or a list of them, one per spatial axis"

    def parse(self, field, value):
        if _is_int(value):
            if value < self.minimum:
                raise FieldError(field, f"must be ≥ {self.minimum}, got {value}")
            return value
        if isinstance(value, list) and value:
            for item in value:
                if not _is_int(item) or item < self.minimum:
                    raise FieldError(
                        field, f"every entry must be an integer ≥ {self.minimum}, got {item!r} in {list(value)}"
                    )
            return tuple(value)
        raise FieldError(field, f"must be {self.description}, got {_type_name(value)} {value!r}")

    def schema(self):
        item = {"type": "integer", "minimum": self.minimum}
        return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": 3}]}


@record
class OptionalAxes(Kind):
    """Like Axes, but a list entry may be null ("keep that axis")."""

    minimum: int = 1

    @property
    def description(self) -> str:
        return f"integer ≥ {self.minimum}, or a list with one integer (or null to keep the size) per axis"

    def parse(self, field, value):
        if _is_int(value) and value >= self.minimum:
            return value
        if isinstance(value, list) and value:
            for item in value:
                if item is not None and (not _is_int(item) or item < self.minimum):
                    raise FieldError(field, f"every entry must be an integer ≥ {self.minimum} or null, got {item!r}")
            return tuple(value)
        raise FieldError(field, f"must be {self.description}, got {_type_name(value)} {value!r}")

    def schema(self):
        item = {"type": "integer", "minimum": self.minimum}
        return {"oneOf": [item, {"type": "array", "items": {"oneOf": [item, {"type": "null"}]}, "minItems": 1}]}


def parse_stride(field, value):
    """One stride: an int ≥ 1, or a fraction S2/S1 of positive integers given
    as the text "S2/S1" (or a float that is exactly such a fraction, like 0.5).
    Returns an int, or a Fraction in lowest terms when it is not whole."""
    if _is_int(value):
        if value < 1:
            raise FieldError(field, f"stride must be ≥ 1 or a fraction S2/S1 like '1/2', got {value}")
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise FieldError(field, f"stride must be a finite number, got {value!r}")
        frac = Fraction(value)
        if value <= 0 or frac.denominator > 1024:
            raise FieldError(
                field,
                f"stride {value!r} is not an exact fraction S2/S1 of positive integers; "
                "write it as text, e.g. '1/3'",
            )
        return exact(frac)
    if isinstance(value, str):
        parts = value.replace(" ", "").split("/")
        if len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts):
            if any(len(p.lstrip("0")) > 19 or int(p) > 10**18 for p in parts):
                raise FieldError(field, f"stride {value[:40]!r}{'...' if len(value) > 40 else ''} has a term "
                                 "beyond 10^18, the largest integer cnncalc accepts")
            if int(parts[0]) > 0 and int(parts[1]) > 0:
                return exact(Fraction(int(parts[0]), int(parts[1])))
        raise FieldError(
            field,
            f"stride {value!r} does not read as S2/S1 with positive integers S2 and S1 "
            "(e.g. '1/2': upsample by 2, convolve; '3/2': upsample by 2, convolve, keep every 3rd)",
        )
    raise FieldError(
        field,
        f"stride must be an integer ≥ 1, a fraction like '1/2', or a list of them, got {_type_name(value)} {value!r}",
    )


@record
class Strides(Kind):
    """Like Axes(1), but each stride may also be a fraction S2/S1 ('1/2')."""

    description = "integer ≥ 1 or a fraction 'S2/S1' (e.g. '1/2'), or a list of them, one per spatial axis"

    def parse(self, field, value):
        if isinstance(value, list) and value:
            return tuple(parse_stride(field, item) for item in value)
        return parse_stride(field, value)

    def schema(self):
        item = {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "pattern": r"^\s*[0-9]+\s*/\s*[0-9]+\s*$"}]}
        return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": 3}]}


PADDING_MODES = ("valid", "same", "full", "causal")


@record
class Padding(Kind):
    """An int, one int per axis, ``[before, after]`` per axis, or a mode."""

    modes: tuple = PADDING_MODES

    @property
    def description(self) -> str:
        return (
            "an integer ≥ 0, a list with one integer per axis, a list of [before, after] "
            "pairs per axis, or one of " + ", ".join(self.modes)
        )

    def parse(self, field, value):
        if isinstance(value, str):
            mode = value.strip().lower()
            if not self.modes:
                raise FieldError(
                    field,
                    f"takes cell counts, not a mode: an integer ≥ 0, one per axis, or [before, after] "
                    f"pairs per axis; got {value!r}",
                )
            if mode not in self.modes:
                from ..errors import did_you_mean

                raise FieldError(
                    field,
                    f"unknown padding mode {value!r}{did_you_mean(mode, self.modes)}; allowed: "
                    + ", ".join(self.modes) + ", or integers",
                )
            return mode
        if _is_int(value):
            if value < 0:
                raise FieldError(field, f"padding must be ≥ 0, got {value}")
            return value
        if isinstance(value, list) and value:
            out = []
            for item in value:
                if _is_int(item):
                    if item < 0:
                        raise FieldError(field, f"padding must be ≥ 0, got {item} in {list(value)}")
                    out.append(item)
                elif isinstance(item, list) and len(item) == 2 and all(_is_int(v) for v in item):
                    if min(item) < 0:
                        raise FieldError(field, f"padding must be ≥ 0, got {list(item)}")
                    out.append(tuple(item))
                else:
                    raise FieldError(
                        field,
                        f"each entry must be an integer or a [before, after] pair, got {item!r}",
                    )
            return tuple(out)
        raise FieldError(field, f"must be {self.description}, got {_type_name(value)} {value!r}")

    def schema(self):
        n = {"type": "integer", "minimum": 0}
        pair = {"type": "array", "items": n, "minItems": 2, "maxItems": 2}
        per_axis = {"type": "array", "items": {"oneOf": [n, pair]}, "minItems": 1, "maxItems": 3}
        if not self.modes:
            return {"oneOf": [n, per_axis]}
        return {"oneOf": [n, {"type": "string", "enum": list(self.modes)}, per_axis]}


@record
class Flag(Kind):
    description = "true or false"

    def parse(self, field, value):
        if not isinstance(value, bool):
            raise FieldError(field, f"must be true or false, got {_type_name(value)} {value!r}")
        return value

    def schema(self):
        return {"type": "boolean"}


@record
class Number(Kind):
    minimum: float | None = None
    maximum: float | None = None
    exclusive_maximum: bool = False

    @property
    def description(self) -> str:
        bounds = []
        if self.minimum is not None:
            bounds.append(f"≥ {self.minimum}")
        if self.maximum is not None:
            bounds.append(("< " if self.exclusive_maximum else "≤ ") + str(self.maximum))
        return " ".join(["a number", " and ".join(bounds)]) if bounds else "a number"

    def parse(self, field, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FieldError(field, f"must be {self.description}, got {_type_name(value)} {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise FieldError(field, f"must be a finite number, got {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise FieldError(field, f"must be {self.description}, got {value}")
        if self.maximum is not None and (
            value > self.maximum or (self.exclusive_maximum and value == self.maximum)
        ):
            raise FieldError(field, f"must be {self.description}, got {value}")
        return value

    def schema(self):
        out: dict[str, object] = {"type": "number"}
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["exclusiveMaximum" if self.exclusive_maximum else "maximum"] = self.maximum
        return out


@record
class Choice(Kind):
    choices: tuple = ()

    @property
    def description(self) -> str:
        return "one of " + ", ".join(map(str, self.choices))

    def parse(self, field, value):
        if value not in self.choices:
            from ..errors import did_you_mean

            raise FieldError(
                field, f"must be {self.description}, got {value!r}{did_you_mean(value, self.choices)}"
            )
        return value

    def schema(self):
        return {"enum": list(self.choices)}


@record
class Text(Kind):
    description = "a string"

    def parse(self, field, value):
        if not isinstance(value, str) or not value:
            raise FieldError(field, f"must be a non-empty string, got {_type_name(value)} {value!r}")
        return value

    def schema(self):
        return {"type": "string", "minLength": 1}


def spec_field(kind: Kind, default=REQUIRED, doc: str = ""):
    """A record field that the spec parser fills from YAML."""
    return field(default=default, metadata={"kind": kind, "doc": doc})


_FIELDS_CACHE: dict[type, list] = {}


def layer_fields(cls) -> list[records.Field]:
    """The user-settable fields of a layer class, in declaration order
    (computed once per class: the parser asks for every layer of a spec)."""
    found = _FIELDS_CACHE.get(cls)
    if found is None:
        found = _FIELDS_CACHE[cls] = [f for f in records.fields(cls) if "kind" in f.metadata]
    return list(found)


def per_axis(value, ndim: int, field: str) -> tuple:
    """Expand an int to every axis; check a list has one entry per axis."""
    if isinstance(value, tuple):
        if len(value) != ndim:
            raise FieldError(
                field,
                f"has {len(value)} entries {list(value)} but the input has {ndim} spatial "
                f"ax{'is' if ndim == 1 else 'es'}",
            )
        return value
    return (value,) * ndim


def exact(value) -> int | Fraction:
    """Normalise a Fraction with denominator 1 to int."""
    if isinstance(value, Fraction) and value.denominator == 1:
        return int(value)
    return value
