"""The report of ``cnncalc verify``: one row per layer, ✓/✗ per check, the
measured numbers beside the analysed ones, and a summary."""

from __future__ import annotations

from ..units import grouped, human_bytes
from .common import shape_text

OK, FAIL = "✓", "✗"


def _mark(ok: bool) -> str:
    return OK if ok else FAIL


def _pair(check, fmt=grouped) -> str:
    if check.ok:
        return f"{fmt(check.measured)} {OK}"
    return f"{fmt(check.measured)} ≠ {fmt(check.analysed)} {FAIL}"


def print_report(report, analysis, console, *, quiet: bool = False) -> None:
    from rich.table import Table
    from rich.text import Text

    graph = analysis.graph
    from .escape import visible

    title = visible(graph.name or graph.file or "network")
    if not quiet or not report.ok:
        table = Table(title=Text(f"verify {title}  input {shape_text(analysis.input_shape)} · batch {report.batch} · "
                                 f"{report.dtype} · seed {report.seed}"), title_justify="left", header_style="bold")
        for name, justify in [("#", "right"), ("Layer", "left"), ("Type", "left"), ("Output", "right"),
                              ("Params", "right"), ("Mults/sample", "right"), ("on pad zeros", "right"),
                              ("Kept for backward", "right")]:
            table.add_column(name, justify=justify)
        if report.gradcheck:
            table.add_column("Grad rel. err", justify="right")
        for r in report.layers:
            if quiet and r.ok:
                continue
            params = r.params
            ptext = f"{grouped(params.measured[0])}" + (f" +{grouped(params.measured[1])}b" if params.measured[1] else "")
            ptext += f" {_mark(params.ok and r.grads_ok)}" if params.ok and r.grads_ok else (
                f" ≠ {grouped(params.analysed[0])}+{grouped(params.analysed[1])}b {FAIL}" if not params.ok
                else f" (gradient shapes) {FAIL}")
            shape = f"{shape_text(r.shape.measured)} {_mark(r.shape.ok)}" if r.shape.ok else \
                f"{shape_text(r.shape.measured)} ≠ {shape_text(r.shape.analysed)} {FAIL}"
            mults = _pair(r.mults) if r.mults is not None else Text(grouped(r.measured_mults) + " ·", style="dim")
            row = [str(r.index), Text(visible(r.name)), r.type_name, shape, ptext, mults,
                   grouped(r.zero_products) if r.zero_products else Text("0", style="dim"),
                   _pair(r.saved, human_bytes) if r.saved.ok else _pair(r.saved, grouped)]
            if report.gradcheck:
                err = r.grad_error
                from ..executor.verify import GRAD_TOLERANCE

                row.append(f"{err:.1e} {_mark(err <= GRAD_TOLERANCE)}" if err is not None else "—")
            table.add_row(*row, style=None if r.ok else "red")
        console.print(table)
    tm = analysis.training_memory
    held = report.held
    lines = [
        f"Kept for backward: measured {grouped(held.measured)} bytes ({human_bytes(held.measured)}), "
        f"estimated {grouped(held.analysed)} bytes {_mark(held.ok)}",
        f"Training memory estimate (sgd): parameters {human_bytes(tm.params)} + gradients {human_bytes(tm.gradients)}"
        + (f" + buffers {human_bytes(tm.buffers)}" if tm.buffers else "")
        + f" + activations {human_bytes(tm.activations)} = {human_bytes(tm.total)}",
    ]
    failed = report.failures
    n = len(report.layers)
    if report.ok:
        lines.append(f"{OK} all checks passed: {n} layers, {report.seconds:.2f} s")
    else:
        lines.append(f"{FAIL} {len(failed)} of {n} layers failed a check: {', '.join(failed)}")
    for line in lines:
        console.print(Text(visible(line), style="" if report.ok or not line.startswith(FAIL) else "bold red"))
    console.print(Text(
        "Mults: products counted from the operands of every matrix/element-wise product executed in the forward pass, "
        "per sample (· = not a checked layer); 'on pad zeros' of them had a padded zero as data operand. "
        "Kept for backward: bytes of the arrays each layer saves (shared arrays count for each layer; the total counts "
        "each array once).", style="dim"))
