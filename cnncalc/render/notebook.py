"""The HTML table a Jupyter notebook shows for an Analysis (``_repr_html_``):
one self-contained ``<table>``, no scripts or styles fetched, every text from
the spec escaped."""

from __future__ import annotations

from html import escape

from ..analysis import Analysis
from ..units import human_bytes, human_count
from .common import axes_label, convention_lines, memory_text, output_rf_text, row_cells, training_memory_text

_COLUMNS = (("#", "index", "right"), ("Layer", "name", "left"), ("Type", "type", "left"),
            ("Output", "output", "left"), ("Params", "params", "right"), ("MACs", "macs", "right"),
            ("RF", "rf", "right"), ("Memory", "memory", "right"))


def _cell(key: str, value) -> str:
    if key in ("params", "macs"):
        return f"{value:,}" if value < 1000 else f'<span title="{value:,}">{escape(human_count(value))}</span>'
    if key == "memory":
        return f'<span title="{value:,} bytes">{escape(human_bytes(value))}</span>'
    return escape(str(value))


def render(analysis: Analysis) -> str:
    t = analysis.totals
    name = analysis.graph.name or analysis.graph.file or "network"
    output = f"Output ({axes_label(len(analysis.input_shape) - 1)})"
    head = "".join(f'<th style="text-align:{align}">{escape(output if key == "output" else title)}</th>'
                   for title, key, align in _COLUMNS)
    rows = []
    for r in analysis.layers:
        cells = row_cells(r)
        rows.append("<tr>" + "".join(f'<td style="text-align:{align}">{_cell(key, cells[key])}</td>'
                                     for _, key, align in _COLUMNS) + "</tr>")
    totals = [
        f"Parameters: {t.params_trainable:,} trainable ({human_count(t.params_trainable)})"
        + (f", {t.params_buffers:,} buffers" if t.params_buffers else ""),
        f"MACs: {t.macs:,} ({human_count(t.macs)}) per sample · FLOPs: {t.flops:,} ({human_count(t.flops)})",
        f"Receptive field at the output: {output_rf_text(analysis)}",
        f"Memory: {memory_text(analysis)}",
        f"Training memory: {training_memory_text(analysis)}",
        *(f"warning: {layer}: {message}" for layer, message in analysis.warnings),
        *convention_lines(analysis),
    ]
    caption = f"{name} · input {'×'.join(map(str, analysis.input_shape))} ({axes_label(len(analysis.input_shape) - 1)})"
    return (
        '<div class="cnncalc">'
        f"<table><caption>{escape(caption)}</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + "".join(f"<div>{escape(line)}</div>" for line in totals)
        + "</div>"
    )
