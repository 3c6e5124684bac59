"""The work shown: each formula, then the numbers substituted, then the result.

Notation of the lectures (../shared/seeds): input size I, kernel (filter) F,
stride S, padding P, dilation d (F′ = d·(F − 1) + 1 is the effective kernel),
output size O, input and output channels (depth) D_in and D_out, groups G.
Shapes are written channels last (H×W×D) for the one-layer calculators, as the
lectures do, and channels first (C×H×W) for specs, as the rest of cnncalc does.

The values here are recomputed from the formulas shown; a test checks that
they agree with the analysis for every layer of the shipped specs.
"""

from __future__ import annotations

from fractions import Fraction
from math import ceil, prod

from ..errors import FieldError
from ..layers.fields import per_axis
from ..layers.window import AXIS_NAMES, resolve_padding
from ..receptive import AxisRF, effective_kernel, format_number
from ..records import record


@record
class Step:
    """One quantity worked out: ``formula`` (symbols), ``work`` (numbers in,
    intermediate results, ending in ``= value``), and plain-language notes."""

    quantity: str
    formula: str
    work: str
    value: object
    notes: tuple[str, ...] = ()


def _exact(x):
    x = Fraction(x)
    return int(x) if x.denominator == 1 else x


def num(x) -> str:
    """An exact number as text: 1,520 · 3/2 · −1/2."""
    if isinstance(x, Fraction):
        if x.denominator == 1:
            x = int(x)
        else:
            return format_number(x)
    if isinstance(x, int):
        return f"{x:,}".replace("-", "−")
    return str(x)


def decimal(x: Fraction) -> str:
    """27/2 → '13.5'; 1/3 → '1/3 ≈ 0.333' (exact when the decimal ends)."""
    x = Fraction(x)
    if x.denominator == 1:
        return num(int(x))
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        digits = 0
        while (x * 10**digits).denominator != 1:
            digits += 1
        return _fixed(x, digits)
    return f"{format_number(x)} ≈ {_fixed(x, 3)}"


def _fixed(x: Fraction, digits: int) -> str:
    """``x`` with ``digits`` decimals, rounded half up, in integer arithmetic
    (a float would print 10^18 + 1/2 as 1000000000000000000.0)."""
    scaled = abs(x) * 10**digits
    units = int(scaled + Fraction(1, 2))
    whole, frac = divmod(units, 10**digits)
    sign = "-" if x < 0 and units else ""
    return f"{sign}{whole}.{frac:0{digits}d}" if digits else f"{sign}{whole}"


def shape_text(shape, channels_last: bool = False) -> str:
    """(C, H, W) as "C×H×W", or "H×W×C" channels last."""
    shape = tuple(shape)
    if channels_last and len(shape) > 1:
        shape = (*shape[1:], shape[0])
    return "×".join(str(n) for n in shape)


def shape_label(ndim: int, channels_last: bool, depth: str = "D") -> str:
    axes = AXIS_NAMES.get(ndim, ())
    if ndim == 0:
        return depth
    return "×".join((*axes, depth)) if channels_last else "×".join((depth, *axes))


def _axes_groups(per_axis_values):
    """Group axes with identical arguments: [(axis indices, args), ...]."""
    groups: list[tuple[list[int], tuple]] = []
    for a, args in enumerate(per_axis_values):
        for idx, other in groups:
            if other == args:
                idx.append(a)
                break
        else:
            groups.append(([a], args))
    return groups


def _axis_names(ndim, indices) -> str:
    names = AXIS_NAMES[ndim]
    return ", ".join(names[i] for i in indices)


# -- output sizes --------------------------------------------------------------


def effective_kernel_step(k: int, d: int, axes: str) -> Step:
    keff = effective_kernel(k, d)
    return Step(
        f"effective kernel ({axes})",
        "F′ = d·(F − 1) + 1",
        f"{d}·({k} − 1) + 1 = {keff}",
        keff,
        (f"dilation {d} spreads the {k} taps over {keff} input cells",),
    )


