"""One small converter per ONNX operation family, registered by op type.

A converter reads one node, asks the walk (:class:`.onnx_graph.Walk`) for its
input tensors, constants and weights, and either emits one cnncalc layer,
merges into the layer that produced its input (a Pad into the following
Conv, a second Slice into a crop), or aliases its output to its input (a
pass-through). Anything it cannot express exactly raises ``Unsupported``
with the reason.
"""

from __future__ import annotations

from math import prod

import numpy as np

from .names import printable
from .onnx_graph import Tensor, Unsupported, Walk, attributes

CONVERTERS: dict = {}


def converts(*op_types, channels_last=False, follows_reshapes=False, partial=False):
    """Register a converter; ``channels_last`` / ``follows_reshapes``: it
    understands channels-last tensors / reshapes in the middle of a pattern
    (the walk refuses those inputs to every other converter)."""

    def wrap(fn):
        fn.channels_last = channels_last
        fn.follows_reshapes = follows_reshapes
        fn.partial = partial
        for op in op_types:
            CONVERTERS[op] = fn
        return fn

    return wrap


# -- constant folding of shape computations -----------------------------------------
_FOLD = {
    "Constant", "Identity", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Reshape", "Slice",
    "Mul", "Add", "Sub", "Div", "ConstantOfShape", "Range", "Equal", "Where", "Floor", "Ceil", "Sqrt",
    "Transpose", "Neg", "Expand", "Min", "Max",
}


def fold(walk: Walk, node) -> bool:
    """Evaluate ``node`` with numpy when every input is a constant (or a
    ``Shape`` of a tensor with a static shape); True when folded."""
    op = node.op_type
    if op not in _FOLD:
        return False
    a = attributes(node)
    if op == "Constant":
        from onnx import numpy_helper

        if "value" in a:
            value = numpy_helper.to_array(a["value"])
        elif "value_float" in a:
            value = np.array(a["value_float"], dtype=np.float32)
        elif "value_int" in a:
            value = np.array(a["value_int"], dtype=np.int64)
        elif "value_ints" in a:
            value = np.array(a["value_ints"], dtype=np.int64)
        elif "value_floats" in a:
            value = np.array(a["value_floats"], dtype=np.float32)
        else:
            return False
        walk.consts[node.output[0]] = value
        return True
    if op == "Shape":
        shape = walk.onnx_shape(node.input[0])
        tensor = walk.values.get(node.input[0])
        if tensor is not None and tensor.shape is not None and not tensor.view:
            shape = (1, *tensor.shape)
        elif walk.is_const(node.input[0]):
            shape = walk.consts[node.input[0]].shape
        if shape is None:
            return False
        value = np.array(shape, dtype=np.int64)[a.get("start", 0): a.get("end", None)]
        walk.consts[node.output[0]] = value
        return True
    inputs = [i for i in node.input if i]
    if op in _VIEWS and inputs and inputs[0] in walk.weight_shapes and inputs[0] not in walk.consts and \
            all(walk.is_const(i) for i in inputs[1:]):
        # a view of a parameter known by its shape only (a model exported without its weights)
        try:
            fake = np.zeros(walk.weight_shapes[inputs[0]], dtype=np.float32)
            value = _evaluate(op, [fake, *(walk.consts[i] for i in node.input[1:] if i)], a, node)
        except Exception:
            return False
        walk.weight_shapes[node.output[0]] = tuple(np.shape(value))
        if op != "Identity":  # the exporter's Identity of a shared initializer is a parameter of its own
            walk.origin[node.output[0]] = walk.origin.get(inputs[0], inputs[0])
        return True
    if not inputs or not all(walk.is_const(i) for i in inputs):
        return False
    x = [walk.consts[i] if i else None for i in node.input]
    try:
        value = _evaluate(op, x, a, node)
    except Exception:  # an operation outside the small set below: not folded
        return False
    if value is None:
        return False
    walk.consts[node.output[0]] = np.asarray(value)
    if op in _VIEWS and op != "Identity" and (inputs[0] in walk.weight_shapes or inputs[0] in walk.origin):
        walk.origin[node.output[0]] = walk.origin.get(inputs[0], inputs[0])  # a view of a parameter
    return True


_VIEWS = {"Identity", "Reshape", "Unsqueeze", "Squeeze", "Transpose", "Cast"}


def _evaluate(op, x, a, node):
    if op == "Identity":
        return x[0]
    if op == "Gather":
        return np.take(x[0], x[1], axis=a.get("axis", 0))
    if op == "Unsqueeze":
        axes = list(a["axes"]) if "axes" in a else [int(v) for v in x[1]]
        y = x[0]
        for ax in sorted(v % (y.ndim + len(axes)) for v in axes):
            y = np.expand_dims(y, ax)
        return y
    if op == "Squeeze":
        axes = a.get("axes") or ([int(v) for v in x[1]] if len(x) > 1 else None)
        return np.squeeze(x[0], axis=tuple(axes) if axes else None)
    if op == "Concat":
        return np.concatenate([np.atleast_1d(v) for v in x], axis=a.get("axis", 0))
    if op == "Cast":
        from onnx import helper

        return x[0].astype(helper.tensor_dtype_to_np_dtype(a["to"]))
    if op == "Reshape":
        shape = [int(v) for v in x[1]]
        shape = [x[0].shape[i] if v == 0 else v for i, v in enumerate(shape)]
        return x[0].reshape(shape)
    if op == "Slice":
        starts, ends = x[1], x[2]
        axes = x[3] if len(x) > 3 else range(len(starts))
        steps = x[4] if len(x) > 4 else [1] * len(starts)
        index = [slice(None)] * x[0].ndim
        for s, e, ax, st in zip(starts, ends, axes, steps):
            index[int(ax)] = slice(int(s), int(e), int(st))
        return x[0][tuple(index)]
    if op in ("Mul", "Add", "Sub", "Div"):
        fn = {"Mul": np.multiply, "Add": np.add, "Sub": np.subtract, "Div": np.divide}[op]
        out = fn(x[0], x[1])
        if op == "Div" and np.issubdtype(x[0].dtype, np.integer):
            out = np.floor_divide(x[0], x[1])
        return out
    if op == "ConstantOfShape":
        from onnx import numpy_helper

        fill = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
        return np.full([int(v) for v in x[0]], fill.reshape(-1)[0], dtype=fill.dtype)
    if op == "Range":
        return np.arange(x[0], x[1], x[2])
    if op == "Equal":
        return np.equal(x[0], x[1])
    if op == "Where":
        return np.where(x[0], x[1], x[2])
    if op == "Transpose":
        return np.transpose(x[0], a.get("perm"))
    if op == "Neg":
        return -x[0]
    if op == "Expand":
        return x[0] * np.ones([int(v) for v in x[1]], dtype=x[0].dtype)
    if op in ("Min", "Max"):
        return (np.minimum if op == "Min" else np.maximum).reduce(x)
    if op in ("Floor", "Ceil", "Sqrt"):
        return {"Floor": np.floor, "Ceil": np.ceil, "Sqrt": np.sqrt}[op](x[0])
    return None


