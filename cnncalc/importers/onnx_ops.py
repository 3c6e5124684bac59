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

from .onnx_graph import Tensor, Unsupported, Walk, attributes

CONVERTERS: dict = {}


def converts(*op_types):
    def wrap(fn):
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
    if op == "Identity" and inputs and inputs[0] in walk.weight_shapes and inputs[0] not in walk.consts:
        walk.weight_shapes[node.output[0]] = walk.weight_shapes[inputs[0]]
        return True
    if not inputs or not all(walk.is_const(i) for i in inputs):
        return False
    x = [walk.consts[i] for i in node.input]
    try:
        value = _evaluate(op, x, a, node)
    except Exception:  # an operation outside the small set below: not folded
        return False
    if value is None:
        return False
    walk.consts[node.output[0]] = np.asarray(value)
    return True


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


def _pads(a, nd, auto_pad_ok=True):
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto not in ("NOTSET", ""):
        if auto == "VALID":
            return [(0, 0)] * nd
        raise Unsupported(f"auto_pad={auto}")
    pads = list(a.get("pads", [0] * (2 * nd)))
    return [(int(pads[i]), int(pads[i + nd])) for i in range(nd)]


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
    sides = _pads(a, nd)
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


@converts("MatMul")
def matmul(walk: Walk, node):
    if node.input[1] in walk.values or not walk.is_weight(node.input[1]):
        raise Unsupported("a product of two network tensors")
    x = _data(walk, node)
    w = walk.weight_shape(node.input[1])
    if len(x.shape) != 1 or len(w) != 2:
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


# -- activations ---------------------------------------------------------------------------
_SIMPLE = {
    "Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus", "HardSwish": "hardswish",
    "Mish": "mish", "Gelu": "gelu",
}


@converts(*_SIMPLE)
def simple(walk: Walk, node):
    if node.op_type == "Gelu" and attributes(node).get("approximate", b"none") not in (b"none", "none"):
        raise Unsupported("tanh-approximated GELU")
    walk.emit(node, _SIMPLE[node.op_type], {}, [_data(walk, node)])


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
@converts("Add", "Sum", "Mul")
def merge(walk: Walk, node):
    datas = [walk.values.get(i) for i in node.input]
    if all(d is not None for d in datas):
        if node.op_type == "Mul" and _silu(walk, node, datas):
            return
        kind = "multiply" if node.op_type == "Mul" else "add"
        walk.emit(node, kind, {}, datas)
        return
    if node.op_type == "Add" and datas[0] is not None and len(datas) == 2:
        layer = walk.by_key.get(datas[0].source)
        if layer is not None and layer.op == "MatMul" and walk.sole_consumer(node.input[0]) and \
                walk.is_weight(node.input[1]) and prod(walk.weight_shape(node.input[1])) == layer.fields["out_features"]:
            layer.fields.pop("bias", None)  # MatMul + Add of a constant vector: a dense layer with bias
            layer.weights[node.input[1]] = prod(walk.weight_shape(node.input[1]))
            layer.onnx_names.append(node.name)
            walk.alias(node.output[0], datas[0])
            return
    raise Unsupported("an element-wise operation with a constant (cnncalc merges network tensors)")


def _silu(walk, node, datas) -> bool:
    """x · sigmoid(x) is SiLU (PyTorch exports nn.SiLU that way)."""
    for i in (0, 1):
        layer = walk.by_key.get(datas[i].source)
        other = datas[1 - i]
        if layer is not None and layer.type_name == "sigmoid" and layer.inputs == [other.source] and \
                walk.sole_consumer(node.input[i]):
            layer.type_name = "silu"
            layer.onnx_names.append(node.name)
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
    sides = _pads(a, nd)
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
    if axes != list(range(2, rank)) or rank < 3:
        raise Unsupported(f"a reduction over axes {axes} (cnncalc pools over every spatial axis)")
    kind = "global_avg_pool" if node.op_type == "ReduceMean" else "global_max_pool"
    keep = bool(a.get("keepdims", 1))
    walk.emit(node, kind, {"keepdims": True} if keep else {}, [x])


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


@converts("Reshape", "Unsqueeze", "Squeeze")
def reshape(walk, node):
    x = _data(walk, node)
    out = walk.onnx_shape(node.output[0])
    if out is None or x.shape is None:
        raise Unsupported("a reshape whose output shape is unknown")
    out = tuple(out[1:])
    if out == x.shape:
        walk.alias(node.output[0], x)
    elif len(out) == 1 and prod(out) == prod(x.shape):
        walk.emit(node, "flatten", {}, [x])
    elif len(x.shape) == 1 and out[0] == x.shape[0] and all(d == 1 for d in out[1:]):
        walk.alias(node.output[0], Tensor(x.source, x.shape, view=True))  # a [C] gate as [C, 1, 1]: multiply broadcasts it
    elif x.view and len(out) == 1:
        walk.alias(node.output[0], Tensor(x.source, x.shape))
    else:
        raise Unsupported(f"a reshape from {list(x.shape)} to {list(out)}")


@converts("Dropout")
def dropout(walk, node):
    x = _data(walk, node)
    a = attributes(node)
    p = a.get("ratio", 0.5)
    if len(node.input) > 1 and node.input[1]:
        p = float(walk.const(node.input[1]))
    p = float(f"{float(p):.6g}")
    walk.emit(node, "dropout", {} if p == 0.5 else {"p": p}, [x])


@converts("Identity")
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
    if any(s != 1 for s in steps):
        raise Unsupported("a strided slice")
    nd = rank - 2
    if nd < 1 or any(ax < 2 for ax in axes):
        raise Unsupported("a slice of the batch or channel axis")
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
        layer.onnx_names.append(node.name)
        walk.values[node.output[0]] = Tensor(layer.key, walk._cnncalc_shape(layer, [walk.values[layer.node.input[0]]]))
        layer.outputs.append(node.output[0])
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
