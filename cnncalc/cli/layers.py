"""``cnncalc layers``: the layer reference, read off the layer classes."""

from __future__ import annotations

import click

from . import cli


def _complete_type(ctx, param, incomplete: str):
    from ..layers.base import all_type_names

    return [name for name in all_type_names() if name.startswith(incomplete.lower())]


@cli.command(short_help="The layer reference: fields, defaults and formulas of each type.")
@click.argument("name", required=False, shell_complete=_complete_type)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown"]), default="text", show_default=True,
              help="markdown: the README's layer table.")
@click.option("--brief", is_flag=True, help="One line per layer type.")
def layers(name, fmt, brief):
    """Every layer type (or NAME, an alias works too): fields, defaults and the
    formulas for output shape, parameters, multiplications and receptive field.

    \b
    Example:
      cnncalc layers
      cnncalc layers conv
      cnncalc layers --brief
    """
    from ..reference import brief_line, layer_doc, layer_docs, markdown, text_lines

    docs = [layer_doc(name)] if name else layer_docs()
    if fmt == "markdown":
        click.echo(markdown(docs), nl=False)
        return 0
    if brief:
        width = max(len(d.type_name) for d in docs)
        for doc in docs:
            click.echo(brief_line(doc, width))
        return 0
    styles = {"title": {"bold": True, "fg": "cyan"}, "heading": {"bold": True}, "dim": {"dim": True}, "": {}}
    for i, doc in enumerate(docs):
        if i:
            click.echo()
        for style, line in text_lines(doc):
            click.echo(click.style(line, **styles[style]) if styles[style] else line)
    return 0
