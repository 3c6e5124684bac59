"""``cnncalc import``: an ONNX file or a PyTorch model as a spec."""

from __future__ import annotations

import os
import time

import click

from . import cli
from .options import SHAPE, write_atomic


@cli.command("import")
@click.argument("model")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the spec to this file (atomically) instead of stdout.")
@click.option("--input", "input_shape", type=SHAPE, default=None,
              help="Input shape without the batch axis, channels first: 3,224,224 (needed for PyTorch models "
                   "and for ONNX inputs with dynamic sizes).")
@click.option("--unknown", type=click.Choice(["error", "identity"]), default="error", show_default=True,
              help="What to do with operations cnncalc cannot express: stop and list them, or import them as "
                   "zero-cost pass-throughs (marked in the spec, with a warning).")
@click.option("--name", default=None, help="The spec's name (default: the file or factory name).")
def import_(model, output, input_shape, unknown, name):
    """Write the spec of MODEL: an ONNX file, torch:PACKAGE.MODULE:FACTORY, or path/model.py:FACTORY.

    The spec is checked before it is written: its parameter count equals the
    model's (the ONNX weights, or sum(p.numel()) for a PyTorch model) and every
    layer's output shape equals ONNX shape inference. onnx is an optional extra
    (pip install 'cnncalc[onnx]'); PyTorch models need torch and onnx.

    \b
    Examples:
      cnncalc import resnet18.onnx -o resnet18_back.yaml
      cnncalc import examples/model.py:build --input 3,224,224 -o model.yaml
      cnncalc import torch:examples.model:build --input 3,224,224 --unknown identity
    (torch:MODULE:FACTORY finds MODULE in the current directory or on PYTHONPATH)
    """
    from .console import error_console, output_console

    start = time.perf_counter()
    is_torch = model.startswith("torch:") or ".py:" in model
    if is_torch:
        from ..importers.torch_model import import_torch

        result = import_torch(model, input_shape, unknown=unknown, name=name)
    else:
        from ..importers.onnx_import import import_model, load_onnx

        default = os.path.splitext(os.path.basename(model))[0] or "model"
        result = import_model(load_onnx(model), source=model, name=name or default, input_shape=input_shape,
                              unknown=unknown)
    from rich.markup import escape

    errors = error_console()
    for warning in result.warnings:
        errors.print(f"[yellow]warning:[/] {escape(warning)}", markup=True, highlight=False)
    if output:
        write_atomic(output, result.text)
    else:
        output_console().print(result.text, end="", markup=False, highlight=False, soft_wrap=True)
    t = result.analysis.totals
    errors.print(
        f"imported {len(result.analysis.layers)} layers: {t.params_trainable:,} parameters and {result.checked_shapes} "
        f"output shapes checked against the model; {t.multiplications:,} multiplications per sample "
        f"({time.perf_counter() - start:.2f} s){' → ' + output if output else ''}",
        markup=False, highlight=False,
    )