# -- helpers -------------------------------------------------------------------------
def _data(walk, node, i=0) -> Tensor:
    return walk.tensor(node.input[i])


def _nd(t: Tensor) -> int:
    return len(t.shape) - 1


def _axes(values):
    """One int when every axis agrees (reads like a hand-written spec)."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def _pads(a, nd, sizes=None, kernels=None):
    """(before, after) per spatial axis from ``pads`` or ``auto_pad``. SAME_UPPER
    and SAME_LOWER give ⌈i/s⌉ outputs, the odd cell after (upper) or before (lower)."""
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("NOTSET", ""):
        pads = list(a.get("pads", [0] * (2 * nd)))
        return [(int(pads[i]), int(pads[i + nd])) for i in range(nd)]
    if auto == "VALID":
        return [(0, 0)] * nd
    if auto not in ("SAME_UPPER", "SAME_LOWER") or sizes is None or kernels is None:
        raise Unsupported(f"auto_pad={auto}")
    strides = a.get("strides", [1] * nd)
    dilations = a.get("dilations", [1] * nd)
    sides = []
    for i, k, st, d in zip(sizes, kernels, strides, dilations):
        total = max((-(-i // st) - 1) * st + d * (k - 1) + 1 - i, 0)
        small, big = total // 2, total - total // 2
        sides.append((small, big) if auto == "SAME_UPPER" else (big, small))
    return sides


def _padding_field(sides):
    if all(b == e for b, e in sides):
        return _axes([b for b, _ in sides])
    return [[b, e] for b, e in sides]


def _no_padding(sides):
    return all(b == 0 and e == 0 for b, e in sides)


def _take_pad(walk, node, t: Tensor, sides):
    """A zero Pad right before convolutions folds into their padding when
    only convolutions read the padded tensor (torch's tracer merges the
    identical pads of two convolutions of one input into one Pad). Returns
    the conv's input, its padding and the names of the ONNX nodes folded in."""
    value = node.input[0]
    if value not in walk.folded_pads:
        layer = walk.by_key.get(t.source)
        if layer is None or layer.type_name != "zero_pad" or layer.op != "Pad" or value in walk.output_names or \
                any(c.op_type != "Conv" for c in walk.consumers.get(value, ())):
            return t, sides, []
        extra = layer.fields["padding"]
        nd = len(sides)
        extra = [extra] * nd if isinstance(extra, int) else extra
        extra = [(e, e) if isinstance(e, int) else tuple(e) for e in extra]
        walk.layers.remove(layer)
        del walk.by_key[layer.key]
        walk.folded_pads[value] = (walk.values[layer.node.input[0]], extra, layer.onnx_names)
    before, extra, names = walk.folded_pads[value]
    return before, [(b + pb, e + pe) for (b, e), (pb, pe) in zip(sides, extra)], list(names)


# -- convolution, dense --------------------------------------------------------------
@converts("Conv")
def conv(walk: Walk, node):
    a = attributes(node)
    x = _data(walk, node)
    w_name = node.input[1]
    w = walk.weight_shape(w_name)
    nd = len(w) - 2
    if nd not in (1, 2, 3):
        raise Unsupported(f"{nd}-d convolution")
    sides = _pads(a, nd, x.shape[1:], w[2:])
    x, sides, folded = _take_pad(walk, node, x, sides)
    fields = {"out_channels": int(w[0]), "kernel_size": _axes(w[2:])}
    strides = a.get("strides", [1] * nd)
    if any(s != 1 for s in strides):
        fields["stride"] = _axes(strides)
    if not _no_padding(sides):
        fields["padding"] = _padding_field(sides)
    dil = a.get("dilations", [1] * nd)
    if any(d != 1 for d in dil):
        fields["dilation"] = _axes(dil)
    if a.get("group", 1) != 1:
        fields["groups"] = int(a["group"])
    bias = len(node.input) > 2 and node.input[2]
    if not bias:
        fields["bias"] = False
    layer = walk.emit(node, "conv", fields, [x], weights=[w_name, *([node.input[2]] if bias else [])])
    layer.onnx_names[:0] = folded


