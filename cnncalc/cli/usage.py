"""``cnncalc --help``, formatted without click: the command list comes from
:data:`cnncalc.cli.COMMANDS` and the layout is click's (usage line, wrapped
description, Options, Commands with each help cut to one line).

Both ways of asking print this text: ``cnncalc --help`` and ``cnncalc -h``
alone are answered by :func:`cnncalc.cli.main` before click is imported (it
costs about as much as the rest of the start), and the click group's own
``format_help`` writes the same text, so the two can never differ.
"""

from __future__ import annotations

import os
import sys

#: the group's help: one paragraph per item
DESCRIPTION = (
    "Exact shapes, parameters, multiplications, receptive fields and memory of CNNs described in YAML.",
    "Exit status: 0 success, 1 a check failed, 2 unusable input or usage error.",
)
USAGE = "Usage: cnncalc [OPTIONS] COMMAND [ARGS]..."
OPTIONS = (("--version", "Show the version and exit."), ("-h, --help", "Show this message and exit."))
#: the widest the help is laid out (click's ``max_content_width`` of the group)
MAX_WIDTH = 100


def terminal_columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` gives it (which
    click uses): ``COLUMNS`` when a positive integer, else the width of the
    terminal on stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


def help_width(columns: int | None = None) -> int:
    """The width click's help formatter takes for ``columns``."""
    return max(min(terminal_columns() if columns is None else columns, MAX_WIDTH) - 2, 50)


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """Words of ``text`` filled greedily into lines of at most ``width``
    characters including ``indent`` (a word longer than a line stands alone)."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        if line and len(indent) + len(line) + 1 + len(word) > width:
            lines.append(indent + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(indent + line)
    return lines


def short_help(text: str, limit: int) -> str:
    """The first sentence of ``text``, cut after a word with "..." when it is
    longer than ``limit`` (as click shortens a command's help in a list)."""
    words = text.split()
    for i, word in enumerate(words):
        if word.endswith(".") and (i == len(words) - 1 or not words[i + 1][0].islower()):
            words = words[: i + 1]
            break
    whole = " ".join(words)
    if len(whole) <= limit:
        return whole
    kept = ""
    for word in words:
        longer = f"{kept} {word}" if kept else word
        if len(longer) + 3 > limit:
            break
        kept = longer
    return kept + "..."


def _definitions(rows, width: int) -> list[str]:
    """Two columns indented by 2, the second wrapped to the width."""
    first = max(len(term) for term, _ in rows) + 2
    out = []
    for term, text in rows:
        lines = wrap(text, max(width - first - 2, 10))
        out.append(f"  {term.ljust(first)}{lines[0] if lines else ''}".rstrip())
        out.extend(" " * (first + 2) + line for line in lines[1:])
    return out


def top_level_help(width: int | None = None) -> str:
    """The text of ``cnncalc --help`` at ``width`` (:func:`help_width` by default)."""
    from . import COMMANDS

    width = help_width() if width is None else width
    out = [USAGE]
    for paragraph in DESCRIPTION:
        out += ["", *wrap(paragraph, width, "  ")]
    out += ["", "Options:", *_definitions(OPTIONS, width)]
    limit = width - 6 - max(len(name) for name in COMMANDS)
    rows = [(name, short or short_help(text, limit)) for name, (_, short, text) in sorted(COMMANDS.items())]
    out += ["", "Commands:", *_definitions(rows, width)]
    return "\n".join(out) + "\n"
