"""A 1D example (a signal or a sequence, [C, L]) run as a 2D one with a single row.

``cnncalc run`` computes on [C][H][W] grids. A 1D network (causal convolution
of a time series, K-max pooling of a sentence) is the same network on a
1×L map: every window, factor and padding gets a size-1 first axis, so the
kernels, the matrices and the backward passes are the 2D ones, unchanged.
Paddings given as modes (same, full, causal) are resolved on the 1D input
first, with the 1D rules, so nothing about them changes.
"""

from __future__ import annotations

from .. import records
from ..layers.padding import _sides

_AXES = ("kernel_size", "stride", "dilation", "factor", "scale_factor", "output_size", "output_padding")


def _first(v):
    return v[0] if isinstance(v, tuple) else v


def _pads_1d(layer, in_shape):
    """(before, after) of a 1D layer's padding, modes resolved by the layer's own rules."""
    name = layer.type_name
    if name in ("zero_pad", "crop"):
        return _sides(layer.padding if name == "zero_pad" else layer.cropping, in_shape, "padding", name)[0]
    geometry = layer._geometry(in_shape)
    if name in ("conv", "locally_connected"):
        return geometry[4][0]
    if name == "conv_transpose":
        p = layer.padding
        return (0, 0) if p == "valid" else (_first(p) if isinstance(_first(p), tuple) else (_first(p), _first(p)))
    return geometry[2][0]  # the window pools: (strides, outs, pads, keff)


def lift_layer(layer, in_shape):
    """The same layer for a [C, 1, L] input."""
    names = {f.name for f in records.fields(layer)}
    kw = {}
    for name in _AXES:
        if name in names and getattr(layer, name) is not None:
            kw[name] = (1 if name != "output_padding" else 0, _first(getattr(layer, name)))
    if "padding" in names or "cropping" in names:
        key = "cropping" if "cropping" in names else "padding"
        kw[key] = ((0, 0), tuple(_pads_1d(layer, in_shape)))
    if layer.type_name == "kmax_pool":
        kw["axis"] = -1
    if layer.type_name in ("concat", "softmax", "log_softmax", "slice", "split") and layer.dim == 1:
        kw["dim"] = 2
    if layer.type_name == "mean":  # L is the second axis now, after the size-1 row axis
        kw["dim"] = tuple(sorted({a for d in layer.dim for a in ((1, 2) if d == 1 else (d,))}))
    if layer.type_name == "layer_norm" and isinstance(layer.normalized_shape, tuple) and len(layer.normalized_shape) == 2:
        kw["normalized_shape"] = (layer.normalized_shape[0], 1, layer.normalized_shape[1])  # [C, L] → [C, 1, L]
    if layer.type_name == "layer_norm" and isinstance(layer.normalized_shape, int):
        kw["normalized_shape"] = (1, layer.normalized_shape)  # [L] → [1, L]
    if layer.type_name == "upsample" and layer.mode == "linear":
        kw["mode"] = "bilinear"
    return records.replace(layer, **kw) if kw else layer


def _wrap_rows(value):
    """Every innermost list of numbers becomes a one-row matrix: [1, 0, −1] → [[1, 0, −1]]."""
    if isinstance(value, list) and value and not any(isinstance(v, list) for v in value):
        return [list(value)]
    if isinstance(value, list):
        return [_wrap_rows(v) for v in value]
    return value


def lift_extra(node):
    extra = dict(node.extra)
    kind = node.type_name
    if kind in ("conv", "conv_transpose", "locally_connected") and "weights" in extra:
        w = extra["weights"]
        if isinstance(w, list) and w and not any(isinstance(v, list) for v in w):
            w = [w]  # a single kernel [1, 0, −1]
        extra["weights"] = _wrap_rows(w) if kind != "locally_connected" else [_wrap_rows(w)]
    if kind == "locally_connected" and "biases" in extra:
        extra["biases"] = _wrap_rows(extra["biases"])
    return extra


def lift_graph(graph, results):
    """The graph for a [C, 1, L] input, given the 1D analysis ``results`` (name → LayerResult)."""
    nodes = [records.replace(n, layer=lift_layer(n.layer, results[n.name].input_shapes[0]), extra=lift_extra(n))
             for n in graph.nodes]
    c, length = graph.input_shape
    return records.replace(graph, input_shape=(c, 1, length), nodes=nodes)
