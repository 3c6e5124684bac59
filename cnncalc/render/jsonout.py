"""JSON output (versioned schema, exact integers, fractions as "a/b")."""

from __future__ import annotations

import json

from ..analysis import Analysis
from ..conventions import rule
from ..units import DTYPE_BYTES
from .escape import json_text

SCHEMA_VERSION = "cnncalc.analysis/1"


def to_dict(analysis: Analysis) -> dict:
    t = analysis.totals
    size = DTYPE_BYTES[analysis.dtype]
    graph = analysis.graph
    return {
        "schema": SCHEMA_VERSION,
        "spec": graph.file,
        "name": graph.name,
        "input": list(analysis.input_shape),
        "batch": analysis.batch,
        "dtype": analysis.dtype,
        "convention": {"name": analysis.convention.value, "description": rule(analysis.convention).summary},
        "layers": [
            {
                "index": r.node.index,
                "name": r.name,
                "type": r.type_name,
                "parent": r.node.parent,
                "inputs": list(r.node.inputs),
                "line": r.node.loc.line,
                "settings": r.node.layer.settings(),
                "input_shapes": [list(s) for s in r.input_shapes],
                "output_shape": list(r.output_shape),
                "params": {"trainable": r.params.trainable, "buffers": r.params.buffers},
                "multiplications": r.multiplications,
                "macs": r.macs,
                "flops": r.flops,
                "receptive_field": [a.to_json() for a in r.rf],
                "memory": {
                    "activation_bytes": r.activation_bytes,
                    "params_bytes": r.params.trainable * size,  # trainable only, as "params" everywhere
                    "buffer_bytes": r.params.buffers * size,
                    "param_bytes": r.param_bytes,  # params + buffers (kept for schema /1 baselines)
                    "kept_for_backward_bytes": analysis.training_memory.layers[r.name].bytes,
                },
            }
            for r in analysis.layers
        ],
        "totals": {
            "params": {"trainable": t.params_trainable, "buffers": t.params_buffers},
            "multiplications": t.multiplications,
            "macs": t.macs,
            "flops": t.flops,
            "memory": {
                "activation_bytes": t.activation_bytes,
                "params_bytes": t.params_trainable * size,  # trainable only, as "params" everywhere
                "buffer_bytes": t.params_buffers * size,
                "param_bytes": t.param_bytes,  # params + buffers (kept for schema /1 baselines)
                "input_bytes": t.input_bytes,
                # the training-memory estimate (cnncalc.training); baselines of `cnncalc check` compare it
                "training_bytes": analysis.training_memory.total,
                "training_optimizer": analysis.training_memory.optimizer,
                "training": _training(analysis),
            },
            "receptive_field": [a.to_json() for a in analysis.output_rf],
        },
        "outputs": analysis.output_names,
        "groups": _groups(analysis),
        "warnings": [{"layer": name, "message": message} for name, message in analysis.warnings],
    }


def _training(analysis: Analysis) -> dict:
    tm = analysis.training_memory
    return {
        "optimizer": tm.optimizer,
        "params_bytes": tm.params,
        "gradient_bytes": tm.gradients,
        "optimizer_state_bytes": tm.optimizer_state,
        "buffer_bytes": tm.buffers,
        "kept_for_backward_bytes": tm.activations,
        "total_bytes": tm.total,
    }


def _groups(analysis: Analysis) -> list[dict]:
    """Block instances and named groups with their summed numbers."""
    from ..hierarchy import rows

    return [
        {
            "name": row.name,
            "block": row.type_name,
            "parent": analysis.graph.groups[row.name].parent,
            "output": row.output.name,
            "output_shape": list(row.output_shape),
            "layers": [row.first_index, row.last_index],
            "params": {"trainable": row.params, "buffers": row.buffers},
            "multiplications": row.multiplications,
            "macs": row.macs,
        }
        for row in rows(analysis)
        if row.is_group
    ]


def render(analysis: Analysis) -> str:
    """Indented JSON with one line per layer: readable, and written by the C
    encoder (``indent`` forces json's pure-Python encoder, which needs most of
    a second for 10,000 layers)."""
    data = to_dict(analysis)
    layers = data["layers"]
    if not layers:
        return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    placeholder = "\0layers\0"
    data["layers"] = placeholder
    text = json.dumps(data, indent=2, ensure_ascii=False)
    compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    rows = "[\n" + ",\n".join("    " + compact(layer) for layer in layers) + "\n  ]"
    # The key and its value together: a spec's name may hold the placeholder's
    # text too, but never an unescaped quote, so only the real key matches.
    key = '"layers": ' + json.dumps(placeholder)
    return json_text(text.replace(key, '"layers": ' + rows, 1)) + "\n"
