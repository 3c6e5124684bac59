"""``cnncalc verify``: run SPEC forward and backward with the numpy executor
and check every analysed number against what really happened."""

from __future__ import annotations

import re
import time

import click

from ..errors import EXIT_CHECK_FAILED, UsageError
from . import cli
from .options import batch_option, complete_spec, format_option, input_option, resolve_spec

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


class BytesParam(click.ParamType):
    """``512M``, ``4G``, ``1.5GiB`` or a number of bytes (binary units)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", str(value))
        if not m or m.group(2).upper() not in _UNITS:
            self.fail(f"{value!r} is not a size like 512M, 4G or 1073741824", param, ctx)
        return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def available_memory() -> int | None:
    """MemAvailable from /proc/meminfo (bytes), or None where unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


@cli.command()
@click.argument("spec", shell_complete=complete_spec)
@input_option
@click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True, help="Samples per batch.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random data and weights.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True,
              help="Element type of the run.")
@click.option("--gradcheck", is_flag=True, help="Also check every layer's gradients against finite differences (float64).")
@click.option("--max-memory", type=BytesParam(), default=None,
              help="Refuse to run if the estimated memory exceeds this (e.g. 4G); default: the available memory.")
@click.option("-q", "--quiet", is_flag=True, help="Only the summary (and failing layers); no progress bar.")
@format_option("verify")
def verify(spec, input_shape, batch, seed, dtype, gradcheck, max_memory, quiet, fmt="table"):
    """Run SPEC forward and backward with a numpy executor and check the analysis.

    Per layer: output shape, parameter sizes, multiplications counted from the
    operands of every product the kernels execute (conv, dense), bytes kept for
    backward against the training-memory estimate, and with --gradcheck a
    float64 dot-product test of every gradient. Exit status 1 if any check fails.

    \b
    Example:
      cnncalc verify specs/lenet5.yaml --gradcheck
      cnncalc verify specs/vgg16.yaml --input 3,64,64 --batch 2 --seed 0
    """
    from ..analysis import analyze
    from .options import load_graph
    from ..units import human_bytes
    from .console import error_console, output_console

    graph = load_graph(resolve_spec(spec), input_shape)
    analysis = analyze(graph, batch=batch, dtype=dtype)

    from ..executor.verify import estimate_bytes, verify as run_verify

    need = estimate_bytes(analysis, gradcheck)
    limit, what = (max_memory, "--max-memory") if max_memory is not None else (available_memory(), "available memory")
    if limit is not None and need > limit:
        raise UsageError(
            f"verify would need about {human_bytes(need)} ({need:,} bytes) but {what} is {human_bytes(limit)}; "
            f"try a smaller input (e.g. --input {_smaller(analysis.input_shape)}) or a smaller --batch"
        )

    if gradcheck:
        from ..executor.verify import gradcheck_bytes

        peak, where = gradcheck_bytes(analysis)
        click.echo(f"gradient check: float64, one layer at a time, two extra forward passes per direction; "
                   f"estimated peak {human_bytes(peak)} (at layer '{where}'); the whole run needs about "
                   f"{human_bytes(need)}", err=True)
    progress = None
    bar = None
    if not quiet:
        started = time.perf_counter()

        def progress(step, total):
            nonlocal bar
            if bar is None and time.perf_counter() - started > 1.0:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

                bar = Progress(TextColumn("verify"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                               console=error_console(), transient=True)
                bar.start()
                bar.task = bar.add_task("layers", total=total)
            if bar is not None:
                bar.update(bar.task, completed=step)

    try:
        report = run_verify(analysis, seed=seed, gradcheck=gradcheck, progress=progress)
    finally:
        if bar is not None:
            bar.stop()

    if fmt != "table":
        from ..render.verify import render

        click.echo(render(report, analysis, fmt), nl=False)
        return 0 if report.ok else EXIT_CHECK_FAILED
    from ..render.verify import print_report

    print_report(report, analysis, output_console(), quiet=quiet)
    return 0 if report.ok else EXIT_CHECK_FAILED


def _smaller(shape) -> str:
    c, *sp = shape
    return ",".join(map(str, [c, *(max(1, s // 2) for s in sp)]))