@converts("ConvTranspose")
def conv_transpose(walk: Walk, node):
    a = attributes(node)
    x = _data(walk, node)
    w_name = node.input[1]
    w = walk.weight_shape(w_name)
    nd = len(w) - 2
    group = int(a.get("group", 1))
    if "output_shape" in a:
        raise Unsupported("output_shape attribute")
    sides = _pads(a, nd)
    fields = {"out_channels": int(w[1]) * group, "kernel_size": _axes(w[2:])}
    strides = a.get("strides", [1] * nd)
    if any(s != 1 for s in strides):
        fields["stride"] = _axes(strides)
    if not _no_padding(sides):
        fields["padding"] = _padding_field(sides)
    op = a.get("output_padding", [0] * nd)
    if any(op):
        fields["output_padding"] = _axes(op)
    dil = a.get("dilations", [1] * nd)
    if any(d != 1 for d in dil):
        fields["dilation"] = _axes(dil)
    if group != 1:
        fields["groups"] = group
    bias = len(node.input) > 2 and node.input[2]
    if not bias:
        fields["bias"] = False
    walk.emit(node, "conv_transpose", fields, [x], weights=[w_name, *([node.input[2]] if bias else [])])


@converts("Gemm")
def gemm(walk: Walk, node):
    a = attributes(node)
    if a.get("transA", 0):
        raise Unsupported("transA=1")
    x = _data(walk, node)
    if len(x.shape) != 1:
        raise Unsupported(f"input of shape {list(x.shape)} (a dense layer takes a flat vector)")
    w = walk.weight_shape(node.input[1])
    out = int(w[0] if a.get("transB", 0) else w[1])
    bias = len(node.input) > 2 and node.input[2]
    if bias and prod(walk.weight_shape(node.input[2])) != out:
        raise Unsupported("a bias that is not one value per output")
    fields = {"out_features": out}
    if not bias:
        fields["bias"] = False
    walk.emit(node, "dense", fields, [x], weights=[node.input[1], *([node.input[2]] if bias else [])])


@converts("MatMul", channels_last=True)
def matmul(walk: Walk, node):
    if node.input[1] in walk.values or not walk.is_weight(node.input[1]):
        raise Unsupported("a product of two network tensors")
    x = _data(walk, node)
    w = walk.weight_shape(node.input[1])
    if len(w) != 2:
        raise Unsupported(f"a product with a weight of shape {list(w)}")
    if x.channels_last:  # nn.Linear on [N, H, W, C] (ConvNeXt): a 1×1 convolution
        walk.emit(node, "conv", {"out_channels": int(w[1]), "kernel_size": 1, "bias": False}, [x],
                  weights=[node.input[1]], channels_last=True)
        return
    if len(x.shape) != 1:
        raise Unsupported(f"input of shape {list(x.shape)} (a dense layer takes a flat vector)")
    walk.emit(node, "dense", {"out_features": int(w[1]), "bias": False}, [x], weights=[node.input[1]])


# -- normalisation -----------------------------------------------------------------------
@converts("BatchNormalization")
def batch_norm(walk: Walk, node):
    a = attributes(node)
    x = _data(walk, node)
    fields = {}
    eps = float(np.float32(a.get("epsilon", 1e-5)))
    if abs(eps - 1e-5) > 1e-12:
        fields["eps"] = float(f"{eps:.6g}")
    walk.emit(node, "batch_norm", fields, [x], weights=list(node.input[1:3]), buffers=list(node.input[3:5]))


def _is_param(walk, name) -> bool:
    """A learned tensor (a module's parameter), not a constant the exporter made up."""
    from .names import module_of_weight

    if name in walk.weight_shapes and name not in walk.consts:
        return True  # exported without weights: parameters are inputs
    return module_of_weight(walk.origin.get(name, name)) is not None


def _affine_slots(walk, node, scale_slot=1, bias_slot=2):
    """(scale used, bias used): PyTorch exports a normalisation without affine
    parameters with constant ones and zeros in their place."""
    inputs = list(node.input) + ["", ""]
    scale = inputs[scale_slot] if inputs[scale_slot] and _is_param(walk, inputs[scale_slot]) else None
    bias = inputs[bias_slot] if inputs[bias_slot] and _is_param(walk, inputs[bias_slot]) else None
    if not scale and inputs[scale_slot] and walk.is_const(inputs[scale_slot]) and \
            not np.all(walk.consts[inputs[scale_slot]] == 1):
        scale = inputs[scale_slot]  # a real scale in a file not written by torch
    if not bias and inputs[bias_slot] and walk.is_const(inputs[bias_slot]) and \
            np.any(walk.consts[inputs[bias_slot]] != 0):
        bias = inputs[bias_slot]
    return scale, bias


def _eps(a, default=1e-5):
    eps = float(f"{float(np.float32(a.get('epsilon', default))):.6g}")
    return {} if abs(eps - 1e-5) < 1e-12 else {"eps": eps}


@converts("LayerNormalization", channels_last=True)
def layer_norm(walk: Walk, node):
    a = attributes(node)
    x = _data(walk, node)
    rank = len(x.shape) + 1
    axis = int(a.get("axis", -1)) % rank
    scale, bias = _affine_slots(walk, node)
    fields = dict(_eps(a))
    if scale is None:
        if bias is not None:
            raise Unsupported("a layer norm with a shift but no scale")
        fields["elementwise_affine"] = False
    elif bias is None:
        fields["bias"] = False
    weights = [w for w in (scale, bias) if w]
    if x.channels_last:
        if axis != rank - 1:
            raise Unsupported("a layer norm of a channels-last tensor over more than the channels")
        walk.emit(node, "layer_norm", fields, [x], weights=weights, channels_last=True)
        return
    if axis == 0:
        raise Unsupported("a layer norm over the batch axis")
    if not (axis == 1 and rank == 2):
        fields = {"normalized_shape": list(x.shape[axis - 1:]), **fields}
    walk.emit(node, "layer_norm", fields, [x], weights=weights)


