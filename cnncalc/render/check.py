"""Reports of ``cnncalc check``: terminal table, JSON, JUnit XML and GitHub
Actions annotations. Renderers only format :class:`~cnncalc.checking.SpecReport`s."""

from __future__ import annotations

import json
from fractions import Fraction

from ..checking import Check, SpecReport, exit_status
from ..compare import Row
from ..receptive import format_number
from ..units import grouped, human_bytes, human_count
from . import Format
from .escape import github_data, github_line, github_property, json_text, line_text, visible, xml_text

SCHEMA_VERSION = "cnncalc.check/1"


#: check's formats are the shared vocabulary (cnncalc.render.FORMATS["check"] lists them)
CheckFormat = Format


# -- cell texts --------------------------------------------------------------------


def value_text(value, unit: str) -> str:
    """Exact value with its human form: '25,557,032 (25.56M)', '120.0 MiB (125,829,120 B)'."""
    if unit == "bytes":
        return f"{human_bytes(value)} ({grouped(value)} B)" if value >= 1024 else f"{value} B"
    if unit == "pixels":
        return format_number(value)
    return f"{grouped(value)} ({human_count(value)})" if value >= 1000 else str(value)


def short_value(value, unit: str) -> str:
    if unit == "bytes":
        return human_bytes(value)
    if unit == "pixels":
        return format_number(value)
    return human_count(value)


def margin_text(margin: Fraction | None) -> str:
    if margin is None:
        return "over (limit 0)"
    digits = 2 if abs(margin) < 1 else 1
    if margin >= 0:
        return f"{float(margin):.{digits}f}% headroom"
    return f"{float(-margin):.{digits}f}% over"


def _pct(value: Fraction) -> str:
    return f"{'+' if value >= 0 else '−'}{abs(float(value)):.2f}%"


def growth_margin_text(c: Check) -> str:
    """An increase check's headroom or excess in the allowance's own terms: percentage
    points of growth for a percentage (allowed +2%, grown +44.06%: 42.06 points over),
    else the amount. The one percentage of such a row is the growth over the baseline."""
    if c.allowed_growth is not None and c.growth is not None:
        gap = c.allowed_growth - c.growth
        return f"{abs(float(gap)):.2f} points {'headroom' if gap >= 0 else 'over'}"
    gap = c.limit - c.measured
    return f"{short_value(abs(gap), c.unit)} {'headroom' if gap >= 0 else 'over'}"


def measured_text(c: Check, show) -> str:
    """The measured value; for an increase, with its growth over the baseline."""
    text = show(c.measured, c.unit)
    if c.baseline is not None:
        growth = "new" if c.growth is None else _pct(c.growth)
        text += f" ({growth} over baseline {show(c.baseline, c.unit)})"
    return text


def limit_text(c: Check, show) -> str:
    text = show(c.limit, c.unit)
    return f"{text} (baseline +{c.text})" if c.scope == "increase" else text


def row_margin_text(c: Check) -> str:
    return growth_margin_text(c) if c.scope == "increase" else margin_text(c.margin)


def change_text(old: int, new: int) -> str:
    from ..compare import percent_change

    pct = percent_change(old, new)
    sign = "+" if new >= old else "−"
    pct_text = "new" if pct is None else f"{sign}{abs(float(pct)):.2f}%"
    return f"{sign}{grouped(abs(new - old))} ({pct_text})"


def check_message(report: SpecReport, c: Check) -> str:
    """One sentence for an annotation or a JUnit failure."""
    what = c.title + (f" at layer '{c.subject}'" if c.subject else "")
    verdict = "passes" if c.passed else "fails"
    at = f" (batch {c.batch}, {c.dtype})" if c.batch is not None else ""
    text = (
        f"{what} {verdict}: measured {measured_text(c, value_text)}{at}, limit {limit_text(c, value_text)}, "
        f"{row_margin_text(c)}"
    )
    if c.source not in ("spec", "baseline"):
        text += f" [limit from {c.source}]"
    if c.note and c.baseline is None:
        text += f" ({c.note})"
    return text


