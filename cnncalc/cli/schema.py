"""``cnncalc schema``: the JSON Schema of the spec format."""

from __future__ import annotations

import json

import click

from . import cli


@cli.command()
def schema():
    """Print the JSON Schema of the spec format (for editors: validation and completion)."""
    from ..schema import spec_schema

    click.echo(json.dumps(spec_schema(), indent=2, ensure_ascii=False))
    return 0
