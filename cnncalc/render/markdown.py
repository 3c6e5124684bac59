"""Markdown output: a GitHub-flavoured table with exact numbers, totals and
the convention, ready for a pull-request comment or a report."""

from __future__ import annotations

from ..analysis import Analysis
from ..units import grouped, human_bytes, human_count
from .common import axes_label, convention_lines, memory_text, output_rf_text, row_cells
from .escape import markdown_text


def _depth_lines(analysis: Analysis, depth: int) -> list[str]:
    """Rows with blocks collapsed below ``depth`` (bold: a block's summed row)."""
    from ..hierarchy import rows

    lines = []
    for row in rows(analysis, depth):
        indent = "&nbsp;&nbsp;" * row.depth
        name = f"{indent}**{markdown_text(row.name)}**" if row.is_group else f"{indent}{markdown_text(row.name)}"
        rf = row_cells(row.output)["rf"]
        lines.append(
            f"| {row.indices} | {name} | {markdown_text(row.type_name)} | {'×'.join(map(str, row.output_shape))} | "
            f"{grouped(row.params)} | {grouped(row.macs)} | {rf} | {human_bytes(row.activation_bytes)} |"
        )
    return lines


def render(analysis: Analysis, depth: int | None = None) -> str:
    title = markdown_text(analysis.graph.name or analysis.graph.file or "network")
    label = axes_label(len(analysis.input_shape) - 1)
    lines = [
        f"### {title}",
        "",
        f"| # | Layer | Type | Output ({label}) | Params | MACs | RF | Memory |",
        "|--:|:--|:--|:--|--:|--:|:--|--:|",
    ]
    if depth is not None:
        lines += _depth_lines(analysis, depth)
    for r in () if depth is not None else analysis.layers:
        c = row_cells(r)
        lines.append(
            f"| {c['index']} | {markdown_text(c['name'])} | {c['type']} | {c['output']} | {grouped(c['params'])} | "
            f"{grouped(c['macs'])} | {c['rf']} | {human_bytes(c['memory'])} |"
        )
    t = analysis.totals
    lines += [
        "",
        f"- **Parameters:** {grouped(t.params_trainable)} trainable ({human_count(t.params_trainable)}), "
        f"{grouped(t.params_buffers)} buffers",
        f"- **MACs:** {grouped(t.macs)} ({human_count(t.macs)}) per sample; FLOPs {grouped(t.flops)} ({human_count(t.flops)})",
        f"- **Receptive field at the output:** {markdown_text(output_rf_text(analysis))}",
        f"- **Memory:** {memory_text(analysis)}",
        "",
    ]
    lines += [f"> {line}  " for line in convention_lines(analysis)]
    return "\n".join(lines) + "\n"
