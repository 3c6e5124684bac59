"""``analyze --chart`` and ``analyze --rf``: pictures printed instead of the table.

Unicode bars with colour on a terminal; ASCII ``#`` bars and no colour when
stdout is a pipe or a file (``-o``). They never mix into json/csv/markdown.
"""

from __future__ import annotations

import click

from ..render import Chart

PLAIN_WIDTH = 100  # width of a chart written to a pipe or file unless COLUMNS says otherwise


def check_format(fmt, chart, rf) -> None:
    from ..render import Format

    if (chart or rf) and Format(fmt) is not Format.TABLE:
        flag = "--chart" if chart else "--rf"
        raise click.UsageError(f"{flag} draws in the terminal; it cannot be combined with --format {fmt}")


def picture_lines(result, chart, rf, *, width: int, unicode: bool) -> list[str]:
    from ..render.bars import chart_lines, rf_lines
    from ..render.escape import line_text

    lines: list[str] = []
    if chart:
        lines += chart_lines(result, Chart(chart), width=width, unicode=unicode)
    if rf:
        if lines:
            lines.append("")
        lines += rf_lines(result, width=width, unicode=unicode)
    return [line_text(line) for line in lines]  # names from the spec: one line each, nothing hidden


def show_pictures(result, chart, rf, output) -> None:
    from .options import write_atomic

    if output:
        from ..env import columns

        width = columns() or PLAIN_WIDTH
        write_atomic(output, reading=[result.graph.file] if result.graph.file else [], text="\n".join(picture_lines(result, chart, rf, width=width, unicode=False)) + "\n")
        return
    from rich.text import Text

    from .console import output_console

    console = output_console()
    fancy = console.is_terminal and not console.options.ascii_only  # block characters need UTF-8
    if fancy:
        width = console.width - 1  # never touch the last column: some terminals wrap there
    else:
        from ..env import columns

        width = console.width if columns() else PLAIN_WIDTH
    for i, line in enumerate(picture_lines(result, chart, rf, width=width, unicode=fancy)):
        text = Text(line)
        if fancy:
            text.highlight_regex(r"[█▉▊▋▌▍▎▏]+", "magenta")
            if i == 0 or line.startswith("Receptive field per layer"):
                text.stylize("bold")
        console.print(text, soft_wrap=True)
