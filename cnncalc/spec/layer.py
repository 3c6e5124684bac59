"""One layer entry → a checked, frozen layer: its type looked up in the
registry, the ``defaults:`` for its type merged under its own fields, every
field parsed with its location."""

from __future__ import annotations

from ..errors import FieldError, Loc, SpecError, did_you_mean
from ..layers import base as layer_base
from ..layers.fields import REQUIRED, layer_fields
from ..yamlio import YMap
from .common import _check_magnitude, _describe, _err


def _colon_hint(key) -> str:
    """``{out_channels:4}`` reads as the key 'out_channels:4': YAML needs a space after the colon."""
    if isinstance(key, str) and ":" in key.strip(":"):
        name, _, value = key.partition(":")
        return f" (YAML needs a space after the colon: write '{name}: {value}')"
    return ""


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


_DECLARED: dict[type, dict] = {}  # layer class → {field name: its records.Field}
_PARSED: dict = {}  # (id of a field kind, type, scalar) → parsed value: kinds parse pure functions of the value
_MAX_PARSED = 4096


def _parse_field(kind, key: str, value):
    """``kind.parse(key, value)`` after the magnitude check, once per distinct
    scalar (a spec repeats the same few values thousands of times; the type is
    part of the key, so 1, 1.0 and true stay apart). Lists are parsed each time."""
    if value.__class__ in (int, str, float, bool):
        memo = (id(kind), value.__class__, value)
        found = _PARSED.get(memo, _PARSED)
        if found is not _PARSED:
            return found
        _check_magnitude(key, value)
        parsed = kind.parse(key, value)
        if len(_PARSED) < _MAX_PARSED:
            _PARSED[memo] = parsed
        return parsed
    _check_magnitude(key, value)
    return kind.parse(key, value)


def _build_layer(cls, fields: YMap, defaults: dict, type_loc: Loc):
    """Check every field value and build the frozen layer; returns
    (layer, field_locs, activation or None, activation_loc)."""
    declared = _DECLARED.get(cls)
    if declared is None:
        declared = _DECLARED[cls] = {f.name: f for f in layer_fields(cls)}
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
                f"its fields are: {', '.join(allowed) or '(none)'}{_colon_hint(key)}",
                loc=key_loc,
                field=str(key),
            )
        kind = declared[key].metadata["kind"]
        if value is None and declared[key].default is None:
            values[key] = None
        else:
            try:
                values[key] = _parse_field(kind, key, value)
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
