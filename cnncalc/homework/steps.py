"""``cnncalc run`` for every layer beyond convolution, max/mean pooling and ReLU.

One handler per layer type (a registry, not an if/elif chain): it computes the
layer's output exactly, writes the working into a :class:`~.worked.Block`
(which input cells feed each output, the switches of a max, the lecture's rule)
and returns the backward step beside it (micrograd's habit): a function from
δ(output) to δ(input) that writes its own working. Linear layers go through
:mod:`.taps`, so their matrix (``--matrix``), their forward and their backward
(δx = Mᵀ δy) come from one list of taps and cannot disagree.

Numbers stay exact (ints and Fractions). The few layers whose values are
irrational (an L2 norm that is not a perfect square, sigmoid, tanh…) round to
6 decimals, mark the grid with ≈ and say so.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Callable

from ..errors import SpecError
from ..layers.fields import per_axis
from ..records import field, record
from . import taps as T

#: at most this many entries in a printed matrix (M is out × in); bigger ones are described, not printed
MATRIX_LIMIT = 4096
#: at most this many "Y[i,j] = …" lines per layer
FEEDS_LIMIT = 16
APPROX_DECIMALS = 6


@record(frozen=False)
class Env:
    """What a handler may use: the analysis of every layer, earlier layers' saved state, options."""

    results: dict  # node name → LayerResult (shapes as the analysis has them)
    saved: dict  # node name → whatever its forward kept (max_pool: (shape, switches))
    matrix: bool
    notation: object  # .worked.Notation


@record(frozen=False)
class Done:
    y: list  # [C][H][W]
    block: object
    backward: Callable | None = None  # (dy, block) → [δ(input) per input]
    approx: bool = False
    extra: dict = field(default_factory=dict)


HANDLERS: dict[str, Callable] = {}


def handles(*names):
    def register(fn):
        for n in names:
            HANDLERS[n] = fn
        return fn
    return register


def handler_for(type_name: str) -> Callable:
    """The dedicated handler of a layer type, or the generic step through its executor kernel
    (:mod:`.generic`): a dedicated handler is better (the working, exact) but optional."""
    if type_name in HANDLERS:
        return HANDLERS[type_name]
    from . import generic

    return generic.step


def _ctx(node):
    return dict(layer_index=node.index, layer_name=node.name, layer_type=node.type_name)


def _dims(shape) -> str:
    return "×".join(map(str, shape))


def _shape3(t):
    return (len(t), len(t[0]), len(t[0][0]))


def _block(node, what, src, in_shape, out_shape):
    from .worked import Block

    return Block(f"{node.index}. {node.name}: {what}: {src} {_dims(in_shape)} → {_dims(out_shape)}")


def show(block, title, t, shape, env):
    """A tensor as grids (one per channel), or as one row when the analysis says it is a vector."""
    if len(shape) == 1:
        v = T.flatten(t)
        block.grid(title, [v], [""], [env.notation.index(k) for k in range(len(v))])
    else:
        block.tensor(title, t)


# -- linear layers: one list of taps for forward, matrix, feeds and backward ----------------------------


def is_vector(shape) -> bool:
    """A (C, 1, 1) tensor is shown as a vector of C values."""
    return len(shape) == 1 or (tuple(shape[1:]) == (1, 1) and shape[0] > 1)


def cell_label(n, name, shape, k) -> str:
    """The label of flat entry k of a tensor of this shape, in notation n."""
    if is_vector(shape):
        return n.vec(name, k)
    return n.cell(name, *T.cell(shape, k), multi=shape[0] > 1, width=shape[2])


def feeds_lines(taps, in_shape, out_shape, env, *, x="X", y="Y") -> list[str]:
    """"Y[1,1] = X[1,1] + 1/4·X[1,2]" per output (the first FEEDS_LIMIT); ``env`` or a notation."""
    from .worked import fmt

    n = getattr(env, "notation", env)
    lines = []
    for o, row in enumerate(taps[:FEEDS_LIMIT]):
        text = ""
        for t, (k, wt) in enumerate(row):
            cell = cell_label(n, x, in_shape, k)
            sign = "−" if wt < 0 else "+"
            mag = -wt if wt < 0 else wt
            term = cell if mag == 1 else f"{fmt(mag)}·{cell}"
            text += (("−" + term) if sign == "−" else term) if t == 0 else f" {sign} {term}"
        lines.append(f"{cell_label(n, y, out_shape, o)} = " + (text or "0"))
    if len(taps) > FEEDS_LIMIT:
        lines.append(f"… ({len(taps) - FEEDS_LIMIT} more outputs, the same way)")
    return lines