def error_text(err) -> str:
    """A SpecError without its location (an annotation carries that apart)."""
    text = str(err)
    prefix = f"{err.loc}: "
    return text[len(prefix):] if text.startswith(prefix) else text


def row_change_text(row: Row) -> str:
    if row.status == "added":
        return f"added {row.new.type} {row.new.shape_text}"
    if row.status == "removed":
        return f"removed {row.old.type} {row.old.shape_text}"
    parts = list(row.changes)
    if row.renamed:
        parts.insert(0, f"renamed {row.old.name} → {row.new.name}")
    return ", ".join(parts)


def _row_name(row: Row) -> str:
    return (row.new or row.old).name


# -- table -------------------------------------------------------------------------


#: Changed layers listed under a spec's table (JSON and JUnit list them all).
MAX_CHANGES_SHOWN = 200


def print_table(reports: list[SpecReport], console, *, exact: bool = False) -> None:
    from rich.table import Table
    from rich.text import Text

    for report in reports:
        title = line_text(report.spec + (f" ({report.name})" if report.name else ""))
        if report.error is not None:
            console.print(Text(f"{title}: error: {visible(report.error)}", style="bold red"))
            console.print()
            continue
        if report.skipped is not None:
            console.print(Text(f"{title}: skipped: no limits to check", style="dim"))
            console.print()
            continue
        # a column that would say the same on every row is said once, under the table, so
        # that the table fits a terminal of 80 columns: the layer when no limit is per layer,
        # the source when every limit comes from one place
        with_layer = any(c.subject for c in report.checks)
        sources = sorted({c.source for c in report.checks})
        table = Table(title=Text(title), title_justify="left", header_style="bold")
        table.add_column("", no_wrap=True)
        table.add_column("Check", min_width=10)
        if with_layer:
            table.add_column("Layer", overflow="fold")  # wrapped, never cut: a name is looked up
        table.add_column("Measured", justify="right")
        table.add_column("At")
        table.add_column("Limit", justify="right")
        table.add_column("Headroom / excess", justify="right")
        if len(sources) > 1:
            table.add_column("Source")
        for c in report.checks:
            status = Text("PASS", style="green") if c.passed else Text("FAIL", style="bold red")
            show = value_text if exact else short_value
            cells = [status, Text(visible(c.title))]
            if with_layer:
                cells.append(Text(visible(c.subject or "")))
            cells += [measured_text(c, show), Text(visible(c.at)) if isinstance(c.at, str) else c.at,
                      limit_text(c, show), Text(row_margin_text(c), style="" if c.passed else "red")]
            if len(sources) > 1:
                cells.append(Text(visible(c.source)))
            table.add_row(*cells)
        console.print(table)
        console.print(Text(
            f"budget limits measured at batch {report.batch}, {report.dtype} (the 'At' column states each memory "
            f"figure's); MACs: {report.convention} convention; headroom/excess in percent of the limit, for a growth "
            "limit in percentage points of growth over the baseline"
            + (f"; every limit from: {visible(sources[0])}" if len(sources) == 1 else "")
            + ("" if exact else "; exact values: --exact or --format json"), style="dim"))
        for note in report.notes:
            console.print(Text(visible(note), style="dim"))
        if any(c.quantity.value == "training_memory" for c in report.checks):
            from ..checking import TRAINING_MEMORY_DEFINITION

            console.print(Text(TRAINING_MEMORY_DEFINITION, style="dim"))
        if report.baseline is not None:
            if report.changes:
                console.print(Text(f"layers changed since the baseline ({len(report.changes)}):", style="bold"))
                for row in report.changes[:MAX_CHANGES_SHOWN]:
                    deltas = f"params {row.delta('params'):+,}, MACs {row.delta('macs'):+,}"
                    console.print(Text(visible(f"  {_row_name(row)}: {row_change_text(row)}; {deltas}")))
                if len(report.changes) > MAX_CHANGES_SHOWN:
                    console.print(Text(f"  … {len(report.changes) - MAX_CHANGES_SHOWN:,} more "
                                       "(--format json lists them all)", style="dim"))
            else:
                console.print(Text("no layer changed since the baseline", style="dim"))
        console.print()
    summary = Table(title="Summary", title_justify="left", header_style="bold")
    summary.add_column("Spec")
    summary.add_column("Checks", justify="right")
    summary.add_column("Failed", justify="right")
    summary.add_column("Result")
    for report in reports:
        style = {"pass": "green", "fail": "bold red", "error": "bold red", "skip": "dim"}[report.status]
        summary.add_row(
            Text(visible(report.spec)), str(len(report.checks)), str(len(report.failures)),
            Text(report.status.upper(), style=style),
        )
    console.print(summary)
    status = exit_status(reports)
    verdict = {0: "all limits hold", 1: "some limits are exceeded", 2: "some specs could not be checked"}[status]
    console.print(Text(f"{verdict} (exit status {status})", style="bold"))


