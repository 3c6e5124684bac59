"""One console for stdout and one for errors (rich is imported lazily)."""

from __future__ import annotations

import os
import sys

_WIDE = 200  # when stdout is not a terminal, do not squeeze tables into 80 columns


def output_console():
    from rich.console import Console

    is_tty = sys.stdout.isatty()
    width = None if is_tty or os.environ.get("COLUMNS") else _WIDE
    return Console(width=width, highlight=False, soft_wrap=False)


def error_console():
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def note(text: str) -> None:
    """One dim line of plain ``text`` on stderr (which file a bundled spec
    name meant, say). rich styles it on a terminal; where rich would print it
    plain (stderr not a terminal, colour not forced) it is written without
    importing rich."""
    from ..render.escape import visible

    if sys.stderr.isatty() or os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE"):
        from rich.text import Text

        error_console().print(Text(visible(text), style="dim"))
    else:
        sys.stderr.write(visible(text) + "\n")
        sys.stderr.flush()


# -- terminals that cannot show Unicode -------------------------------------------

_ASCII = {"×": "x", "·": "*", "−": "-", "–": "-", "—": "-", "…": "...", "≥": ">=", "≤": "<=", "≠": "!=",
          "✓": "ok", "✗": "X", "→": "->", "←": "<-", "±": "+/-", "≈": "~", "⌊": "floor(", "⌋": ")",
          "⌈": "ceil(", "⌉": ")", "′": "'", "²": "^2", "³": "^3", "µ": "u", "Δ": "d", "δ": "d", "∂": "d",
          "ᵀ": "^T", "√": "sqrt", "∞": "inf", "‰": "permille", "•": "*", "“": '"', "”": '"', "‘": "'", "’": "'"}


def _ascii_for(char: str) -> str:
    if char in _ASCII:
        return _ASCII[char]
    import unicodedata

    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        across = "HORIZONTAL" in name or "LEFT" in name or "RIGHT" in name
        down = "VERTICAL" in name or "UP" in name or "DOWN" in name
        return "+" if across and down else "-" if across else "|"
    if name.startswith(("FULL BLOCK", "LEFT ", "RIGHT ", "UPPER ", "LOWER ")) and "BLOCK" in name:
        return "#"
    plain = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    return plain or "?"


def _degrade(exc):
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    return "".join(_ascii_for(c) for c in exc.object[exc.start:exc.end]), exc.end


def degrade_to_ascii() -> None:
    """On a stream whose encoding cannot show cnncalc's characters (a legacy
    terminal, ``PYTHONIOENCODING=ascii``), write ASCII look-alikes (× → x,
    box drawing → +-|, ✓ → ok) instead of failing with UnicodeEncodeError."""
    import codecs

    try:
        codecs.lookup_error("cnncalc-ascii")
    except LookupError:
        codecs.register_error("cnncalc-ascii", _degrade)
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "×━✓".encode(encoding)
        except UnicodeEncodeError:
            reconfigure = getattr(stream, "reconfigure", None)
            if reconfigure is not None:
                try:
                    reconfigure(errors="cnncalc-ascii")
                except (ValueError, OSError):
                    pass
        except LookupError:
            pass
