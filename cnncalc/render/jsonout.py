"""JSON output (versioned schema, exact integers, fractions as "a/b")."""

from __future__ import annotations

import json

from ..analysis import Analysis
from ..conventions import rule
from ..receptive import _json_num
from ..units import DTYPE_BYTES
from .escape import json_text

SCHEMA_VERSION = "cnncalc.analysis/1"


def to_dict(analysis: Analysis, *, layers: bool = True) -> dict:
    """The JSON document as Python data (``layers=False``: without the
    per-layer records, which :func:`render` writes itself)."""
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
            for r in (analysis.layers if layers else ())
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
    if not analysis.graph.groups:
        return []  # no block or named group: nothing to sum (and no rows to build)
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
    """Indented JSON with one line per layer: readable, and fast.

    The document around the layers is written by ``json.dumps``; each layer
    line is formatted directly (the same text the C encoder writes for
    :func:`to_dict`'s layer record with separators ``", "`` and ``": "``, which
    tests/test_fast_output.py checks on every shipped spec), with the text of
    repeated settings and shapes made once: ``indent`` would force json's
    pure-Python encoder (most of a second for 10,000 layers) and even the C
    encoder, called per layer, costs more than the whole analysis."""
    data = to_dict(analysis, layers=False)
    if not analysis.layers:
        data["layers"] = []
        return json_text(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    placeholder = "\0layers\0"
    data["layers"] = placeholder
    text = json.dumps(data, indent=2, ensure_ascii=False)
    rows = "[\n" + ",\n".join(map(_shown, _layer_lines(analysis))) + "\n  ]"
    # The key and its value together: a spec's name may hold the placeholder's
    # text too, but never an unescaped quote, so only the real key matches.
    # json_text: the characters JSON leaves raw but terminals obey, as escapes
    # (the document and each layer line apart: json_text never spans a line).
    key = '"layers": ' + json.dumps(placeholder)
    return json_text(text).replace(key, '"layers": ' + rows, 1) + "\n"


def _shown(line: str) -> str:
    """:func:`json_text` of one layer line, without scanning a line that cannot
    need it (of the characters json_text escapes, only DEL is ASCII)."""
    if line.isascii() and "\x7f" not in line:
        return line
    return json_text(line)


def _layer_lines(analysis: Analysis) -> list[str]:
    from json.encoder import encode_basestring as string  # the C function when available

    compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    kept = analysis.training_memory.layers
    size = DTYPE_BYTES[analysis.dtype]
    settings: dict = {}  # layer → its settings as JSON (frozen layers: equal ones print the same)
    shapes: dict = {}  # shape → "[a, b, c]"
    fields: dict = {}  # receptive-field tuple → JSON

    def shape(s):
        text = shapes.get(s)
        if text is None:
            text = shapes[s] = "[" + ", ".join(map(str, s)) + "]"
        return text

    def setting(layer):
        try:
            text = settings.get(layer)
        except TypeError:  # an unhashable field value
            return compact(layer.settings())
        if text is None:
            text = settings[layer] = compact(layer.settings())
        return text

    def number(x):
        if x.__class__ is int:
            return str(x)
        x = _json_num(x)
        return str(x) if x.__class__ is int else string(x)

    def field(rf):  # AxisRF.to_json of every axis, as text
        text = fields.get(rf)
        if text is None:
            text = fields[rf] = "[" + ", ".join(
                f'{{"size": {number(a.size)}, "jump": {number(a.jump)}, "start": {number(a.start)}, '
                f'"padding": {number(a.padding)}, "whole_input": {"true" if a.whole else "false"}}}'
                for a in rf
            ) + "]"
        return text

    lines = []
    for r in analysis.layers:
        node = r.node
        line = node.loc.line
        lines.append(
            f'    {{"index": {node.index}, "name": {string(node.name)}, "type": {string(node.layer.type_name)}, '
            f'"parent": {"null" if node.parent is None else string(node.parent)}, '
            f'"inputs": [{", ".join(map(string, node.inputs))}], "line": {"null" if line is None else line}, '
            f'"settings": {setting(node.layer)}, "input_shapes": [{", ".join(map(shape, r.input_shapes))}], '
            f'"output_shape": {shape(r.output_shape)}, '
            f'"params": {{"trainable": {r.params.trainable}, "buffers": {r.params.buffers}}}, '
            f'"multiplications": {r.multiplications}, "macs": {r.macs}, "flops": {r.flops}, '
            f'"receptive_field": {field(r.rf)}, "memory": {{"activation_bytes": {r.activation_bytes}, '
            f'"params_bytes": {r.params.trainable * size}, "buffer_bytes": {r.params.buffers * size}, '
            f'"param_bytes": {r.param_bytes}, "kept_for_backward_bytes": {kept[node.name].bytes}}}}}'
        )
    return lines
