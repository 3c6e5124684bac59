"""Every environment variable cnncalc reads, read in one place.

A limit such as ``CNNCALC_MAX_LAYERS`` is read once, when the module that
uses it is imported (``cnncalc`` itself may be imported before any command
runs, so reading must not raise). A value that is not a whole number in range
is remembered, the default is used meanwhile, and :func:`check_environment`,
which the command line calls before anything else, turns it into one usage
error (exit 2) naming the variable.
"""

from __future__ import annotations

import os
import re

from .errors import UsageError

#: Largest value any limit variable may take (keeps every limit a small integer).
MAX_LIMIT = 10**12

#: name → (default, meaning), for every variable read through :func:`limit`.
LIMITS: dict[str, tuple[int, str]] = {}
_PROBLEMS: dict[str, str] = {}


def limit(name: str, default: int, meaning: str, *, minimum: int = 1) -> int:
    """The positive whole number in ``$name``, or ``default`` when unset.

    Accepts digits with optional ``_`` or ``,`` separators (``50_000``); a bad
    value is reported by :func:`check_environment` and ``default`` is used."""
    LIMITS[name] = (default, meaning)
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip().replace("_", "").replace(",", "")
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    if text.isdigit() and text.isascii() and len(text) > 13:
        _PROBLEMS[name] = f"{name}={shown!r} is out of range: {minimum:,} to {MAX_LIMIT:,} ({meaning})"
        return default
    if not re.fullmatch(r"[0-9]{1,13}", text):
        _PROBLEMS[name] = f"{name}={shown!r} is not a whole number ({meaning}; default {default:,})"
        return default
    value = int(text)
    if value < minimum or value > MAX_LIMIT:
        _PROBLEMS[name] = f"{name}={value:,} is out of range: {minimum:,} to {MAX_LIMIT:,} ({meaning})"
        return default
    return value


def text(name: str, default: str | None = None) -> str | None:
    """A plain text variable (NO_COLOR, TERM...), never interpreted as code."""
    return os.environ.get(name, default)


def columns() -> int | None:
    """``$COLUMNS`` when it is a sensible terminal width (1 to 10,000), else None."""
    raw = os.environ.get("COLUMNS", "").strip()
    if raw.isdigit() and 1 <= len(raw) <= 5 and 1 <= int(raw) <= 10_000:
        return int(raw)
    return None


def check_environment() -> None:
    """Raise a UsageError naming the first variable whose value was unusable."""
    if _PROBLEMS:
        name = sorted(_PROBLEMS)[0]
        raise UsageError(f"environment variable {_PROBLEMS[name]}; unset it or give a whole number")
