"""``cnncalc verify``: run SPEC forward and backward with the numpy executor
and check every analysed number against what really happened."""

from __future__ import annotations

import re
import time

import click

from ..errors import EXIT_CHECK_FAILED, UsageError
from . import cli
from .options import BATCH, batch_option, complete_spec, format_option, input_option, resolve_spec

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20, "MIB": 2**20,
          "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40, "TIB": 2**40}


class BytesParam(click.ParamType):
    """``512M``, ``4G``, ``1.5GiB`` or a number of bytes (binary units)."""

    name = "SIZE"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        from ..numbers import NumberError, check_magnitude, parse_decimal

        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*", str(value))
        if not m or m.group(2).upper() not in _UNITS:
            self.fail(f"{str(value)[:40]!r} is not a size like 512M, 4G or 1073741824", param, ctx)
        try:
            return int(check_magnitude(parse_decimal(m.group(1), what="size", exponent=False)
                                       * _UNITS[m.group(2).upper()], what="size"))
        except NumberError as exc:
            self.fail(str(exc), param, ctx)


class CountParam(click.ParamType):
    """``5G``, ``2T`` or a plain number of multiplications (SI suffixes)."""

    name = "COUNT"

    def convert(self, value, param, ctx):
        from ..units import parse_count

        if isinstance(value, int):
            return value
        try:
            return parse_count(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


#: What ``verify`` runs without being told: forward multiplications × batch.
#: The executor does about 60 G multiply-adds a second on the 2-core
#: development machine (VGG-16's step, README "Speed"); forward, backward
#: and the weight gradients are about three times the forward count, so this
#: default is some 10-20 seconds of work. Raise it with --max-macs.
DEFAULT_MAX_MACS = 200 * 10**9
#: Multiply-adds per second assumed for the time estimate (a third of the
#: measured rate: a busy machine, and the counting verify does).
ASSUMED_RATE = 20 * 10**9


def address_space_limit() -> int | None:
    """The soft RLIMIT_AS (``ulimit -v``, ``prlimit --as``) in bytes, or None."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not on POSIX
        return None
    soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else soft


#: Address space numpy, the interpreter and cnncalc take before any array
#: (measured: about 400 MB of mappings for numpy's libraries and threads).
BASE_ADDRESS_SPACE = 600 * 2**20


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
@click.option("--batch", type=BATCH, default=1, show_default=True, help="Samples per batch.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random data and weights.")
@click.option("--dtype", type=click.Choice(["float32", "float64"]), default="float32", show_default=True,
              help="Element type of the run.")
@click.option("--gradcheck", is_flag=True, help="Also check every layer's gradients against finite differences (float64).")
@click.option("--max-memory", type=BytesParam(), default=None,
              help="Refuse to run if the estimated memory exceeds this (e.g. 4G); default: the available memory.")
@click.option("--max-macs", type=CountParam(), default=None,
              help="Refuse to run if forward multiplications × batch exceed this (e.g. 1T); "
                   f"default {DEFAULT_MAX_MACS // 10**9}G.")
@click.option("-q", "--quiet", is_flag=True, help="Only the summary (and failing layers); no progress bar.")
@format_option("verify")
def verify(spec, input_shape, batch, seed, dtype, gradcheck, max_memory, quiet, fmt="table", max_macs=None):
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
    limits = []
    if max_memory is not None:
        limits.append((max_memory, "--max-memory"))
    else:
        limits.append((available_memory(), "available memory"))
    space = address_space_limit()
    if space is not None:  # ulimit -v / prlimit --as: numpy's own mappings come off it first
        limits.append((max(0, space - BASE_ADDRESS_SPACE), "the address-space limit (ulimit -v) less "
                       f"{human_bytes(BASE_ADDRESS_SPACE)} for the interpreter and numpy"))
    problems = []
    for limit, what in limits:
        if limit is not None and need > limit:
            problems.append(
                f"verify would need about {human_bytes(need)} ({need:,} bytes) but {what} is {human_bytes(limit)}"
                + ("" if max_memory is not None else " (--max-memory SIZE sets the limit yourself)"))
            break
    work = analysis.totals.multiplications * batch
    allowed = DEFAULT_MAX_MACS if max_macs is None else max_macs
    if work > allowed:
        seconds = 3 * work // ASSUMED_RATE
        problems.append(
            f"verify would compute about {work:,} forward multiplications (× batch {batch}; with backward about "
            f"three times that: roughly {_duration(seconds)} at {ASSUMED_RATE // 10**9} G per second), more than "
            f"--max-macs {_count(allowed)} (pass --max-macs {work} to run anyway)")
    if problems:
        raise UsageError("; ".join(problems) + f"; try a smaller input (e.g. --input {_smaller(analysis.input_shape)})"
                         " or a smaller --batch")

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
    except MemoryError:
        raise UsageError(
            f"verify ran out of memory (estimated {human_bytes(need)}); try a smaller input "
            f"(e.g. --input {_smaller(analysis.input_shape)}) or a smaller --batch"
        ) from None
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


def _count(n: int) -> str:
    from ..units import human_count

    return human_count(n).replace(" ", "")


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{max(seconds, 1)} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} minutes"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} hours"
    if seconds < 2 * 365 * 86400:
        return f"{seconds // 86400} days"
    return f"{seconds // (365 * 86400):,} years"


def _smaller(shape) -> str:
    c, *sp = shape
    return ",".join(map(str, [c, *(max(1, s // 2) for s in sp)]))
