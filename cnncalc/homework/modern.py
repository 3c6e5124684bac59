"""``cnncalc run`` for the modern layer families: slices and splits, channel
and pixel shuffles, the mean over axes, layer scale, stochastic depth (the
inference identity) and layer / group / instance normalisation.

The rearranging layers, the mean and the layer scale are linear: their taps
(:mod:`.taps`) give the forward pass, the backward pass δx = Mᵀ δy, the
"which cells feed which" lines and ``--matrix`` at once, exactly. The
normalisations divide by √(σ² + ε) and are worked as batch normalisation is
(values rounded, marked ≈), over their own groups of cells.

Tensors are ``[C][H][W]`` lists; a 1D sample [C, L] is a map of one row and a
vector [C] a (C, 1, 1) map, as everywhere in ``cnncalc run``.
"""

from __future__ import annotations

import math
from fractions import Fraction

from ..errors import SpecError
from . import taps as T
from .steps import Done, _ctx, _fr, _per_channel_numbers, _shape3, handles, linear, rounded


def _axis_map(analysed) -> list[int]:
    """The [C][H][W] axis of each axis of the analysed sample shape
    ([C, H, W] → 0, 1, 2; [C, L] → 0, 2 (a map of one row); [C] → 0)."""
    return {3: [0, 1, 2], 2: [0, 2], 1: [0]}[len(analysed)]


def _shown(node, env, shape):
    results = env.results.get(node.name)
    return tuple(results.output_shape) if results is not None else shape


def _from_rule(in_shape, out_shape, source) -> list:
    """Taps of a layer that moves values: output (c, i, j) takes input ``source(c, i, j)``."""
    return [[(T.index(in_shape, *source(c, i, j)), 1)]
            for c in range(out_shape[0]) for i in range(out_shape[1]) for j in range(out_shape[2])]


# -- splits and slices ----------------------------------------------------------------------------------


@handles("split")
def split(node, xs, env, src):
    shape = _shape3(xs[0])
    _, taps = T.identity(shape)
    return linear(node, xs[0], shape, shape, taps, env, what="split (the pieces are the next slice rows)", src=src,
                  shown_shape=_shown(node, env, shape),
                  rule=[f"the pieces {node.name}.0, {node.name}.1, … are slices of this tensor; it passes through "
                        "unchanged"],
                  back_rule=["δX = the sum of the pieces' gradients, each in its place"])


@handles("slice")
def slice_(node, xs, env, src):
    layer = node.layer
    shape = _shape3(xs[0])
    analysed = env.results[node.name].input_shapes[0] if node.name in env.results else shape
    axis = _axis_map(analysed)[layer.dim]
    start, stop = layer.bounds(tuple(analysed))
    kept = list(range(start, stop, layer.step))
    out = tuple(len(kept) if a == axis else n for a, n in enumerate(shape))

    def source(c, i, j):
        at = [c, i, j]
        at[axis] = kept[at[axis]]
        return tuple(at)

    what = ("channels", "rows", "columns")[axis]
    step = f", every {layer.step}th" if layer.step > 1 else ""
    return linear(node, xs[0], shape, out, _from_rule(shape, out, source), env, what=f"slice of the {what}",
                  src=src, shown_shape=_shown(node, env, out),
                  rule=[f"keep {what} {start + 1} … {stop} (numbered from 1{step}); the others are dropped"],
                  back_rule=[f"δX = δY in the kept {what}, 0 in the dropped ones"])


# -- shuffles ---------------------------------------------------------------------------------------------


