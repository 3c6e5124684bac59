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
            ptext = f"{grouped(params.measured[0])}" + (f" +{grouped(params.measured[1])} buf" if params.measured[1] else "")
            ptext += f" {_mark(params.ok and r.grads_ok)}" if params.ok and r.grads_ok else (
                f" ≠ {grouped(params.analysed[0])} +{grouped(params.analysed[1])} buf {FAIL}" if not params.ok
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
        f"estimated {grouped(held.analysed)} bytes {_mark(held.ok)} (batch {report.batch}, {report.dtype})",
        f"Training memory estimate (sgd): parameters {human_bytes(tm.params)} + gradients {human_bytes(tm.gradients)}"
        + (f" + buffers {human_bytes(tm.buffers)}" if tm.buffers else "")
        + f" + activations {human_bytes(tm.activations)} = {human_bytes(tm.total)} "
        f"(batch {analysis.batch}, {analysis.dtype})",
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


# -- machine formats ---------------------------------------------------------------

SCHEMA_VERSION = "cnncalc.verify/1"


def _check(check) -> dict | None:
    if check is None:
        return None
    as_list = (lambda v: list(v) if isinstance(v, tuple) else v)
    return {"measured": as_list(check.measured), "analysed": as_list(check.analysed), "ok": check.ok}


def to_dict(report, analysis) -> dict:
    """The verify report as data: every measured number beside the analysed one (exact integers)."""
    return {
        "schema": SCHEMA_VERSION,
        "spec": analysis.graph.file,
        "name": analysis.graph.name,
        "input": list(analysis.input_shape),
        "batch": report.batch,
        "dtype": report.dtype,
        "seed": report.seed,
        "gradcheck": report.gradcheck,
        "ok": report.ok,
        "failures": report.failures,
        "kept_for_backward_bytes": _check(report.held),
        "layers": [
            {
                "index": r.index, "name": r.name, "type": r.type_name, "ok": r.ok,
                "output_shape": _check(r.shape),
                "params": _check(r.params),  # [trainable, buffers]
                "gradient_shapes_ok": r.grads_ok,
                "multiplications_per_sample": _check(r.mults),
                "measured_multiplications_per_sample": r.measured_mults,
                "zero_products_per_sample": r.zero_products,
                "kept_for_backward_bytes": _check(r.saved),
                "gradient_relative_error": r.grad_error,
                "gradient_errors": dict(r.grad_detail),
            }
            for r in report.layers
        ],
    }


def render_json(report, analysis) -> str:
    import json

    return json.dumps(to_dict(report, analysis), indent=2, ensure_ascii=False) + "\n"


CSV_COLUMNS = [
    "index", "name", "type", "ok", "output_shape", "analysed_output_shape", "params", "buffers",
    "analysed_params", "analysed_buffers", "mults_per_sample", "analysed_mults_per_sample", "zero_products_per_sample",
    "kept_bytes", "analysed_kept_bytes", "gradient_relative_error", "batch", "dtype",
]


def render_csv(report, analysis) -> str:
    """One row per layer: measured beside analysed (exact integers)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.layers:
        writer.writerow([
            r.index, r.name, r.type_name, "true" if r.ok else "false", shape_text(r.shape.measured),
            shape_text(r.shape.analysed), *r.params.measured, *r.params.analysed, r.measured_mults,
            "" if r.mults is None else r.mults.analysed, r.zero_products, r.saved.measured, r.saved.analysed,
            "" if r.grad_error is None else f"{r.grad_error:.3e}", report.batch, report.dtype,
        ])
    return out.getvalue()


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;")


def render_markdown(report, analysis) -> str:
    title = analysis.graph.name or analysis.graph.file or "network"
    verdict = "all checks passed" if report.ok else f"{len(report.failures)} layers failed a check"
    lines = [
        f"### cnncalc verify `{_md(title)}`: {verdict}",
        "",
        f"input {shape_text(analysis.input_shape)} · batch {report.batch} · {report.dtype} · seed {report.seed}",
        "",
        "| | # | layer | type | output | params | mults/sample | kept for backward |"
        + (" grad rel. err |" if report.gradcheck else ""),
        "|:-:|--:|:--|:--|:--|--:|--:|--:|" + ("--:|" if report.gradcheck else ""),
    ]
    for r in report.layers:
        mults = "·" if r.mults is None else _pair(r.mults)
        row = (f"| {'✅' if r.ok else '❌'} | {r.index} | {_md(r.name)} | {r.type_name} | {_pair(r.shape, shape_text)} | "
               f"{_pair(r.params, lambda p: f'{grouped(p[0])} +{grouped(p[1])} buf' if p[1] else grouped(p[0]))} | "
               f"{mults} | {_pair(r.saved, human_bytes)} |")
        if report.gradcheck:
            row += f" {'—' if r.grad_error is None else f'{r.grad_error:.1e}'} |"
        lines.append(row)
    held = report.held
    lines += ["", f"Kept for backward: measured {grouped(held.measured)} bytes, estimated {grouped(held.analysed)} "
                  f"{_mark(held.ok)} (batch {report.batch}, {report.dtype})."]
    return "\n".join(lines) + "\n"


def render_junit(report, analysis) -> str:
    """One <testcase> per layer; a failed check is a <failure> with the numbers."""
    import xml.etree.ElementTree as ET

    title = analysis.graph.name or analysis.graph.file or "network"
    root = ET.Element("testsuites", name="cnncalc verify")
    suite = ET.SubElement(root, "testsuite", name=str(analysis.graph.file or title))
    failures = 0
    for r in report.layers:
        attrs = {"classname": f"cnncalc.verify.{title}", "name": f"{r.index} {r.name} ({r.type_name})"}
        case = ET.SubElement(suite, "testcase", **attrs)
        if not r.ok:
            failures += 1
            parts = []
            for label, check in (("output shape", r.shape), ("params", r.params), ("multiplications", r.mults),
                                 ("kept for backward", r.saved)):
                if check is not None and not check.ok:
                    parts.append(f"{label}: measured {check.measured}, analysed {check.analysed}")
            if not r.grads_ok:
                parts.append("gradient shapes differ from the parameters'")
            if r.grad_error is not None and r.grad_error > 1e-5:
                parts.append(f"gradient relative error {r.grad_error:.1e}")
            fail = ET.SubElement(case, "failure", message="; ".join(parts) or "check failed", type="VerifyFailed")
            fail.text = "; ".join(parts)
    case = ET.SubElement(suite, "testcase", classname=f"cnncalc.verify.{title}", name="kept for backward (total)")
    if not report.held.ok:
        failures += 1
        ET.SubElement(case, "failure", type="VerifyFailed",
                      message=f"measured {report.held.measured}, estimated {report.held.analysed}")
    for element in (root, suite):
        element.set("tests", str(len(report.layers) + 1))
        element.set("failures", str(failures))
        element.set("errors", "0")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def render(report, analysis, fmt) -> str:
    from . import Format

    return {Format.JSON: render_json, Format.CSV: render_csv, Format.MARKDOWN: render_markdown,
            Format.JUNIT: render_junit}[Format(fmt)](report, analysis)
