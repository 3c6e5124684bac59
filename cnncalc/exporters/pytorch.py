"""``cnncalc export --to pytorch``: a spec as a standalone PyTorch file.

The file imports only torch and defines ``Net``, an ``nn.Module`` whose
submodules carry the spec's node names (``layer1.0.conv1``: blocks become
submodules), so ``state_dict()`` keys read like the spec. Each cnncalc layer
type has one small emitter below, registered by its YAML name, that returns
the module's constructor as source text (and the helper classes from
:mod:`cnncalc.exporters.torch_modules` it needs, copied into the file where
torch has no module of its own). Nothing here imports torch.
"""

from __future__ import annotations

import ast
from fractions import Fraction
from pathlib import Path
from typing import Callable

from ..analysis import Analysis, LayerResult
from ..errors import CnncalcError
from ..graph import INPUT
from ..layers.fields import per_axis
from ..records import record


class ExportError(CnncalcError):
    """A spec that cannot be written in the target format."""


@record
class Emit:
    """What one node becomes: a constructor expression and the helpers it uses."""

    expr: str
    helpers: tuple[str, ...] = ()
    returns_indices: bool = False


EMITTERS: dict[str, Callable[[LayerResult], Emit]] = {}


def emits(*type_names: str):
    """Register the emitter of one or more cnncalc layer types."""

    def wrap(fn):
        for name in type_names:
            EMITTERS[name] = fn
        return fn

    return wrap


# -- small helpers -----------------------------------------------------------
def _nd(r: LayerResult) -> int:
    return len(r.input_shapes[0]) - 1


def _t(values) -> str:
    """A tuple as source text: (3, 3), (1,)."""
    values = tuple(values)
    return "(" + ", ".join(repr(v) for v in values) + ("," if len(values) == 1 else "") + ")"


def _tt(pairs) -> str:
    """A tuple of tuples as source text: ((1, 1), (0, 2))."""
    pairs = tuple(pairs)
    return "(" + ", ".join(_t(p) for p in pairs) + ("," if len(pairs) == 1 else "") + ")"


def _one(values):
    """An int when every axis has the same value (reads like hand-written torch)."""
    values = tuple(values)
    return repr(values[0]) if len(set(values)) == 1 else _t(values)


def _sym(sides) -> tuple[int, ...] | None:
    return tuple(b for b, _ in sides) if all(b == a for b, a in sides) else None


def _kw(**values) -> str:
    return "".join(f", {k}={v}" for k, v in values.items() if v is not None)


def _cls(base: str, nd: int) -> str:
    return f"nn.{base}{max(nd, 1)}d"


# -- activations and other parameterless element-wise layers -------------------
_SIMPLE = {
    "relu": "nn.ReLU()",
    "relu6": "nn.ReLU6()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "gelu": "nn.GELU()",
    "silu": "nn.SiLU()",
    "hardswish": "nn.Hardswish()",
    "hardsigmoid": "nn.Hardsigmoid()",
    "softplus": "nn.Softplus()",
    "mish": "nn.Mish()",
    "flatten": "nn.Flatten()",
}


def _simple(r):
    return Emit(_SIMPLE[r.type_name])


for _name in _SIMPLE:
    EMITTERS[_name] = _simple


@emits("identity")
def _identity(r):
    return Emit("Identity()", ("Identity",))


@emits("leaky_relu")
def _leaky_relu(r):
    return Emit(f"nn.LeakyReLU(negative_slope={r.node.layer.negative_slope!r})")


@emits("elu")
def _elu(r):
    return Emit(f"nn.ELU(alpha={r.node.layer.alpha!r})")


@emits("softmax", "log_softmax")
def _softmax(r):
    cls = "Softmax" if r.type_name == "softmax" else "LogSoftmax"
    return Emit(f"nn.{cls}(dim={r.node.layer.dim + 1})")


@emits("dropout")
def _dropout(r):
    return Emit(f"nn.Dropout(p={r.node.layer.p!r})")


