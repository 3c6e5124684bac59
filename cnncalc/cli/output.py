"""The text of an analysis in a file format (shared by ``cnncalc analyze``
with and without click: cli/analyze.py and cli/fast.py)."""

from __future__ import annotations

from ..render import Format


def render_text(result, fmt: Format, *, exact: bool = False, depth: int | None = None, columns=None) -> str:
    if fmt is Format.JSON:
        from ..render.jsonout import render
    elif fmt is Format.CSV:
        from ..render.csvout import render
    elif fmt is Format.MARKDOWN:
        from ..render.markdown import render

        return render(result, depth=depth)
    elif fmt is Format.HTML:
        from ..render.html import render

        return render(result, depth=depth)
    elif fmt is Format.MERMAID:
        from ..render.mermaid import render

        return render(result, depth=depth)
    elif fmt is Format.DOT:
        from ..render.dot import render

        return render(result, depth=depth)
    else:  # the table in a file: whole (no terminal to fit), plain
        from ..render.fasttable import analysis_table_lines

        return "\n".join(analysis_table_lines(result, exact=exact, depth=depth, columns=columns)) + "\n"
    return render(result)
