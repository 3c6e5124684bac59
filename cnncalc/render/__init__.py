"""Presentation of reports: terminal tables, JSON, CSV, Markdown; an Analysis also as an
HTML report, Mermaid and DOT; pass/fail reports also as JUnit and GitHub annotations.

Renderers return text (or print through a rich console for the table); they
never compute numbers. The vocabulary of formats is :class:`Format`.
"""

from __future__ import annotations

from ..choices import Choice


class Format(Choice):
    """Every output format of every report (the one vocabulary)."""

    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"
    MERMAID = "mermaid"
    DOT = "dot"
    JUNIT = "junit"  # pass/fail reports only (check, verify, grade)
    GITHUB = "github"  # Actions annotations: pass/fail reports only (check)


class Chart(Choice):
    """Quantities ``analyze --chart`` can draw, one bar per layer (drawn by
    :mod:`cnncalc.render.bars`; defined here so that declaring the option does
    not import the drawing code)."""

    PARAMS = "params"
    MACS = "macs"
    MEMORY = "memory"


#: The formats each report offers: the one place to add a format to a command.
#: Every report has the machine formats json, csv and markdown; junit and github
#: where there is a pass or fail to report.
FORMATS: dict[str, tuple[Format, ...]] = {
    "analyze": (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML, Format.MERMAID, Format.DOT),
    "check": (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.JUNIT, Format.GITHUB, Format.HTML),
    "diff": (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.HTML, Format.MERMAID, Format.DOT),
    "zoo": (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN),
    "verify": (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.JUNIT),
    "grade": (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN, Format.JUNIT),
    "compare": (Format.TABLE, Format.JSON, Format.CSV, Format.MARKDOWN),
}