# -- convolutions --------------------------------------------------------------
@emits("conv", "locally_connected")
def _conv(r):
    L, nd, c_in = r.node.layer, _nd(r), r.input_shapes[0][0]
    kernels, strides, dilations, outs, sides, _ = L._geometry(r.input_shapes[0])
    ups = tuple(Fraction(s).denominator for s in strides)
    downs = tuple(Fraction(s).numerator for s in strides)
    common = (f"{nd}, {c_in}, {L.out_channels}, kernel_size={_t(kernels)}, stride={_t(downs)}, "
              f"sides={_tt(sides)}, dilation={_t(dilations)}, groups={L.groups}, "
              f"bias={L.bias}, ups={_t(ups)}")
    if r.type_name == "locally_connected":
        return Emit(f"LocallyConnected({common}, outs={_t(outs)})", ("pad_sides", "zero_insert", "LocallyConnected"))
    pads = _sym(sides)
    if pads is None or any(u > 1 for u in ups):
        return Emit(f"PaddedConv({common})", ("pad_sides", "zero_insert", "PaddedConv"))
    extra = _kw(
        stride=_one(downs) if any(s != 1 for s in downs) else None,
        padding=_one(pads) if any(pads) else None,
        dilation=_one(dilations) if any(d != 1 for d in dilations) else None,
        groups=L.groups if L.groups != 1 else None,
        bias=None if L.bias else "False",
    )
    return Emit(f"{_cls('Conv', nd)}({c_in}, {L.out_channels}, {_one(kernels)}{extra})")


@emits("conv_transpose")
def _conv_transpose(r):
    L, nd, c_in = r.node.layer, _nd(r), r.input_shapes[0][0]
    kernels, strides, sides, _, _ = L._geometry(r.input_shapes[0])
    dilations = per_axis(L.dilation, nd, "dilation")
    extra_cells = per_axis(L.output_padding, nd, "output_padding")
    pads = _sym(sides)
    if pads is None:
        return Emit(
            f"CroppedConvTranspose({nd}, {c_in}, {L.out_channels}, kernel_size={_t(kernels)}, stride={_t(strides)}, "
            f"sides={_tt(sides)}, output_padding={_t(extra_cells)}, "
            f"dilation={_t(dilations)}, groups={L.groups}, bias={L.bias})",
            ("CroppedConvTranspose",),
        )
    extra = _kw(
        stride=_one(strides) if any(s != 1 for s in strides) else None,
        padding=_one(pads) if any(pads) else None,
        output_padding=_one(extra_cells) if any(extra_cells) else None,
        groups=L.groups if L.groups != 1 else None,
        bias=None if L.bias else "False",
        dilation=_one(dilations) if any(d != 1 for d in dilations) else None,
    )
    return Emit(f"{_cls('ConvTranspose', nd)}({c_in}, {L.out_channels}, {_one(kernels)}{extra})")


@emits("dense")
def _dense(r):
    L = r.node.layer
    return Emit(f"nn.Linear({r.input_shapes[0][0]}, {L.out_features}{_kw(bias=None if L.bias else 'False')})")


@emits("batch_norm")
def _batch_norm(r):
    L = r.node.layer
    extra = _kw(
        eps=None if L.eps == 1e-5 else repr(L.eps),
        momentum=None if L.momentum == 0.1 else repr(L.momentum),
        affine=None if L.affine else "False",
        track_running_stats=None if L.track_running_stats else "False",
    )
    return Emit(f"{_cls('BatchNorm', _nd(r))}({r.input_shapes[0][0]}{extra})")


# -- pooling -------------------------------------------------------------------
@emits("max_pool", "avg_pool", "lp_pool")
def _window_pool(r):
    L, nd = r.node.layer, _nd(r)
    kernels = per_axis(L.kernel_size, nd, "kernel_size")
    strides, _, sides, _ = L._geometry(r.input_shapes[0])
    pads = _sym(sides)
    dilations = per_axis(getattr(L, "dilation", 1), nd, "dilation")
    referenced = r.node.extra.get("_unpooled", False)
    if r.type_name == "lp_pool" and (pads is None or any(pads)):
        pads = None  # torch's LPPool takes no padding
    if pads is None:
        if referenced:
            raise ExportError(f"max_unpool reuses the switches of '{r.name}', whose padding is asymmetric; "
                              "torch's max pool pads symmetrically only")
        kind = {"max_pool": "max", "avg_pool": "avg", "lp_pool": "lp"}[r.type_name]
        extra = _kw(
            dilation=_t(dilations) if r.type_name == "max_pool" else None,
            ceil_mode=repr(L.ceil_mode) if L.ceil_mode else None,
            count_include_pad="False" if r.type_name == "avg_pool" and not L.count_include_pad else None,
            norm_type=repr(float(L.norm_type)) if r.type_name == "lp_pool" else None,
        )
        return Emit(
            f"PaddedPool({kind!r}, {nd}, kernel_size={_t(kernels)}, stride={_t(strides)}, "
            f"sides={_tt(sides)}{extra})",
            ("pad_sides", "PaddedPool"),
        )
    if r.type_name == "lp_pool":
        k = kernels[0] if nd == 1 else _t(kernels)
        return Emit(f"{_cls('LPPool', nd)}({float(L.norm_type)!r}, {k}, stride={_t(strides)}"
                    f"{_kw(ceil_mode='True' if L.ceil_mode else None)})")
    extra = _kw(
        stride=_one(strides),
        padding=_one(pads) if any(pads) else None,
        dilation=_one(dilations) if r.type_name == "max_pool" and any(d != 1 for d in dilations) else None,
        ceil_mode="True" if L.ceil_mode else None,
        count_include_pad="False" if r.type_name == "avg_pool" and not L.count_include_pad else None,
        return_indices="True" if referenced else None,
    )
    base = "MaxPool" if r.type_name == "max_pool" else "AvgPool"
    return Emit(f"{_cls(base, nd)}({_one(kernels)}{extra})", returns_indices=referenced)


