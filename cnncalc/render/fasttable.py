"""A fast writer for the analyze table.

rich lays a table out by measuring and wrapping every cell, about a
millisecond per row: fine for VGG, ten seconds for a 10,000-layer network.
This module draws the *same* table (the rich ``Table`` that
:func:`cnncalc.render.table.build` returns: its columns, cells, styles,
header and footer, in rich's default heavy-head box) with plain string
formatting, in time linear in the number of cells. It never wraps a row:
:func:`cnncalc.render.table.build` chooses and abbreviates the columns so
that the table fits the terminal.

Colour: never with ``NO_COLOR`` set, always with ``FORCE_COLOR`` set,
otherwise only on a terminal whose ``TERM`` is not ``dumb``.
"""

from __future__ import annotations

import os
import sys

# rich's default box (box.HEAVY_HEAD)
_TOP = ("┏", "━", "┳", "┓")
_HEAD = ("┃", "┃", "┃")
_HEAD_SEP = ("┡", "━", "╇", "┩")
_BODY = ("│", "│", "│")
_FOOT_SEP = ("├", "─", "┼", "┤")
_BOTTOM = ("└", "─", "┴", "┘")

_SGR = {
    "bold": "1", "dim": "2", "italic": "3", "underline": "4",
    "red": "31", "green": "32", "yellow": "33", "blue": "34", "magenta": "35", "cyan": "36", "white": "37",
}


