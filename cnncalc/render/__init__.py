"""Presentation of an Analysis: table, JSON, CSV, Markdown, HTML report, Mermaid, DOT.

Renderers return text (or print through a rich console for the table); they
never compute numbers. The vocabulary of formats is :class:`Format`.
"""

from __future__ import annotations

from enum import Enum


class Format(str, Enum):
    TABLE = "table"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"
    MERMAID = "mermaid"
    DOT = "dot"

    def __str__(self) -> str:
        return self.value


class Chart(str, Enum):
    """Quantities ``analyze --chart`` can draw, one bar per layer (drawn by
    :mod:`cnncalc.render.bars`; defined here so that declaring the option does
    not import the drawing code)."""

    PARAMS = "params"
    MACS = "macs"
    MEMORY = "memory"

    def __str__(self) -> str:
        return self.value