@converts("InstanceNormalization", follows_reshapes=True)
def instance_norm(walk: Walk, node):
    a = attributes(node)
    x = _data(walk, node)
    scale, bias = _affine_slots(walk, node)
    if x.pending is not None:  # PyTorch's group norm: [N, C, …] as [N, G, rest], normalised, reshaped back
        shape, steps, origin = x.pending
        if len(shape) != 2 or len(steps) != 1 or scale or bias:
            raise Unsupported("an instance norm of a reshaped tensor that is not a group norm")
        walk.alias(node.output[0], Tensor(x.source, x.shape, pending=(shape, (*steps, ("norm", shape[0], _eps(a))),
                                                                         origin)))
        return
    if len(x.shape) < 2:
        raise Unsupported("an instance norm of a flat vector")
    if bool(scale) != bool(bias):
        raise Unsupported("an instance norm with only one of scale and shift")
    fields = dict(_eps(a))
    if scale:
        fields["affine"] = True
    walk.emit(node, "instance_norm", fields, [x], weights=[w for w in (scale, bias) if w])


@converts("GroupNormalization")
def group_norm(walk: Walk, node):
    a = attributes(node)
    x = _data(walk, node)
    groups = int(a["num_groups"])
    scale, bias = _affine_slots(walk, node)
    if bool(scale) != bool(bias):
        raise Unsupported("a group norm with only one of scale and shift")
    if scale and prod(walk.weight_shape(scale)) != x.shape[0]:
        raise Unsupported("a group norm with one scale per group (ONNX opset 18; PyTorch has one per channel)")
    fields = {"num_groups": groups, **_eps(a)}
    if not scale:
        fields["affine"] = False
    walk.emit(node, "group_norm", fields, [x], weights=[w for w in (scale, bias) if w])


# -- activations ---------------------------------------------------------------------------
_SIMPLE = {
    "Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus", "HardSwish": "hardswish",
    "Mish": "mish", "Gelu": "gelu",
}


@converts(*_SIMPLE, channels_last=True)
def simple(walk: Walk, node):
    if node.op_type == "Gelu" and attributes(node).get("approximate", b"none") not in (b"none", "none"):
        raise Unsupported("tanh-approximated GELU")
    x = _data(walk, node)
    walk.emit(node, _SIMPLE[node.op_type], {}, [x], channels_last=x.channels_last)


@converts("LeakyRelu")
def leaky_relu(walk, node):
    alpha = float(f"{float(attributes(node).get('alpha', 0.01)):.6g}")
    walk.emit(node, "leaky_relu", {} if alpha == 0.01 else {"negative_slope": alpha}, [_data(walk, node)])


@converts("Elu")
def elu(walk, node):
    alpha = float(f"{float(attributes(node).get('alpha', 1.0)):.6g}")
    walk.emit(node, "elu", {} if alpha == 1.0 else {"alpha": alpha}, [_data(walk, node)])


@converts("HardSigmoid")
def hard_sigmoid(walk, node):
    a = attributes(node)
    if abs(a.get("alpha", 0.2) - 1 / 6) > 1e-6 or abs(a.get("beta", 0.5) - 0.5) > 1e-6:
        raise Unsupported("HardSigmoid other than relu6(x + 3)/6 (alpha 1/6, beta 0.5)")
    walk.emit(node, "hardsigmoid", {}, [_data(walk, node)])


@converts("Clip")
def clip(walk, node):
    a = attributes(node)
    lo = a.get("min")
    hi = a.get("max")
    if len(node.input) > 1 and node.input[1]:
        lo = float(walk.const(node.input[1]))
    if len(node.input) > 2 and node.input[2]:
        hi = float(walk.const(node.input[2]))
    if lo == 0 and hi == 6:
        walk.emit(node, "relu6", {}, [_data(walk, node)])
    elif lo == 0 and (hi is None or hi == float("inf")):
        walk.emit(node, "relu", {}, [_data(walk, node)])
    else:
        raise Unsupported(f"Clip to [{lo}, {hi}] (cnncalc has relu and relu6)")


@converts("Softmax", "LogSoftmax")
def softmax(walk, node):
    x = _data(walk, node)
    axis = int(attributes(node).get("axis", -1)) % (len(x.shape) + 1)
    if axis == 0:
        raise Unsupported("softmax over the batch axis")
    fields = {"dim": axis - 1} if axis != 1 else {}
    walk.emit(node, "softmax" if node.op_type == "Softmax" else "log_softmax", fields, [x])


# -- merges -----------------------------------------------------------------------------------
@converts("Add", "Sum", "Mul", channels_last=True, partial=True)
def merge(walk: Walk, node):
    datas = [walk.values.get(i) for i in node.input]
    if any(d is not None and d.partial is not None for d in datas):
        _gelu_step(walk, node, datas)
        return
    if all(d is not None for d in datas):
        if len({d.channels_last for d in datas}) > 1:
            raise Unsupported("a merge of channels-first and channels-last tensors")
        if node.op_type == "Mul" and (_silu(walk, node, datas) or _mish(walk, node, datas)):
            return
        kind = "multiply" if node.op_type == "Mul" else "add"
        first = walk.by_key.get(datas[0].source)
        if first is not None and first.type_name == kind and first.node is not None and walk.sole_consumer(node.input[0]) \
                and scope_of_node(first.node) == scope_of_node(node) and first.channels_last == datas[0].channels_last:
            # a + b + c in one module: PyTorch writes two binary operations, cnncalc has one n-ary layer
            first.inputs.append(datas[1].source)
            first.onnx_names.append(printable(node.name))
            first.outputs = [node.output[0]]
            walk.alias(node.output[0], datas[0])
            return
        walk.emit(node, kind, {}, datas, channels_last=datas[0].channels_last)
        return
    if len(datas) == 2 and (datas[0] is None) != (datas[1] is None):
        i = 0 if datas[0] is not None else 1
        x, w = datas[i], node.input[1 - i]
        if walk.is_weight(w):
            if node.op_type == "Add" and _fold_bias(walk, node, node.input[i], x, w):
                return
            if node.op_type == "Mul":
                _scale(walk, node, node.input[i], x, w)
                return
    raise Unsupported("an element-wise operation with a constant (cnncalc merges network tensors)")


