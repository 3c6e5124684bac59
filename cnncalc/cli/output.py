"""The text of an analysis in a machine-readable format or as a plain table
(shared by ``cnncalc analyze`` with and without click)."""

from __future__ import annotations

from ..render import Format


def render_text(result, fmt: Format, *, exact: bool = False, depth: int | None = None) -> str:
    if fmt is Format.JSON:
        from ..render.jsonout import render
    elif fmt is Format.CSV:
        from ..render.csvout import render
    elif fmt is Format.MARKDOWN:
        from ..render.markdown import render

        return render(result, depth=depth)
    else:
        import io

        from rich.console import Console

        from ..render.table import print_table

        buffer = io.StringIO()
        print_table(result, Console(file=buffer, width=200, no_color=True, highlight=False), exact=exact, depth=depth)
        return buffer.getvalue()
    return render(result)
