"""``cnncalc diff``: two versions of a network, layer by layer."""

from __future__ import annotations

import click

from . import cli
from .options import format_option, complete_spec, batch_option, convention_option, dtype_option, input_option, resolve_spec, write_atomic
from ..render.diff import DiffFormat


def _snapshot(path, input_shape, batch, dtype, convention):
    from ..analysis import analyze
    from ..compare import is_json_file, load_snapshot_json, snapshot_from_analysis
    from .options import load_graph

    if is_json_file(path):
        return load_snapshot_json(path)
    from ..checking import training_memory

    graph = load_graph(resolve_spec(path), input_shape)
    analysis = analyze(graph, batch=batch, dtype=dtype, convention=convention)
    return snapshot_from_analysis(analysis, label=path, training_bytes=training_memory(analysis, "sgd"),
                                  training_optimizer="sgd")


@cli.command()
@click.argument("old", shell_complete=complete_spec)
@click.argument("new", shell_complete=complete_spec)
@input_option
@batch_option
@dtype_option
@convention_option
@format_option("diff")
@click.option("--changes-only", is_flag=True, help="Leave out unchanged layers.")
@click.option("--exact", is_flag=True, help="Exact grouped integers in the table.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file (atomically) instead of stdout.")
def diff(old, new, input_shape, batch, dtype, convention, fmt, changes_only, exact, output):
    """Compare OLD and NEW side by side: added, removed and changed layers, totals with deltas.

    OLD and NEW are specs, or saved 'cnncalc analyze --format json' files.

    \b
    Examples:
      cnncalc diff specs/vgg11.yaml specs/vgg16.yaml
      cnncalc analyze specs/resnet50.yaml --format json -o main.json
      cnncalc diff main.json specs/resnet50.yaml --format markdown > comment.md
    """
    from ..compare import diff as run_diff

    result = run_diff(
        _snapshot(old, input_shape, batch, dtype, convention),
        _snapshot(new, input_shape, batch, dtype, convention),
    )
    fmt = DiffFormat(fmt)
    if fmt is DiffFormat.TABLE and output is None:
        from ..render.diff import print_table
        from .console import output_console

        print_table(result, output_console(), exact=exact, changes_only=changes_only)
        return 0
    from ..render.diff import render

    text = render(result, fmt, exact=exact, changes_only=changes_only)
    if output:
        write_atomic(output, text, reading=[old, new])
    else:
        click.echo(text, nl=False)
    return 0