_SQRT2 = 2 ** 0.5


def _constant_near(walk, name, value) -> bool:
    if name not in walk.consts:
        return False
    c = np.asarray(walk.consts[name], dtype=np.float64)
    return c.size == 1 and abs(float(c.reshape(-1)[0]) - value) < 1e-4 * max(1.0, abs(value))


@converts("Div", "Erf", channels_last=True, partial=True)
def gelu_start(walk: Walk, node):
    """x / √2 and erf(·): the first steps of x·½·(1 + erf(x/√2))."""
    x = _data(walk, node)
    if node.op_type == "Div":
        if x.partial is not None or len(node.input) != 2 or not _constant_near(walk, node.input[1], _SQRT2):
            raise Unsupported("a division (cnncalc follows x/√2 inside GELU only)")
        walk.alias(node.output[0], Tensor(x.source, x.shape, channels_last=x.channels_last, partial=(1, x)))
        return
    if x.partial is None or x.partial[0] != 1:
        raise Unsupported("erf outside x·½·(1 + erf(x/√2))")
    walk.alias(node.output[0], Tensor(x.source, x.shape, channels_last=x.channels_last, partial=(2, x.partial[1])))


def _gelu_step(walk, node, datas):
    """(1 + ·), x·(·), then ·½: GELU once the last step is seen."""
    i = next(k for k, d in enumerate(datas) if d is not None and d.partial is not None)
    t, other = datas[i], node.input[1 - i] if len(node.input) == 2 else None
    step, x = t.partial
    if node.op_type == "Add" and step == 2 and other is not None and _constant_near(walk, other, 1.0):
        nxt = 3
    elif node.op_type == "Mul" and step == 3 and other is not None and walk.values.get(other) is not None and \
            walk.values[other].source == x.source and walk.values[other].partial is None:
        nxt = 4
    elif node.op_type == "Mul" and step == 4 and other is not None and _constant_near(walk, other, 0.5):
        walk.emit(node, "gelu", {}, [x], channels_last=x.channels_last)
        return
    else:
        raise Unsupported("part of x·½·(1 + erf(x/√2)) used elsewhere")
    walk.alias(node.output[0], Tensor(x.source, x.shape, channels_last=x.channels_last, partial=(nxt, x)))


def scope_of_node(node) -> str | None:
    from .names import scope_of

    found = scope_of(node.name)
    return found[0] if found else None


def _per_channel(walk, x: Tensor, w) -> bool:
    """The weight holds one value per channel, laid out to broadcast over the channels."""
    shape = walk.weight_shape(w)
    c = x.shape[0]
    if prod(shape) != c:
        return False
    if x.channels_last or len(x.shape) == 1:
        return tuple(d for d in shape if d != 1) in ((c,), ()) and (not shape or shape[-1] == c)
    rank = len(x.shape) + 1  # with the batch axis
    padded = (1,) * (rank - len(shape)) + tuple(shape)
    return len(padded) == rank and padded[1] == c and all(d == 1 for k, d in enumerate(padded) if k != 1)


def _fold_bias(walk, node, value, x: Tensor, w) -> bool:
    """A constant added to the output of a bias-less dense or 1×1 layer from a
    MatMul, or of a group norm whose scale was folded, is that layer's bias."""
    layer = walk.by_key.get(x.source)
    if layer is None or not walk.sole_consumer(value) or not _per_channel(walk, x, w):
        return False
    if layer.op == "MatMul" and layer.fields.get("bias") is False:
        layer.fields.pop("bias")
    elif layer.type_name == "group_norm" and layer.fields.get("affine") == "scale only":
        layer.fields.pop("affine")
    else:
        return False
    layer.weights[walk.origin.get(w, w)] = prod(walk.weight_shape(w))
    layer.onnx_names.append(printable(node.name))
    layer.outputs = [node.output[0]]
    walk.alias(node.output[0], x)
    return True


def _scale(walk, node, value, x: Tensor, w):
    """x · γ with one γ per channel: the scale of a group norm that PyTorch's
    exporter wrote out by hand (its bias follows), or a layer scale."""
    if not _per_channel(walk, x, w):
        raise Unsupported(f"a product with a constant of shape {list(walk.weight_shape(w))} "
                          "(cnncalc's layer scale has one value per channel)")
    layer = walk.by_key.get(x.source)
    if layer is not None and layer.type_name == "group_norm" and layer.fields.get("affine") is False and \
            walk.sole_consumer(value):
        layer.fields["affine"] = "scale only"  # until the bias Add folds in too
        layer.weights[walk.origin.get(w, w)] = prod(walk.weight_shape(w))
        layer.onnx_names.append(printable(node.name))
        layer.outputs = [node.output[0]]
        walk.alias(node.output[0], x)
        return
    walk.emit(node, "layer_scale", {}, [x], weights=[w], channels_last=x.channels_last)


def _mish(walk, node, datas) -> bool:
    """x · tanh(softplus(x)) is Mish (PyTorch exports nn.Mish that way)."""
    for i in (0, 1):
        tanh = walk.by_key.get(datas[i].source)
        other = datas[1 - i]
        if tanh is None or tanh.type_name != "tanh" or not walk.sole_consumer(node.input[i]):
            continue
        soft = walk.by_key.get(tanh.inputs[0])
        if soft is None or soft.type_name != "softplus" or soft.inputs != [other.source] or \
                not walk.sole_consumer(soft.outputs[-1]):
            continue
        walk.layers.remove(tanh)
        del walk.by_key[tanh.key]
        soft.type_name = "mish"
        soft.onnx_names += [*tanh.onnx_names, printable(node.name)]
        soft.outputs = [node.output[0]]
        walk.alias(node.output[0], Tensor(soft.key, other.shape, channels_last=other.channels_last))
        return True
    return False