def render_table_text(reports: list[SpecReport], *, exact: bool = False) -> str:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    print_table(reports, Console(file=buffer, width=160, no_color=True, highlight=False), exact=exact)
    return buffer.getvalue()


# -- JSON ----------------------------------------------------------------------------


def _num(x):
    if isinstance(x, Fraction):
        return x.numerator if x.denominator == 1 else f"{x.numerator}/{x.denominator}"
    return x


def _loc_json(loc):
    return {"file": loc.file, "line": loc.line, "column": loc.col} if loc else None


def check_to_dict(c: Check) -> dict:
    margin = c.margin
    return {
        "check": c.title,
        "quantity": c.quantity.value,
        "scope": c.scope,
        "bound": c.bound,
        "unit": c.unit,
        "layer": c.subject,
        "measured": _num(c.measured),
        "limit": c.limit,
        "limit_text": c.text,
        "baseline": c.baseline,
        "margin_percent": None if margin is None else round(float(margin), 4),
        "growth_percent": None if c.growth is None else round(float(c.growth), 4),
        "allowed_growth_percent": None if c.allowed_growth is None else _num(c.allowed_growth),
        "batch": c.batch,
        "dtype": c.dtype,
        "passed": c.passed,
        "source": c.source,
        "location": _loc_json(c.loc),
        "note": c.note or None,
    }


def _row_dict(row: Row) -> dict:
    def rec(r):
        return None if r is None else {
            "name": r.name, "type": r.type, "output_shape": list(r.output_shape), "params": r.params,
            "macs": r.macs, "activation_bytes": r.activation_bytes, "line": r.line,
        }

    return {
        "status": row.status, "baseline": rec(row.old), "current": rec(row.new), "changes": list(row.changes),
        "delta": {"params": row.delta("params"), "macs": row.delta("macs"),
                  "activation_bytes": row.delta("activation_bytes")},
    }


def to_dict(reports: list[SpecReport]) -> dict:
    from ..checking import TRAINING_MEMORY_DEFINITION

    return {
        "schema": SCHEMA_VERSION,
        "status": exit_status(reports),
        "training_memory_definition": TRAINING_MEMORY_DEFINITION,
        "specs": [
            {
                "spec": r.spec,
                "name": r.name,
                "result": r.status,
                "error": None if r.error is None else {"message": str(r.error), "location": _loc_json(r.error.loc)},
                "skipped": r.skipped,
                "batch": r.batch,
                "dtype": r.dtype,
                "optimizer": r.optimizer,
                "convention": r.convention,
                "checks": [check_to_dict(c) for c in r.checks],
                "baseline": r.baseline,
                "changed_layers": [_row_dict(row) for row in r.changes],
                "notes": r.notes,
            }
            for r in reports
        ],
    }


def render_json(reports: list[SpecReport]) -> str:
    return json_text(json.dumps(to_dict(reports), indent=2, ensure_ascii=False)) + "\n"


# -- JUnit XML ------------------------------------------------------------------------


