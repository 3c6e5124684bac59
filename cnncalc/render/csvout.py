"""CSV output: one row per layer, exact integers, then a TOTAL row; the batch
and dtype of the byte columns, and last the counting convention of the MACs
and FLOPs."""

from __future__ import annotations

import csv
import io

from ..analysis import Analysis
from .common import rf_text, shape_text
from .escape import csv_cell

COLUMNS = [
    "index", "name", "type", "inputs", "output_shape", "params_trainable", "params_buffers",
    "multiplications", "macs", "flops", "rf_size", "rf_jump", "rf_start", "activation_bytes", "param_bytes",
    "batch", "dtype", "convention",
]


def _axes(rf, attr):
    from ..receptive import format_number

    return "×".join(format_number(getattr(a, attr)) for a in rf)


def render(analysis: Analysis) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    convention = analysis.convention.value  # every row says how its MACs were counted
    for r in analysis.layers:
        writer.writerow([
            r.node.index, csv_cell(r.name), csv_cell(r.type_name), csv_cell(" ".join(r.node.inputs)),
            shape_text(r.output_shape),
            r.params.trainable, r.params.buffers, r.multiplications, r.macs, r.flops,
            rf_text(r.rf), _axes(r.rf, "jump"), _axes(r.rf, "start"), r.activation_bytes, r.param_bytes,
            analysis.batch, analysis.dtype, convention,
        ])
    t = analysis.totals
    writer.writerow([
        "", "TOTAL", "", "", shape_text(analysis.input_shape), t.params_trainable, t.params_buffers,
        t.multiplications, t.macs, t.flops, rf_text(analysis.output_rf), "", "", t.activation_bytes, t.param_bytes,
        analysis.batch, analysis.dtype, convention,
    ])
    return out.getvalue()
