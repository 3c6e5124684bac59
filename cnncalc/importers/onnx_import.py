"""Import an ONNX model as a spec, and check the spec against the model."""

from __future__ import annotations

import os

from ..errors import CnncalcError
from ..records import field, record
from .names import printable
from .onnx_graph import ImportError_, Walk
from .yaml_writer import write_spec


@record(frozen=False)
class Imported:
    text: str  # the spec
    analysis: object  # cnncalc's analysis of it
    warnings: list = field(default_factory=list)
    model_params: int = 0
    checked_shapes: int = 0


def load_onnx(path: str):
    try:
        import onnx
    except ImportError:
        raise ImportError_("importing ONNX needs the onnx package: pip install 'cnncalc[onnx]'") from None
    if not os.path.isfile(path):
        raise ImportError_(f"{path}: no such file")
    try:
        return onnx.load(path)
    except Exception as exc:  # protobuf's DecodeError and friends
        raise ImportError_(f"{path}: not a readable ONNX model ({type(exc).__name__}: {exc})") from None


def import_model(model, *, source: str, name: str, input_shape=None, unknown: str = "error",
                 model_params: int | None = None, params_from: str = "ONNX weights") -> Imported:
    """Convert an ``onnx.ModelProto`` into spec text, analyse it, and check
    parameters and every output shape against the model."""
    walk = Walk(model, input_shape=input_shape, unknown=unknown).run()
    for layer in walk.layers:
        if layer.fields.get("affine") == "scale only":
            raise ImportError_(f"ONNX node '{layer.onnx_names[0]}': a group norm with a per-channel scale but no "
                               "shift after it (cnncalc's affine group norm has both)")
    walk.assign_names()
    weights, buffers = walk.counts()
    if model_params is None:
        model_params = weights
    header = [
        f"Imported from {source} by `cnncalc import`.",
        f"Checked: {model_params:,} trainable parameters ({params_from}) and every output shape "
        "(ONNX shape inference) equal this spec's analysis.",
    ]
    text = write_spec(walk.layers, name=name, input_shape=walk.input_shape, header=header,
                      outputs=walk.network_outputs())
    analysis = _analyse(text, source)
    checked = _check(walk, analysis, model_params, buffers, params_from)
    return Imported(text, analysis, walk.warnings, model_params, checked)


def _analyse(text: str, source: str):
    from ..analysis import analyze
    from ..spec import loads_spec

    try:
        return analyze(loads_spec(text, file=f"<spec imported from {source}>"))
    except CnncalcError as exc:
        raise ImportError_(f"the spec made from {source} does not analyse: {exc}") from None


def _check(walk: Walk, analysis, model_params: int, model_buffers: int, params_from: str) -> int:
    results = {r.name: r for r in analysis.layers}
    if any(walk.onnx_shape(out) is None for layer in walk.layers for out in layer.outputs[-1:]):
        walk.infer_again()
    checked = 0
    for layer in walk.layers:
        r = results[layer.name]
        if layer.type_name == "split":  # its pieces are the slice nodes <split>.<k>
            for k, out in enumerate(layer.node.output):
                want = walk.onnx_shape(out)
                piece = results.get(f"{layer.name}.{k}")
                if want is None or piece is None:
                    continue
                if tuple(want[1:]) != tuple(piece.output_shape):
                    raise ImportError_(
                        f"self-check failed at piece '{piece.name}' of the split (ONNX node "
                        f"'{layer.onnx_names[0]}'): the spec gives {list(piece.output_shape)}, ONNX shape inference "
                        f"{list(want[1:])}")
                checked += 1
            checked += 1  # the split's own output is its input
        for out in layer.outputs[-1:]:
            want = walk.onnx_shape(out)
            tensor = walk.values.get(out)
            if want is None or tensor is None or tensor.view:
                continue
            if layer.channels_last and len(want) > 2:
                want = (want[0], want[-1], *want[1:-1])
            if tuple(want[1:]) != tuple(r.output_shape):
                raise ImportError_(
                    f"self-check failed at layer '{layer.name}' (ONNX node '{layer.onnx_names[-1]}', "
                    f"{printable(layer.node.op_type)}): the spec gives output shape {list(r.output_shape)}, "
                    f"ONNX shape inference {list(want[1:])}")
            checked += 1
    got = analysis.totals.params_trainable
    if got != model_params:
        first = _first_param_difference(walk, results)
        raise ImportError_(
            f"self-check failed: the spec has {got:,} trainable parameters, the model {model_params:,} "
            f"({params_from}){first}")
    if analysis.totals.params_buffers != model_buffers:
        first = _first_param_difference(walk, results)
        raise ImportError_(
            f"self-check failed: the spec has {analysis.totals.params_buffers:,} buffer values, the model's "
            f"running statistics {model_buffers:,}{first}")
    return checked


def _first_param_difference(walk, results) -> str:
    for layer in walk.layers:
        r = results[layer.name]
        if r.params.trainable != sum(layer.weights.values()) or r.params.buffers != sum(layer.buffers.values()):
            return (f"; first difference at layer '{layer.name}' (ONNX node '{layer.onnx_names[-1]}'): "
                    f"spec {r.params.trainable:,} + {r.params.buffers:,} buffers, ONNX weights "
                    f"{sum(layer.weights.values()):,} + {sum(layer.buffers.values()):,}")
    return "; every layer's own weights agree, so the model holds weights no imported layer uses"