def render_junit(reports: list[SpecReport]) -> str:
    """One <testsuite> per spec, one <testcase> per check; failures carry the numbers."""
    import xml.etree.ElementTree as ET

    root = ET.Element("testsuites", name="cnncalc check")
    total = failures = errors = 0
    for r in reports:
        suite = ET.SubElement(root, "testsuite", name=xml_text(r.spec))
        classname = xml_text("cnncalc.check." + (r.name or r.spec))
        if r.error is not None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="load spec", file=xml_text(r.spec))
            err = ET.SubElement(case, "error", message=xml_text(r.error), type="SpecError")
            err.text = xml_text(r.error)
            suite.set("tests", "1")
            suite.set("failures", "0")
            suite.set("errors", "1")
            total, errors = total + 1, errors + 1
            continue
        if r.skipped is not None:
            case = ET.SubElement(suite, "testcase", classname=classname, name="budget", file=xml_text(r.spec))
            ET.SubElement(case, "skipped", message=xml_text(r.skipped))
            suite.set("tests", "1")
            suite.set("failures", "0")
            suite.set("errors", "0")
            suite.set("skipped", "1")
            total += 1
            continue
        n_fail = 0
        for c in r.checks:
            name = c.title + (f" [{c.subject}]" if c.subject else "")
            attrs = {"classname": classname, "name": xml_text(name)}
            if c.loc and c.loc.file:
                attrs["file"] = xml_text(c.loc.file)
                if c.loc.line:
                    attrs["line"] = str(c.loc.line)
            case = ET.SubElement(suite, "testcase", **attrs)
            message = xml_text(check_message(r, c))
            if not c.passed:
                n_fail += 1
                fail = ET.SubElement(case, "failure", message=message, type="BudgetExceeded")
                fail.text = message + (f"\nat {xml_text(c.loc)}" if c.loc else "")
            else:
                out = ET.SubElement(case, "system-out")
                out.text = message
        if r.changes:
            out = ET.SubElement(suite, "system-out")
            out.text = "layers changed since the baseline:\n" + "\n".join(
                xml_text(f"{_row_name(row)}: {row_change_text(row)}") for row in r.changes
            )
        suite.set("tests", str(len(r.checks)))
        suite.set("failures", str(n_fail))
        suite.set("errors", "0")
        total += len(r.checks)
        failures += n_fail
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# -- GitHub Actions annotations ---------------------------------------------------------


def annotation(level: str, message: str, loc=None, title: str | None = None) -> str:
    props = []
    if loc is not None and loc.file:
        props.append(f"file={github_property(loc.file)}")
        if loc.line:
            props.append(f"line={loc.line}")
        if loc.col:
            props.append(f"col={loc.col}")
    if title:
        props.append(f"title={github_property(title)}")
    head = f"::{level} " + ",".join(props) if props else f"::{level}"
    return f"{head}::{github_data(message)}"


def render_github(reports: list[SpecReport]) -> str:
    """``::error`` for every exceeded limit and unusable spec, a plain summary after."""
    lines = []
    for r in reports:
        if r.error is not None:
            lines.append(annotation("error", error_text(r.error), r.error.loc, "cnncalc: unusable spec"))
            continue
        for c in r.failures:
            lines.append(annotation("error", check_message(r, c), c.loc, f"cnncalc budget: {c.title}"))
    for r in reports:
        if r.error is not None:
            lines.append(github_line(f"{r.spec}: ERROR"))
            continue
        if r.skipped is not None:
            lines.append(github_line(f"{r.spec}: SKIPPED (no limits)"))
            continue
        lines.append(github_line(
            f"{r.spec}: {r.status.upper()} ({len(r.checks) - len(r.failures)}/{len(r.checks)} checks pass)"))
        for c in r.checks:
            lines.append(github_line(f"  {'PASS' if c.passed else 'FAIL'}  {check_message(r, c)}"))
        for row in r.changes:
            lines.append(github_line(f"  changed since baseline: {_row_name(row)}: {row_change_text(row)}"))
    if any(c.quantity.value == "training_memory" for r in reports for c in r.checks):
        from ..checking import TRAINING_MEMORY_DEFINITION

        lines.append(TRAINING_MEMORY_DEFINITION)
    return "\n".join(lines) + "\n"


# -- CSV and Markdown -------------------------------------------------------------------

