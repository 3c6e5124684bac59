"""``cnncalc export``: a spec as a PyTorch file or an ONNX model."""

from __future__ import annotations

import click

from . import cli
from .options import input_option, resolve_spec, spec_argument, write_atomic


@cli.command("export")
@spec_argument
@click.option("--to", "target", type=click.Choice(["pytorch", "onnx"]), required=True,
              help="pytorch: a standalone .py file needing only torch; onnx: a model file (needs torch and onnx now).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="The file to write (required for onnx; default for pytorch: stdout).")
@input_option
@click.option("--weights/--no-weights", default=True, show_default=True,
              help="onnx: store randomly initialised weights, or leave them out (weights become model inputs; "
                   "small and fast, enough for shapes and counts).")
def export(spec, target, output, input_shape, weights):
    """Write SPEC as PyTorch code or as an ONNX model.

    The PyTorch file defines Net, whose submodules are named after the spec's
    layers (blocks become submodules), so state_dict() keys read like the spec.

    \b
    Examples:
      cnncalc export resnet18 --to pytorch -o resnet18.py
      cnncalc export resnet18 --to onnx -o resnet18.onnx
    """
    from ..analysis import analyze
    from ..errors import UsageError
    from ..spec import load_spec

    path = resolve_spec(spec)
    analysis = analyze(load_spec(path, input_shape))
    if target == "pytorch":
        from ..exporters.pytorch import export_pytorch

        text = export_pytorch(analysis, spec)
        if output:
            write_atomic(output, text)
        else:
            from .console import output_console

            output_console().print(text, end="", markup=False, highlight=False, soft_wrap=True)
        return
    if not output:
        raise UsageError("--to onnx writes a binary file: give it with -o FILE")
    from ..exporters.onnx_export import export_onnx

    export_onnx(analysis, output, weights=weights, source=spec)
