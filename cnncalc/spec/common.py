"""What every stage of the spec reader shares: the error constructor, how a
value is described in a message, and the magnitude guard on integers."""

from __future__ import annotations

from ..errors import FieldError, SpecError
from ..yamlio import YMap

#: Largest integer accepted in a field or the input shape.
MAX_INT = 10**18


def _empty_map(loc) -> YMap:
    out = YMap()
    out.loc, out.key_locs, out.value_locs = loc, {}, {}
    return out


def _err(message, loc, **kw):
    return SpecError(message, loc=loc, **kw)


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
