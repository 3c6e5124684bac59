"""``cnncalc run``: a small network with explicit numbers, every feature map shown.

A spec gives the input values (``values:``, a matrix for one channel or a list
of matrices) and each layer's kernel (``weights:``, optional ``biases:``);
``grad_output:`` gives ∂L/∂(output) for ``--backward``. Numbers may be ints,
decimals (kept exact: 0.9 is 9/10) or fractions written as strings ("1/3").

Rows and columns are numbered from 1 as in the lectures; the index of a
maximiser is numbered 1..F_H·F_W row by row inside its window.
"""

from __future__ import annotations

from fractions import Fraction

from ..errors import Loc, SpecError
from ..layers.fields import per_axis
from ..layers.window import resolve_padding
from ..numbers import NumberError, parse_fraction
from ..receptive import effective_kernel
from ..records import field, record
from . import kernels as K
from . import taps as T

SUPPORTED = ("conv", "conv_transpose", "max_pool", "avg_pool", "relu")  # here; the others in .steps
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@record
class Notation:
    """How cells are named and numbered, to match one lecture note's slides.

    ``style``: "bracket" X[1,1], "plain" X11 (X10,11 past 9), "subscript" x₀,₀, "flat" x1 … x9
    (row by row, as note 002's backpropagation slides number a 3×3 map);
    ``out``: the name of a convolution's output (Z, or h in lecture 6's notes)."""

    key: str
    base: int
    style: str
    out: str
    note: str

    def index(self, k: int) -> str:
        return str(k + self.base)

    def cell(self, name: str, c: int, i: int, j: int, multi: bool = False, width: int | None = None) -> str:
        if self.style == "flat" and width is not None:
            return f"{name.lower()}{f'[{c + self.base}]' if multi else ''}{i * width + j + self.base}"
        i, j, ch = i + self.base, j + self.base, c + self.base
        if self.style in ("bracket", "flat"):
            return f"{name}{ch if multi else ''}[{i},{j}]"
        if self.style == "plain":
            return f"{name}{f'({ch})' if multi else ''}{i}{',' if i > 9 or j > 9 else ''}{j}"
        return f"{name.lower()}{f'[{ch}]' if multi else ''}{str(i).translate(_SUB)},{str(j).translate(_SUB)}"

    def vec(self, name: str, k: int) -> str:
        """Entry k of a vector (after flatten, global pooling or a dense layer)."""
        k += self.base
        if self.style == "bracket":
            return f"{name}[{k}]"
        if self.style == "flat":
            return f"{name.lower()}{k}"
        return f"{name}{k}" if self.style == "plain" else f"{name.lower()}{str(k).translate(_SUB)}"

    def pos(self, u: int, v: int) -> str:
        return f"({u + self.base},{v + self.base})"


NOTATIONS = {
    "default": Notation("default", 1, "bracket", "Z", "cnncalc's own: X[1,1], W[1,1], δZ; numbered from 1"),
    "000": Notation("000", 0, "subscript", "Z", "notes 000/001 (CNN: High Level): w₀,₀, x₀,₀; numbered from 0"),
    "001": Notation("001", 0, "subscript", "Z", "notes 000/001 (CNN: High Level): w₀,₀, x₀,₀; numbered from 0"),
    "002": Notation("002", 1, "plain", "Z", "note 002 (Chapter 4 slides): X11, W11, δZ; numbered from 1"),
    "002flat": Notation("002flat", 1, "flat", "Z", "note 002's backpropagation slides: x1 … x9, w1 … w4, "
                        "z1 … z4 numbered row by row from 1"),
    "004": Notation("004", 1, "plain", "h", "note 004 (Lecture 6 scribe notes): X11, W11, output h, δh; from 1"),
}
DEFAULT_NOTATION = NOTATIONS["default"]


# -- numbers and grids ------------------------------------------------------------------


def fmt(v) -> str:
    """Exact, short: 2.1, 1.225, 1/3, −2."""
    if v is None:
        return "−∞"
    if isinstance(v, Fraction):
        if v.denominator == 1:
            v = int(v)
        else:
            d = v.denominator
            for p in (2, 5):
                while d % p == 0:
                    d //= p
            if d == 1:
                digits = 0
                while (v * 10**digits).denominator != 1:
                    digits += 1
                text = f"{v.numerator * 10**digits // v.denominator:d}"
                neg = text.startswith("-")
                text = text.lstrip("-").rjust(digits + 1, "0")
                text = f"{text[:-digits]}.{text[-digits:]}"
                return ("−" if neg else "") + text
            return ("−" if v < 0 else "") + f"{abs(v.numerator)}/{v.denominator}"
    return str(v).replace("-", "−")


def grid_lines(m, row_labels=None, col_labels=None, indent="    ", base=1) -> list[str]:
    """A matrix as aligned text with row/column numbers from ``base`` (or given labels)."""
    if not m or not m[0]:
        return [indent + "(empty)"]
    rows = [[fmt(v) for v in r] for r in m]
    col_labels = col_labels or [str(j + base) for j in range(len(rows[0]))]
    row_labels = row_labels or [str(i + base) for i in range(len(rows))]
    width = max(max(len(c) for r in rows for c in r), max(len(c) for c in col_labels))
    lw = max(len(r) for r in row_labels)
    lines = [indent + " " * lw + "  " + " ".join(c.rjust(width) for c in col_labels)]
    for label, r in zip(row_labels, rows):
        lines.append(indent + label.rjust(lw) + "  " + " ".join(c.rjust(width) for c in r))
    return lines


def shape_of(t):
    return (len(t), len(t[0]), len(t[0][0]))


# -- reading numbers from the spec --------------------------------------------------------


