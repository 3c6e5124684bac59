"""Layers of a hand example as *taps*: which input cells feed each output cell, and with what weight.

A linear layer (resampling, unpooling, padding, mean pooling, convolution) is
the matrix M with y = M·x; its taps are M's non-zero entries, row by row, so
the same list gives the forward pass (y = M x), the backward pass
(δx = Mᵀ δy), the matrix for ``--matrix`` and the "which cells feed which"
lines. A max-type layer (global max, adaptive max, K-max) selects one input
per output: its taps are data-dependent but have the same form (weight 1),
and its backward pass routes through them (the switches).

Tensors are ``[C][H][W]`` nested lists of ints/Fractions, flattened row by row,
channel after channel (index ``(c·H + i)·W + j``). Nothing here prints and
nothing imports numpy: every number stays exact.
"""

from __future__ import annotations

from fractions import Fraction
from math import floor

# taps: one list per output cell (flattened) of (input index, weight)
Taps = list


def size(shape) -> int:
    c, h, w = shape
    return c * h * w


def index(shape, c, i, j) -> int:
    return (c * shape[1] + i) * shape[2] + j


def cell(shape, k) -> tuple[int, int, int]:
    """Flat index → (c, i, j)."""
    hw = shape[1] * shape[2]
    return k // hw, (k % hw) // shape[2], k % shape[2]


def flatten(t) -> list:
    return [v for ch in t for row in ch for v in row]


def reshape(v, shape):
    c, h, w = shape
    return [[list(v[(ch * h + i) * w:(ch * h + i + 1) * w]) for i in range(h)] for ch in range(c)]


def apply(taps: Taps, x_flat) -> list:
    """y = M x."""
    return [sum((wt * x_flat[k] for k, wt in row), 0) for row in taps]


def apply_transposed(taps: Taps, dy_flat, n_in: int) -> list:
    """δx = Mᵀ δy: every output's gradient goes back along its taps (adding where they meet)."""
    dx = [0] * n_in
    for row, g in zip(taps, dy_flat):
        for k, wt in row:
            dx[k] += wt * g
    return dx


def dense_matrix(taps: Taps, n_in: int) -> list:
    rows = []
    for row in taps:
        r = [0] * n_in
        for k, wt in row:
            r[k] += wt
        rows.append(r)
    return rows


def _per_channel(in_shape, out_hw, rule) -> tuple[tuple, Taps]:
    """Taps of a layer that works on every channel alike: ``rule(i, j)`` lists
    ((u, v), weight) of the input cells feeding output (i, j)."""
    c = in_shape[0]
    oh, ow = out_hw
    taps = []
    for ch in range(c):
        for i in range(oh):
            for j in range(ow):
                taps.append([(index(in_shape, ch, u, v), wt) for (u, v), wt in rule(i, j)])
    return (c, oh, ow), taps


# -- resampling ------------------------------------------------------------------------------


