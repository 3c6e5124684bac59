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