@emits("global_avg_pool", "global_max_pool")
def _global_pool(r):
    kind = "avg" if r.type_name == "global_avg_pool" else "max"
    keep = ", keepdims=True" if r.node.layer.keepdims else ""
    return Emit(f"GlobalPool({kind!r}{keep})", ("GlobalPool",))


@emits("adaptive_avg_pool", "adaptive_max_pool")
def _adaptive(r):
    base = "AdaptiveAvgPool" if r.type_name == "adaptive_avg_pool" else "AdaptiveMaxPool"
    return Emit(f"{_cls(base, _nd(r))}({_one(r.output_shape[1:])})")


@emits("kmax_pool")
def _kmax(r):
    L = r.node.layer
    return Emit(f"KMaxPool({L.k}, axis={L._axis(r.input_shapes[0])})", ("KMaxPool",))


# -- resampling, padding, cropping ------------------------------------------------
@emits("upsample")
def _upsample(r):
    L, nd = r.node.layer, _nd(r)
    factors = L._factors(r.input_shapes[0])
    if L.mode == "zeros":
        return Emit(f"ZeroUpsample({_t(factors)})", ("zero_insert", "ZeroUpsample"))
    scale = _t(float(f) for f in factors)
    align = "" if L.mode == "nearest" else ", align_corners=False"
    return Emit(f"nn.Upsample(scale_factor={scale}, mode={L.mode!r}{align})")


@emits("downsample")
def _downsample(r):
    return Emit(f"Downsample({_t(r.node.layer._factors(r.input_shapes[0]))})", ("Downsample",))


@emits("unpool")
def _unpool(r):
    L = r.node.layer
    factors = L._factors(r.input_shapes[0])
    if L.mode == "nearest":
        return Emit(f"nn.Upsample(scale_factor={_t(float(f) for f in factors)}, mode='nearest')")
    return Emit(f"BedOfNailsUnpool({_t(factors)})", ("BedOfNailsUnpool",))


@emits("max_unpool")
def _max_unpool(r, pool: LayerResult):
    nd = _nd(r)
    P = pool.node.layer
    strides, _, sides, _ = P._geometry(pool.input_shapes[0])
    return Emit(
        f"MaxUnpool({nd}, kernel_size={_t(per_axis(P.kernel_size, nd, 'kernel_size'))}, stride={_t(strides)}, "
        f"padding={_t(b for b, _ in sides)})",
        ("MaxUnpool",),
    )


def _sides_of(r, field):
    from ..layers.padding import _sides

    return _sides(getattr(r.node.layer, field), r.input_shapes[0], field, r.type_name)


@emits("zero_pad")
def _zero_pad(r):
    sides = _sides_of(r, "padding")
    return Emit(f"ZeroPad({_tt(sides)})", ("pad_sides", "ZeroPad"))


@emits("crop")
def _crop(r):
    sides = _sides_of(r, "cropping")
    return Emit(f"Crop({_tt(sides)})", ("Crop",))


# -- merges ----------------------------------------------------------------------
@emits("add")
def _add(r):
    return Emit("Add()", ("Add",))


@emits("concat")
def _concat(r):
    dim = r.node.layer.dim
    return Emit(f"Concat(dim={dim})" if dim else "Concat()", ("Concat",))


