"""Reports of ``cnncalc diff``: terminal table, Markdown (a pull-request comment), JSON."""

from __future__ import annotations

import json

from ..compare import ADDED, CHANGED, REMOVED, SAME, Diff, Row, percent_change
from ..units import grouped, human_bytes, human_count
from . import Format
from .escape import json_text, line_text, markdown_code, markdown_text, visible

SCHEMA_VERSION = "cnncalc.diff/1"

MARK = {SAME: " ", CHANGED: "~", ADDED: "+", REMOVED: "-"}


#: diff's formats are the shared vocabulary (cnncalc.render.FORMATS["diff"] lists them)
DiffFormat = Format


def _signed(n: int) -> str:
    return "0" if n == 0 else (f"+{n:,}" if n > 0 else f"−{-n:,}")


def _pct(old: int, new: int) -> str:
    pct = percent_change(old, new)
    if pct is None:
        return "new"
    if pct == 0:
        return "0%"
    return f"{'+' if pct > 0 else '−'}{abs(float(pct)):.2f}%"


def _human(value: int, unit: str) -> str:
    return human_bytes(value) if unit == "bytes" else human_count(value)


def summary_line(d: Diff) -> str:
    return (
        f"{d.count(ADDED)} added, {d.count(REMOVED)} removed, {d.count(CHANGED)} changed, "
        f"{d.count(SAME)} unchanged layers"
    )


def settings_line(d: Diff) -> str:
    o, n = d.old, d.new
    text = f"memory at batch {n.batch}, {n.dtype}; MACs: {n.convention} convention"
    if n.training_optimizer:
        text += f"; training memory with {n.training_optimizer}"
    if (o.batch, o.dtype, o.convention) != (n.batch, n.dtype, n.convention):
        text = (f"old: batch {o.batch}, {o.dtype}, {o.convention}; new: batch {n.batch}, {n.dtype}, "
                f"{n.convention}")
    return text


def renamed_line(d: Diff, shown: int = 4) -> str:
    """'16 unchanged layers only got new automatic names: conv2 → conv3, ... '"""
    rows = d.auto_renamed
    pairs = ", ".join(f"{r.old.name} → {r.new.name}" for r in rows[:shown])
    more = f", … ({len(rows) - shown} more)" if len(rows) > shown else ""
    return f"{len(rows)} unchanged layer{'s' if len(rows) != 1 else ''} only got new automatic names: {pairs}{more}"


def what_changed(row: Row) -> str:
    parts = list(row.changes)
    if row.renamed:
        parts.insert(0, f"renamed {row.old.name} → {row.new.name}")
    return ", ".join(parts)


def _side(rec, exact: bool):
    from rich.text import Text

    count = grouped if exact else human_count
    if rec is None:
        return ["", "", "", "", "", ""]
    return [str(rec.index), Text(visible(rec.name)), Text(visible(rec.type)), Text(visible(rec.shape_text)),
            count(rec.params), count(rec.macs)]


# -- table -----------------------------------------------------------------------------


#: Rows of the terminal table (the markdown and JSON reports hold every row).
MAX_TABLE_ROWS = 200


def print_table(d: Diff, console, *, exact: bool = False, changes_only: bool = False) -> None:
    from rich.table import Table
    from rich.text import Text

    style = {SAME: "", CHANGED: "yellow", ADDED: "green", REMOVED: "red"}
    table = Table(title=Text(line_text(f"{d.old.label} → {d.new.label}")), title_justify="left", header_style="bold")
    table.add_column("")
    for side in ("old", "new"):
        table.add_column("#", justify="right", style="dim")
        table.add_column(f"Layer ({side})")
        table.add_column("Type", style="cyan")
        table.add_column("Output")
        table.add_column("Params", justify="right")
        table.add_column("MACs", justify="right")
    table.add_column("Δ Params", justify="right")
    table.add_column("Δ MACs", justify="right")
    table.add_column("What changed")
    shown = 0
    hidden = 0
    for row in d.rows:
        if changes_only and not row.notable:
            continue
        if shown >= MAX_TABLE_ROWS:  # rich draws about a thousand rows a second
            hidden += 1
            continue
        shown += 1
        table.add_row(
            Text(MARK[row.status], style=style[row.status]),
            *_side(row.old, exact), *_side(row.new, exact),
            _signed(row.delta("params")) if row.delta("params") else "",
            _signed(row.delta("macs")) if row.delta("macs") else "",
            Text(visible(what_changed(row)) if row.status in (SAME, CHANGED) else row.status, style=style[row.status]),
        )
    console.print(table)
    if hidden:
        console.print(Text(f"… {hidden:,} more rows not shown (the table shows {MAX_TABLE_ROWS:,}); "
                           "--changes-only, --format markdown or --format json show them all", style="yellow"))
    totals = Table(title="Totals", title_justify="left", header_style="bold")
    for name, justify in (("", "left"), ("old", "right"), ("new", "right"), ("Δ", "right"), ("Δ %", "right")):
        totals.add_column(name, justify=justify)
    for label, unit, old, new in d.totals():
        fmt = (lambda v: f"{grouped(v)} ({_human(v, unit)})") if unit == "bytes" or v_big(old, new) else grouped
        totals.add_row(label, fmt(old), fmt(new), _signed(new - old), _pct(old, new))
    console.print(totals)
    console.print(Text(summary_line(d)))
    if d.auto_renamed:
        console.print(Text(visible(renamed_line(d)), style="dim"))
    console.print(Text(visible(settings_line(d)), style="dim"))
    for w in d.warnings():
        console.print(Text(visible(f"warning: {w}"), style="yellow"))