def show_matrix(block, taps, in_shape, out_shape, x_flat, y_flat, env, *, name="M", x="X", y="Y", bias=None):
    """M (one row per output value, one column per input value, row by row), x, Mx and the check."""
    rows, cols = len(taps), T.size(in_shape)
    n = env.notation
    if rows * cols > MATRIX_LIMIT:
        block.text(f"as a matrix product: {name} is {rows}×{cols}, too large to print ({rows * cols:,} entries; "
                   f"the limit is {MATRIX_LIMIT:,}); its non-zero entries are the lines above")
        return
    block.text(f"as a matrix product: {name} is {rows}×{cols} (one row per output value, one column per input "
               f"value, both flattened row by row), x = vec({x})")
    m = T.dense_matrix(taps, cols)
    in_labels = [cell_label(n, x, in_shape, k) for k in range(cols)]
    out_labels = [cell_label(n, y, out_shape, o) for o in range(rows)]
    block.grid(name, m, out_labels, in_labels)
    block.grid(f"x = vec({x})ᵀ", [x_flat], ["x"], in_labels)
    prod = T.apply(taps, x_flat)
    if bias:  # one per output channel, or one per output value (locally connected)
        per = len(prod) // len(bias)
        prod = [v + bias[o // per] for o, v in enumerate(prod)]
    block.grid(f"{name}x" + (" + b" if bias else ""), [prod], [f"{name}x"], out_labels)
    same = prod == y_flat
    block.text(f"reshaped to {_dims(out_shape)}: " + ("equals " + y + " ✓" if same else "DIFFERS from " + y + " ✗"))


def linear(node, x, in_shape, out_shape, taps, env, *, what, src, rule, back_rule, shown_shape=None,
           back_extra=None, y_name=None, prelude=None):
    """Forward through a linear layer given by its taps, with its working; backward δx = Mᵀ δy."""
    xf = T.flatten(x)
    yf = T.apply(taps, xf)
    y = T.reshape(yf, out_shape)
    shown = shown_shape or out_shape
    b = _block(node, what, src, in_shape if len(in_shape) else in_shape, shown)
    for line in rule:
        b.text(line)
    if prelude:
        prelude(b)
    b.text("which input cells feed which output:")
    for line in feeds_lines(taps, in_shape, out_shape, env, y=y_name or "Y"):
        b.text("  " + line)
    show(b, node.name, y, shown, env)
    if env.matrix:
        show_matrix(b, taps, in_shape, out_shape, xf, yf, env, y=y_name or "Y")

    def backward(dy, block):
        dyf = T.flatten(dy)
        dx = T.reshape(T.apply_transposed(taps, dyf, T.size(in_shape)), in_shape)
        for line in back_rule:
            block.text(line)
        if back_extra:
            back_extra(dy, dx, block)
        return [dx]

    backward.out_name = y_name or "Y"  # what the block called the output: δZ or δY arrives
    return Done(y, b, backward)


# -- resampling ----------------------------------------------------------------------------------------------


def _factor_text(f):
    return str(f[0]) if f[0] == f[1] else "×".join(map(str, f))


@handles("downsample")
def downsample(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    f = per_axis(node.layer.factor, 2, "factor")
    out, taps = T.downsample(shape, f)
    ft = _factor_text(f)

    def check(dy, dx, block):
        from . import kernels as K

        up = K.upsample_zeros(dy, f)
        up = [[(r + [0] * shape[2])[:shape[2]] for r in ch] + [[0] * shape[2]] * (shape[1] - len(ch))
              for ch in up]  # the input may be longer than (o − 1)·f + 1: zeros after the last kept cell
        block.tensor(f"uSample(δZ | {ft})", up)
        block.text("= Mᵀ·δz ✓" if up == dx else "≠ Mᵀ·δz ✗")

    return linear(node, x, shape, out, taps, env, what=f"downsampling dSample(·| {ft})", src=src,
                  rule=[f"dSample(X | {ft}): keep rows 1, 1 + {f[0]}, … and columns 1, 1 + {f[1]}, …; the other "
                        f"cells are dropped (o = ⌈i / f⌉)"],
                  back_rule=[f"the backward of a downsampling is an upsampling with the same factor: "
                             f"δX = uSample(δZ | {ft}), zeros where the dropped cells were"],
                  back_extra=check, y_name="Z")


@handles("upsample")
def upsample(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    layer = node.layer
    f = per_axis(layer.scale_factor, 2, "scale_factor")
    ft = _factor_text(f)
    if layer.mode == "zeros":
        out, taps = T.upsample_zeros(shape, f)

        def check(dy, dx, block):
            from . import kernels as K

            down = K.downsample(dy, f)
            block.tensor(f"dSample(δZ | {ft})", down)
            block.text("= Mᵀ·δz ✓" if down == dx else "≠ Mᵀ·δz ✗")

        return linear(node, x, shape, out, taps, env, what=f"upsampling uSample(·| {ft}) (zeros)", src=src,
                      rule=[f"uSample(X | {ft}): {f[0] - 1} row(s) and {f[1] - 1} column(s) of zeros between "
                            "neighbouring values (o = (i − 1)·f + 1)"],
                      back_rule=[f"the backward of an upsampling is a downsampling with the same factor: "
                                 f"δX = dSample(δZ | {ft}); the gradients at the inserted zeros go nowhere"],
                      back_extra=check, y_name="Z")
    if layer.mode == "nearest":
        out, taps = T.nearest(shape, f)
        return linear(node, x, shape, out, taps, env, what=f"nearest-neighbour upsampling ×{ft}", src=src,
                      rule=[f"every value copied into a {f[0]}×{f[1]} block (o = i·f)"],
                      back_rule=[f"δX[i, j] = the sum of δY over the {f[0]}×{f[1]} block that copied X[i, j]"])
    out, taps = T.bilinear(shape, f)
    return linear(node, x, shape, out, taps, env, what=f"{layer.mode} upsampling ×{ft} (PyTorch, align_corners "
                  "false)", src=src,
                  rule=["output (i, j) samples the input at ((i + ½)/f − ½, (j + ½)/f − ½) (clamped at 0), a "
                        "weighted mean of the 2×2 nearest cells, weights the distances (PyTorch's rule)"],
                  back_rule=["δX = Mᵀ δY: each output's gradient goes back to the cells it interpolated, with "
                             "the same weights"])


@handles("unpool")
def unpool(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    k = per_axis(node.layer.kernel_size, 2, "kernel_size")
    kt = _factor_text(k)
    if node.layer.mode == "nearest":
        out, taps = T.nearest(shape, k)
        return linear(node, x, shape, out, taps, env, what=f"nearest-neighbour unpooling {k[0]}×{k[1]}", src=src,
                      rule=[f"every value fills its {k[0]}×{k[1]} block (copies)"],
                      back_rule=[f"δX[i, j] = the sum of δY over its {k[0]}×{k[1]} block"])
    out, taps = T.bed_of_nails(shape, k)

    def check(dy, dx, block):
        from . import kernels as K

        down = K.downsample(dy, k)
        block.tensor(f"dSample(δY | {kt})", down)
        block.text("= Mᵀ·δy ✓" if down == dx else "≠ Mᵀ·δy ✗")

    return linear(node, x, shape, out, taps, env, what=f"bed-of-nails unpooling {k[0]}×{k[1]}", src=src,
                  rule=[f"every value in the first (top-left) cell of its {k[0]}×{k[1]} block, zeros elsewhere"],
                  back_rule=["δX[i, j] = δY at the top-left cell of its block (the other cells held zeros)"],
                  back_extra=check)


@handles("max_unpool")
def max_unpool(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    pool = node.layer.pool
    if pool not in env.saved or not isinstance(env.saved[pool], tuple) or len(env.saved[pool]) != 2:
        raise SpecError(f"max_unpool needs the switches of max_pool '{pool}', computed earlier in this run",
                        loc=node.loc_of("pool"), field="pool", **_ctx(node))
    pool_in, switches = env.saved[pool]
    taps = T.max_unpool(shape, pool_in, switches)
    n = env.notation
    grid = [[[n.pos(*p) for p in row] for row in ch] for ch in switches]

    def show_switches(b):
        for c, m in enumerate(grid):
            b.grid(f"switches of '{pool}' (where each maximum was)" + (f", channel {c + 1}" if len(grid) > 1 else ""),
                   m)

    done = linear(node, x, shape, pool_in, taps, env, what=f"max-unpooling with the switches of '{pool}'", src=src,
                  rule=[f"each value goes back to the cell where max_pool '{pool}' found its maximum; zeros "
                        "elsewhere (the later value wins where windows shared a maximum, as in PyTorch)"],
                  back_rule=["δX[i, j] = δY at the switch of (i, j): the gradient is read back from where the "
                             "value was put"], prelude=show_switches)
    return done


# -- pooling without weights ---------------------------------------------------------------------------------------


def _routed(taps, in_shape, what):
    def backward(dy, block):
        block.text(what)
        return [T.reshape(T.apply_transposed(taps, T.flatten(dy), T.size(in_shape)), in_shape)]
    return backward


@handles("global_avg_pool")
def global_avg(node, xs, env, src):
    x = xs[0]
    c, h, w = shape = _shape3(x)
    _, taps = T.avg_pool(shape, (h, w), (h, w), ((0, 0), (0, 0)), (1, 1))
    shown = env.results[node.name].output_shape
    return linear(node, x, shape, (c, 1, 1), taps, env, what="global average pooling", src=src, shown_shape=shown,
                  rule=[f"y_c = the mean of the whole {h}×{w} map of channel c: (1/{h * w})·Σ X_c"],
                  back_rule=[f"δX_c = δy_c / {h * w} in every cell of channel c"])


def _select(node, x, env, src, out, taps, *, what, rule, back, shown=None):
    from .worked import Block

    shape = _shape3(x)
    xf = T.flatten(x)
    y = T.reshape(T.apply(taps, xf), out)
    shown = shown or out
    b = Block(f"{node.index}. {node.name}: {what}: {src} {_dims(shape)} → {_dims(shown)}")
    for line in rule:
        b.text(line)
    b.text("which input cell each output took (the switches, kept for the backward pass):")
    for line in feeds_lines(taps, shape, out, env):
        b.text("  " + line)
    show(b, node.name, y, shown, env)
    return Done(y, b, _routed(taps, shape, back))


@handles("global_max_pool")
def global_max(node, xs, env, src):
    x = xs[0]
    out, taps, _ = T.global_max(x)
    return _select(node, x, env, src, out, taps, what="global max pooling",
                   rule=["y_c = the maximum of the whole map of channel c (the first one on ties)"],
                   back="δX_c = δy_c at the maximiser of channel c, 0 elsewhere",
                   shown=env.results[node.name].output_shape)


@handles("adaptive_max_pool")
def adaptive_max(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    outs = tuple(node.layer._sizes(shape))
    out, taps, _ = T.adaptive_max(x, outs)
    return _select(node, x, env, src, out, taps, what=f"adaptive max pooling to {_dims(outs)}",
                   rule=["output i along an axis of n cells takes the maximum of cells ⌊i·n/o⌋ … ⌈(i + 1)·n/o⌉ − 1"],
                   back="each gradient goes to its window's maximiser, 0 elsewhere; shared maximisers add up")


@handles("adaptive_avg_pool")
def adaptive_avg(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    outs = tuple(node.layer._sizes(shape))
    out, taps = T.adaptive_avg(shape, outs)
    return linear(node, x, shape, out, taps, env, what=f"adaptive average pooling to {_dims(outs)}", src=src,
                  rule=["output i along an axis of n cells is the mean of cells ⌊i·n/o⌋ … ⌈(i + 1)·n/o⌉ − 1"],
                  back_rule=["each gradient is spread evenly over its window"])


@handles("kmax_pool")
def kmax_pool(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    axis = node.layer._axis(shape)
    k = node.layer.k
    out, taps, _ = T.kmax(x, k, axis)
    along = "column" if axis == 0 else "row"
    return _select(node, x, env, src, out, taps, what=f"K-max pooling, K = {k}, along each {along}",
                   rule=[f"each {along} keeps its {k} largest values in their original order (the earlier one "
                         "first on ties)"],
                   back=f"each gradient goes back to the cell its value came from; the other {shape[1 + axis] - k} "
                        f"cells of each {along} get 0")


def _root(q: Fraction, p: int):
    """The exact p-th root of q ≥ 0 when it is rational, else None."""
    def iroot(n):
        r = round(n ** (1.0 / p)) if n < 2**1000 else math.isqrt(n) if p == 2 else None
        if r is None:
            return None
        for c in (r - 1, r, r + 1):
            if c >= 0 and c ** p == n:
                return c
        return None

    a, b = iroot(q.numerator), iroot(q.denominator)
    return None if a is None or b is None else Fraction(a, b)


def rounded(v: float) -> Fraction:
    return Fraction(Decimal(repr(v)).quantize(Decimal(1).scaleb(-APPROX_DECIMALS)))


@handles("lp_pool")
def lp_pool(node, xs, env, src):
    from .worked import Block, fmt

    layer = node.layer
    x = xs[0]
    c, h, w = shape = _shape3(x)
    p = Fraction(repr(layer.norm_type)) if isinstance(layer.norm_type, float) else Fraction(layer.norm_type)
    kernel = per_axis(layer.kernel_size, 2, "kernel_size")
    strides, outs, pads, _ = layer._geometry(shape)
    approx = False
    y = [[[0] * outs[1] for _ in range(outs[0])] for _ in range(c)]
    sums = [[[0] * outs[1] for _ in range(outs[0])] for _ in range(c)]
    cells = {}
    for ch in range(c):
        for i in range(outs[0]):
            rows, _ = T.window_cells(h, i, kernel[0], strides[0], *pads[0])
            for j in range(outs[1]):
                cols, _ = T.window_cells(w, j, kernel[1], strides[1], *pads[1])
                cells[(i, j)] = [(u, v) for u in rows for v in cols]
                if p.denominator == 1:
                    s = sum((Fraction(x[ch][u][v]) ** int(p) for u, v in cells[(i, j)]), Fraction(0))
                    sums[ch][i][j] = s
                    r = Fraction(0) if s <= 0 else _root(s, int(p))
                else:
                    s = sum(float(x[ch][u][v]) ** float(p) for u, v in cells[(i, j)])
                    sums[ch][i][j] = rounded(s)
                    r = None
                if r is None:
                    approx = True
                    try:
                        r = rounded(float(s) ** (1 / float(p))) if s > 0 else Fraction(0)
                    except OverflowError:
                        raise SpecError(f"the window sums of x^{p} are too large to take an approximate root of",
                                        loc=node.loc, **_ctx(node)) from None
                y[ch][i][j] = r
    pt = fmt(p)
    b = Block(f"{node.index}. {node.name}: L{pt} pooling, F = {kernel[0]}×{kernel[1]}, S = {_factor_text(strides)}: "
              f"{src} {_dims(shape)} → {_dims((c, *outs))}")
    b.text(f"each window's ℓ{pt} norm: Y = (Σ x^{pt})^(1/{pt})" + (" (= √(Σ x²), the lectures' ℓ2 pooling)"
                                                                   if p == 2 else ""))
    b.tensor(f"Σ x^{pt} per window", sums)
    if approx:
        b.text(f"≈: roots that are not rational are rounded to {APPROX_DECIMALS} decimals")
    b.tensor(node.name + (" (≈)" if approx else ""), y)

    def backward(dy, block):
        block.text(f"∂Y/∂x = x^({pt} − 1) · Y^(1 − {pt}) for every x of the window (x·δY / Y for ℓ2); "
                   "overlapping windows add up" + ("; ≈ rounded as above" if approx else ""))
        dx = [[[0] * w for _ in range(h)] for _ in range(c)]
        for ch in range(c):
            for (i, j), cs in cells.items():
                yv = y[ch][i][j]
                if not yv:
                    continue
                for u, v in cs:
                    xv = Fraction(x[ch][u][v])
                    if p.denominator == 1:
                        g = xv ** (int(p) - 1) * yv ** (1 - int(p)) * dy[ch][i][j]
                    else:
                        g = rounded(float(xv) ** float(p - 1) * float(yv) ** float(1 - p)) * dy[ch][i][j]
                    dx[ch][u][v] += g
        if approx or p.denominator != 1:
            dx = [[[rounded(float(v)) for v in row] for row in ch] for ch in dx]
        return [dx]

    return Done(y, b, backward, approx=approx)


# -- padding, cropping, flattening, identity ---------------------------------------------------------------


@handles("zero_pad", "crop")
def pad_or_crop(node, xs, env, src):
    from ..layers.padding import _sides

    x = xs[0]
    shape = _shape3(x)
    pad = node.type_name == "zero_pad"
    sides = _sides(node.layer.padding if pad else node.layer.cropping, shape, "padding" if pad else "cropping",
                   node.type_name)
    (t, bo), (le, r) = sides
    if pad:
        out, taps = T.pad(shape, sides)
        return linear(node, x, shape, out, taps, env, what="zero padding", src=src,
                      rule=[f"rows of zeros: {t} on top, {bo} below; columns: {le} left, {r} right"],
                      back_rule=["δX = δY with the padded border cut off"])
    out, taps = T.crop(shape, sides)
    return linear(node, x, shape, out, taps, env, what="cropping", src=src,
                  rule=[f"rows removed: {t} on top, {bo} below; columns: {le} left, {r} right"],
                  back_rule=["δX = δY with zeros where the cropped cells were"])


@handles("flatten")
def flatten(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    n = T.size(shape)
    _, taps = T.identity(shape)
    return linear(node, x, shape, (n, 1, 1), taps, env, what="flatten", src=src, shown_shape=(n,),
                  rule=["the values channel by channel, each map row by row (PyTorch's order)"],
                  back_rule=["δX = δy reshaped back to the input's shape"])


@handles("dropout", "identity")
def passthrough(node, xs, env, src):
    x = xs[0]
    shape = _shape3(x)
    _, taps = T.identity(shape)
    what = "dropout (inference: identity)" if node.type_name == "dropout" else "identity"
    shown = env.results[node.name].output_shape
    return linear(node, x, shape, shape, taps, env, what=what, src=src, shown_shape=shown,
                  rule=["at inference dropout passes every value through unchanged (in training it zeroes each "
                        "with probability p and scales the rest by 1/(1 − p))" if node.type_name == "dropout"
                        else "y = x"],
                  back_rule=["δX = δY"])


# -- dense ---------------------------------------------------------------------------------------------------------------


@handles("dense")
def dense(node, xs, env, src):
    from .worked import Block, fmt, parse_tensor

    layer = node.layer
    x = T.flatten(xs[0])
    n_in, n_out = len(x), layer.out_features
    ctx = dict(_ctx(node), field="weights")
    if "weights" not in node.extra:
        raise SpecError(f"cnncalc run needs this layer's weights: add 'weights:', {n_out} rows of {n_in} numbers",
                        loc=node.loc, **ctx)
    wl = node.loc_of("weights")
    raw = node.extra["weights"]
    wm, ws = parse_tensor(raw if isinstance(raw, list) and raw and isinstance(raw[0], list) else [raw], wl, "weights")
    if tuple(ws) != (n_out, n_in):
        raise SpecError(f"the weights have shape {_dims(ws)}, but this layer needs {n_out}×{n_in} (one row of "
                        f"{n_in} numbers per output)", loc=wl, **ctx)
    bias = None
    if "biases" in node.extra:
        bl = node.loc_of("biases")
        braw = node.extra["biases"]
        bias, bs = parse_tensor(braw if isinstance(braw, list) else [braw], bl, "biases")
        if tuple(bs) != (n_out,) or not layer.bias:
            raise SpecError(f"'biases' needs {n_out} numbers and bias: true", loc=bl, **dict(ctx, field="biases"))
    y = [sum((a * v for a, v in zip(row, x)), 0) + (bias[o] if bias else 0) for o, row in enumerate(wm)]
    b = Block(f"{node.index}. {node.name}: fully connected, {n_in} → {n_out}: {src} → {node.name}")
    b.text("y = W x" + (" + b" if bias else "") + ": every output a dot product with every input")
    nt = env.notation
    b.grid("W", wm, [nt.index(o) for o in range(n_out)], [nt.index(k) for k in range(n_in)])
    if bias:
        b.text("b = [" + ", ".join(fmt(v) for v in bias) + "]")
    b.grid(node.name, [y], [""], [nt.index(o) for o in range(n_out)])
    out = [[[v]] for v in y]

    def backward(dy, block):
        g = T.flatten(dy)
        dx = [sum((wm[o][k] * g[o] for o in range(n_out)), 0) for k in range(n_in)]
        block.text("δx = Wᵀ δy;  δW = δy xᵀ (δW[o, k] = δy_o · x_k);  δb = δy")
        block.grid("δW", [[g[o] * x[k] for k in range(n_in)] for o in range(n_out)])
        if layer.bias:
            block.text("δb = [" + ", ".join(fmt(v) for v in g) + "]")
        in_shape = _shape3(xs[0])
        return [T.reshape(dx, in_shape)]

    return Done(out, b, backward)


# -- element-wise activations ----------------------------------------------------------------------------------


def _fr(v):
    return Fraction(repr(v)) if isinstance(v, float) else Fraction(v)


def _rational(name, layer):
    """(f, f′, formula, derivative) for the piecewise-rational activations: exact."""
    if name == "leaky_relu":
        a = _fr(layer.negative_slope)
        return (lambda v: v if v > 0 else a * v, lambda v: 1 if v > 0 else a,
                f"x for x > 0, {a}·x otherwise", f"1 where x > 0, {a} elsewhere")
    if name == "relu6":
        return (lambda v: min(max(v, 0), 6), lambda v: 1 if 0 < v < 6 else 0, "min(max(0, x), 6)",
                "1 where 0 < x < 6, else 0")
    if name == "hardsigmoid":
        return (lambda v: min(max(v + 3, 0), 6) / Fraction(6), lambda v: Fraction(1, 6) if -3 < v < 3 else 0,
                "relu6(x + 3)/6", "1/6 where −3 < x < 3, else 0")
    if name == "hardswish":
        return (lambda v: v * min(max(v + 3, 0), 6) / Fraction(6),
                lambda v: 0 if v < -3 else (1 if v > 3 else Fraction(2 * v + 3, 6) if isinstance(v, int)
                                            else (2 * v + 3) / 6),
                "x·relu6(x + 3)/6", "0 below −3, (2x + 3)/6 on [−3, 3], 1 above (PyTorch's)")
    return None


def _sig(v):
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _softplus(v):
    return max(v, 0) + math.log1p(math.exp(-abs(v)))


_TRANSCENDENTAL = {
    "sigmoid": (_sig, lambda v: _sig(v) * (1 - _sig(v)), "1 / (1 + e^(−x))", "σ(x)·(1 − σ(x))"),
    "tanh": (math.tanh, lambda v: 1 - math.tanh(v) ** 2, "tanh x", "1 − tanh² x"),
    "softplus": (_softplus, _sig, "log(1 + e^x)", "σ(x)"),
    "silu": (lambda v: v * _sig(v), lambda v: _sig(v) * (1 + v * (1 - _sig(v))), "x·σ(x)", "σ(x)·(1 + x·(1 − σ(x)))"),
    "gelu": (lambda v: v * (1 + math.erf(v / math.sqrt(2))) / 2,
             lambda v: (1 + math.erf(v / math.sqrt(2))) / 2 + v * math.exp(-v * v / 2) / math.sqrt(2 * math.pi),
             "x·Φ(x)", "Φ(x) + x·φ(x)"),
    "mish": (lambda v: v * math.tanh(_softplus(v)),
             lambda v: math.tanh(_softplus(v)) + v * _sig(v) * (1 - math.tanh(_softplus(v)) ** 2),
             "x·tanh(softplus(x))", "tanh(sp(x)) + x·σ(x)·(1 − tanh²(sp(x)))"),
}


@handles("leaky_relu", "relu6", "hardsigmoid", "hardswish", "sigmoid", "tanh", "softplus", "silu", "gelu", "mish",
         "elu")
def elementwise(node, xs, env, src):
    from .worked import Block

    x = xs[0]
    name = node.type_name
    rat = _rational(name, node.layer)
    approx = rat is None
    if name == "elu":
        a = float(node.layer.alpha)
        f, d, formula, dtext = (lambda v: v if v > 0 else a * math.expm1(v), lambda v: 1 if v > 0 else a * math.exp(v),
                                f"x for x > 0, {node.layer.alpha}·(e^x − 1) otherwise", "1 for x > 0, α·e^x otherwise")
    elif rat:
        f, d, formula, dtext = rat
    else:
        f, d, formula, dtext = _TRANSCENDENTAL[name]

    def ev(fn, v):
        return fn(v) if not approx else rounded(fn(float(v)))

    y = [[[ev(f, v) for v in row] for row in ch] for ch in x]
    b = Block(f"{node.index}. {node.name}: {name}, {formula}, element-wise: {src} → {node.name}")
    if approx:
        b.text(f"≈: {name} is not rational; values rounded to {APPROX_DECIMALS} decimals")
    show(b, node.name + (" (≈)" if approx else ""), y, env.results[node.name].output_shape, env)

    def backward(dy, block):
        block.text(f"δx = δy · {name}′(x), {name}′(x) = {dtext}" + (" (≈)" if approx else ""))
        return [[[[ev(d, v) * g for v, g in zip(rx, rg)] for rx, rg in zip(cx, cg)] for cx, cg in zip(x, dy)]]

    return Done(y, b, backward, approx=approx)


# -- merges ------------------------------------------------------------------------------------------------------------------


@handles("add", "concat", "multiply")
def merge(node, xs, env, src):
    from .worked import Block

    name = node.type_name
    shapes = [_shape3(x) for x in xs]
    srcs = ", ".join(src if isinstance(src, str) else src)
    if name == "add":
        y = [[[sum(vals, 0) for vals in zip(*rows)] for rows in zip(*chs)] for chs in zip(*xs)]
        text = "element-wise sum"
        back_text = "δ of every input = δY (a sum passes its gradient to each term)"

        def back(dy):
            return [dy for _ in xs]
    elif name == "concat":
        dim = node.layer.dim
        if dim == 0:
            y = [ch for x in xs for ch in x]
        elif dim == 1:
            y = [[row for x in xs for row in x[c]] for c in range(shapes[0][0])]
        else:
            y = [[[v for x in xs for v in x[c][i]] for i in range(shapes[0][1])] for c in range(shapes[0][0])]
        text = f"concatenation along axis {dim} ({'channels' if dim == 0 else 'rows' if dim == 1 else 'columns'})"
        back_text = "δY cut back into the inputs' pieces"

        def back(dy):
            out, at = [], 0
            for s in shapes:
                n = s[dim]
                if dim == 0:
                    out.append(dy[at:at + n])
                elif dim == 1:
                    out.append([ch[at:at + n] for ch in dy])
                else:
                    out.append([[row[at:at + n] for row in ch] for ch in dy])
                at += n
            return out
    else:
        full = tuple(max(s[a] for s in shapes) for a in range(3))

        def at(x, c, i, j):
            s = _shape3(x)
            return x[c if s[0] > 1 else 0][i if s[1] > 1 else 0][j if s[2] > 1 else 0]

        def prod_except(skip, c, i, j):
            r = 1
            for n, x in enumerate(xs):
                if n != skip:
                    r = r * at(x, c, i, j)
            return r

        y = [[[prod_except(-1, c, i, j) for j in range(full[2])] for i in range(full[1])] for c in range(full[0])]
        text = "element-wise product (size-1 axes broadcast)"
        back_text = "δ of each input = δY × the other inputs, summed over the cells it was broadcast to"

        def back(dy):
            grads = []
            for n, x in enumerate(xs):
                s = _shape3(x)
                g = [[[0] * s[2] for _ in range(s[1])] for _ in range(s[0])]
                for c in range(full[0]):
                    for i in range(full[1]):
                        for j in range(full[2]):
                            g[c if s[0] > 1 else 0][i if s[1] > 1 else 0][j if s[2] > 1 else 0] += (
                                dy[c][i][j] * prod_except(n, c, i, j))
                grads.append(g)
            return grads
    b = Block(f"{node.index}. {node.name}: {name}, {text}: {srcs} → {node.name} {_dims(_shape3(y))}")
    show(b, node.name, y, env.results[node.name].output_shape, env)

    def backward(dy, block):
        block.text(back_text)
        return back(dy)

    return Done(y, b, backward)


# -- softmax along an axis ------------------------------------------------------------------------------------


@handles("softmax", "log_softmax")
def softmax(node, xs, env, src):
    from .worked import Block

    x = xs[0]
    c, h, w = _shape3(x)
    dim = node.layer.dim
    shown = env.results[node.name].output_shape
    if len(shown) == 1:
        dim = 0
    log = node.type_name == "log_softmax"

    def lines():
        """The cells normalised together: along channels (dim 0), rows (1) or columns (2)."""
        if dim == 0:
            return [[(ch, i, j) for ch in range(c)] for i in range(h) for j in range(w)]
        if dim == 1:
            return [[(ch, i, j) for i in range(h)] for ch in range(c) for j in range(w)]
        return [[(ch, i, j) for j in range(w)] for ch in range(c) for i in range(h)]

    s = [[[0.0] * w for _ in range(h)] for _ in range(c)]
    for cells in lines():
        top = max(float(x[a][b][d]) for a, b, d in cells)
        total = sum(math.exp(float(x[a][b][d]) - top) for a, b, d in cells)
        for a, b, d in cells:
            s[a][b][d] = math.exp(float(x[a][b][d]) - top) / total
    y = [[[rounded(math.log(v) if log else v) for v in row] for row in ch] for ch in s]
    along = {0: "the channels", 1: "each column (down the rows)", 2: "each row"}[dim]
    b = Block(f"{node.index}. {node.name}: {node.type_name} along {along}: {src} → {node.name}")
    b.text(("log of " if log else "") + "e^x / Σ e^x over " + along
           + f"; ≈: not rational, values rounded to {APPROX_DECIMALS} decimals")
    show(b, node.name + " (≈)", y, shown, env)

    def backward(dy, block):
        out = [[[0] * w for _ in range(h)] for _ in range(c)]
        for cells in lines():
            dot = sum(float(dy[a][bb][d]) * (1 if log else s[a][bb][d]) for a, bb, d in cells)
            for a, bb, d in cells:
                g = float(dy[a][bb][d])
                out[a][bb][d] = rounded(g - s[a][bb][d] * dot if log else s[a][bb][d] * (g - dot))
        block.text("δx = δy − softmax(x)·Σ δy (≈)" if log else "δx = s ⊙ (δy − Σ s·δy), s = softmax(x) (≈)")
        return [out]

    return Done(y, b, backward, approx=True)


# -- batch normalisation (this example's own statistics) ------------------------------------------------------------


def _per_channel_numbers(node, key, c, default):
    from .worked import parse_tensor

    if key not in node.extra:
        return [default] * c
    loc = node.loc_of(key)
    raw = node.extra[key]
    vals, shape = parse_tensor(raw if isinstance(raw, list) else [raw], loc, key)
    if tuple(shape) != (c,):
        raise SpecError(f"'{key}' needs {c} numbers, one per channel ({'γ' if key == 'weights' else 'β'})",
                        loc=loc, field=key, **_ctx(node))
    return vals


@handles("batch_norm")
def batch_norm(node, xs, env, src):
    from .worked import Block, fmt

    x = xs[0]
    c, h, w = _shape3(x)
    n = h * w
    layer = node.layer
    eps = _fr(layer.eps)
    gamma = _per_channel_numbers(node, "weights", c, 1) if layer.affine else [1] * c
    beta = _per_channel_numbers(node, "biases", c, 0) if layer.affine else [0] * c
    mean = [sum((v for row in ch for v in row), Fraction(0)) / n for ch in x]
    var = [sum(((v - m) ** 2 for row in ch for v in row), Fraction(0)) / n for ch, m in zip(x, mean)]
    inv = [1 / math.sqrt(float(v + eps)) for v in var]
    xhat = [[[(float(v) - float(m)) * k for v in row] for row in ch] for ch, m, k in zip(x, mean, inv)]
    y = [[[rounded(float(g) * v + float(bb)) for v in row] for row in ch] for ch, g, bb in zip(xhat, gamma, beta)]
    b = Block(f"{node.index}. {node.name}: batch normalisation with this example's statistics (training mode, a "
              f"batch of one): {src} → {node.name}")
    b.text("per channel: μ = mean, σ² = mean of (x − μ)² (biased, as PyTorch normalises), "
           "x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β")
    b.text("μ = [" + ", ".join(fmt(m) for m in mean) + "],  σ² = [" + ", ".join(fmt(v) for v in var)
           + f"],  ε = {fmt(eps)},  γ = [" + ", ".join(fmt(g) for g in gamma) + "],  β = ["
           + ", ".join(fmt(v) for v in beta) + "]")
    b.text(f"≈: √(σ² + ε) is not rational; values rounded to {APPROX_DECIMALS} decimals")
    b.tensor(node.name + " (≈)", y)

    def backward(dy, block):
        out = []
        dgamma, dbeta = [], []
        for ch in range(c):
            g = [[float(v) for v in row] for row in dy[ch]]
            dxh = [[v * float(gamma[ch]) for v in row] for row in g]
            s1 = sum(v for row in dxh for v in row)
            s2 = sum(dxh[i][j] * xhat[ch][i][j] for i in range(h) for j in range(w))
            out.append([[rounded(inv[ch] / n * (n * dxh[i][j] - s1 - xhat[ch][i][j] * s2)) for j in range(w)]
                        for i in range(h)])
            dgamma.append(rounded(sum(g[i][j] * xhat[ch][i][j] for i in range(h) for j in range(w))))
            dbeta.append(sum((v for row in dy[ch] for v in row), 0))
        block.text("δx̂ = γ·δy;  δx = (1/(N·√(σ² + ε)))·(N·δx̂ − Σ δx̂ − x̂·Σ δx̂·x̂), N = H·W (the mean and the "
                   "variance depend on every x) (≈)")
        if layer.affine:
            block.text("δγ = Σ δy·x̂ = [" + ", ".join(fmt(v) for v in dgamma) + "] (≈),  δβ = Σ δy = ["
                       + ", ".join(fmt(v) for v in dbeta) + "]")
        return [out]

    return Done(y, b, backward, approx=True)


# -- locally connected (unshared weights) -----------------------------------------------------------------------------


@handles("locally_connected")
def locally_connected(node, xs, env, src):
    from .worked import Block, parse_tensor

    layer = node.layer
    x = xs[0]
    shape = _shape3(x)
    strides = per_axis(layer.stride, 2, "stride")
    if any(Fraction(s).denominator != 1 for s in strides):
        raise SpecError("cnncalc run takes integer strides for locally_connected layers", loc=node.loc_of("stride"),
                        field="stride", **_ctx(node))
    kernel, _, dilation, outs, pads, _ = layer._geometry(shape)
    c_out, groups = layer.out_channels, layer.groups
    cg = shape[0] // groups
    ctx = dict(_ctx(node), field="weights")
    want = (outs[0], outs[1], c_out, cg, kernel[0], kernel[1])
    if "weights" not in node.extra:
        raise SpecError("cnncalc run needs this layer's weights: one kernel per output position, "
                        f"[O_H][O_W][C_out][C_in / groups][F_H][F_W] = {_dims(want)} (an O_H×O_W grid of "
                        "F_H×F_W kernels for one channel in and out)", loc=node.loc, **ctx)
    wl = node.loc_of("weights")
    t, ws = parse_tensor(node.extra["weights"], wl, "weights")
    if tuple(ws) == (outs[0], outs[1], kernel[0], kernel[1]) and c_out == cg == 1:
        t = [[[[k]] for k in row] for row in t]
    elif tuple(ws) != want:
        raise SpecError(f"the weights have shape {_dims(ws)}, but this layer needs {_dims(want)} "
                        "([O_H][O_W][C_out][C_in / groups][F_H][F_W]; for one channel in and out an O_H×O_W grid "
                        "of F_H×F_W kernels)", loc=wl, **ctx)
    bias = None
    if "biases" in node.extra:
        bl = node.loc_of("biases")
        bias, bs = parse_tensor(node.extra["biases"], bl, "biases")
        if len(bs) == 2 and c_out == 1:
            bias, bs = [bias], (1, *bs)
        if tuple(bs) != (c_out, *outs) or not layer.bias:
            raise SpecError(f"'biases' needs one O_H×O_W map per output channel ({_dims((c_out, *outs))}) and "
                            "bias: true", loc=bl, **dict(ctx, field="biases"))
    (sh, sw), (dh, dw) = strides, dilation
    (pt, _), (pl, _) = pads
    per_group = c_out // groups
    taps = []
    for o in range(c_out):
        g0 = (o // per_group) * cg
        for i in range(outs[0]):
            for j in range(outs[1]):
                row = []
                k = t[i][j][o]
                for c in range(cg):
                    for a in range(kernel[0]):
                        for bb in range(kernel[1]):
                            u, v = i * sh + a * dh - pt, j * sw + bb * dw - pl
                            if 0 <= u < shape[1] and 0 <= v < shape[2] and k[c][a][bb]:
                                row.append((T.index(shape, g0 + c, u, v), k[c][a][bb]))
                taps.append(row)
    out_shape = (c_out, *outs)
    xf = T.flatten(x)
    yf = T.apply(taps, xf)
    if bias:
        yf = [v + bv for v, bv in zip(yf, T.flatten(bias))]
    y = T.reshape(yf, out_shape)
    b = Block(f"{node.index}. {node.name}: locally connected (unshared weights): {src} {_dims(shape)} → "
              f"{_dims(out_shape)}")
    b.text("Z[i, j] = sum(W_(i,j) ⊙ X_(i,j))" + (" + b[i, j]" if bias else "")
           + ": like a convolution, but every output position has its own kernel W_(i,j)")
    b.text("which input cells feed which output:")
    for line in feeds_lines(taps, shape, out_shape, env, y=env.notation.out):
        b.text("  " + line)
    b.tensor(node.name, y)
    if env.matrix:
        show_matrix(b, taps, shape, out_shape, xf, T.flatten(y), env, name="C", y=env.notation.out,
                    bias=T.flatten(bias) if bias else None)

    def backward(dy, block):
        dyf = T.flatten(dy)
        dx = T.reshape(T.apply_transposed(taps, dyf, T.size(shape)), shape)
        block.text("δX = Cᵀ δZ: every output's gradient goes back through its own kernel;  "
                   "δW_(i,j) = δZ[i, j] · X_(i,j) (each kernel sees one window only)")
        for i in range(outs[0]):
            for j in range(outs[1]):
                for o in range(c_out):
                    g = dy[o][i][j]
                    if not g:
                        continue
                    g0 = (o // per_group) * cg
                    for c in range(cg):
                        win = [[(x[g0 + c][u][v] if 0 <= (u := i * sh + a * dh - pt) < shape[1]
                                 and 0 <= (v := j * sw + bb * dw - pl) < shape[2] else 0) * g
                                for bb in range(kernel[1])] for a in range(kernel[0])]
                        block.grid(f"δW at output ({env.notation.index(i)},{env.notation.index(j)})"
                                   + (f", kernel {o + 1}, channel {c + 1}" if c_out * cg > 1 else ""), win)
        if layer.bias:
            block.text("δb = δZ (one bias per output value)")
        return [dx]

    return Done(y, b, backward)


# the modern layer families' handlers live in their own module (registered on import)
from . import modern  # noqa: E402,F401