def window_size_step(i: int, k: int, s: int, pad: tuple[int, int], d: int, axes: str, *,
                     ceil_mode: bool = False) -> Step:
    """O = ⌊(I + 2P − F) / S⌋ + 1 with the numbers in, and whether S divides exactly."""
    pb, pa = pad
    keff = effective_kernel(k, d)
    f = "F" if d == 1 else "F′"
    lo, hi = ("⌈", "⌉") if ceil_mode else ("⌊", "⌋")
    if pb == pa:
        formula = f"O = {lo}(I + 2P − {f}) / S{hi} + 1"
        sub = f"{lo}({i} + 2·{pb} − {keff}) / {s}{hi} + 1"
    else:
        formula = f"O = {lo}(I + P_before + P_after − {f}) / S{hi} + 1"
        sub = f"{lo}({i} + {pb} + {pa} − {keff}) / {s}{hi} + 1"
    span = i + pb + pa - keff
    if span < 0:
        raise FieldError(
            "kernel_size",
            f"the kernel covers {keff} cells but the padded input has only {i} + {pb} + {pa} = "
            f"{i + pb + pa} ({axes}): {sub} = {lo}{num(span)} / {s}{hi} + 1 < 1, no window fits",
        )
    q = -(-span // s) if ceil_mode else span // s
    out = q + 1
    work = f"{sub} = {lo}{span} / {s}{hi} + 1 = {q} + 1 = {out}"
    notes = []
    if ceil_mode and (out - 1) * s >= i + pb:
        out -= 1
        work += f"; the last window would start in the right padding, so O = {out} (PyTorch's rule)"
    if span % s:
        exact = Fraction(span, s)
        dropped = span % s
        if ceil_mode:
            notes.append(
                f"{span} / {s} = {decimal(exact)} is not a whole number: ceil_mode rounds up, so the last "
                "window hangs over the end of the padded input"
            )
        else:
            notes.append(
                f"{span} / {s} = {decimal(exact)} is not a whole number: the floor drops the remainder, so "
                f"the last {dropped} row{'s' if dropped > 1 else ''}/column{'s' if dropped > 1 else ''} "
                "of the padded input are never covered by a window; the layer does not tile the input "
                f"exactly. Without the floor (as some notes write it) the formula gives {decimal(exact + 1)}, "
                "which is not an integer"
            )
    return Step(f"output size ({axes})", formula, work, out, tuple(notes))


def transposed_size_step(i: int, k: int, s: int, p, d: int, op: int, axes: str) -> Step:
    """PyTorch's rule for transposed convolution."""
    keff = effective_kernel(k, d)
    pb, pa = p if isinstance(p, tuple) else (p, p)
    out = s * (i - 1) + keff - pb - pa + op
    if pb == pa:
        formula = "O = S·(I − 1) + d·(F − 1) + 1 − 2P + output_padding"
        sub = f"{s}·({i} − 1) + {d}·({k} − 1) + 1 − 2·{pb} + {op}"
    else:
        formula = "O = S·(I − 1) + d·(F − 1) + 1 − P_before − P_after + output_padding"
        sub = f"{s}·({i} − 1) + {d}·({k} − 1) + 1 − {pb} − {pa} + {op}"
    if out < 1:
        raise FieldError(
            "padding",
            f"{sub} = {num(out)} < 1 ({axes}): the padding crops away the whole output",
        )
    return Step(
        f"output size ({axes})",
        formula,
        f"{sub} = {s * (i - 1)} + {keff} − {pb + pa} + {op} = {out}",
        out,
        ("the transpose of a convolution that maps O back to I: every input cell scatters the kernel, "
         "S cells apart, and P cells are cropped from each side",),
    )


# -- parameters and multiplications ------------------------------------------


def _kernel_factors(kernels) -> tuple[str, str]:
    """('F·F', '5·5') for a square 2D kernel; ('F_H·F_W', '3·5') otherwise."""
    nd = len(kernels)
    if len(set(kernels)) == 1:
        return "·".join(["F"] * nd), "·".join(str(k) for k in kernels)
    names = AXIS_NAMES[nd]
    return "·".join(f"F_{n}" for n in names), "·".join(str(k) for k in kernels)


def conv_params_step(kernels, c_in: int, c_out: int, groups: int, bias: bool, *, transposed=False) -> Step:
    fk, nk = _kernel_factors(kernels)
    weights = prod(kernels) * (c_in // groups) * c_out
    if transposed:  # PyTorch's weight is (D_in, D_out / G, *F): the same count
        ch_f = "D_in·(D_out / G)" if groups > 1 else "D_in·D_out"
        ch_n = f"{c_in}·({c_out} / {groups})" if groups > 1 else f"{c_in}·{c_out}"
    else:
        ch_f = "(D_in / G)·D_out" if groups > 1 else "D_in·D_out"
        ch_n = f"({c_in} / {groups})·{c_out}" if groups > 1 else f"{c_in}·{c_out}"
    formula = f"{fk}·{ch_f}" + (" + D_out" if bias else "")
    work = f"{nk}·{ch_n}"
    total = weights + (c_out if bias else 0)
    if bias:
        work += f" + {c_out} = {num(weights)} + {c_out} = {num(total)}"
    else:
        work += f" = {num(total)}"
    notes = ["weights F·F·D_in per kernel, one kernel per output channel, plus one bias per kernel"
             if bias else "bias: false, so no bias terms"]
    if groups > 1:
        notes.append(f"groups G = {groups}: each kernel sees only D_in / G = {c_in // groups} input channels")
    return Step("parameters", formula, work, total, tuple(notes))


def conv_mults_step(kernels, c_in: int, c_out: int, groups: int, outs, *, transposed=False, ins=None) -> Step:
    fk, nk = _kernel_factors(kernels)
    cin_g = c_in // groups
    nd = len(kernels)
    if transposed:
        sp = "·".join(f"I_{n}" for n in AXIS_NAMES[nd])
        spn = "·".join(str(i) for i in ins)
        cf = "(D_out / G)" if groups > 1 else "D_out"
        cn = f"({c_out} / {groups})" if groups > 1 else f"{c_out}"
        per = (c_out // groups) * prod(kernels)
        total = c_in * prod(ins) * per
        return Step(
            "multiplications",
            f"D_in · ({sp}) · ({cf}·{fk})",
            f"{c_in} · ({spn}) · ({cn}·{nk}) = {c_in} · {num(prod(ins))} · {num(per)} = {num(total)}",
            total,
            ("counted on the input side: every input value is multiplied by every weight of its group once "
             "(counting on the output side, as some tools do, is wrong by a factor of about S²)",),
        )
    sp = "·".join(f"O_{n}" for n in AXIS_NAMES[nd])
    spn = "·".join(str(o) for o in outs)
    cf = "(D_in / G)" if groups > 1 else "D_in"
    cn = f"({c_in} / {groups})" if groups > 1 else f"{c_in}"
    per = cin_g * prod(kernels)
    total = c_out * prod(outs) * per
    return Step(
        "multiplications",
        f"D_out · ({sp}) · ({cf}·{fk})",
        f"{c_out} · ({spn}) · ({cn}·{nk}) = {c_out} · {num(prod(outs))} · {num(per)} = {num(total)}",
        total,
        ("one dot product of F·F·D_in products for every output value; bias additions are not "
         "multiplications and are not counted",),
    )


# -- receptive field -----------------------------------------------------------


def fractional_note(size, jump) -> tuple[str, ...]:
    """One sentence for a receptive field or jump that is not a whole number of input pixels."""
    size, jump = Fraction(size), Fraction(jump)
    if size.denominator == 1 and jump.denominator == 1:
        return ()
    if jump < 1:
        step = (f"a jump j = {num(jump)} means neighbouring outputs are {num(jump)} of an input pixel apart — a "
                "step of less than one input pixel, because the layers so far upsample —")
    elif jump.denominator != 1:
        step = (f"a jump j = {num(jump)} means neighbouring outputs are {num(jump)} input pixels apart — not a "
                "whole number of pixels, because an upsampling came first —")
    else:
        step = "an upsampling earlier put outputs between input pixels, so"
    return (f"fractional: {step} and the field r = {num(size)} is measured in the same input pixels, so it need "
            "not be whole",)


def rf_steps(keffs, strides, rf_in: tuple[AxisRF, ...] | None, *, pad_before=None, transposed=False) -> list[Step]:
    """r_l = r_{l−1} + (F′ − 1)·j_{l−1},  j_l = j_{l−1}·S, per group of equal axes."""
    nd = len(keffs)
    rf_in = rf_in or tuple(AxisRF() for _ in range(nd))
    steps = []
    args = [(k, s, (r.size, r.jump)) for k, s, r in zip(keffs, strides, rf_in)]
    for idx, (k, s, (r, j)) in _axes_groups(args):
        axes = _axis_names(nd, idx)
        if transposed:
            size = r + Fraction(k - 1, s) * j
            jump = j * Fraction(1, s)
            span = -(-k // s)
            steps.append(Step(
                f"receptive field ({axes})",
                "r_l = r_{l−1} + (F′ − 1)·j_{l−1} / S,   j_l = j_{l−1} / S",
                f"r = {num(r)} + ({k} − 1)·{num(j)} / {s} = {num(size)},   j = {num(j)} / {s} = {num(jump)}",
                _exact(size),
                (f"as upsampling by S then a unit-stride {k}-cell window, measured in input cells (a fraction when "
                 f"S does not divide F′ − 1); at most ⌈F′ / S⌉ = {span} input cells feed one output",)
                + fractional_note(size, jump),
            ))
            continue
        size = r + (k - 1) * j
        jump = j * s
        first = r == 1 and j == 1
        notes = []
        if first:
            notes.append(f"one output sees a {k}-cell window of the layer input along {axes}, all channels; "
                         f"adjacent outputs are S = {s} cells apart")
        steps.append(Step(
            f"receptive field ({axes})",
            "r_l = r_{l−1} + (F′ − 1)·j_{l−1},   j_l = j_{l−1}·S",
            f"r = {num(r)} + ({k} − 1)·{num(j)} = {num(size)},   j = {num(j)}·{s} = {num(jump)}",
            size,
            tuple(notes) + fractional_note(size, jump),
        ))
    return steps


# -- whole layers ----------------------------------------------------------------


def _geometry(layer, x, *, pool=False):
    nd = len(x) - 1
    kernels = per_axis(layer.kernel_size, nd, "kernel_size")
    if pool and layer.stride is None:
        strides = kernels
    else:
        strides = per_axis(layer.stride, nd, "stride")
    dilations = per_axis(getattr(layer, "dilation", 1), nd, "dilation")
    keffs = tuple(effective_kernel(k, d) for k, d in zip(kernels, dilations))
    pads = resolve_padding(layer.padding, nd, tuple(x[1:]), keffs, strides)
    return nd, kernels, strides, dilations, keffs, pads


def _size_steps(x, kernels, strides, dilations, pads, *, ceil_mode=False):
    nd = len(x) - 1
    steps, outs = [], [0] * nd
    args = list(zip(x[1:], kernels, strides, pads, dilations))
    for idx, (i, k, s, p, d) in _axes_groups(args):
        axes = _axis_names(nd, idx)
        if d > 1:
            steps.append(effective_kernel_step(k, d, axes))
        step = window_size_step(i, k, s, p, d, axes, ceil_mode=ceil_mode)
        steps.append(step)
        for a in idx:
            outs[a] = step.value
    return steps, tuple(outs)


def _causal_note(layer, steps, keffs):
    """Causal padding (a 1D signal): say where the zeros went and why."""
    if getattr(layer, "padding", None) != "causal":
        return
    for n, step in enumerate(steps):
        if step.quantity.startswith("output size"):
            k = keffs[0]
            steps[n] = Step(step.quantity, step.formula, step.work, step.value, step.notes + (
                f"causal padding: P_before = F′ − 1 = {k - 1} zeros before the signal and none after, so output t "
                f"sees inputs t − {k - 1} … t and never a later one (no peeking into the future)",))


def explain_conv(layer, x, rf_in=None, channels_last=False) -> list[Step]:
    """Output size, parameters, multiplications and receptive field of a convolution."""
    nd, kernels, strides, dilations, keffs, pads = _geometry(layer, x)
    steps, outs = _size_steps(x, kernels, strides, dilations, pads)
    _causal_note(layer, steps, keffs)
    y = (layer.out_channels, *outs)
    steps.append(Step("output shape", f"{shape_label(nd, channels_last, 'D_out')}",
                      shape_text(y, channels_last), y,
                      ("one output channel (feature map) per kernel: D_out = number of filters",)))
    steps.append(conv_params_step(kernels, x[0], layer.out_channels, layer.groups, layer.bias))
    steps.append(conv_mults_step(kernels, x[0], layer.out_channels, layer.groups, outs))
    steps.extend(rf_steps(keffs, strides, rf_in))
    return steps


def explain_conv_fractional(layer, x, rf_in=None, channels_last=False) -> list[Step]:
    """A convolution with a fractional stride S = S2/S1: uSample by S1, then a window with stride S2."""
    nd = len(x) - 1
    kernels, strides, dilations, outs, pads, keffs = layer._geometry(x)
    ups = tuple(Fraction(s).denominator for s in strides)
    downs = tuple(Fraction(s).numerator for s in strides)
    steps = []
    sizes = []
    for idx, (i, u) in _axes_groups(list(zip(x[1:], ups))):
        axes = _axis_names(nd, idx)
        up = (i - 1) * u + 1
        steps.append(Step(f"upsampled size ({axes})", "I′ = (I − 1)·S1 + 1  (S = S2/S1: uSample by S1 first)",
                          f"({i} − 1)·{u} + 1 = {up}", up,
                          (f"S1 − 1 = {u - 1} zero(s) between neighbouring cells; the convolution then slides "
                           "over the upsampled map",)))
    for i, u in zip(x[1:], ups):
        sizes.append((i - 1) * u + 1)
    size_steps, _ = _size_steps((x[0], *sizes), kernels, downs, dilations, pads)
    steps += size_steps
    y = (layer.out_channels, *outs)
    steps.append(Step("output shape", f"{shape_label(nd, channels_last, 'D_out')}", shape_text(y, channels_last), y,
                      ("one output channel (feature map) per kernel: D_out = number of filters",)))
    steps.append(conv_params_step(kernels, x[0], layer.out_channels, layer.groups, layer.bias))
    steps.append(conv_mults_step(kernels, x[0], layer.out_channels, layer.groups, outs))
    rf_in = rf_in or tuple(AxisRF() for _ in range(nd))
    args = [(k, u, v, (r.size, r.jump)) for k, u, v, r in zip(keffs, ups, downs, rf_in)]
    for idx, (k, u, v, (r, j)) in _axes_groups(args):
        size = r + Fraction(k - 1, u) * j
        jump = j * Fraction(v, u)
        steps.append(Step(
            f"receptive field ({_axis_names(nd, idx)})",
            "r_l = r_{l−1} + (F′ − 1)·j_{l−1} / S1,   j_l = j_{l−1}·S2 / S1",
            f"r = {num(r)} + ({k} − 1)·{num(j)} / {u} = {num(size)},   j = {num(j)}·{v} / {u} = {num(jump)}",
            _exact(size),
            ("measured in input cells: the kernel spans F′ cells of the upsampled map, S1 of which make one input "
             "cell",) + fractional_note(size, jump),
        ))
    return steps


def explain_pool(layer, x, rf_in=None, channels_last=False) -> list[Step]:
    nd, kernels, strides, dilations, keffs, pads = _geometry(layer, x, pool=True)
    steps, outs = _size_steps(x, kernels, strides, dilations, pads, ceil_mode=getattr(layer, "ceil_mode", False))
    _causal_note(layer, steps, keffs)
    if layer.stride is None:
        steps[0:0] = [Step("stride", "S = F (the default for pooling)", f"S = {num(strides[0])}", strides[0])]
    y = (x[0], *outs)
    steps.append(Step("output shape", shape_label(nd, channels_last, "D"), shape_text(y, channels_last), y,
                      ("pooling works on each channel separately: the depth is unchanged",)))
    steps.append(Step("parameters", "0", "0", 0, ("pooling has no weights",)))
    steps.append(Step("multiplications", "0", "0", 0,
                      ("the lectures count multiplications: a max takes comparisons only; a mean's one "
                       "division per output is not counted",)))
    steps.extend(rf_steps(keffs, strides, rf_in))
    return steps


def explain_tconv(layer, x, rf_in=None, channels_last=False) -> list[Step]:
    nd = len(x) - 1
    kernels = per_axis(layer.kernel_size, nd, "kernel_size")
    strides = per_axis(layer.stride, nd, "stride")
    dilations = per_axis(layer.dilation, nd, "dilation")
    pads = ((0, 0),) * nd if layer.padding == "valid" else per_axis(layer.padding, nd, "padding")
    ops = per_axis(getattr(layer, "output_padding", 0), nd, "output_padding")
    steps, outs = [], [0] * nd
    args = list(zip(x[1:], kernels, strides, pads, dilations, ops))
    for idx, (i, k, s, p, d, op) in _axes_groups(args):
        step = transposed_size_step(i, k, s, p, d, op, _axis_names(nd, idx))
        steps.append(step)
        for a in idx:
            outs[a] = step.value
    y = (layer.out_channels, *outs)
    steps.append(Step("output shape", shape_label(nd, channels_last, "D_out"), shape_text(y, channels_last), y))
    steps.append(conv_params_step(kernels, x[0], layer.out_channels, layer.groups, layer.bias, transposed=True))
    steps.append(conv_mults_step(kernels, x[0], layer.out_channels, layer.groups, outs, transposed=True,
                                 ins=tuple(x[1:])))
    keffs = tuple(effective_kernel(k, d) for k, d in zip(kernels, dilations))
    steps.extend(rf_steps(keffs, strides, rf_in, transposed=True))
    return steps


def explain_dense(layer, x, rf_in=None, channels_last=False) -> list[Step]:
    n_in, n_out = x[0], layer.out_features
    total = n_in * n_out + (n_out if layer.bias else 0)
    return [
        Step("output shape", "[n_out]", f"[{n_out}]", (n_out,)),
        Step("parameters", "n_in·n_out" + (" + n_out" if layer.bias else ""),
             f"{n_in}·{n_out}" + (f" + {n_out}" if layer.bias else "") + f" = {num(total)}", total),
        Step("multiplications", "n_in·n_out", f"{n_in}·{n_out} = {num(n_in * n_out)}", n_in * n_out,
             ("every output is a dot product with every input",)),
        Step("receptive field", "the whole input", "whole", "whole"),
    ]


def explain_flatten(layer, x, rf_in=None, channels_last=False) -> list[Step]:
    n = prod(x)
    return [Step("output shape", "D·H·W (one vector)", "·".join(map(str, x)) + f" = {num(n)}", (n,),
                 ("flattening has no weights and no multiplications",))]


#: Layer type name → explainer. Other layer types fall back to their declared formulas.
EXPLAINERS = {
    "conv": explain_conv,
    "max_pool": explain_pool,
    "avg_pool": explain_pool,
    "dense": explain_dense,
    "flatten": explain_flatten,
}
TRANSPOSED = ("conv_transpose", "tconv", "transposed_conv", "deconv")


def explain_layer(layer, xs, rf_in=None, *, channels_last=False) -> list[Step]:
    """Steps for one layer given its input shapes (channels first)."""
    name = layer.type_name
    if name in TRANSPOSED:
        return explain_tconv(layer, xs[0], rf_in, channels_last)
    fn = EXPLAINERS.get(name)
    stride = getattr(layer, "stride", None)
    strides = stride if isinstance(stride, tuple) else (stride,)
    if any(isinstance(v, Fraction) and v.denominator != 1 for v in strides):
        # fractional stride S2/S1: upsample, convolve with stride S2 (the layer's own formulas otherwise)
        fn = explain_conv_fractional if name == "conv" else None
    if fn is not None and len(xs) == 1:
        return fn(layer, xs[0], rf_in, channels_last)
    return generic_steps(layer, xs)


def generic_steps(layer, xs) -> list[Step]:
    """A layer without a worked explainer: its declared formulas and the values."""
    y = tuple(layer.out_shape(xs))
    params = layer.params(xs)
    mults = layer.macs(xs, y)
    f = layer.formulas or {}
    return [
        Step("output shape", f.get("shape", "unchanged"), shape_text(y), y),
        Step("parameters", f.get("params", "0"), num(params.trainable), params.trainable,
             (f"{num(params.buffers)} non-trainable buffers",) if params.buffers else ()),
        Step("multiplications", f.get("macs", "0"), num(mults), mults),
    ]


def per_axis_values(steps, prefix: str, ndim: int) -> tuple:
    """Expand grouped steps ("receptive field (H, W)") into one value per axis."""
    names = AXIS_NAMES[ndim]
    out = [None] * ndim
    for st in steps:
        if st.quantity.startswith(prefix) and "(" in st.quantity:
            axes = st.quantity[st.quantity.index("(") + 1:-1].split(", ")
            for a in axes:
                if a in names:
                    out[names.index(a)] = st.value
    return tuple(out)


def step_value(steps, quantity_prefix: str):
    """The value of the first step whose quantity starts with ``quantity_prefix``."""
    for s in steps:
        if s.quantity.startswith(quantity_prefix):
            return s.value
    return None


def render_steps(steps, indent: str = "  ") -> list[str]:
    """Plain text lines: quantity, formula, work, notes."""
    lines = []
    for s in steps:
        lines.append(f"{indent}{s.quantity}")
        lines.append(f"{indent}  {s.formula}")
        if s.work and s.work != s.formula:
            work = s.work
            if f"= {num(s.value)}" not in work and not isinstance(s.value, tuple) and s.value != "whole":
                work += f" = {num(s.value)}"
            lines.append(f"{indent}  {work}")
        for note in s.notes:
            lines.append(f"{indent}  note: {note}")
    return lines


def explain_analysis(result) -> list[tuple[object, list[Step]]]:
    """(LayerResult, steps) for every layer of an analysis; the receptive field
    continues from the layer's input, as the table's RF column does."""
    from ..graph import INPUT

    nd = len(result.input_shape) - 1
    fields = {INPUT: tuple(AxisRF() for _ in range(nd))}
    out = []
    for r in result.layers:
        rf_in = fields.get(r.node.inputs[0]) if len(r.node.inputs) == 1 else None
        if rf_in is not None and (any(a.whole for a in rf_in) or len(r.input_shapes[0]) - 1 != nd):
            rf_in = None
        steps = explain_layer(r.node.layer, r.input_shapes, rf_in)
        if (rf_in is not None and r.rf and not any(a.whole for a in r.rf)
                and not any(st.quantity.startswith("receptive field") for st in steps)
                and any(Fraction(a.size).denominator != 1 or Fraction(a.jump).denominator != 1 for a in r.rf)):
            formula = (r.node.layer.formulas or {}).get("rf", "")
            for idx, (size, jump) in _axes_groups([(a.size, a.jump) for a in r.rf]):
                steps.append(Step(f"receptive field ({_axis_names(len(r.rf), idx)})", formula,
                                  f"r = {num(size)},   j = {num(jump)}", _exact(size), fractional_note(size, jump)))
        if rf_in is None:
            steps = [s for s in steps if not s.quantity.startswith("receptive field")]
        fields[r.name] = r.rf
        out.append((r, steps))
    return out


def explain_lines(result) -> list[str]:
    """The work for every layer, as text lines (``cnncalc analyze --explain``)."""
    lines = ["", "The work, layer by layer (shapes channels first, C×H×W; receptive field in input pixels):"]
    for r, steps in explain_analysis(result):
        head = (f"{r.node.index}. {r.name} ({r.type_name}): {shape_text(r.input_shapes[0])} → "
                f"{shape_text(r.output_shape)}")
        known = r.type_name in EXPLAINERS or r.type_name in TRANSPOSED
        fractional = any(st.quantity.startswith("receptive field") for st in steps) and not known
        if not known and not r.params.total and not r.multiplications and not fractional:
            lines.append(f"{head}: no weights, no multiplications")
            continue
        lines.append("")
        lines.append(head)
        lines.extend(render_steps(steps))
    return lines