def color_wanted(stream) -> bool:
    """NO_COLOR (any value) means no escape codes at all; then FORCE_COLOR
    means colour; then TERM=dumb means none; then colour on a terminal only."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


def _sgr(style) -> str:
    """ANSI SGR parameters for a rich style name such as 'bold cyan' ('' if none apply)."""
    if not style:
        return ""
    return ";".join(_SGR[word] for word in str(style).split() if word in _SGR)


def _width(text: str) -> int:
    """Terminal cells of ``text``: 2 for East Asian wide characters, 0 for
    combining marks, else 1 (rich's rule, without importing rich). Counted
    once per distinct text: a table repeats its shapes (16×32×32) on
    thousands of rows."""
    if text.isascii() or max(text) < "\u0300":  # (below the combining marks: all one cell, × included)
        return len(text)
    width = _WIDTHS.get(text)
    if width is None:
        from unicodedata import combining, east_asian_width

        width = sum(0 if combining(ch) else 2 if east_asian_width(ch) in "WF" else 1 for ch in text)
        if len(_WIDTHS) < 65536:
            _WIDTHS[text] = width
    return width


_WIDTHS: dict[str, int] = {}


def _cell(value):
    """(plain text, style, width) of a cell that rich would accept (str or Text)."""
    if value.__class__ is str:
        text, style = value, None
    elif value is None:
        text, style = "", None
    else:
        text = getattr(value, "plain", None)
        if text is None:
            text, style = str(value), None
        else:
            style = getattr(value, "style", None) or None
    return text, style, len(text) if text.isascii() else _width(text)


def _pad(cell, width: int, justify: str) -> str:
    text, _, have = cell
    gap = width - have
    if gap <= 0:
        return text
    if justify == "right":
        return " " * gap + text
    if justify == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def _column_texts(column, cells, head, foot, color: bool, paint) -> list[str]:
    """Every cell of one column, padded (and painted), header first, footer last.
    Column at a time, with str.rjust/ljust, so 10,000 rows take milliseconds."""
    width = max(head[2], foot[2], max((c[2] for c in cells), default=0))
    justify = column.justify
    if all(c[2] == len(c[0]) for c in cells):  # plain-width text: the C string methods
        fit = str.rjust if justify == "right" else str.center if justify == "center" else str.ljust
        body = [" " + fit(c[0], width) + " " for c in cells]
    else:
        body = [" " + _pad(c, width, justify) + " " for c in cells]
    if color:
        body = [paint(text, column.style, c[1]) for text, c in zip(body, cells)]
    return width, body


def table_lines(table, *, color: bool) -> list[str]:
    """The lines of a rich ``Table`` drawn in rich's default box, without wrapping."""
    columns = table.columns

    def paint(text: str, *styles) -> str:
        if not color:
            return text
        codes = ";".join(s for s in (_sgr(x) for x in styles) if s)
        return f"\x1b[{codes}m{text}\x1b[0m" if codes else text

    widths, bodies, heads, foots = [], [], [], []
    for column in columns:
        head, foot = _cell(column.header), _cell(column.footer)
        width, body = _column_texts(column, [_cell(v) for v in column._cells], head, foot, color, paint)
        widths.append(width)
        bodies.append(body)
        heads.append(paint(" " + _pad(head, width, column.justify) + " ", table.header_style, column.style, head[1]))
        foots.append(paint(" " + _pad(foot, width, column.justify) + " ", table.footer_style, column.style, foot[1]))

    def rule(parts) -> str:
        left, line, cross, right = parts
        return left + cross.join(line * (w + 2) for w in widths) + right

    lines = []
    total = sum(widths) + 3 * len(widths) + 1
    if table.title:
        title = _cell(table.title)
        lines.append(paint(_pad(title, total, table.title_justify or "center"), "italic"))
    lines.append(rule(_TOP))
    lines.append(_HEAD[0] + _HEAD[1].join(heads) + _HEAD[0])
    lines.append(rule(_HEAD_SEP))
    edge, inner = _BODY[0], _BODY[1]
    lines.extend(edge + inner.join(cells) + edge for cells in zip(*bodies))
    if table.show_footer:
        lines.append(rule(_FOOT_SEP))
        lines.append(edge + inner.join(foots) + edge)
    lines.append(rule(_BOTTOM))
    return lines


class _Text:
    """The part of rich's Text that the table builder uses."""

    __slots__ = ("plain", "style")

    def __init__(self, text: str = "", style=None):
        self.plain = text
        self.style = style or None


class _Column:
    __slots__ = ("header", "footer", "justify", "style", "_cells")

    def __init__(self, header="", footer="", justify="left", style=None, **_):
        self.header, self.footer, self.justify, self.style = header, footer, justify, style
        self._cells = []


class _Table:
    """The part of rich's Table that the table builder uses: enough to draw
    it here without importing rich (which costs a fifth of a VGG-16 run)."""

    def __init__(self, title=None, title_justify="center", show_footer=False, header_style=None,
                 footer_style=None, **_):
        self.title, self.title_justify, self.show_footer = title, title_justify, show_footer
        self.header_style, self.footer_style = header_style, footer_style
        self.columns: list[_Column] = []

    def add_column(self, header="", **kw):
        self.columns.append(_Column(header, **kw))

    def add_row(self, *cells):
        for column, cell in zip(self.columns, cells):
            column._cells.append(cell)


def wrap_line(line: str, width: int | None) -> list[str]:
    """A footer sentence in lines of at most ``width`` cells (words kept
    whole; continuation lines indented by two)."""
    if not width or _width(line) <= width:
        return [line]
    import textwrap

    return textwrap.wrap(line, width=width, subsequent_indent="  ", break_on_hyphens=False) or [line]


def terminal_width(stream) -> int | None:
    """The width to fit: the terminal's (COLUMNS first, as shutil reads it),
    COLUMNS for a pipe or file, else None (never squeeze)."""
    if getattr(stream, "isatty", None) and stream.isatty():
        import shutil

        return shutil.get_terminal_size().columns
    from ..env import columns

    return columns()  # 1 to 10,000, else None


def analysis_table_lines(analysis, *, exact: bool = False, depth: int | None = None, columns=None,
                         width: int | None = None, bars: bool = False, color: bool = False) -> list[str]:
    """The analyze table, its totals and the convention notes as lines, the
    table fitted to ``width`` (no row is ever wrapped; footer sentences are)."""
    from .table import build

    table, footer, notes = build(analysis, exact=exact, bars=bars, kit=(_Table, _Text), depth=depth,
                                 columns=columns, width=width)
    lines = table_lines(table, color=color)
    for line in footer:
        for part in wrap_line(line, width):
            lines.append(f"\x1b[33m{part}\x1b[0m" if color and line.startswith("warning") else part)
    for line in notes:
        for part in wrap_line(line, width):
            lines.append(f"\x1b[2m{part}\x1b[0m" if color else part)
    return lines


def print_analysis_table(analysis, *, exact: bool = False, stream=None, depth: int | None = None,
                         columns=None, width: int | None = None) -> None:
    """Write the analyze table, its totals and the convention notes to
    ``stream`` (stdout), fitted to ``width`` (by default the terminal's, or
    COLUMNS; a pipe or file without COLUMNS gets the full table)."""
    stream = stream or sys.stdout
    terminal = bool(getattr(stream, "isatty", None) and stream.isatty())
    encoding = (getattr(stream, "encoding", None) or "utf-8").lower()
    if width is None:
        width = terminal_width(stream)
    lines = analysis_table_lines(analysis, exact=exact, depth=depth, columns=columns, width=width,
                                 bars=terminal and "utf" in encoding, color=color_wanted(stream))
    stream.write("\n".join(lines) + "\n")
