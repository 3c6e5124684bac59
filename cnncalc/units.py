"""Human-readable numbers and their parsing: 138.4M, 15.47G, 528.0 MiB."""

from __future__ import annotations

from .lazy import Fraction, Pattern

#: Bytes per element of each dtype cnncalc knows (analysis, training memory, executor).
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2, "float64": 8, "int8": 1}

_SI = [(10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")]
_BIN = [(2**50, "PiB"), (2**40, "TiB"), (2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")]


def _four_digits(value: Fraction | tuple[int, int]) -> str:
    """Four significant digits, e.g. 138.4, 15.47, 1.000. ``value`` is a
    Fraction or an exact quotient (n, scale) of integers (no Fraction built:
    this runs for every cell of a table)."""
    n, scale = (value.numerator, value.denominator) if isinstance(value, Fraction) else value
    if n >= 10**4 * scale:  # beyond the largest unit: the rounded integer, exactly (no float)
        return str((2 * n + scale) // (2 * scale))
    quotient = n / scale  # int / int is correctly rounded, as float(Fraction(n, scale))
    for decimals in (3, 2, 1, 0):
        if n < 10 ** (4 - decimals) * scale:
            text = f"{quotient:.{decimals}f}"
            if len(text.replace(".", "")) <= 4 or decimals == 0:
                return text
    return f"{quotient:.0f}"  # pragma: no cover - every n below 10^4 · scale returns above


def _scaled(n: int, units, base: int, sep: str, small: str) -> str:
    sign = "-" if n < 0 else ""
    n = abs(n)
    if n < base:
        return f"{sign}{n}{small}"
    ascending = units[::-1]
    for i, (scale, suffix) in enumerate(ascending):
        last = i == len(ascending) - 1
        if last or n < ascending[i + 1][0]:
            text = _four_digits((n, scale))
            if float(text) >= base and not last:  # 999999 rounds to 1000K: say 1.000M
                scale, suffix = ascending[i + 1]
                text = _four_digits((n, scale))
            return f"{sign}{text}{sep}{suffix}"
    raise AssertionError  # pragma: no cover


#: Count suffixes as printed: SI's lowercase k (kilo), then M, G, T, P. Sizes are
#: always binary (KiB, MiB, ...), so a printed 'K' never stands for anything.
_SI_PRINTED = [(scale, "k" if suffix == "K" else suffix) for scale, suffix in _SI]


_COUNT_TEXT: dict[int, str] = {}  # a table repeats the same few numbers on thousands of rows
_BYTES_TEXT: dict[int, str] = {}
_MEMO_SIZE = 4096


def human_count(n: int) -> str:
    """138357544 → '138.4M', 61706 → '61.71k' (four significant digits); below 1000 exact."""
    text = _COUNT_TEXT.get(n) if n.__class__ is int else None
    if text is None:
        text = _scaled(n, _SI_PRINTED, 1000, "", "")
        if n.__class__ is int and len(_COUNT_TEXT) < _MEMO_SIZE:
            _COUNT_TEXT[n] = text
    return text


def human_bytes(n: int) -> str:
    """Binary units: 553430176 → '527.8 MiB'."""
    text = _BYTES_TEXT.get(n) if n.__class__ is int else None
    if text is None:
        text = _scaled(n, _BIN, 1024, " ", " B")
        if n.__class__ is int and len(_BYTES_TEXT) < _MEMO_SIZE:
            _BYTES_TEXT[n] = text
    return text


def grouped(n: int) -> str:
    return f"{n:,}"


_COUNT_RE = Pattern(r"(?i)^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([KMGTP]?)\s*$")
_BYTES_RE = Pattern(r"(?i)^\s*([0-9][0-9_,]*(?:\.[0-9]+)?)\s*([KMGTP]i?B|B)?\s*$")


def parse_count(text) -> int:
    """'25M' → 25000000, '4.2G' → 4200000000, 1000 → 1000 (SI suffixes)."""
    from .numbers import check_magnitude, parse_decimal  # (only for reading, not for printing)

    if isinstance(text, bool):
        raise ValueError(f"expected a count such as 25M, got {text!r}")
    if isinstance(text, int):
        return check_magnitude(text, what="count")
    match = _COUNT_RE.match(str(text))
    if not match:
        raise ValueError(f"expected a count such as 1500, 25M or 4.2G (suffixes K, M, G, T, P), got {text!r}")
    number = parse_decimal(match.group(1), what="count", exponent=False, negative=False)
    suffix = match.group(2).upper()
    scale = dict((s, v) for v, s in _SI).get(suffix, 1)
    value = number * scale
    if value.denominator != 1:
        raise ValueError(f"{text!r} is not a whole number")
    return int(value)


def parse_bytes(text) -> int:
    """'120MiB' → 125829120, '1.5GB' → 1500000000, 4096 → 4096."""
    from .numbers import check_magnitude, parse_decimal

    if isinstance(text, bool):
        raise ValueError(f"expected a size such as 120MiB, got {text!r}")
    if isinstance(text, int):
        return check_magnitude(text, what="size")
    match = _BYTES_RE.match(str(text))
    if not match:
        raise ValueError(
            f"expected a size such as 4096, 120MiB or 6GiB (KiB, MiB, GiB, TiB; or KB, MB, GB, TB), got {text!r}"
        )
    number = parse_decimal(match.group(1), what="size", exponent=False, negative=False)
    unit = (match.group(2) or "B").upper()
    if unit == "B":
        scale = 1
    elif unit.endswith("IB"):
        scale = dict((s.upper(), v) for v, s in _BIN)[unit]
    else:
        scale = dict((s, v) for v, s in _SI)[unit[0]]
    value = number * scale
    if value.denominator != 1:
        raise ValueError(f"{text!r} is not a whole number of bytes")
    return int(value)