def _silu(walk, node, datas) -> bool:
    """x · sigmoid(x) is SiLU (PyTorch exports nn.SiLU that way)."""
    for i in (0, 1):
        layer = walk.by_key.get(datas[i].source)
        other = datas[1 - i]
        if layer is not None and layer.type_name == "sigmoid" and layer.inputs == [other.source] and \
                walk.sole_consumer(node.input[i]):
            layer.type_name = "silu"
            layer.onnx_names.append(printable(node.name))
            walk.alias(node.output[0], datas[i])
            return True
    return False


@converts("Concat")
def concat(walk: Walk, node):
    datas = [walk.tensor(i) for i in node.input]
    if len(datas) == 1:  # torch.cat of a one-tensor list
        walk.alias(node.output[0], datas[0])
        return
    axis = int(attributes(node)["axis"]) % (len(datas[0].shape) + 1)
    if axis == 0:
        raise Unsupported("concatenation along the batch axis")
    walk.emit(node, "concat", {"dim": axis - 1} if axis != 1 else {}, datas)


# -- pooling -------------------------------------------------------------------------------------
@converts("MaxPool", "AveragePool", "LpPool")
def window_pool(walk: Walk, node):
    a = attributes(node)
    if len(node.output) > 1 and node.output[1] and walk.consumers.get(node.output[1]):
        raise Unsupported("MaxPool indices used by another operation")
    x = _data(walk, node)
    k = a["kernel_shape"]
    nd = len(k)
    sides = _pads(a, nd, x.shape[1:], k)
    fields = {"kernel_size": _axes(k)}
    strides = a.get("strides", [1] * nd)
    if list(strides) != list(k):
        fields["stride"] = _axes(strides)
    if not _no_padding(sides):
        fields["padding"] = _padding_field(sides)
    if a.get("ceil_mode", 0):
        fields["ceil_mode"] = True
    kind = {"MaxPool": "max_pool", "AveragePool": "avg_pool", "LpPool": "lp_pool"}[node.op_type]
    if kind == "max_pool" and any(d != 1 for d in a.get("dilations", [1] * nd)):
        fields["dilation"] = _axes(a["dilations"])
    if kind == "avg_pool" and not _no_padding(sides) and not a.get("count_include_pad", 0):
        fields["count_include_pad"] = False
    if kind == "lp_pool" and a.get("p", 2) != 2:
        fields["norm_type"] = int(a["p"])
    walk.emit(node, kind, fields, [x])


@converts("GlobalAveragePool", "GlobalMaxPool")
def global_pool(walk, node):
    # [N, C, ...] → [N, C, 1, ...]: what PyTorch's AdaptiveAvgPool2d(1) exports to, read back as it
    kind = "adaptive_avg_pool" if node.op_type == "GlobalAveragePool" else "adaptive_max_pool"
    walk.emit(node, kind, {"output_size": 1}, [_data(walk, node)])