@emits("multiply")
def _multiply(r):
    return Emit("Multiply()", ("Multiply",))


# -- modern families: normalisations, rearranging, reductions ----------------------------
@emits("layer_norm")
def _layer_norm(r):
    L = r.node.layer
    x = r.input_shapes[0]
    axes = L.axes(x)
    shape = [x[a] for a in axes]
    extra = _kw(
        eps=None if L.eps == 1e-5 else repr(L.eps),
        elementwise_affine=None if L.elementwise_affine else "False",
        bias=None if L.bias or not L.elementwise_affine else "False",
    )
    if axes == (0,) and len(x) > 1:
        return Emit(f"ChannelLayerNorm({x[0]}{extra})", ("ChannelLayerNorm",))
    return Emit(f"nn.LayerNorm({_t(shape) if len(shape) > 1 else shape[0]}{extra})")


@emits("group_norm")
def _group_norm(r):
    L = r.node.layer
    extra = _kw(eps=None if L.eps == 1e-5 else repr(L.eps), affine=None if L.affine else "False")
    return Emit(f"nn.GroupNorm({L.num_groups}, {r.input_shapes[0][0]}{extra})")


@emits("instance_norm")
def _instance_norm(r):
    L = r.node.layer
    extra = _kw(
        eps=None if L.eps == 1e-5 else repr(L.eps),
        momentum=None if L.momentum == 0.1 else repr(L.momentum),
        affine="True" if L.affine else None,
        track_running_stats="True" if L.track_running_stats else None,
    )
    return Emit(f"{_cls('InstanceNorm', _nd(r))}({r.input_shapes[0][0]}{extra})")


@emits("layer_scale")
def _layer_scale(r):
    return Emit(f"LayerScale({r.input_shapes[0][0]})", ("LayerScale",))


@emits("channel_shuffle")
def _channel_shuffle(r):
    return Emit(f"ChannelShuffle({r.node.layer.groups})", ("ChannelShuffle",))


@emits("pixel_shuffle")
def _pixel_shuffle(r):
    return Emit(f"nn.PixelShuffle({r.node.layer.upscale_factor})")


@emits("pixel_unshuffle")
def _pixel_unshuffle(r):
    return Emit(f"nn.PixelUnshuffle({r.node.layer.downscale_factor})")


@emits("mean")
def _mean(r):
    L = r.node.layer
    keep = ", keepdim=True" if L.keepdim else ""
    return Emit(f"Mean({_t(L.dim)}{keep})", ("Mean",))


@emits("stochastic_depth")
def _stochastic_depth(r):
    L = r.node.layer
    mode = "" if L.mode == "row" else f", mode={L.mode!r}"
    return Emit(f"StochasticDepth({L.p!r}{mode})", ("StochasticDepth",))


def split_sections(r) -> list[int]:
    """The piece sizes of a split node, as torch.split takes them."""
    L = r.node.layer
    size = r.input_shapes[0][L.dim]
    sections = L.split_size_or_sections
    if isinstance(sections, tuple):
        return list(sections)
    return [min(sections, size - start) for start in range(0, size, sections)]


@emits("split")
def _split(r):
    dim = r.node.layer.dim
    return Emit(f"Split({split_sections(r)}{f', dim={dim}' if dim else ''})", ("Split",))


@emits("slice")
def _slice(r):
    L = r.node.layer
    start, stop = L.bounds(r.input_shapes[0])
    step = f", step={L.step}" if L.step != 1 else ""
    return Emit(f"Slice({L.dim}, {start}, {stop}{step})", ("Slice",))


def _piece_of(r, by_name) -> str | None:
    """``<split>:<k>`` when the slice node ``r`` is piece k of the split it reads."""
    src = by_name.get(r.node.inputs[0])
    if src is None or src.type_name != "split" or r.node.layer.step != 1 or src.node.layer.dim != r.node.layer.dim:
        return None
    start, stop = r.node.layer.bounds(r.input_shapes[0])
    offset = 0
    for k, size in enumerate(split_sections(src)):
        if (offset, offset + size) == (start, stop):
            return f"{src.name}:{k}"
        offset += size
    return None


# -- the file ----------------------------------------------------------------------
_MODULES = Path(__file__).with_name("torch_modules.py")


