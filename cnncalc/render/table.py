"""The terminal table (rich): one row per layer, numbers right-aligned, human
units (exact grouped integers with ``exact=True``), totals and the convention
footer. Colour follows rich's rules (NO_COLOR, not a terminal → plain)."""

from __future__ import annotations

from ..analysis import Analysis
from ..units import grouped, human_bytes, human_count
from .bars import share_cell
from .common import axes_label, convention_lines, memory_text, output_rf_text, row_cells, training_memory_text
from .escape import visible

SHARE_WIDTH = 8  # cells of a share bar in the table
COMPACT_SHARE_WIDTH = 6  # bars without percentages, when the full table does not fit


def build(analysis: Analysis, *, exact: bool = False, bars: bool | str = False, kit=None,
          depth: int | None = None):
    """The rich renderables: (table, footer lines). ``bars``: draw the share
    columns as bars with percentages (a terminal), ``"compact"`` bars alone;
    otherwise they hold percentages only.
    ``kit``: the (Table, Text) classes to build with, rich's by default
    (:mod:`cnncalc.render.fasttable` passes light stand-ins).
    Blocks and named groups get a summed row with their layers indented
    below; ``depth`` collapses groups at that depth into their summed row."""
    if kit is None:
        from rich.table import Table
        from rich.text import Text
    else:
        Table, Text = kit

    count = grouped if exact else human_count
    graph = analysis.graph
    title = visible(graph.name or graph.file or "network")
    label = axes_label(len(analysis.input_shape) - 1)
    table = Table(
        title=Text(f"{title}  input {'×'.join(map(str, analysis.input_shape))} ({label})"),
        title_justify="left",
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    t = analysis.totals
    table.add_column("#", justify="right", style="dim", footer="")
    table.add_column("Layer", footer="Total")
    table.add_column("Type", style="cyan")
    table.add_column(f"Output ({label})", footer="×".join(map(str, analysis.layers[-1].output_shape)) if analysis.layers else "")
    table.add_column("Params", justify="right", footer=count(t.params_trainable))
    table.add_column("MACs", justify="right", footer=count(t.macs))
    table.add_column("RF", justify="right", footer="")
    table.add_column("Memory", justify="right", footer=human_bytes(t.activation_bytes))
    kept = analysis.training_memory
    table.add_column("Kept", justify="right", footer=human_bytes(kept.activations))
    share = {"width": COMPACT_SHARE_WIDTH if bars == "compact" else SHARE_WIDTH, "unicode": bool(bars),
             "with_percent": bars != "compact"}
    table.add_column("Params %", justify="left" if bars else "right", style="magenta", no_wrap=True)
    table.add_column("MACs %", justify="left" if bars else "right", style="blue", no_wrap=True)
    hierarchical = bool(analysis.graph.groups) or depth is not None
    if hierarchical:
        _add_hierarchy_rows(table, analysis, count, share, depth, Text)
    for r in () if hierarchical else analysis.layers:
        c = row_cells(r)
        params = count(c["params"])
        if c["buffers"]:
            params += f" +{count(c['buffers'])}b"
        table.add_row(
            str(c["index"]),
            Text(visible(c["name"])),
            c["type"],
            c["output"],
            params if c["params"] or c["buffers"] else Text("0", style="dim"),
            count(c["macs"]) if c["macs"] else Text("0", style="dim"),
            c["rf"],
            human_bytes(c["memory"]),
            human_bytes(kept.layers[c["name"]].bytes),
            share_cell(c["params"], t.params_trainable, **share),
            share_cell(c["macs"], t.macs, **share),
        )
    footer = [
        f"Parameters: {grouped(t.params_trainable)} trainable ({human_count(t.params_trainable)})"
        + (f", {grouped(t.params_buffers)} buffers" if t.params_buffers else ""),
        f"MACs: {grouped(t.macs)} ({human_count(t.macs)}) per sample · FLOPs: {grouped(t.flops)} ({human_count(t.flops)})",
        f"Receptive field at the output: {output_rf_text(analysis)}",
        f"Memory: {memory_text(analysis)}",
        f"Training memory: {training_memory_text(analysis)}",
    ]
    for name, message in analysis.warnings:
        footer.append(f"warning: {name}: {message}")
    return table, [visible(line) for line in footer], convention_lines(analysis)


def _add_hierarchy_rows(table, analysis: Analysis, count, share: dict, depth: int | None, Text) -> None:
    """Rows of :func:`cnncalc.hierarchy.rows`: names indented by depth, group
    rows in bold with their sums (▾ open, ▸ collapsed)."""
    from ..hierarchy import rows

    t = analysis.totals
    kept = analysis.training_memory
    for row in rows(analysis, depth):
        indent = "  " * row.depth
        params = count(row.params)
        if row.buffers:
            params += f" +{count(row.buffers)}b"
        if row.is_group:
            mark = "▸ " if row.collapsed else "▾ "
            name = Text(indent + mark + visible(row.name), style="bold")
            rf_cell, kept_cell = row_cells(row.output)["rf"], ""
        else:
            name = Text(indent + visible(row.name))
            rf_cell, kept_cell = row_cells(row.layer)["rf"], human_bytes(kept.layers[row.name].bytes)
        table.add_row(
            row.indices,
            name,
            Text(visible(row.type_name), style="bold cyan") if row.is_group else row.type_name,
            "×".join(map(str, row.output_shape)),
            params if row.params or row.buffers else Text("0", style="dim"),
            count(row.macs) if row.macs else Text("0", style="dim"),
            rf_cell,
            human_bytes(row.activation_bytes),
            kept_cell,
            share_cell(row.params, t.params_trainable, **share),
            share_cell(row.macs, t.macs, **share),
        )


def print_table(analysis: Analysis, console, *, exact: bool = False, depth: int | None = None) -> None:
    from rich.text import Text

    bars = console.is_terminal and not console.options.ascii_only
    table, footer, notes = build(analysis, exact=exact, bars=bars, depth=depth)
    if bars:  # a narrow terminal: bars without percentages rather than squeezed columns
        from rich.measure import Measurement

        if Measurement.get(console, console.options.update_width(10**4), table).maximum > console.width:
            table, footer, notes = build(analysis, exact=exact, bars="compact", depth=depth)
    console.print(table)
    for line in footer:
        console.print(Text(line, style="yellow" if line.startswith("warning") else ""))
    for line in notes:
        console.print(Text(line, style="dim"))