def v_big(*values) -> bool:
    return any(v >= 10_000 for v in values)


def render_table_text(d: Diff, *, exact: bool = False, changes_only: bool = False) -> str:
    import io

    from rich.console import Console

    buffer = io.StringIO()
    print_table(d, Console(file=buffer, width=220, no_color=True, highlight=False), exact=exact,
                changes_only=changes_only)
    return buffer.getvalue()


# -- Markdown ------------------------------------------------------------------------------


def _md(text) -> str:
    """Every text from a spec or baseline in the Markdown report goes through here."""
    return markdown_text(text)


def render_markdown(d: Diff, *, changes_only: bool = False) -> str:
    lines = [
        f"### cnncalc diff: `{markdown_code(d.old.label)}` → `{markdown_code(d.new.label)}`",
        "",
        f"**{summary_line(d)}**",
        "",
        "| | old | new | Δ | Δ % |",
        "|:--|--:|--:|--:|--:|",
    ]
    for label, unit, old, new in d.totals():
        def cell(v, unit=unit, big=unit == "bytes" or v_big(old, new)):
            return f"{grouped(v)} ({_human(v, unit)})" if big else grouped(v)

        lines.append(
            f"| {label} | {cell(old)} | {cell(new)} | "
            f"{_signed(new - old)} | {_pct(old, new)} |"
        )
    changed = [r for r in d.rows if r.notable]
    lines.append("")
    if changed:
        lines += [
            "#### Changed layers",
            "",
            "| | old layer | new layer | type | output (old → new) | Δ params | Δ MACs | what changed |",
            "|:-:|:--|:--|:--|:--|--:|--:|:--|",
        ]
        for r in changed:
            old_shape = r.old.shape_text if r.old else ""
            new_shape = r.new.shape_text if r.new else ""
            shape = old_shape if old_shape == new_shape else f"{old_shape or '—'} → {new_shape or '—'}"
            kind = (r.new or r.old).type if not (r.old and r.new and r.old.type != r.new.type) else \
                f"{r.old.type} → {r.new.type}"
            lines.append(
                f"| {MARK[r.status].strip() or '='} | {_md(r.old.name) if r.old else ''} | "
                f"{_md(r.new.name) if r.new else ''} | {_md(kind)} | {_md(shape)} | {_signed(r.delta('params'))} | "
                f"{_signed(r.delta('macs'))} | {_md(what_changed(r) or r.status)} |"
            )
    else:
        lines.append("No layer changed.")
    if d.auto_renamed:
        lines += ["", _md(renamed_line(d))]
    if not changes_only:
        lines += [
            "",
            f"<details><summary>All layers side by side ({len(d.rows)} rows)</summary>",
            "",
            "| | # | old | type | output | params | MACs | # | new | type | output | params | MACs |",
            "|:-:|--:|:--|:--|:--|--:|--:|--:|:--|:--|:--|--:|--:|",
        ]
        for r in d.rows:
            cells = [_md(c) for c in (*_side(r.old, True), *_side(r.new, True))]
            lines.append(f"| {MARK[r.status].strip() or '='} | " + " | ".join(cells) + " |")
        lines += ["", "</details>"]
    lines += ["", f"> {_md(settings_line(d))}. Params: trainable; MACs per sample."]
    for w in d.warnings():
        lines.append(f"> **warning:** {_md(w)}")
    return "\n".join(lines) + "\n"