@handles("channel_shuffle")
def channel_shuffle(node, xs, env, src):
    shape = _shape3(xs[0])
    g = node.layer.groups
    k = shape[0] // g
    # view the channels as [g, k], transpose to [k, g]: output channel a·g + b is input channel b·k + a
    taps = _from_rule(shape, shape, lambda c, i, j: ((c % g) * k + c // g, i, j))
    return linear(node, xs[0], shape, shape, taps, env, what=f"channel shuffle in {g} groups", src=src,
                  shown_shape=_shown(node, env, shape),
                  rule=[f"the channels as {g} groups of {k}, read group by group across: output channel a·{g} + b "
                        f"(from 0) is input channel b·{k} + a"],
                  back_rule=["δX = δY shuffled back (the inverse permutation)"])


@handles("pixel_shuffle")
def pixel_shuffle(node, xs, env, src):
    shape = _shape3(xs[0])
    r = node.layer.upscale_factor
    out = (shape[0] // (r * r), shape[1] * r, shape[2] * r)
    taps = _from_rule(shape, out, lambda c, i, j: (c * r * r + (i % r) * r + j % r, i // r, j // r))
    return linear(node, xs[0], shape, out, taps, env, what=f"pixel shuffle, r = {r}", src=src,
                  rule=[f"Y[c, h·{r} + a, w·{r} + b] = X[c·{r * r} + a·{r} + b, h, w] (from 0): each group of "
                        f"{r * r} channels becomes a {r}×{r} block of pixels"],
                  back_rule=["δX = pixel_unshuffle(δY): every gradient goes back to the channel it came from"])


@handles("pixel_unshuffle")
def pixel_unshuffle(node, xs, env, src):
    shape = _shape3(xs[0])
    r = node.layer.downscale_factor
    out = (shape[0] * r * r, shape[1] // r, shape[2] // r)
    taps = _from_rule(shape, out, lambda c, i, j: (c // (r * r), i * r + (c % (r * r)) // r, j * r + c % r))
    return linear(node, xs[0], shape, out, taps, env, what=f"pixel unshuffle, r = {r}", src=src,
                  rule=[f"Y[c·{r * r} + a·{r} + b, h, w] = X[c, h·{r} + a, w·{r} + b] (from 0): each {r}×{r} block "
                        f"of pixels becomes {r * r} channels"],
                  back_rule=["δX = pixel_shuffle(δY)"])


# -- mean, layer scale, stochastic depth ------------------------------------------------------------------


@handles("mean")
def mean(node, xs, env, src):
    shape = _shape3(xs[0])
    analysed = env.results[node.name].input_shapes[0] if node.name in env.results else shape
    axes = {_axis_map(analysed)[d] for d in node.layer.dim}
    kept = tuple(1 if a in axes else n for a, n in enumerate(shape))
    count = math.prod(shape[a] for a in axes)
    taps = []
    for c in range(kept[0]):
        for i in range(kept[1]):
            for j in range(kept[2]):
                ranges = [range(n) if a in axes else [v] for a, (n, v) in enumerate(zip(shape, (c, i, j)))]
                taps.append([(T.index(shape, cc, ii, jj), Fraction(1, count))
                             for cc in ranges[0] for ii in ranges[1] for jj in ranges[2]])
    rest = [n for a, n in enumerate(kept) if a not in axes] if not node.layer.keepdim else list(kept)
    out = kept if len(rest) == 3 else (rest[0], 1, rest[1]) if len(rest) == 2 else (rest[0], 1, 1)
    what = ", ".join(("channels", "rows", "columns")[a] for a in sorted(axes))
    return linear(node, xs[0], shape, out, taps, env, what=f"mean over the {what}", src=src,
                  shown_shape=_shown(node, env, out),
                  rule=[f"each output is the mean of the {count} values it covers (1/{count} each)"],
                  back_rule=[f"δX = δY/{count} spread over the cells each output averaged"])


@handles("layer_scale")
def layer_scale(node, xs, env, src):
    shape = _shape3(xs[0])
    gamma = _per_channel_numbers(node, "weights", shape[0], 1)
    taps = _from_rule(shape, shape, lambda c, i, j: (c, i, j))
    taps = [[(k, gamma[k // (shape[1] * shape[2])])] for (k, _), in taps]
    x = xs[0]

    def dgamma(dy, dx, block):
        from .worked import fmt

        grads = [sum((a * b for ra, rb in zip(dy[c], x[c]) for a, b in zip(ra, rb)), 0) for c in range(shape[0])]
        block.text("δγ = Σ δY·X per channel = [" + ", ".join(fmt(v) for v in grads) + "]")

    from .worked import fmt

    return linear(node, x, shape, shape, taps, env, what="layer scale", src=src,
                  shown_shape=_shown(node, env, shape),
                  rule=["Y = γ_c·X, one learned γ per channel: γ = [" + ", ".join(fmt(g) for g in gamma) + "]"
                        + ("" if "weights" in node.extra else " (no 'weights:' given: 1 each)")],
                  back_rule=["δX = γ_c·δY"], back_extra=dgamma)


@handles("stochastic_depth")
def stochastic_depth(node, xs, env, src):
    shape = _shape3(xs[0])
    _, taps = T.identity(shape)
    return linear(node, xs[0], shape, shape, taps, env, what="stochastic depth (inference: identity)", src=src,
                  shown_shape=_shown(node, env, shape),
                  rule=[f"at inference every value passes through unchanged (in training the whole sample is dropped "
                        f"with probability p = {node.layer.p} and kept ones are scaled by 1/(1 − p))"],
                  back_rule=["δX = δY"])


# -- layer, group and instance normalisation ----------------------------------------------------------------


def _groups(node, shape, analysed) -> tuple[list[list[tuple]], str]:
    """The cells normalised together, and the rule in words."""
    c, h, w = shape
    kind = node.type_name
    cells = [(ch, i, j) for ch in range(c) for i in range(h) for j in range(w)]
    if kind == "instance_norm":
        return [[p for p in cells if p[0] == ch] for ch in range(c)], "each channel over its positions"
    if kind == "group_norm":
        g = node.layer.num_groups
        k = c // g
        return [[p for p in cells if p[0] // k == n] for n in range(g)], \
            f"{g} groups of {k} channels, each over its channels and positions"
    axes = [_axis_map(analysed)[a] for a in node.layer.axes(tuple(analysed))]
    if axes == [0]:
        return [[(ch, i, j) for ch in range(c)] for i in range(h) for j in range(w)], \
            "the channels at each position"
    groups: dict = {}
    for p in cells:
        groups.setdefault(tuple(v for a, v in enumerate(p) if a not in axes), []).append(p)
    return list(groups.values()), "the trailing axes " + str(list(node.layer.normalized_shape
                                                               if isinstance(node.layer.normalized_shape, tuple)
                                                               else [node.layer.normalized_shape]))


def _affine(node, shape, analysed):
    """γ and β as functions of a cell (c, i, j)."""
    layer = node.layer
    c = shape[0]
    if node.type_name == "layer_norm":
        if not layer.elementwise_affine:
            return (lambda p: 1), (lambda p: 0), False
        axes = [_axis_map(analysed)[a] for a in layer.axes(tuple(analysed))]
        n = math.prod(shape[a] for a in axes)
        gamma = _per_channel_numbers(node, "weights", n, 1)
        beta = _per_channel_numbers(node, "biases", n, 0) if layer.bias else [0] * n

        def at(p):
            k = 0
            for a in axes:
                k = k * shape[a] + p[a]
            return k

        return (lambda p: gamma[at(p)]), (lambda p: beta[at(p)]), True
    if not layer.affine:
        return (lambda p: 1), (lambda p: 0), False
    gamma = _per_channel_numbers(node, "weights", c, 1)
    beta = _per_channel_numbers(node, "biases", c, 0)
    return (lambda p: gamma[p[0]]), (lambda p: beta[p[0]]), True


@handles("layer_norm", "group_norm", "instance_norm")
def normalisation(node, xs, env, src):
    from .worked import Block

    x = xs[0]
    shape = _shape3(x)
    analysed = env.results[node.name].input_shapes[0] if node.name in env.results else shape
    groups, words = _groups(node, shape, analysed)
    if any(len(g) < 2 for g in groups) and node.type_name != "layer_norm":
        raise SpecError(f"{node.type_name} of groups of one value has σ² = 0: the output is β whatever the input; "
                        "give each group at least two values", loc=node.loc, **_ctx(node))
    gamma, beta, affine = _affine(node, shape, analysed)
    eps = _fr(node.layer.eps)
    value = {p: x[p[0]][p[1]][p[2]] for g in groups for p in g}
    stats = []
    y = [[[0] * shape[2] for _ in range(shape[1])] for _ in range(shape[0])]
    xhat = {}
    for g in groups:
        mu = sum((value[p] for p in g), Fraction(0)) / len(g)
        var = sum(((value[p] - mu) ** 2 for p in g), Fraction(0)) / len(g)
        inv = 1 / math.sqrt(float(var + eps))
        stats.append((mu, var, inv))
        for p in g:
            xhat[p] = (float(value[p]) - float(mu)) * inv
            y[p[0]][p[1]][p[2]] = rounded(float(gamma(p)) * xhat[p] + float(beta(p)))
    from .worked import fmt

    name = node.type_name.replace("_", " ")
    b = Block(f"{node.index}. {node.name}: {name} over {words}: {src} → {node.name}")
    b.text("per group: μ = mean, σ² = mean of (x − μ)² (biased, as PyTorch), x̂ = (x − μ)/√(σ² + ε), "
           + ("y = γ·x̂ + β" if affine else "y = x̂"))
    shown = stats[:8]
    b.text("μ = [" + ", ".join(fmt(m) for m, _, _ in shown) + "],  σ² = [" + ", ".join(fmt(v) for _, v, _ in shown)
           + "]" + (" …" if len(stats) > 8 else "") + f",  ε = {fmt(eps)}")
    b.text(f"≈: √(σ² + ε) is not rational; values rounded to 6 decimals")
    b.tensor(node.name + " (≈)", y)

    def backward(dy, block):
        dx = [[[0] * shape[2] for _ in range(shape[1])] for _ in range(shape[0])]
        for g, (_, _, inv) in zip(groups, stats):
            n = len(g)
            dxh = {p: float(dy[p[0]][p[1]][p[2]]) * float(gamma(p)) for p in g}
            s1 = sum(dxh.values())
            s2 = sum(dxh[p] * xhat[p] for p in g)
            for p in g:
                dx[p[0]][p[1]][p[2]] = rounded(inv / n * (n * dxh[p] - s1 - xhat[p] * s2))
        block.text("δx̂ = γ·δy;  δx = (1/(N·√(σ² + ε)))·(N·δx̂ − Σ δx̂ − x̂·Σ δx̂·x̂) per group of N values (≈)")
        return [dx]

    return Done(y, b, backward, approx=True)