@converts("ReduceMean", "ReduceMax")
def reduce(walk, node):
    a = attributes(node)
    x = _data(walk, node)
    axes = a.get("axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = [int(v) for v in walk.const(node.input[1])]
    rank = len(x.shape) + 1
    axes = sorted(int(v) % rank for v in (axes if axes is not None else range(rank)))
    keep = bool(a.get("keepdims", 1))
    if 0 in axes:
        raise Unsupported("a reduction over the batch axis")
    if node.op_type == "ReduceMean":
        fields = {"dim": [v - 1 for v in axes] if len(axes) > 1 else axes[0] - 1}
        if keep:
            fields["keepdim"] = True
        walk.emit(node, "mean", fields, [x])
        return
    if axes != list(range(2, rank)) or rank < 3:
        raise Unsupported(f"a maximum over axes {axes} (cnncalc's global max pool takes every spatial axis)")
    walk.emit(node, "global_max_pool", {"keepdims": True} if keep else {}, [x])


@converts("DepthToSpace", "SpaceToDepth")
def depth_space(walk, node):
    a = attributes(node)
    x = _data(walk, node)
    r = int(a["blocksize"])
    mode = a.get("mode", b"DCR")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if node.op_type == "DepthToSpace":
        note = "" if mode == "CRD" else ("ONNX DepthToSpace in DCR mode orders the channels differently from "
                                         "PyTorch's pixel_shuffle (same shapes and counts)")
        walk.emit(node, "pixel_shuffle", {"upscale_factor": r}, [x], comment=note)
    else:
        walk.emit(node, "pixel_unshuffle", {"downscale_factor": r}, [x],
                  comment="ONNX SpaceToDepth orders the channels differently from PyTorch's pixel_unshuffle "
                          "(same shapes and counts)")


# -- shape-only operations -------------------------------------------------------------------------
@converts("Flatten")
def flatten(walk, node):
    x = _data(walk, node)
    if int(attributes(node).get("axis", 1)) != 1:
        raise Unsupported("Flatten other than from axis 1")
    if len(x.shape) == 1:
        walk.alias(node.output[0], x)
        return
    walk.emit(node, "flatten", {}, [x])


@converts("Reshape", "Unsqueeze", "Squeeze", follows_reshapes=True)
def reshape(walk, node):
    x = _data(walk, node)
    out = walk.onnx_shape(node.output[0]) or _reshaped(walk, node, x)
    if out is None or x.shape is None:
        raise Unsupported("a reshape whose output shape is unknown")
    out = tuple(out[1:])
    if x.pending is not None:
        _end_pattern(walk, node, x, out)
    elif out == x.shape:
        walk.alias(node.output[0], x)
    elif len(out) == 1 and prod(out) == prod(x.shape):
        walk.emit(node, "flatten", {}, [x])
    elif len(x.shape) == 1 and out[0] == x.shape[0] and all(d == 1 for d in out[1:]):
        walk.alias(node.output[0], Tensor(x.source, x.shape, view=True))  # a [C] gate as [C, 1, 1]: multiply broadcasts it
    elif x.view and len(out) == 1:
        walk.alias(node.output[0], Tensor(x.source, x.shape))
    elif prod(out) == prod(x.shape):  # perhaps the start of a channel shuffle, pixel unshuffle or group norm
        walk.alias(node.output[0], Tensor(x.source, x.shape, pending=(out, (("reshape", out),), x.shape)))
    else:
        raise Unsupported(f"a reshape from {list(x.shape)} to {list(out)}")


def _reshaped(walk, node, x: Tensor):
    """The output shape (batch 1) of a reshape whose target is a folded
    constant that ONNX shape inference could not see."""
    current = x.pending[0] if x.pending is not None else x.shape
    if current is None or x.channels_last:
        return None
    try:
        fake = np.zeros((1, *current), dtype=np.float32)
        rest = [walk.const(i) for i in node.input[1:] if i]
        return tuple(np.shape(_evaluate(node.op_type, [fake, *rest], attributes(node), node)))
    except (Unsupported, ValueError, IndexError, KeyError):
        return None


def _end_pattern(walk, node, x: Tensor, out):
    """A reshape that ends a pattern: the layer it stands for, or the next step."""
    shape, steps, origin = x.pending
    kinds = [s[0] for s in steps]
    c, spatial = origin[0], origin[1:]
    found = None
    if kinds == ["reshape", "transpose"] and out == origin:
        g = steps[0][1][0]
        if steps[0][1] == (g, c // g, *spatial) and steps[1][1] == (0, 2, 1, *range(3, len(origin) + 2)):
            found = ("channel_shuffle", {"groups": g})
    elif kinds == ["reshape", "transpose"] and len(origin) == 3:
        h, w = spatial
        for r in range(2, min(h, w) + 1):
            if h % r or w % r:
                continue
            if steps[0][1] == (c, h // r, r, w // r, r) and steps[1][1] == (0, 1, 3, 5, 2, 4) and \
                    out == (c * r * r, h // r, w // r):
                found = ("pixel_unshuffle", {"downscale_factor": r})
                break
    elif kinds == ["reshape", "norm"] and out == origin:
        g, eps = steps[1][1], steps[1][2]
        if steps[0][1][0] == g and c % g == 0:
            found = ("group_norm", {"num_groups": g, **eps, "affine": False})
    if found is None:
        if len(steps) >= 3:
            raise Unsupported(f"reshapes and transposes from {list(origin)} to {list(out)} that are not a channel "
                              "shuffle, pixel unshuffle or group norm")
        walk.alias(node.output[0], Tensor(x.source, x.shape, pending=(out, (*steps, ("reshape", out)), origin)))
        return
    source = Tensor(x.source, origin)
    walk.emit(node, found[0], found[1], [source])


@converts("Transpose", channels_last=True, follows_reshapes=True)
def transpose(walk, node):
    x = _data(walk, node)
    perm = tuple(int(v) for v in attributes(node)["perm"])
    if x.pending is not None:
        shape, steps, origin = x.pending
        full = (1, *shape)
        new = tuple(full[p] for p in perm)[1:]
        walk.alias(node.output[0], Tensor(x.source, x.shape, pending=(new, (*steps, ("transpose", perm)), origin)))
        return
    rank = len(x.shape) + 1
    to_last = (0, *range(2, rank), 1)
    to_first = (0, rank - 1, *range(1, rank - 1))
    if perm == to_last and not x.channels_last and rank > 2:
        walk.alias(node.output[0], Tensor(x.source, x.shape, channels_last=True))
    elif perm == to_first and x.channels_last:
        walk.alias(node.output[0], Tensor(x.source, x.shape))
    elif perm == tuple(range(rank)):
        walk.alias(node.output[0], x)
    else:
        raise Unsupported(f"a transpose {list(perm)} (cnncalc follows channels moved last and back)")


@converts("Split")
def split(walk, node):
    a = attributes(node)
    x = _data(walk, node)
    rank = len(x.shape) + 1
    axis = int(a.get("axis", 0)) % rank
    if axis == 0:
        raise Unsupported("a split of the batch axis")
    size = x.shape[axis - 1]
    if len(node.input) > 1 and node.input[1]:
        sizes = [int(v) for v in walk.const(node.input[1])]
    elif "split" in a:
        sizes = [int(v) for v in a["split"]]
    else:
        n = int(a.get("num_outputs", len(node.output)))
        piece = -(-size // n)
        sizes = [min(piece, size - k * piece) for k in range(n)]
    if sum(sizes) != size:
        raise Unsupported(f"split sizes {sizes} of an axis of {size}")
    equal = all(v == sizes[0] for v in sizes[:-1]) and sizes[-1] <= sizes[0]
    fields = {"split_size_or_sections": sizes[0] if equal else sizes}
    if axis != 1:
        fields["dim"] = axis - 1
    layer = walk.emit(node, "split", fields, [x], outputs=[], output_shape=x.shape)
    for k, (out, n) in enumerate(zip(node.output, sizes)):
        shape = x.shape[: axis - 1] + (n,) + x.shape[axis:]
        walk.values[out] = Tensor(f"{layer.key}.{k}", shape)


@converts("Dropout", channels_last=True)
def dropout(walk, node):
    x = _data(walk, node)
    a = attributes(node)
    p = a.get("ratio", 0.5)
    if len(node.input) > 1 and node.input[1]:
        p = float(walk.const(node.input[1]))
    p = float(f"{float(p):.6g}")
    walk.emit(node, "dropout", {} if p == 0.5 else {"p": p}, [x], channels_last=x.channels_last)


@converts("Identity", channels_last=True, follows_reshapes=True)
def identity(walk, node):
    walk.alias(node.output[0], _data(walk, node))


@converts("Pad")
def pad(walk, node):
    a = attributes(node)
    x = _data(walk, node)
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if mode != "constant":
        raise Unsupported(f"{mode} padding (cnncalc pads with zeros)")
    pads = a.get("pads")
    if pads is None:
        pads = [int(v) for v in walk.const(node.input[1])]
    if len(node.input) > 2 and node.input[2] and float(walk.const(node.input[2])) != 0.0:
        raise Unsupported("padding with a value other than zero")
    if len(node.input) > 3 and node.input[3]:
        raise Unsupported("Pad with axes")
    rank = len(pads) // 2
    if any(pads[i] or pads[i + rank] for i in (0, 1)):
        raise Unsupported("padding of the batch or channel axis")
    sides = [(int(pads[i]), int(pads[i + rank])) for i in range(2, rank)]
    if all(b >= 0 and e >= 0 for b, e in sides):
        walk.emit(node, "zero_pad", {"padding": _padding_field(sides)}, [x])
    elif all(b <= 0 and e <= 0 for b, e in sides):
        walk.emit(node, "crop", {"cropping": _padding_field([(-b, -e) for b, e in sides])}, [x])
    else:
        raise Unsupported("padding that adds on one side and crops on another")


@converts("Slice")
def slice_(walk, node):
    x = _data(walk, node)
    starts = [int(v) for v in walk.const(node.input[1])]
    ends = [int(v) for v in walk.const(node.input[2])]
    rank = len(x.shape) + 1
    axes = [int(v) % rank for v in walk.const(node.input[3])] if len(node.input) > 3 and node.input[3] else \
        list(range(len(starts)))
    steps = [int(v) for v in walk.const(node.input[4])] if len(node.input) > 4 and node.input[4] else [1] * len(starts)
    if any(ax == 0 for ax in axes):
        raise Unsupported("a slice of the batch axis")
    if len(axes) == 1 and (axes[0] == 1 or steps[0] != 1):  # cnncalc's slice: one axis, any step
        n = x.shape[axes[0] - 1]
        start, stop = (max(0, min(n, v + n if v < 0 else v)) for v in (starts[0], ends[0]))
        if steps[0] < 1 or stop <= start:
            raise Unsupported("a reversed or empty slice")
        fields = {"dim": axes[0] - 1} if axes[0] != 1 else {}
        fields.update({"start": start} if start else {})
        fields.update({"stop": stop} if stop != n else {})
        fields.update({"step": steps[0]} if steps[0] != 1 else {})
        walk.emit(node, "slice", fields, [x])
        return
    if any(s != 1 for s in steps):
        raise Unsupported("a strided slice of several axes")
    nd = rank - 2
    if nd < 1 or any(ax < 2 for ax in axes):
        raise Unsupported("a slice of the channels together with other axes")
    sides = [[0, 0] for _ in range(nd)]
    for s, e, ax in zip(starts, ends, axes):
        n = x.shape[ax - 1]
        s = max(0, min(n, s + n if s < 0 else s))
        e = max(0, min(n, e + n if e < 0 else e))
        sides[ax - 2] = [s, n - e]
    layer = walk.by_key.get(x.source)
    if layer is not None and layer.type_name == "crop" and layer.op == "Slice" and walk.sole_consumer(node.input[0]):
        old = layer.fields["cropping"]  # a second Slice of the same crop (one per axis): merge
        old = [[old, old]] * nd if isinstance(old, int) else [[v, v] if isinstance(v, int) else list(v) for v in old]
        merged = [[o[0] + s[0], o[1] + s[1]] for o, s in zip(old, sides)]
        layer.fields["cropping"] = _padding_field([tuple(m) for m in merged])
        layer.onnx_names.append(printable(node.name))
        walk.values[node.output[0]] = Tensor(layer.key, walk._cnncalc_shape(layer, [walk.values[layer.node.input[0]]]))
        layer.outputs.append(node.output[0])
        return
    if layer is not None and layer.type_name == "conv_transpose" and walk.sole_consumer(node.input[0]) and \
            scope_of_node(layer.node) == scope_of_node(node):
        # cells cut off a transposed convolution's output in its own module: its (asymmetric) padding
        old = layer.fields.get("padding", 0)
        old = [[old, old]] * nd if isinstance(old, int) else [[v, v] if isinstance(v, int) else list(v) for v in old]
        layer.fields["padding"] = _padding_field([(o[0] + c[0], o[1] + c[1]) for o, c in zip(old, sides)])
        layer.onnx_names.append(printable(node.name))
        layer.outputs = [node.output[0]]
        walk.values[node.output[0]] = Tensor(layer.key, walk._cnncalc_shape(layer, [walk.values[layer.node.input[0]]]))
        return
    walk.emit(node, "crop", {"cropping": _padding_field([tuple(s) for s in sides])}, [x])


@converts("Resize", "Upsample")
def resize(walk, node):
    a = attributes(node)
    x = _data(walk, node)
    out = walk.onnx_shape(node.output[0])
    if out is None:
        raise Unsupported("a resize whose output size is unknown")
    out = out[1:]
    if out[0] != x.shape[0] or any(o % i for o, i in zip(out[1:], x.shape[1:])):
        raise Unsupported(f"resizing {list(x.shape)} to {list(out)} (cnncalc upsamples by integer factors)")
    factors = [o // i for o, i in zip(out[1:], x.shape[1:])]
    mode = a.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    nd = len(factors)
    if mode == "nearest":
        name = "nearest"
    elif mode == "linear":
        ctm = a.get("coordinate_transformation_mode", b"half_pixel")
        ctm = ctm.decode() if isinstance(ctm, bytes) else ctm
        if ctm not in ("half_pixel", "pytorch_half_pixel"):
            raise Unsupported(f"linear resize with {ctm} coordinates (cnncalc's is PyTorch's align_corners=False)")
        name = {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]
    else:
        raise Unsupported(f"{mode} resize")
    fields = {"scale_factor": _axes(factors)}
    if name != "nearest":
        fields["mode"] = name
    walk.emit(node, "upsample", fields, [x])