CSV_COLUMNS = [
    "spec", "name", "result", "check", "quantity", "scope", "layer", "measured", "limit", "limit_text", "unit",
    "batch", "dtype", "baseline", "growth_percent", "allowed_growth_percent", "margin_percent", "passed", "source",
    "file", "line",
]


def render_csv(reports: list[SpecReport]) -> str:
    """One row per check (exact values); a spec that could not be checked gets one row with its error."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in reports:
        if r.error is not None or r.skipped is not None:
            writer.writerow([r.spec, r.name or "", r.status, str(r.error) if r.error else "no limits to check",
                             *[""] * (len(CSV_COLUMNS) - 4)])
            continue
        for c in r.checks:
            d = check_to_dict(c)
            writer.writerow([
                r.spec, r.name or "", r.status, c.title, c.quantity.value, c.scope, c.subject or "",
                _num(c.measured), c.limit, c.text, c.unit, "" if c.batch is None else c.batch, c.dtype or "",
                "" if c.baseline is None else c.baseline,
                "" if d["growth_percent"] is None else d["growth_percent"],
                "" if d["allowed_growth_percent"] is None else d["allowed_growth_percent"],
                "" if d["margin_percent"] is None else d["margin_percent"],
                "true" if c.passed else "false", c.source,
                c.loc.file if c.loc else "", c.loc.line if c.loc and c.loc.line is not None else "",
            ])
    return out.getvalue()


def _md(text) -> str:
    return str(text).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("<", "&lt;")


def render_markdown(reports: list[SpecReport]) -> str:
    """A pull-request comment: one table per spec, then the summary."""
    status = exit_status(reports)
    verdict = {0: "all limits hold", 1: "some limits are exceeded", 2: "some specs could not be checked"}[status]
    lines = [f"### cnncalc check: {verdict}", ""]
    for r in reports:
        title = f"`{_md(r.spec)}`" + (f" ({_md(r.name)})" if r.name else "")
        if r.error is not None:
            lines += [f"**{title}: error:** {_md(r.error)}", ""]
            continue
        if r.skipped is not None:
            lines += [f"{title}: skipped (no limits to check)", ""]
            continue
        lines += [
            f"#### {title}: {r.status.upper()}",
            "",
            "| | check | layer | measured | at | limit | headroom / excess | source |",
            "|:-:|:--|:--|--:|:--|--:|--:|:--|",
        ]
        for c in r.checks:
            mark = "✅" if c.passed else "❌"
            lines.append(
                f"| {mark} | {_md(c.title)} | {_md(c.subject or '')} | {_md(measured_text(c, value_text))} | "
                f"{c.at} | {_md(limit_text(c, value_text))} | {_md(row_margin_text(c))} | {_md(c.source)} |"
            )
        if r.changes:
            lines += ["", f"Layers changed since the baseline ({len(r.changes)}):", ""]
            lines += [f"- `{_md(_row_name(row))}`: {_md(row_change_text(row))}" for row in r.changes]
        lines += ["", f"> budget limits measured at batch {r.batch}, {r.dtype}; MACs: {r.convention} convention; "
                      "headroom/excess in percent of the limit, for a growth limit in percentage points of growth."]
        lines += [f"> {_md(note)}" for note in r.notes]
        lines.append("")
    if any(c.quantity.value == "training_memory" for r in reports for c in r.checks):
        from ..checking import TRAINING_MEMORY_DEFINITION

        lines += [f"> {TRAINING_MEMORY_DEFINITION}", ""]
    return "\n".join(lines)


def render(reports: list[SpecReport], fmt: Format, *, exact: bool = False) -> str:
    fmt = Format(fmt)
    if fmt is Format.TABLE:
        return render_table_text(reports, exact=exact)
    if fmt is Format.HTML:
        from .html_check import render as render_html

        return render_html(reports)
    return {
        Format.JSON: render_json,
        Format.CSV: render_csv,
        Format.MARKDOWN: render_markdown,
        Format.JUNIT: render_junit,
        Format.GITHUB: render_github,
    }[fmt](reports)
