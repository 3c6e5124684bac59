"""One bounded parser for every number a user writes as text: homework
answers, budget limits and percentages, ``--max-memory``, worked-example
values, and the integers of a saved baseline.

``Fraction("1e999999999")`` builds a number with a billion digits and
``int("9" * 10**6)`` takes seconds on Python 3.10, so nothing user-written
reaches them unchecked: the digits and the exponent are bounded *as text*
first, and only then converted, exactly (no floats).

* at most :data:`MAX_DIGITS` digits before and after the point together;
* an exponent (``1.5e9``) of at most :data:`MAX_EXPONENT` in size;
* a result whose integer part has at most :data:`MAX_RESULT_DIGITS` digits.
"""

from __future__ import annotations

from .lazy import Fraction, Pattern

#: Digits in one written number (a count up to 10^18 needs 19; 40 leaves room).
MAX_DIGITS = 40
#: Largest exponent in scientific notation (results stay below 10^60 anyway).
MAX_EXPONENT = 60
#: Digits of the integer part of any parsed value, after suffixes and exponents.
MAX_RESULT_DIGITS = 60

_DECIMAL = Pattern(r"([+-]?)([0-9][0-9_,]*|)(?:\.([0-9_]*))?(?:[eE]([+-]?[0-9]+))?")


class NumberError(ValueError):
    """A number that does not read, or is too long or too large to use."""


def _shown(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse_decimal(text, *, what: str = "number", exponent: bool = True, negative: bool = True) -> Fraction:
    """``"1,520"``, ``"15.5"``, ``"-0.25"``, ``"1.5e9"`` → an exact Fraction.

    Raises :class:`NumberError` for text that is not such a number, has more
    than :data:`MAX_DIGITS` digits, or an exponent beyond :data:`MAX_EXPONENT`."""
    raw = str(text)
    body = raw.strip().replace("−", "-")
    if len(body) > 4 * MAX_DIGITS:
        raise NumberError(f"{what} {_shown(raw)} is {len(body):,} characters long; numbers have at most "
                          f"{MAX_DIGITS} digits")
    m = _DECIMAL.fullmatch(body)
    if not m or not (m.group(2) or m.group(3)) or (m.group(4) is not None and not exponent):
        raise NumberError(f"{what} {_shown(raw)} is not a number")
    sign, whole, frac, exp = m.groups()
    whole = whole.replace("_", "").replace(",", "")
    frac = (frac or "").replace("_", "")
    if sign == "-" and not negative:
        raise NumberError(f"{what} {_shown(raw)} must not be negative")
    if len(whole.lstrip("0")) + len(frac) > MAX_DIGITS:
        raise NumberError(f"{what} {_shown(raw)} has more than {MAX_DIGITS} digits")
    power = 0
    if exp is not None:
        if len(exp.lstrip("+-").lstrip("0")) > 3 or abs(int(exp)) > MAX_EXPONENT:
            raise NumberError(f"{what} {_shown(raw)} has an exponent beyond ±{MAX_EXPONENT}")
        power = int(exp)
    value = Fraction(int(whole or "0") * 10 ** len(frac) + int(frac or "0"), 10 ** len(frac))
    value *= Fraction(10) ** power
    return -value if sign == "-" else value


def check_magnitude(value, *, what: str = "number"):
    """``value`` (int or Fraction) if its integer part has at most
    :data:`MAX_RESULT_DIGITS` digits, else NumberError."""
    if abs(int(value)) >= 10**MAX_RESULT_DIGITS:
        raise NumberError(f"{what} is too large: more than {MAX_RESULT_DIGITS} digits")
    return value


def parse_fraction(text, *, what: str = "number") -> Fraction:
    """``"1/3"``, ``"-2/5"`` or a decimal (``"0.25"``): an exact Fraction, bounded as :func:`parse_decimal`."""
    raw = str(text)
    if "/" in raw:
        top, _, bottom = raw.partition("/")
        num, den = parse_decimal(top, what=what, exponent=False), parse_decimal(bottom, what=what, exponent=False)
        if den == 0:
            raise NumberError(f"{what} {_shown(raw)} divides by zero")
        return num / den
    return parse_decimal(raw, what=what)


def json_int(value, *, what: str, minimum: int | None = 0) -> int:
    """An integer read from JSON: a real int (not a bool, float, Infinity or
    NaN, not text) of at most :data:`MAX_RESULT_DIGITS` digits."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise NumberError(f"{what} must be an integer, got {_describe(value)}")
    check_magnitude(value, what=what)
    if minimum is not None and value < minimum:
        raise NumberError(f"{what} must be ≥ {minimum}, got {value}")
    return value


def _describe(value) -> str:
    if isinstance(value, float):
        return f"the number {value!r}" if value == value and abs(value) != float("inf") else repr(value)
    if isinstance(value, str):
        return f"the text {_shown(value)}"
    return type(value).__name__