def _number(value, loc: Loc, what: str):
    if isinstance(value, bool) or value is None:
        raise SpecError(f"{what}: {value!r} is not a number", loc=loc)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise SpecError(f"{what}: {value!r} is not a finite number", loc=loc)
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return parse_fraction(value, what=what)
        except NumberError as exc:
            if "not a number" not in str(exc):
                raise SpecError(str(exc), loc=loc) from None
    raise SpecError(f"{what}: {value!r} is not a number (use 2, 0.5, -1.25 or \"1/3\")", loc=loc)


def parse_tensor(value, loc: Loc, what: str):
    """Nested YAML lists → (nested lists of exact numbers, shape); ragged rows are errors."""
    if not isinstance(value, list) or not value:
        raise SpecError(f"{what} must be a non-empty list of rows, e.g. [[1, 2], [3, 4]], got {value!r}", loc=loc)
    item_loc = getattr(value, "loc_of", lambda i: loc)
    lists = [isinstance(v, list) for v in value]
    if not any(lists):
        return [_number(v, item_loc(i), f"{what}, entry {i + 1}") for i, v in enumerate(value)], (len(value),)
    if not all(lists):
        i = lists.index(False) if lists[0] else lists.index(True)
        raise SpecError(f"{what}: entry {i + 1} mixes numbers and lists; every row must be a list", loc=item_loc(i))
    parts = [parse_tensor(v, item_loc(i), f"{what}, row {i + 1}" if not isinstance(v[0], list) else
                          f"{what}, block {i + 1}") for i, v in enumerate(value)]
    first = parts[0][1]
    for i, (_, shape) in enumerate(parts):
        if shape != first:
            kind = "row" if len(shape) == 1 else "block"
            raise SpecError(
                f"{what}: ragged — {kind} {i + 1} has {'×'.join(map(str, shape))} entries but {kind} 1 has "
                f"{'×'.join(map(str, first))}; every {kind} must have the same size",
                loc=item_loc(i),
            )
    return [p[0] for p in parts], (len(parts), *first)


def _as_chw(tensor, shape, loc, what):
    if len(shape) == 2:
        return [tensor], (1, *shape)
    if len(shape) == 3:
        return tensor, shape
    raise SpecError(
        f"{what} has {len(shape)} levels of lists; give a matrix [[...], ...] for one channel or a list of "
        "matrices, one per channel (cnncalc run computes 2D examples)",
        loc=loc,
    )


def read_values(doc, file):
    """The input tensor from ``values:`` (or None), with its shape (C, H, W)."""
    if "values" not in doc:
        return None, None
    loc = doc.loc_of("values")
    t, shape = parse_tensor(doc["values"], loc, "values")
    return _as_chw(t, shape, loc, "values")


