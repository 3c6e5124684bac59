"""``cnncalc analyze``: the per-layer table and totals of one spec."""

from __future__ import annotations

import click

from ..render import Format
from . import cli
from .output import render_text
from .pictures import Chart, check_format, show_pictures
from .options import (
    batch_option, convention_option, dtype_option, enum_choice, format_option, input_option, resolve_spec,
    spec_argument, write_atomic,
)


MERMAID_MAX_TEXT = 50_000  # Mermaid's default maxTextSize, which GitHub keeps


def _without_cyclic_gc(fn):
    """Run ``fn`` with Python's cyclic garbage collector paused: one analysis
    allocates many small objects and no cycles worth collecting, and the
    collector's passes over them cost ~30% of a 10,000-layer run and grow
    faster than the spec."""
    import functools

    @functools.wraps(fn)
    def run(*args, **kwargs):
        import gc

        enabled = gc.isenabled()
        gc.disable()
        try:
            return fn(*args, **kwargs)
        finally:
            if enabled:
                gc.enable()

    return run


def _parse_columns(ctx, param, value):
    if value is None:
        return None
    from ..render.table import parse_columns

    try:
        return parse_columns(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from None


@cli.command()
@spec_argument
@input_option
@batch_option
@dtype_option
@convention_option
@format_option("analyze", "html: one self-contained report with the network drawn; mermaid, dot: the network "
               "as a graph")
@click.option("--exact", is_flag=True, help="Exact grouped integers in the table instead of 138.4M-style units.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write the report to this file (atomically) instead of stdout.")
@click.option("--explain", is_flag=True, help="After the table, show the work for every layer (formula, numbers, result).")
@click.option("--chart", type=enum_choice(Chart), default=None,
              help="Instead of the table, a bar chart of this quantity per layer.")
@click.option("--rf", is_flag=True, help="Instead of the table, how the receptive field grows layer by layer.")
@click.option("--optimizer", type=click.Choice(["sgd", "momentum", "adam"]), default="sgd", show_default=True,
              help="Optimizer whose state the training-memory estimate includes (0, 1 or 2 arrays per parameter).")
@click.option("--depth", type=click.IntRange(min=0), default=None,
              help="Show blocks down to this depth; deeper blocks collapse into one summed row, or one box in a "
                   "drawing (0: top level only).")
@click.option("--columns", "columns", callback=_parse_columns, default=None, metavar="NAME,...",
              help="Table columns, in this order: index, name, type, inputs, output, params, macs, rf, memory, "
                   "kept, params%, macs% [default: all that fit the terminal].")
@_without_cyclic_gc
def analyze(spec, input_shape, batch, dtype, convention, fmt, exact, output, explain=False, chart=None, rf=False,
            optimizer="sgd", depth=None, columns=None):
    """Shapes, parameters, MACs, receptive fields and memory of every layer of SPEC.

    \b
    Example:
      cnncalc analyze specs/vgg16.yaml
      cnncalc analyze specs/vgg16.yaml --format json --batch 32 --dtype float16
      cnncalc analyze vgg16 --chart params
      cnncalc analyze resnet50 --depth 1
      cnncalc analyze resnet50 --columns name,inputs,output,params,macs
      cnncalc analyze resnet50 --format html -o resnet50.html
      cnncalc analyze resnet18 --format dot | dot -Tsvg -o resnet18.svg
    """
    from ..analysis import analyze as run_analysis
    from ..spec import load_spec

    graph = load_spec(resolve_spec(spec), input_shape)
    check_format(fmt, chart, rf)
    result = run_analysis(graph, batch=batch, dtype=dtype, convention=convention, optimizer=optimizer)
    if chart or rf:
        show_pictures(result, chart, rf, output)
        return 0
    fmt = Format(fmt)
    if fmt is Format.TABLE and output is None:
        from ..render.fasttable import print_analysis_table

        print_analysis_table(result, exact=exact, depth=depth, columns=columns)
        if explain:
            from ..homework.explain import explain_lines

            from ..render.escape import line_text

            click.echo("\n".join(line_text(line) for line in explain_lines(result)))
        return 0
    if columns is not None and fmt is not Format.TABLE:
        raise click.UsageError(f"--columns chooses the table's columns; it does not apply to --format {fmt.value}")
    text = render_text(result, fmt, exact=exact, depth=depth, columns=columns)
    if fmt is Format.MERMAID and len(text) > MERMAID_MAX_TEXT:
        click.echo(f"warning: the Mermaid text is {len(text):,} characters and GitHub draws at most "
                   f"{MERMAID_MAX_TEXT:,}: --depth 1 or --depth 0 draws blocks as single boxes", err=True)
    if explain and fmt is not Format.TABLE:
        raise click.UsageError("--explain adds the work after the table; it does not mix with --format "
                               f"{fmt.value} (machine-readable output)")
    if explain:
        from ..homework.explain import explain_lines

        from ..render.escape import line_text

        text += "\n".join(line_text(line) for line in explain_lines(result)) + "\n"
    if output:
        write_atomic(output, text, reading=[graph.file] if graph.file else [])
    else:
        click.echo(text, nl=False)
    return 0
