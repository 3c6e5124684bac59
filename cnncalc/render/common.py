"""Values shared by every renderer: cell texts of a layer row and the
sentences that state the counting convention."""

from __future__ import annotations

from ..analysis import Analysis, LayerResult
from ..conventions import rule
from ..receptive import AxisRF, format_number
from ..units import DTYPE_BYTES, human_bytes


def shape_text(shape) -> str:
    return "×".join(str(n) for n in shape)


def axes_label(ndim: int) -> str:
    return {0: "C", 1: "C×L", 2: "C×H×W", 3: "C×D×H×W"}.get(ndim, "shape")


def rf_text(rf: tuple[AxisRF, ...]) -> str:
    if not rf:
        return "—"
    if all(a.whole for a in rf):
        return "whole"
    return "×".join(format_number(a.size) for a in rf)


def convention_lines(analysis: Analysis) -> list[str]:
    return [
        f"Convention ({analysis.convention.value}): {rule(analysis.convention).summary}.",
        "Parameters: trainable weights and biases; buffers (batch-norm running statistics) are listed apart "
        "('+N buf'). Counts: k = 10³, M = 10⁶, G = 10⁹; bytes: KiB = 2¹⁰, MiB = 2²⁰, GiB = 2³⁰.",
        f"Memory: outputs × batch {analysis.batch} × {analysis.dtype}; receptive field in input pixels per axis.",
        "Kept: bytes a layer keeps for its backward pass (inputs/outputs it needs, argmax indices, masks, "
        "statistics); a tensor kept by several layers counts once in the total. `cnncalc verify` checks it.",
    ]


def memory_text(analysis: Analysis) -> str:
    """Activations, parameters (trainable only) and buffers apart, with the batch and dtype."""
    t = analysis.totals
    size = DTYPE_BYTES[analysis.dtype]
    buffers = f" · buffers {human_bytes(t.params_buffers * size)}" if t.params_buffers else ""
    return (
        f"activations {human_bytes(t.activation_bytes)} · parameters {human_bytes(t.params_trainable * size)}"
        f"{buffers} · input {human_bytes(t.input_bytes)} (batch {analysis.batch}, {analysis.dtype})"
    )


def training_memory_text(analysis: Analysis) -> str:
    """The training-memory breakdown in one line (see cnncalc.training)."""
    tm = analysis.training_memory
    parts = [f"parameters {human_bytes(tm.params)}", f"gradients {human_bytes(tm.gradients)}"]
    if tm.optimizer_state:
        parts.append(f"{tm.optimizer} state {human_bytes(tm.optimizer_state)}")
    if tm.buffers:
        parts.append(f"buffers {human_bytes(tm.buffers)}")
    parts.append(f"kept for backward {human_bytes(tm.activations)}")
    return (
        " + ".join(parts) + f" = {human_bytes(tm.total)} ({tm.total:,} bytes; "
        f"optimizer {tm.optimizer}, batch {analysis.batch}, {analysis.dtype})"
    )


def output_rf_text(analysis: Analysis) -> str:
    """The receptive field at the output, and before the first whole-input layer."""
    rf = analysis.output_rf
    text = rf_text(rf)
    spatial = [r for r in analysis.layers if r.rf and not any(a.whole for a in r.rf)]
    if any(a.whole for a in rf) and spatial:
        last = spatial[-1]
        text += f" (largest spatial field: {rf_text(last.rf)} at {last.name})"
    return text


def row_cells(result: LayerResult) -> dict:
    return {
        "index": result.node.index,
        "name": result.name,
        "type": result.type_name,
        "output": shape_text(result.output_shape),
        "params": result.params.trainable,
        "buffers": result.params.buffers,
        "macs": result.macs,
        "rf": rf_text(result.rf),
        "memory": result.activation_bytes,
    }