def _expected_weights(layer, c_in, nd_kernel):
    g = layer.groups
    if layer.type_name == "conv_transpose":
        return (c_in, layer.out_channels // g, *nd_kernel), "[C_in][C_out / groups][F_H][F_W]"
    return (layer.out_channels, c_in // g, *nd_kernel), "[C_out][C_in / groups][F_H][F_W]"


def read_weights(node, c_in, kernel):
    """The kernel of a conv / conv_transpose node, shaped to 4 levels; leading 1s may be left out."""
    if "weights" not in node.extra:
        raise SpecError(
            "cnncalc run needs the kernel values of this layer: add e.g. 'weights: [[1, 0], [1, 1]]' beside it",
            loc=node.loc, layer_index=node.index, layer_name=node.name, layer_type=node.type_name, field="weights",
        )
    loc = node.loc_of("weights")
    ctx = dict(layer_index=node.index, layer_name=node.name, layer_type=node.type_name, field="weights")
    t, shape = parse_tensor(node.extra["weights"], loc, "weights")
    want, order = _expected_weights(node.layer, c_in, kernel)
    accepted = {len(want): want}
    if want[0] == 1 and want[1] == 1:
        accepted[2] = want[2:]
    if want[0] == 1 or want[1] == 1:
        accepted[3] = (want[1] if want[0] == 1 else want[0], *want[2:])
    if accepted.get(len(shape)) != tuple(shape):
        raise SpecError(
            f"the weights have shape {'×'.join(map(str, shape))}, but this layer needs "
            f"{want[2]}×{want[3]} kernels, {'×'.join(map(str, want))} in all ({order}; levels of size 1 may be left out, e.g. a plain "
            f"{want[2]}×{want[3]} matrix for one input and one output channel)",
            loc=loc, **ctx,
        )
    if len(shape) == 2:
        t = [[t]]
    elif len(shape) == 3:
        t = [[k] for k in t] if want[1] == 1 else [t]
    biases = None
    if "biases" in node.extra:
        bloc = node.loc_of("biases")
        if not node.layer.bias:
            raise SpecError("'biases' given but the layer has bias: false", loc=bloc, **dict(ctx, field="biases"))
        raw = node.extra["biases"]
        raw = raw if isinstance(raw, list) else [raw]
        b, bshape = parse_tensor(raw, bloc, "biases")
        if bshape != (node.layer.out_channels,):
            raise SpecError(f"'biases' needs {node.layer.out_channels} numbers (one per output channel), got "
                            f"{'×'.join(map(str, bshape))}", loc=bloc, **dict(ctx, field="biases"))
        biases = b
    return t, biases


# -- the run -------------------------------------------------------------------------------


@record(frozen=False)
class Block:
    """What one layer did: a heading, lines, and named grids."""

    heading: str
    items: list = field(default_factory=list)  # ("text", str) | ("grid", title, matrix, row_labels, col_labels)

    def text(self, line):
        self.items.append(("text", line))

    def grid(self, title, m, rows=None, cols=None):
        self.items.append(("grid", title, m, rows, cols))

    def tensor(self, title, t, *, channel_word="channel"):
        if len(t) == 1:
            self.grid(title, t[0])
        else:
            for c, m in enumerate(t):
                self.grid(f"{title}, {channel_word} {c + 1}", m)


@record(frozen=False)
class Run:
    blocks: list
    outputs: dict  # node name → tensor
    grads: dict = field(default_factory=dict)  # node name → gradient of its (first) input
    notation: Notation = DEFAULT_NOTATION
    input_grad: list | None = None  # ∂L/∂X for the network input, after --backward


def _geometry(layer, shape, *, pool=False):
    nd = len(shape) - 1
    kernel = per_axis(layer.kernel_size, nd, "kernel_size")
    stride = kernel if pool and layer.stride is None else per_axis(layer.stride, nd, "stride")
    dilation = per_axis(getattr(layer, "dilation", 1), nd, "dilation")
    if layer.type_name == "conv_transpose":
        pads = ((0, 0),) * nd if layer.padding == "valid" else tuple(
            p if isinstance(p, tuple) else (p, p) for p in per_axis(layer.padding, nd, "padding"))
    else:
        keff = tuple(effective_kernel(k, d) for k, d in zip(kernel, dilation))
        pads = resolve_padding(layer.padding, nd, tuple(shape[1:]), keff, stride)
    return kernel, stride, dilation, pads


def _desc(kernel, stride, pads, dilation):
    def ax(v):
        return str(v[0]) if len(set(v)) == 1 else "×".join(map(str, v))

    if all(a == b for a, b in pads):
        pad_text = f"P = {ax([p[0] for p in pads])}"
    else:  # the lectures' P_t, P_b, P_l, P_r
        (pt, pb), (pl, pr) = pads
        pad_text = f"P_t = {pt}, P_b = {pb}, P_l = {pl}, P_r = {pr}"
    text = f"F = {'×'.join(map(str, kernel))}, S = {ax(stride)}, {pad_text}"
    if any(d > 1 for d in dilation):
        text += f", d = {ax(dilation)}"
    return text


def _labels(prefix, shape, n=DEFAULT_NOTATION):
    c, h, w = shape
    return [n.cell(prefix, ch, i, j, c > 1, w) for ch in range(c) for i in range(h) for j in range(w)]


def _par(v) -> str:
    return f"({fmt(v)})" if v is not None and v < 0 else fmt(v)


def _first_entry(x_p, w, bias, stride, dilation, n=DEFAULT_NOTATION):
    """Z[1,1] = sum(W ⊙ X_{1,1}) written out, for one input and one output channel."""
    k = w[0][0]
    terms = []
    total = bias[0] if bias else 0
    for a, row in enumerate(k):
        for b, wv in enumerate(row):
            xv = x_p[0][a * dilation[0]][b * dilation[1]]
            terms.append(f"{_par(wv)}·{_par(xv)}")
            total += wv * xv
    extra = f" + {_par(bias[0])}" if bias else ""
    return (f"{n.cell(n.out, 0, 0, 0, width=len(x_p[0][0]))} = sum(W ⊙ X_({n.index(0)},{n.index(0)})) = {' + '.join(terms)}{extra} "
            f"= {fmt(total)}")


def run_graph(graph, x, *, matrix=False, backward=False, grad_output=None, grad_loc=None, results=None,
              notation=DEFAULT_NOTATION) -> Run:
    from ..graph import INPUT
    from . import steps

    n = notation
    values = {INPUT: x}
    blocks = []
    saved = {}
    backs = {}  # node name → the backward step of a layer computed in .steps
    env = steps.Env(results or {}, saved, matrix, n)
    first = Block(f"input X: {'×'.join(map(str, shape_of(x)))} (C×H×W)")
    first.tensor("X", x)
    blocks.append(first)
    for node in graph.nodes:
        layer = node.layer
        kind = layer.type_name
        ctx = dict(layer_index=node.index, layer_name=node.name, layer_type=node.type_name)
        handler = None if kind in SUPPORTED else steps.handler_for(kind)  # dedicated, or generic (its kernel)
        if len(node.inputs) != 1 and kind not in ("add", "concat", "multiply") and kind in steps.HANDLERS:
            raise SpecError("cnncalc run follows single-input layers only", loc=node.loc, **ctx)
        xs = [values[i] for i in node.inputs]
        xin = xs[0]
        shape = shape_of(xin)
        names = ["X" if i == INPUT else i for i in node.inputs]
        src = names[0] if len(names) == 1 else names
        if handler is not None:
            done = handler(node, xs, env, src)
            y, b = done.y, done.block
            backs[node.name] = done.backward
        elif kind == "relu":
            y = K.relu(xin)
            b = Block(f"{node.index}. {node.name}: relu, max(0, x) element-wise: {src} → {node.name}")
            steps.show(b, node.name, y, env.results[node.name].output_shape if node.name in env.results
                       else shape, env)
        elif kind == "conv" and any(Fraction(s).denominator != 1 for s in per_axis(layer.stride, 2, "stride")):
            y, b = _run_fractional(node, xin, src, env)
        elif kind in ("conv", "conv_transpose"):
            kernel, stride, dilation, pads = _geometry(layer, shape)
            w, bias = read_weights(node, shape[0], kernel)
            desc = _desc(kernel, stride, pads, dilation)
            if kind == "conv":
                y, b = _run_conv(node, xin, w, bias, kernel, stride, dilation, pads, desc, src, matrix, n)
            else:
                ops = per_axis(layer.output_padding, 2, "output_padding")
                y = K.conv_transpose2d(xin, w, bias, stride, pads, dilation, ops, layer.groups)
                b = Block(f"{node.index}. {node.name}: transposed convolution, {desc}: {src} "
                          f"{'×'.join(map(str, shape))} → {'×'.join(map(str, shape_of(y)))}")
                b.text("every input value scatters the kernel: Y[i·S + a·d − P, j·S + b·d − P] += X[i, j]·W[a, b]")
                _kernel_grids(b, w, transposed=True)
                c_shape, c_taps = T.conv(shape_of(y), w, stride, pads, dilation, layer.groups)
                t_taps = [[] for _ in range(T.size(shape_of(y)))]
                for k, row in enumerate(c_taps):  # Cᵀ: output cell o receives X[k]·w from every conv row k using it
                    for o, wt in row:
                        t_taps[o].append((k, wt))
                _feeds(b, (shape_of(y), t_taps), shape, n, bias=bias)
                if matrix and _too_large(b, T.size(shape) * T.size(shape_of(y)), "Cᵀ"):
                    pass
                elif matrix:
                    c_mat, _ = K.conv_matrix(shape_of(y), w, stride, pads, dilation, layer.groups)
                    ct = K.transpose(c_mat)
                    b.text(f"as a matrix product: the convolution C of the {'×'.join(map(str, shape_of(y)))} "
                           f"output back to {'×'.join(map(str, shape))} is {len(c_mat)}×{len(c_mat[0])}; "
                           f"the transposed convolution is Cᵀ ({len(ct)}×{len(ct[0])}):")
                    b.grid("Cᵀ", ct, _labels("Y", shape_of(y), n), _labels("X", shape, n))
                    xv = K.flatten(xin)
                    b.grid("x = vec(X)ᵀ", [xv], ["x"], _labels("X", shape, n))
                    prod = K.matvec(ct, xv)
                    if bias:
                        hw = len(prod) // len(bias)
                        prod = [v + bias[i // hw] for i, v in enumerate(prod)]
                    same = K.reshape(prod, shape_of(y)) == y
                    b.grid("Cᵀx" + (" + b" if bias else ""), [prod], ["Cᵀx"], _labels("Y", shape_of(y), n))
                    b.text(f"reshaped to {'×'.join(map(str, shape_of(y)))}: "
                           + ("equals Y ✓" if same else "DIFFERS from Y ✗"))
                b.tensor(node.name, y)
            saved[node.name] = (xin, w, stride, pads, dilation)
        else:  # pooling
            kernel, stride, dilation, pads = _geometry(layer, shape, pool=True)
            desc = _desc(kernel, stride, pads, dilation)
            if kind == "max_pool":
                y, idx, pos = K.max_pool2d(xin, kernel, stride, pads, dilation, layer.ceil_mode)
                b = Block(f"{node.index}. {node.name}: max pooling, {desc}: {src} {'×'.join(map(str, shape))} → "
                          f"{'×'.join(map(str, shape_of(y)))}")
                b.text(f"each window's maximum; index = position of the maximiser inside its window, numbered "
                       f"1..{kernel[0] * kernel[1]} row by row (the first one on ties)")
                b.grid("window index numbering", [[a * kernel[1] + c + 1 for c in range(kernel[1])]
                                                  for a in range(kernel[0])])
                for c in range(len(y)):
                    suffix = f", channel {c + 1}" if len(y) > 1 else ""
                    b.grid(f"{node.name}{suffix}", y[c])
                    b.grid(f"index{suffix}", idx[c])
                saved[node.name] = (shape, pos)
            else:
                y = K.avg_pool2d(xin, kernel, stride, pads, layer.ceil_mode, layer.count_include_pad)
                b = Block(f"{node.index}. {node.name}: mean pooling, {desc}: {src} {'×'.join(map(str, shape))} → "
                          f"{'×'.join(map(str, shape_of(y)))}")
                cells = kernel[0] * kernel[1]
                b.text(f"each window's mean = a convolution with the uniform {kernel[0]}×{kernel[1]} kernel of "
                       f"1/{cells}" + (" (padded zeros count in the mean, PyTorch's default)"
                                       if any(p != (0, 0) for p in pads) else ""))
                out, taps = T.avg_pool(shape, kernel, stride, pads, shape_of(y)[1:], layer.count_include_pad)
                _feeds(b, (out, taps), shape, n)
                b.tensor(node.name, y)
                if matrix:
                    steps.show_matrix(b, taps, shape, out, T.flatten(xin), T.flatten(y), env)
                saved[node.name] = (shape, kernel, stride, pads)
        values[node.name] = y
        blocks.append(b)
    result = Run(blocks, {k: v for k, v in values.items() if k != INPUT}, notation=n)
    if backward:
        _backward(graph, values, saved, backs, grad_output, result, n, env.results)
    return result


def _run_fractional(node, xin, src, env):
    """The lectures' fractionally-strided convolution: Conv(X | W, S2/S1) = Conv(uSample(X | S1) | W, S2)."""
    from . import steps
    from . import taps as T

    layer = node.layer
    shape = shape_of(xin)
    strides = per_axis(layer.stride, 2, "stride")
    ups = tuple(Fraction(s).denominator for s in strides)
    downs = tuple(Fraction(s).numerator for s in strides)
    kernel, _, dilation, outs, pads, _ = layer._geometry(shape)
    w, bias = read_weights(node, shape[0], kernel)
    xu = K.upsample_zeros(xin, ups)
    y = K.conv2d(xu, w, bias, downs, pads, dilation, layer.groups)
    s_text = "×".join(str(Fraction(s)) for s in strides) if strides[0] != strides[1] else str(Fraction(strides[0]))
    up_text = "×".join(map(str, ups)) if ups[0] != ups[1] else str(ups[0])
    down_text = "×".join(map(str, downs)) if downs[0] != downs[1] else str(downs[0])
    b = Block(f"{node.index}. {node.name}: fractionally-strided convolution, S = {s_text}, "
              f"{_desc(kernel, downs, pads, dilation).replace('S = ', 'then S2 = ')}: {src} {'×'.join(map(str, shape))} → "
              f"{'×'.join(map(str, shape_of(y)))}")
    b.text(f"Conv(X | W, S = {s_text}) = Conv(uSample(X | {up_text}) | W"
           + (f", S = {down_text}" if downs != (1, 1) else "") + f"): first {ups[0] - 1} zero(s) between "
           "neighbouring values (upsampling is always done before the convolution), then a convolution"
           + (f" with stride {down_text} (downsampling after it)" if downs != (1, 1) else " with unit stride"))
    _kernel_grids(b, w)
    if bias:
        b.text("b = [" + ", ".join(fmt(v) for v in bias) + "]")
    b.tensor(f"uSample(X | {up_text})", xu)
    if any(p != (0, 0) for p in pads):
        b.tensor(f"uSample(X | {up_text}) zero-padded", K.pad2d(xu, pads))
    if downs != (1, 1):
        full = K.conv2d(xu, w, bias, (1, 1), pads, dilation, layer.groups)
        b.tensor("unit-stride convolution", full)
        b.text(f"downsampled by {down_text}: keep rows 1, 1 + {downs[0]}, … and columns 1, 1 + {downs[1]}, …")
    b.tensor(node.name, y)
    out_shape, taps = T.conv(shape, w, downs, pads, dilation, layer.groups, ups)
    b.text("which input cells feed which output (taps on inserted zeros and padding dropped):")
    for line in steps.feeds_lines(taps, shape, out_shape, env, y=env.notation.out):
        b.text("  " + line)
    if env.matrix:
        steps.show_matrix(b, taps, shape, out_shape, T.flatten(xin), T.flatten(y), env, name="C",
                          y=env.notation.out, bias=bias)
    env.saved[node.name] = ("fractional", xin, xu, w, downs, pads, dilation, ups)
    return y, b


def _kernel_grids(b, w, transposed=False):
    outer, inner = ("input", "output") if transposed else ("kernel", "channel")
    for o, ko in enumerate(w):
        for c, k in enumerate(ko):
            if len(w) == 1 and len(ko) == 1:
                b.grid("W", k)
            else:
                b.grid(f"W ({outer} {o + 1}, {inner} {c + 1})", k)


def _too_large(b, entries, name) -> bool:
    """Say so instead of printing a matrix past steps.MATRIX_LIMIT entries."""
    from .steps import MATRIX_LIMIT

    if entries <= MATRIX_LIMIT:
        return False
    b.text(f"as a matrix product: {name} has {entries:,} entries, too large to print (the limit is "
           f"{MATRIX_LIMIT:,}); its non-zero entries are the lines above")
    return True


def _feeds(b, out_taps, in_shape, n, y="Y", bias=None, what="which input cells feed which output"):
    """The 'which cells feed which output' lines of a layer given by its taps."""
    from .steps import feeds_lines

    out_shape, taps = out_taps
    b.text(f"{what}" + (" (plus the bias)" if bias else "") + ":")
    for line in feeds_lines(taps, in_shape, out_shape, n, y=y):
        b.text("  " + line)


def _run_conv(node, xin, w, bias, kernel, stride, dilation, pads, desc, src, matrix, n=DEFAULT_NOTATION):
    layer = node.layer
    shape = shape_of(xin)
    y = K.conv2d(xin, w, bias, stride, pads, dilation, layer.groups)
    b = Block(f"{node.index}. {node.name}: convolution (cross-correlation, no kernel flip), {desc}: {src} "
              f"{'×'.join(map(str, shape))} → {'×'.join(map(str, shape_of(y)))}")
    s_text = "×".join(map(str, stride)) if stride[0] != stride[1] else str(stride[0])
    b.text(f"Z = Conv(X | W, S = {s_text}):  Z[i, j] = sum(W ⊙ X_(i,j))"
           + (" + b" if bias else "") + ", X_(i,j) the window at rows 1 + (i − 1)·S …, columns 1 + (j − 1)·S …")
    _kernel_grids(b, w)
    if bias:
        b.text("b = [" + ", ".join(fmt(v) for v in bias) + "]")
    elif layer.bias:
        b.text("biases not given: taken as 0")
    if any(p != (0, 0) for p in pads):
        b.tensor("X zero-padded", K.pad2d(xin, pads))
    if len(w) == 1 and len(w[0]) == 1 and len(xin) == 1:
        b.text(_first_entry(K.pad2d(xin, pads), w, bias, stride, dilation, n))
    if stride != (1, 1):
        full = K.conv2d(xin, w, bias, (1, 1), pads, dilation, layer.groups)
        b.text(f"stride as downsampling: Conv(X | W, S) = dSample(Conv(X | W, 1) | S), keeping rows "
               f"1, 1 + {stride[0]}, … and columns 1, 1 + {stride[1]}, …")
        b.tensor("Conv(X | W, 1)", full)
        assert K.downsample(full, stride) == y
        b.tensor(f"{node.name} = dSample(·| {s_text})", y)
    else:
        b.tensor(node.name, y)
    _feeds(b, T.conv(shape, w, stride, pads, dilation, layer.groups), shape, n, n.out, bias)
    if matrix and _too_large(b, T.size(shape) * T.size(shape_of(y)), "C"):
        pass
    elif matrix:
        c_mat, out_shape = K.conv_matrix(shape, w, stride, pads, dilation, layer.groups)
        b.text(f"as a matrix product: C is {len(c_mat)}×{len(c_mat[0])} (one row per output value, the kernel "
               "shifted to that output's window; taps on padding dropped), x = vec(X) row by row")
        b.grid("C", c_mat, _labels(n.out, out_shape, n), _labels("X", shape, n))
        xv = K.flatten(xin)
        b.grid("x = vec(X)ᵀ", [xv], ["x"], _labels("X", shape, n))
        prod = K.matvec(c_mat, xv)
        if bias:
            hw = len(prod) // len(bias)
            prod = [v + bias[i // hw] for i, v in enumerate(prod)]
        b.grid("Cx" + (" + b" if bias else ""), [prod], ["Cx"], _labels(n.out, out_shape, n))
        same = K.reshape(prod, out_shape) == y
        b.text(f"reshaped to {'×'.join(map(str, out_shape))}: " + ("equals Z ✓" if same else "DIFFERS from Z ✗"))
        b.text(f"Cᵀ ({len(c_mat[0])}×{len(c_mat)}) maps a {'×'.join(map(str, out_shape))} map back to "
               f"{'×'.join(map(str, shape))}: the transposed convolution with the same kernel")
    return y, b


def read_grad(doc, shape):
    if "grad_output" not in doc:
        raise SpecError("--backward needs 'grad_output:' (∂L/∂output, shaped like the last layer's output) in the spec",
                        loc=doc.loc)
    loc = doc.loc_of("grad_output")
    t, s = parse_tensor(doc["grad_output"], loc, "grad_output")
    if len(s) == 1 and len(shape) == 1:  # a vector (after global pooling, flatten or dense)
        t, s = [[[v]] for v in t], tuple(s)
    else:
        t, s = _as_chw(t, s, loc, "grad_output")
    if tuple(s) != tuple(shape):
        raise SpecError(f"grad_output has shape {'×'.join(map(str, s))} but the network output is "
                        f"{'×'.join(map(str, shape))}", loc=loc, field="grad_output")
    return t, loc


def _written_out(x, w, dz, n=DEFAULT_NOTATION):
    """The lecture's δX and δW sums, one line per entry (one channel, stride 1, no dilation/padding)."""
    kh, kw = len(w[0][0]), len(w[0][0][0])
    h, wd = len(x[0]), len(x[0][0])
    ow = len(dz[0][0])
    terms = {}
    wterms = {}
    for i, row in enumerate(dz[0]):
        for j, _ in enumerate(row):
            for a in range(kh):
                for b in range(kw):
                    dzc = "δ" + n.cell(n.out, 0, i, j, width=ow)
                    terms.setdefault((i + a, j + b), []).append(f"{n.cell('W', 0, a, b, width=kw)}·{dzc}")
                    wterms.setdefault((a, b), []).append(f"{n.cell('X', 0, i + a, j + b, width=wd)}·{dzc}")
    lines = []
    for u in range(h):
        for v in range(wd):
            lines.append(f"δ{n.cell('X', 0, u, v, width=wd)} = " + " + ".join(terms.get((u, v), ["0"])))
    for (a, b), t in sorted(wterms.items()):
        lines.append(f"δ{n.cell('W', 0, a, b, width=kw)} = " + " + ".join(t))
    return lines


def _add(a, b):
    return [[[u + v for u, v in zip(ra, rb)] for ra, rb in zip(ca, cb)] for ca, cb in zip(a, b)]


def _backward(graph, values, saved, backs, grad, result, n=DEFAULT_NOTATION, results=None):
    """From the last layer back to the input. Gradients arriving at a layer from several
    consumers add up; a layer that does not lead to the output gets none."""
    from ..graph import INPUT
    from . import steps

    blocks = []
    pending = {graph.nodes[-1].name: grad}
    for node in reversed(graph.nodes):
        layer = node.layer
        kind = layer.type_name
        b = Block(f"backward through {node.index}. {node.name} ({node.type_name})")
        blocks.append(b)
        if node.name not in pending:
            b.text("does not lead to the network output: no gradient reaches it")
            continue
        dy = pending.pop(node.name)
        xin = values[node.inputs[0]]
        arriving = f"δ{n.out}" if kind in ("conv", "locally_connected") else "δ" + getattr(
            backs.get(node.name), "out_name", "Y")
        shown = results[node.name].output_shape if results and node.name in results else None
        if shown and len(shown) == 1:
            flat = [v for ch in dy for row in ch for v in row]
            b.grid(f"{arriving} = ∂L/∂{node.name} (arriving)", [flat], [""], [n.index(k) for k in range(len(flat))])
        else:
            b.tensor(f"{arriving} = ∂L/∂{node.name} (arriving)", dy)
        if node.name in backs:
            if backs[node.name] is None:
                raise SpecError(f"--backward does not go through {node.type_name} layers", loc=node.loc,
                                layer_index=node.index, layer_name=node.name, layer_type=node.type_name)
            dxs = backs[node.name](dy, b)
        elif kind == "relu":
            dxs = [K.relu_backward(xin, dy)]
            b.text("δx = δy where x > 0, else 0")
        elif kind == "conv" and saved[node.name][0] == "fractional":
            dxs = [_fractional_backward(b, node, saved[node.name], dy, n)]
        elif kind == "conv":
            x, w, stride, pads, dilation = saved[node.name]
            dx, dw, db, inter = K.conv2d_backward(x, w, dy, stride, pads, dilation, layer.groups)
            if stride != (1, 1):
                b.text("the stride was a downsampling, so its backward is an upsampling: zeros between the values")
                b.tensor(f"uSample(δ{n.out} | {stride[0]})", inter["upsampled"])
            b.text(f"δX = full convolution of δ{n.out} with the kernel flipped (rotated 180°)"
                   + (", cropped by the padding" if any(p != (0, 0) for p in pads) else ""))
            for o, ko in enumerate(inter["flipped"]):
                for c, k in enumerate(ko):
                    b.grid("rot180(W)" if len(w) == 1 and len(ko) == 1 else f"rot180(W) (kernel {o + 1}, channel {c + 1})", k)
            b.tensor("δX", dx)
            b.text("δW = Conv(X" + (" padded" if any(p != (0, 0) for p in pads) else "")
                   + f" | δ{n.out}): each weight collects input × gradient over every position it touched")
            for o, ko in enumerate(dw):
                for c, k in enumerate(ko):
                    b.grid("δW" if len(dw) == 1 and len(ko) == 1 else f"δW (kernel {o + 1}, channel {c + 1})", k)
            if layer.bias:
                b.text(f"δb = Σ δ{n.out} per output channel = [" + ", ".join(fmt(v) for v in db) + "]")
            if (len(w) == 1 and len(w[0]) == 1 and stride == (1, 1) and dilation == (1, 1)
                    and all(p == (0, 0) for p in pads) and len(x[0]) * len(x[0][0]) <= 25):
                b.text("written out (as in the lecture notes):")
                for line in _written_out(x, w, dy, n):
                    b.text("  " + line)
            dxs = [dx]
        elif kind == "conv_transpose":
            dxs = [_tconv_backward(b, node, saved[node.name], dy)]
        elif kind == "max_pool":
            shape, pos = saved[node.name]
            dxs = [K.max_pool2d_backward(shape, pos, dy)]
            b.text("each gradient goes to its window's maximiser (the index map), 0 elsewhere; "
                   "shared maximisers add up")
        else:  # avg_pool
            shape, kernel, stride, pads = saved[node.name]
            dxs = [K.avg_pool2d_backward(shape, kernel, stride, dy, pads, layer.count_include_pad)]
            b.text(f"each gradient is spread evenly over its window: δy / {kernel[0] * kernel[1]} to every cell")
        if node.name in backs or kind != "conv" or saved[node.name][0] == "fractional":
            for inp, dx in zip(node.inputs, dxs):
                label = "δX" if inp == INPUT else f"δ{inp}"
                if len(node.inputs) > 1 or node.name in backs:
                    label = f"{label} (to the input{'' if len(node.inputs) == 1 else ' ' + inp})"
                label = label if node.name in backs or len(node.inputs) > 1 else "δ(input)"
                in_shape = results[inp].output_shape if results and inp in results else shape_of(dx)
                if len(in_shape) == 1:
                    flat = [v for ch in dx for row in ch for v in row]
                    b.grid(label, [flat], [""], [n.index(k) for k in range(len(flat))])
                else:
                    b.tensor(label, dx)
        for inp, dx in zip(node.inputs, dxs):
            pending[inp] = _add(pending[inp], dx) if inp in pending else dx
        result.grads[node.name] = dxs[0]
    result.input_grad = pending.get(INPUT)
    result.blocks.extend(blocks)


def _fractional_backward(b, node, saved, dz, n):
    _, x, xu, w, downs, pads, dilation, ups = saved
    dxu, dw, db, inter = K.conv2d_backward(xu, w, dz, downs, pads, dilation, node.layer.groups)
    up_text = "×".join(map(str, ups)) if ups[0] != ups[1] else str(ups[0])
    if downs != (1, 1):
        b.text("the downsampling after the convolution: its backward upsamples the gradient")
        b.tensor(f"uSample(δ{n.out} | {downs[0]})", inter["upsampled"])
    b.text(f"δ(uSample(X)) = full convolution of δ{n.out} with the kernel rotated 180°"
           + (", cropped by the padding" if any(p != (0, 0) for p in pads) else ""))
    b.tensor(f"δ uSample(X | {up_text})", dxu)
    b.text(f"the upsampling before the convolution: its backward is a downsampling, δX = dSample(· | {up_text}) "
           "(the gradients at the inserted zeros go nowhere)")
    dx = K.downsample(dxu, ups)
    b.text(f"δW = Conv(uSample(X | {up_text}) | δ{n.out}): each weight collects input × gradient")
    for o, ko in enumerate(dw):
        for c, k in enumerate(ko):
            b.grid("δW" if len(dw) == 1 and len(ko) == 1 else f"δW (kernel {o + 1}, channel {c + 1})", k)
    if node.layer.bias:
        b.text(f"δb = Σ δ{n.out} per output channel = [" + ", ".join(fmt(v) for v in db) + "]")
    return dx


def _tconv_backward(b, node, saved, dy):
    """A transposed convolution y = Cᵀx: δx = C δy (the convolution it transposes), δW by scattering."""
    from . import taps as T

    x, w, stride, pads, dilation = saved
    in_shape = shape_of(x)
    out, taps = T.conv(shape_of(dy), w, stride, pads, dilation, node.layer.groups)
    assert out == in_shape
    dx = T.reshape(T.apply(taps, T.flatten(dy)), in_shape)
    b.text("δX = Conv(δY | W, S): the backward of a transposed convolution is the convolution it transposes "
           "(δx = C δy)")
    (sh, sw), (dh, dw_), ((pt, _), (pl, _)) = stride, dilation, pads
    c_in, h, wd = in_shape
    cg_out, kh, kw = len(w[0]), len(w[0][0]), len(w[0][0][0])
    groups = node.layer.groups
    per = c_in // groups
    oh, ow = len(dy[0]), len(dy[0][0])
    dW = [[[[0] * kw for _ in range(kh)] for _ in range(cg_out)] for _ in range(c_in)]
    for c in range(c_in):
        g = c // per
        for oc in range(cg_out):
            o = g * cg_out + oc
            for a in range(kh):
                for bb in range(kw):
                    acc = 0
                    for i in range(h):
                        u = i * sh + a * dh - pt
                        if not 0 <= u < oh:
                            continue
                        for j in range(wd):
                            v = j * sw + bb * dw_ - pl
                            if 0 <= v < ow:
                                acc += x[c][i][j] * dy[o][u][v]
                    dW[c][oc][a][bb] = acc
    b.text("δW[a, b] = Σ X[i, j]·δY[i·S + a·d − P, j·S + b·d − P]: each weight collects input × the gradient "
           "where it landed")
    for c, kc in enumerate(dW):
        for o, k in enumerate(kc):
            b.grid("δW" if len(dW) == 1 and len(kc) == 1 else f"δW (input {c + 1}, output {o + 1})", k)
    if node.layer.bias:
        b.text("δb = Σ δY per output channel = [" + ", ".join(fmt(sum(sum(r) for r in ch)) for ch in dy) + "]")
    return dx


def render(run: Run) -> list[str]:
    lines = []
    for block in run.blocks:
        lines.append("")
        lines.append(block.heading)
        for item in block.items:
            if item[0] == "text":
                lines.append("  " + item[1])
            else:
                _, title, m, rows, cols = item
                lines.append(f"  {title}:")
                lines.extend(grid_lines(m, rows, cols, base=run.notation.base))
    return lines


#: ``cnncalc run`` prints every number it computes, exactly (Fractions): a
#: worked example is a lecture-sized network. Beyond these it refuses, before
#: computing anything, with the size it would have printed.
MAX_RUN_CELLS = 20_000  # numbers printed: the input and every feature map (and gradients)
MAX_RUN_MULTS = 200_000  # exact multiplications (a Fraction product costs about a microsecond)
MAX_MATRIX_CELLS = 10_000  # entries of one convolution matrix C printed by --matrix (100 × 100)


def check_run_size(analysis, *, matrix: bool, backward: bool, loc) -> None:
    """SpecError if the worked example is too large to compute exactly and print."""
    from math import prod

    factor = 2 if backward else 1
    cells = factor * (prod(analysis.input_shape) + sum(prod(r.output_shape) for r in analysis.layers))
    mults = (3 if backward else 1) * analysis.totals.multiplications
    if cells > MAX_RUN_CELLS:
        raise SpecError(f"cnncalc run would print {cells:,} numbers (the input and every feature map"
                        f"{' and gradient' if backward else ''}); worked examples are limited to "
                        f"{MAX_RUN_CELLS:,}: use a smaller 'values' matrix, or cnncalc analyze for the shapes",
                        loc=loc, field="values")
    if mults > MAX_RUN_MULTS:
        raise SpecError(f"cnncalc run would compute {mults:,} exact multiplications; worked examples are "
                        f"limited to {MAX_RUN_MULTS:,}: use fewer channels or a smaller 'values' matrix",
                        loc=loc, field="values")
    if matrix:
        for r in analysis.layers:
            if r.type_name in ("conv", "conv_transpose"):
                size = prod(r.output_shape) * sum(prod(s) for s in r.input_shapes)
                if size > MAX_MATRIX_CELLS:
                    raise SpecError(
                        f"--matrix would print layer {r.node.index} '{r.name}' as a "
                        f"{prod(r.output_shape):,}×{sum(prod(s) for s in r.input_shapes):,} matrix "
                        f"({size:,} entries); --matrix is limited to {MAX_MATRIX_CELLS:,} entries per layer",
                        loc=r.node.loc, layer_index=r.node.index, layer_name=r.name, layer_type=r.type_name)


def load_and_run(path, *, matrix=False, backward=False, notation="default") -> Run:
    """Read a worked-example spec and run it (exact numbers)."""
    from ..analysis import analyze
    from ..spec import parse_spec
    from ..yamlio import YMap, load_file

    doc = load_file(path)
    if not isinstance(doc, YMap):
        return parse_spec(doc, str(path))  # raises the spec loader's message
    if "values" not in doc:
        raise SpecError("cnncalc run needs the input numbers: add 'values: [[...], ...]' (a matrix per channel)",
                        loc=doc.loc, field="values")
    declared = tuple(doc["input"]) if "input" in doc and isinstance(doc["input"], list) else None
    vloc = doc.loc_of("values")
    t, vshape = parse_tensor(doc["values"], vloc, "values")
    # a 1D signal: a flat list, or one row per channel when 'input' says [C, L]
    one_d = len(vshape) == 1 or (len(vshape) == 2 and declared is not None and len(declared) == 2)
    if one_d:
        rows = [t] if len(vshape) == 1 else t
        x, shape = [[r] for r in rows], (len(rows), len(rows[0]))
    else:
        x, shape = _as_chw(t, vshape, vloc, "values")
    if declared is not None and declared != tuple(shape):
        raise SpecError(f"'values' is {'×'.join(map(str, shape))} ({'C×L' if one_d else 'C×H×W'}) but 'input' "
                        f"says {'×'.join(map(str, declared))}", loc=vloc, field="values")
    graph = parse_spec(doc, str(path), None if "input" in doc else shape)
    analysis = analyze(graph)  # shapes checked with file, line and layer before any number is computed
    check_run_size(analysis, matrix=matrix, backward=backward, loc=doc.loc_of("values"))
    grad = grad_loc = None
    if backward:
        out = analysis.layers[-1].output_shape
        if one_d and len(out) == 2:
            grad, grad_loc = _read_grad_1d(doc, out)
        else:
            grad, grad_loc = read_grad(doc, out)
    if one_d:
        from .lift import lift_graph

        graph = lift_graph(graph, {r.name: r for r in analysis.layers})
        analysis = analyze(graph)
    results = {r.name: r for r in analysis.layers}
    if isinstance(notation, str):
        notation = NOTATIONS[notation]
    run = run_graph(graph, x, matrix=matrix, backward=backward, grad_output=grad, grad_loc=grad_loc,
                    results=results, notation=notation)
    if one_d:
        run.blocks[0].heading += "; a 1D signal, computed as a map of one row"
    return run


def _read_grad_1d(doc, shape):
    """grad_output of a 1D network: one row per channel (a flat list for one channel), as [C][1][L]."""
    if "grad_output" not in doc:
        return read_grad(doc, shape)  # its message
    loc = doc.loc_of("grad_output")
    t, s = parse_tensor(doc["grad_output"], loc, "grad_output")
    if len(s) == 1:
        t, s = [t], (1, *s)
    if tuple(s) != tuple(shape):
        raise SpecError(f"grad_output has shape {'×'.join(map(str, s))} but the network output is "
                        f"{'×'.join(map(str, shape))} (C×L)", loc=loc, field="grad_output")
    return [[r] for r in t], loc