# -- JSON ---------------------------------------------------------------------------------


def _rec(r):
    if r is None:
        return None
    return {
        "index": r.index, "name": r.name, "type": r.type, "settings": r.settings,
        "output_shape": list(r.output_shape), "params": r.params, "macs": r.macs,
        "activation_bytes": r.activation_bytes, "line": r.line,
    }


def to_dict(d: Diff) -> dict:
    def side(s):
        return {"label": s.label, "spec": s.file, "name": s.name, "batch": s.batch, "dtype": s.dtype,
                "convention": s.convention}

    return {
        "schema": SCHEMA_VERSION,
        "old": side(d.old),
        "new": side(d.new),
        "summary": {k: d.count(k) for k in (ADDED, REMOVED, CHANGED, SAME)},
        "totals": {
            label.replace(" ", "_"): {"old": old, "new": new, "delta": new - old}
            for label, _, old, new in d.totals()
        },
        "layers": [
            {
                "status": r.status,
                "renamed": r.renamed,
                "old": _rec(r.old),
                "new": _rec(r.new),
                "changes": list(r.changes),
                "delta": {"params": r.delta("params"), "macs": r.delta("macs"),
                          "activation_bytes": r.delta("activation_bytes")},
            }
            for r in d.rows
        ],
        "warnings": d.warnings(),
    }


def render_json(d: Diff) -> str:
    """Indented JSON with one line per layer row, written by json's C encoder
    (``indent`` alone forces the pure-Python one: seconds for two 15,000-layer
    specs). The placeholder is replaced as key and value together: a name may
    hold its text, never an unescaped quote."""
    data = to_dict(d)
    rows = data["layers"]
    placeholder = "\0layers\0"
    data["layers"] = placeholder
    text = json.dumps(data, indent=2, ensure_ascii=False)
    compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    body = "[\n" + ",\n".join("    " + compact(row) for row in rows) + "\n  ]" if rows else "[]"
    key = '"layers": ' + json.dumps(placeholder)
    return json_text(text.replace(key, '"layers": ' + body, 1)) + "\n"


CSV_COLUMNS = [
    "status", "renamed", "old_index", "old_name", "old_type", "old_output_shape", "old_params", "old_macs",
    "old_activation_bytes", "new_index", "new_name", "new_type", "new_output_shape", "new_params", "new_macs",
    "new_activation_bytes", "delta_params", "delta_macs", "delta_activation_bytes", "changes",
    "old_memory_at", "new_memory_at",
]


def render_csv(d: Diff) -> str:
    """One row per aligned pair of layers (exact integers), then one TOTAL row per total
    (its old and new values in the params columns' place: old_params/new_params)."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)

    def side(r):
        if r is None:
            return [""] * 7
        return [r.index, r.name, r.type, "×".join(map(str, r.output_shape)), r.params, r.macs, r.activation_bytes]

    at = (f"batch {d.old.batch}, {d.old.dtype}", f"batch {d.new.batch}, {d.new.dtype}")
    for r in d.rows:
        writer.writerow([r.status, "true" if r.renamed else "false", *side(r.old), *side(r.new),
                         r.delta("params"), r.delta("macs"), r.delta("activation_bytes"), "; ".join(r.changes), *at])
    for label, unit, old, new in d.totals():
        writer.writerow(["TOTAL", "", "", label, unit, "", old, "", "", "", label, unit, "", new, "", "",
                         new - old, "", "", settings_line(d), *at])
    return out.getvalue()


def render(d: Diff, fmt: Format, *, exact: bool = False, changes_only: bool = False) -> str:
    fmt = Format(fmt)
    if fmt is Format.JSON:
        return render_json(d)
    if fmt is Format.CSV:
        return render_csv(d)
    if fmt is Format.MARKDOWN:
        return render_markdown(d, changes_only=changes_only)
    if fmt is DiffFormat.MERMAID:  # the changed part: a pull-request comment
        from .mermaid import render_diff

        return render_diff(d, context=1)
    if fmt is DiffFormat.DOT:
        from .dot import render_diff

        return render_diff(d, context=1 if changes_only else None)
    if fmt is DiffFormat.HTML:
        from .html_diff import render as render_html

        return render_html(d, changes_only=changes_only)
    return render_table_text(d, exact=exact, changes_only=changes_only)
