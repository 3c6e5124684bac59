"""Every environment variable cnncalc reads, declared and read in one place.

A limit such as ``CNNCALC_MAX_LAYERS`` is read when the module that uses it
is imported (``cnncalc`` itself may be imported before any command runs, so
reading must not raise): a value that is not a whole number in range gives
the default meanwhile, and :func:`check_environment`, which the command line
calls before anything else, turns it into one usage error (exit 2) naming
the variable, whichever command runs and whichever modules it imports.
"""

from __future__ import annotations

import os

from .errors import UsageError

#: Largest value any limit variable may take (keeps every limit a small integer).
MAX_LIMIT = 10**12

#: Every limit: variable → (default, what it bounds). README, "Limits and safety".
LIMITS: dict[str, tuple[int, str]] = {
    "CNNCALC_MAX_SPEC_BYTES": (2 * 1024 * 1024, "largest spec file in bytes"),
    "CNNCALC_MAX_YAML_NODES": (150_000, "values in a YAML document, aliases expanded"),
    "CNNCALC_MAX_YAML_DEPTH": (64, "nesting depth of a YAML document"),
    "CNNCALC_MAX_LAYERS": (25_000, "layers after repeat and blocks are expanded"),
    "CNNCALC_MAX_BLOCK_DEPTH": (32, "how deeply blocks may use one another"),
    "CNNCALC_MAX_BASELINE_BYTES": (16 * 1024 * 1024, "largest baseline JSON file in bytes"),
}


def _parse(name: str, raw: str) -> tuple[int | None, str | None]:
    """(value, None) or (None, the problem) for one variable's text."""
    default, meaning = LIMITS[name]
    text = raw.strip().replace("_", "").replace(",", "")
    shown = raw if len(raw) <= 40 else raw[:37] + "..."
    if not (text.isascii() and text.isdigit()):
        return None, f"{name}={shown!r} is not a whole number ({meaning}; default {default:,})"
    if len(text) > 13 or not 1 <= int(text) <= MAX_LIMIT:
        return None, f"{name}={shown!r} is out of range: 1 to {MAX_LIMIT:,} ({meaning})"
    return int(text), None


def limit(name: str) -> int:
    """The limit in ``$name`` (declared in :data:`LIMITS`), or its default
    when unset or unusable (:func:`check_environment` reports the latter)."""
    default, _ = LIMITS[name]
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value, _problem = _parse(name, raw)
    return default if value is None else value


def columns() -> int | None:
    """``$COLUMNS`` when it is a sensible terminal width (1 to 10,000), else None."""
    raw = os.environ.get("COLUMNS", "").strip()
    if raw.isascii() and raw.isdigit() and len(raw) <= 5 and 1 <= int(raw) <= 10_000:
        return int(raw)
    return None


def check_environment() -> None:
    """Raise a UsageError naming the first limit variable whose value is unusable."""
    for name in sorted(LIMITS):
        raw = os.environ.get(name)
        if raw is not None and raw.strip() != "":
            _value, problem = _parse(name, raw)
            if problem:
                raise UsageError(f"environment variable {problem}; unset it or give a whole number")