def downsample(in_shape, f) -> tuple[tuple, Taps]:
    """dSample(X | f): output (i, j) is input (i·f, j·f); o = ⌈n / f⌉."""
    (fh, fw), (_, h, w) = f, in_shape
    return _per_channel(in_shape, (-(-h // fh), -(-w // fw)), lambda i, j: [((i * fh, j * fw), 1)])


def upsample_zeros(in_shape, f) -> tuple[tuple, Taps]:
    """uSample(X | f): f − 1 zeros between neighbouring values; o = (n − 1)·f + 1."""
    (fh, fw), (_, h, w) = f, in_shape

    def rule(i, j):
        return [((i // fh, j // fw), 1)] if i % fh == 0 and j % fw == 0 else []

    return _per_channel(in_shape, ((h - 1) * fh + 1, (w - 1) * fw + 1), rule)


def nearest(in_shape, f) -> tuple[tuple, Taps]:
    """Nearest-neighbour upsampling / unpooling: each value copied into an f_H×f_W block."""
    (fh, fw), (_, h, w) = f, in_shape
    return _per_channel(in_shape, (h * fh, w * fw), lambda i, j: [((i // fh, j // fw), 1)])


def bed_of_nails(in_shape, f) -> tuple[tuple, Taps]:
    """Bed-of-nails unpooling: each value in the first cell of its f_H×f_W block, zeros elsewhere."""
    (fh, fw), (_, h, w) = f, in_shape

    def rule(i, j):
        return [((i // fh, j // fw), 1)] if i % fh == 0 and j % fw == 0 else []

    return _per_channel(in_shape, (h * fh, w * fw), rule)


def linear_weights(n: int, f: int) -> list[list[tuple[int, Fraction]]]:
    """PyTorch's linear interpolation (align_corners=False) along one axis of n cells, ×f:
    output o samples the input at s = max((o + ½)/f − ½, 0), between cells ⌊s⌋ and ⌊s⌋ + 1
    (the last cell repeated past the end)."""
    out = []
    for o in range(n * f):
        s = max(Fraction(2 * o + 1, 2 * f) - Fraction(1, 2), Fraction(0))
        i0 = floor(s)
        i1 = min(i0 + 1, n - 1)
        t = s - i0
        pair = [(i0, Fraction(1))] if i1 == i0 else [(i0, 1 - t), (i1, t)]
        out.append([(i, wt) for i, wt in pair if wt])
    return out


def bilinear(in_shape, f) -> tuple[tuple, Taps]:
    """Bilinear upsampling: the product of the two axes' linear weights."""
    (fh, fw), (_, h, w) = f, in_shape
    rows, cols = linear_weights(h, fh), linear_weights(w, fw)
    return _per_channel(in_shape, (h * fh, w * fw),
                        lambda i, j: [((u, v), a * b) for u, a in rows[i] for v, b in cols[j]])


def max_unpool(in_shape, out_shape, switches) -> Taps:
    """Max-unpooling: input value (c, i, j) goes back to the cell its max_pool took it from
    (``switches[c][i][j]`` = (u, v)); zeros elsewhere. Where two pooled values share a cell
    (overlapping windows) the later one is written, as PyTorch's MaxUnpool does."""
    writer = {}
    c, h, w = in_shape
    for ch in range(c):
        for i in range(h):
            for j in range(w):
                u, v = switches[ch][i][j]
                writer[index(out_shape, ch, u, v)] = index(in_shape, ch, i, j)
    return [[(writer[k], 1)] if k in writer else [] for k in range(size(out_shape))]


# -- padding, cropping, flattening -------------------------------------------------------------


def pad(in_shape, pads) -> tuple[tuple, Taps]:
    (pt, pb), (pl, pr) = pads
    _, h, w = in_shape

    def rule(i, j):
        u, v = i - pt, j - pl
        return [((u, v), 1)] if 0 <= u < h and 0 <= v < w else []

    return _per_channel(in_shape, (h + pt + pb, w + pl + pr), rule)


def crop(in_shape, sides) -> tuple[tuple, Taps]:
    (ct, cb), (cl, cr) = sides
    _, h, w = in_shape
    return _per_channel(in_shape, (h - ct - cb, w - cl - cr), lambda i, j: [((i + ct, j + cl), 1)])


def identity(in_shape) -> tuple[tuple, Taps]:
    return in_shape, [[(k, 1)] for k in range(size(in_shape))]


# -- mean pooling ----------------------------------------------------------------------------------


def window_cells(n, i, k, s, before, after):
    """Input cells (inside the input) of window i along one axis, and the window's length with padding."""
    lo = i * s - before
    hi = min(lo + k, n + after)
    return [u for u in range(max(lo, 0), min(hi, n))], hi - lo


def avg_pool(in_shape, kernel, stride, pads, outs, count_include_pad=True) -> tuple[tuple, Taps]:
    """Mean over each window (padded zeros count in the divisor by default, as in PyTorch)."""
    (kh, kw), (sh, sw), ((pt, pb), (pl, pr)) = kernel, stride, pads
    _, h, w = in_shape

    def rule(i, j):
        rows, nh = window_cells(h, i, kh, sh, pt, pb)
        cols, nw = window_cells(w, j, kw, sw, pl, pr)
        n = nh * nw if count_include_pad else len(rows) * len(cols)
        return [((u, v), Fraction(1, n)) for u in rows for v in cols]

    return _per_channel(in_shape, outs, rule)


def adaptive_windows(n: int, o: int) -> list[range]:
    """PyTorch's adaptive pooling windows: output i covers ⌊i·n/o⌋ … ⌈(i + 1)·n/o⌉ − 1."""
    return [range((i * n) // o, -(-((i + 1) * n) // o)) for i in range(o)]


def adaptive_avg(in_shape, outs) -> tuple[tuple, Taps]:
    _, h, w = in_shape
    rows, cols = adaptive_windows(h, outs[0]), adaptive_windows(w, outs[1])

    def rule(i, j):
        n = len(rows[i]) * len(cols[j])
        return [((u, v), Fraction(1, n)) for u in rows[i] for v in cols[j]]

    return _per_channel(in_shape, outs, rule)


# -- max-type selections (data-dependent taps, weight 1) ------------------------------------------------


def select_max(x, windows_of) -> tuple[tuple, Taps, list]:
    """Each output the maximum of its window (the first on ties); ``windows_of(h, w)`` gives
    (out_hw, rule) with rule(i, j) the window's cells. Returns (out shape, taps, switches)."""
    c, h, w = len(x), len(x[0]), len(x[0][0])
    (oh, ow), rule = windows_of(h, w)
    taps, switches = [], []
    for ch in range(c):
        sw = []
        for i in range(oh):
            row = []
            for j in range(ow):
                best = None
                for u, v in rule(i, j):
                    if best is None or x[ch][u][v] > x[ch][best[0]][best[1]]:
                        best = (u, v)
                taps.append([(index((c, h, w), ch, *best), 1)])
                row.append(best)
            sw.append(row)
        switches.append(sw)
    return (c, oh, ow), taps, switches


def global_max(x):
    return select_max(x, lambda h, w: ((1, 1), lambda i, j: [(u, v) for u in range(h) for v in range(w)]))


def adaptive_max(x, outs):
    def windows(h, w):
        rows, cols = adaptive_windows(h, outs[0]), adaptive_windows(w, outs[1])
        return outs, lambda i, j: [(u, v) for u in rows[i] for v in cols[j]]

    return select_max(x, windows)


def kmax(x, k: int, axis: int):
    """K-max pooling along spatial ``axis`` (0 = rows, 1 = columns): the K largest values of every
    line along that axis, kept in their original order (the earlier one first on ties)."""
    c, h, w = len(x), len(x[0]), len(x[0][0])
    shape = (c, h, w)
    out = (c, k, w) if axis == 0 else (c, h, k)
    taps = [None] * size(out)
    kept = []
    for ch in range(c):
        lines = range(w) if axis == 0 else range(h)
        for line in lines:
            cells = [(u, line) for u in range(h)] if axis == 0 else [(line, v) for v in range(w)]
            ranked = sorted(range(len(cells)), key=lambda t: (-x[ch][cells[t][0]][cells[t][1]], t))
            chosen = sorted(ranked[:k])
            for slot, t in enumerate(chosen):
                u, v = cells[t]
                o = index(out, ch, slot, line) if axis == 0 else index(out, ch, line, slot)
                taps[o] = [(index(shape, ch, u, v), 1)]
            kept.append((ch, line, [cells[t] for t in chosen]))
    return out, taps, kept


# -- convolution (any stride, fractional too) ------------------------------------------------------------


def conv(in_shape, w, stride, pads, dilation, groups, ups=(1, 1)) -> tuple[tuple, Taps]:
    """Z = Conv(uSample(X | S1) | W, S2): the taps of a convolution whose stride S2/S1 may be a
    fraction (S1 = 1 for an integer stride). A tap landing on an inserted zero or on padding is
    dropped. Weights ``w`` are [C_out][C_in / G][F_H][F_W]."""
    c_in, h, wd = in_shape
    c_out, cg, kh, kw = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
    (sh, sw), (dh, dw), (uh, uw) = stride, dilation, ups
    (pt, pb), (pl, pr) = pads
    hu, wu = (h - 1) * uh + 1, (wd - 1) * uw + 1
    oh = (hu + pt + pb - (dh * (kh - 1) + 1)) // sh + 1
    ow = (wu + pl + pr - (dw * (kw - 1) + 1)) // sw + 1
    per_group = c_out // groups
    taps = []
    for o in range(c_out):
        g0 = (o // per_group) * cg
        for i in range(oh):
            for j in range(ow):
                row = {}
                for c in range(cg):
                    for a in range(kh):
                        u = i * sh + a * dh - pt
                        if not (0 <= u < hu and u % uh == 0):
                            continue
                        for b in range(kw):
                            v = j * sw + b * dw - pl
                            if 0 <= v < wu and v % uw == 0 and w[o][c][a][b]:
                                k = index(in_shape, g0 + c, u // uh, v // uw)
                                row[k] = row.get(k, 0) + w[o][c][a][b]
                taps.append(sorted(row.items()))
    return (c_out, oh, ow), taps