def _helper_sources(names) -> str:
    """The source of the named helper classes and functions, in file order."""
    text = _MODULES.read_text(encoding="utf-8")
    tree = ast.parse(text)
    wanted = {"Block", *names}
    parts = []
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)) and node.name in wanted:
            parts.append(ast.get_source_segment(text, node))
    return "\n\n\n".join(parts)


_RUNTIME = '''
class Net(nn.Module):
    """{title}

    Input: a batch of shape (N, {shape}). Submodule names are the spec's node names.
    """

    def __init__(self):
        super().__init__()
        self.steps = []  # (node name, input names, module) in the spec's order
{puts}

    def put(self, name, module, inputs=None):
        """Add ``module`` under its dotted spec name (creating the blocks on its
        path) and as the next step of the forward pass; ``inputs`` defaults to
        the previous step (a chain)."""
        if inputs is None:
            inputs = (self.steps[-1][0],) if self.steps else ("input",)
        *path, leaf = name.split(".")
        parent = self
        for part in path:
            if part not in parent._modules:
                parent.add_module(part, Block())
            parent = parent._modules[part]
        if leaf in parent._modules:  # a block of this name came first: the layer takes its children
            for child_name, child in parent._modules[leaf].named_children():
                module.add_module(child_name, child)
        parent.add_module(leaf, module)
        self.steps.append((name, tuple(inputs), module))

    def forward(self, x):
        values = {{"input": x}}
        for name, inputs, module in self.steps:
            y = module(*(values[i] for i in inputs))
            if isinstance(y, tuple):  # name:0 … are a max pool's switches or a split's pieces
                for k, extra in enumerate(y[1:]):
                    values[f"{{name}}:{{k}}"] = extra
                y = y[0]
            values[name] = y
        return {result}
'''


def export_pytorch(analysis: Analysis, source: str | None = None) -> str:
    """The standalone PyTorch source of the analysed network."""
    graph = analysis.graph
    by_name = {r.name: r for r in analysis.layers}
    unpooled = {r.node.layer.pool for r in analysis.layers if r.type_name == "max_unpool"}
    helpers: list[str] = []
    puts = []
    previous = INPUT
    for r in analysis.layers:
        emitter = EMITTERS.get(r.type_name)
        if emitter is None:
            raise ExportError(f"layer '{r.name}' ({r.type_name}): no PyTorch equivalent is known for this layer type")
        inputs = list(r.node.inputs)
        piece = _piece_of(r, by_name) if r.type_name == "slice" else None
        if r.type_name == "max_unpool":
            pool = by_name[r.node.layer.pool]
            emit = _max_unpool(r, pool)
            inputs += [pool.name + ":0", pool.node.inputs[0]]
        elif piece is not None:  # piece k of a split: torch.split made it already
            emit, inputs = Emit("nn.Identity()"), [piece]
        else:
            if r.name in unpooled:
                r = LayerResult(**{**r.__dict__, "node": _with_extra(r.node, _unpooled=True)})
            emit = emitter(r)
        helpers += [h for h in emit.helpers if h not in helpers]
        args = f"{r.name!r}, {emit.expr}"
        if inputs != [previous]:
            args += f", inputs={_t(inputs)}"
        puts.append(f"        self.put({args})")
        previous = r.name
    outputs = graph.outputs()
    result = f"values[{outputs[0]!r}]" if len(outputs) == 1 else "(" + ", ".join(f"values[{o!r}]" for o in outputs) + ")"
    title = _docline((graph.name or "network") + (f" (from {source})" if source else "")) + \
        ", written by `cnncalc export --to pytorch`."
    shape = ", ".join(str(n) for n in graph.input_shape)
    header = (
        f'"""{title}\n\n'
        "Standalone: needs only torch. Build and run:\n\n"
        "    model = Net()\n"
        f"    y = model(torch.randn(1, {shape}))\n\n"
        f"Parameters: {analysis.totals.params_trainable:,} trainable, {analysis.totals.params_buffers:,} buffers "
        "(as `cnncalc analyze` counts them).\n"
        '"""\n\n'
        "import torch\n"
        "import torch.nn.functional as F\n"
        "from torch import nn\n\n\n"
    )
    body = _RUNTIME.format(title=_docline(graph.name or "network"), shape=shape, puts="\n".join(puts), result=result)
    return header + _helper_sources(helpers) + "\n\n" + body


def _docline(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', "'''").splitlines()[0] if text else "network"


def _with_extra(node, **extra):
    from ..records import replace

    return replace(node, extra={**node.extra, **extra})
