"""Exact forward and backward kernels for small hand examples (2D, channels first).

Tensors are nested lists ``[C][H][W]`` of ints/Fractions; a kernel is
``[C_out][C_in / groups][F_H][F_W]`` (a transposed convolution's is
``[C_in][C_out / groups][F_H][F_W]``, as in PyTorch). Indices are 0-based here;
the printing adds 1 to match the lectures. Each forward sits beside its
backward (micrograd's habit). No numpy: every number stays exact.
"""

from __future__ import annotations

from fractions import Fraction

NEG_INF = None  # a padded cell in max pooling: never the maximum


def zeros(c, h, w):
    return [[[0] * w for _ in range(h)] for _ in range(c)]


def pad2d(x, pads, value=0):
    """x [C][H][W] padded by ((top, bottom), (left, right))."""
    (pt, pb), (pl, pr) = pads
    out = []
    for ch in x:
        w = len(ch[0]) + pl + pr
        rows = [[value] * w for _ in range(pt)]
        rows += [[value] * pl + list(r) + [value] * pr for r in ch]
        rows += [[value] * w for _ in range(pb)]
        out.append(rows)
    return out


def out_size(n, k_eff, s, pad):
    return (n + pad[0] + pad[1] - k_eff) // s + 1


# -- convolution (cross-correlation) ------------------------------------------------


def conv2d(x, w, bias=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """Z[o][i][j] = b[o] + Σ_c Σ_a Σ_b W[o][c][a][b] · Xp[g·C/G + c][i·S + a·d][j·S + b·d]."""
    xp = pad2d(x, pads)
    c_in, hp, wp = len(xp), len(xp[0]), len(xp[0][0])
    c_out, cg, kh, kw = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
    (sh, sw), (dh, dw) = stride, dilation
    oh = (hp - (dh * (kh - 1) + 1)) // sh + 1
    ow = (wp - (dw * (kw - 1) + 1)) // sw + 1
    per_group = c_out // groups
    z = zeros(c_out, oh, ow)
    for o in range(c_out):
        g0 = (o // per_group) * cg
        b = bias[o] if bias is not None else 0
        for i in range(oh):
            for j in range(ow):
                acc = b
                for c in range(cg):
                    xc, wc = xp[g0 + c], w[o][c]
                    for a in range(kh):
                        row = xc[i * sh + a * dh]
                        for bb in range(kw):
                            acc += wc[a][bb] * row[j * sw + bb * dw]
                z[o][i][j] = acc
    assert c_in == cg * groups
    return z


def downsample(z, stride):
    """dSample(Z | S): keep rows and columns 1, 1 + S, 1 + 2S, … (the lectures' stride)."""
    sh, sw = stride
    return [[row[::sw] for row in ch[::sh]] for ch in z]


def upsample_zeros(z, stride):
    """uSample(Z | S): S − 1 zeros between neighbouring values (the backward of dSample)."""
    sh, sw = stride
    out = []
    for ch in z:
        h, w = len(ch), len(ch[0])
        rows = [[0] * ((w - 1) * sw + 1) for _ in range((h - 1) * sh + 1)]
        for i in range(h):
            for j in range(w):
                rows[i * sh][j * sw] = ch[i][j]
        out.append(rows)
    return out


def flip(w):
    """rot180 of every kernel slice: W[a][b] → W[F−1−a][F−1−b]."""
    return [[[list(reversed(r)) for r in reversed(k)] for k in ko] for ko in w]


def conv2d_backward(x, w, dz, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """The lectures' route: δX = full convolution of uSample(δZ | S) with the flipped
    kernel, cropped to the unpadded input; δW = Conv(Xp | uSample(δZ | S)) (the
    stride becomes a dilation of δZ); δb = Σ δZ. Returns (dX, dW, db, intermediates)."""
    (pt, pb), (pl, pr) = pads
    c_in, h, wd = len(x), len(x[0]), len(x[0][0])
    c_out, cg, kh, kw = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
    (dh, dw) = dilation
    per_group = c_out // groups
    up = upsample_zeros(dz, stride)
    uh, uw = len(up[0]), len(up[0][0])
    keh, kew = dh * (kh - 1) + 1, dw * (kw - 1) + 1
    full_pads = ((keh - 1, keh - 1), (kew - 1, kew - 1))
    up_p = pad2d(up, full_pads)
    wf = flip(w)
    hp, wp = h + pt + pb, wd + pl + pr
    dxp = zeros(c_in, hp, wp)
    for c in range(c_in):
        g = c // cg
        for o in range(g * per_group, (g + 1) * per_group):
            k = wf[o][c - g * cg]
            for u in range(uh + keh - 1):
                for v in range(uw + kew - 1):
                    if u >= hp or v >= wp:
                        continue
                    acc = 0
                    for a in range(kh):
                        for b in range(kw):
                            acc += k[a][b] * up_p[o][u + a * dh][v + b * dw]
                    dxp[c][u][v] += acc
    dx = [[row[pl:pl + wd] for row in ch[pt:pt + h]] for ch in dxp]
    xp = pad2d(x, pads)
    dW = [[[[0] * kw for _ in range(kh)] for _ in range(cg)] for _ in range(c_out)]
    for o in range(c_out):
        g0 = (o // per_group) * cg
        for c in range(cg):
            for a in range(kh):
                for b in range(kw):
                    acc = 0
                    for u in range(uh):
                        for v in range(uw):
                            if up[o][u][v]:
                                acc += up[o][u][v] * xp[g0 + c][u + a * dh][v + b * dw]
                    dW[o][c][a][b] = acc
    db = [sum(sum(r) for r in ch) for ch in dz]
    return dx, dW, db, {"upsampled": up, "flipped": wf}


# -- transposed convolution ------------------------------------------------------------


def conv_transpose2d(x, w, bias=None, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1),
                     output_padding=(0, 0), groups=1):
    """Every input value scatters the kernel: Y[o][i·S + a·d − P][j·S + b·d − P] += X[c][i][j]·W[c][o][a][b]."""
    c_in, h, wd = len(x), len(x[0]), len(x[0][0])
    cg_out, kh, kw = len(w[0]), len(w[0][0]), len(w[0][0][0])
    (sh, sw), (dh, dw) = stride, dilation
    (pt, pb), (pl, pr) = pads
    oh = sh * (h - 1) + dh * (kh - 1) + 1 - pt - pb + output_padding[0]
    ow = sw * (wd - 1) + dw * (kw - 1) + 1 - pl - pr + output_padding[1]
    c_out = cg_out * groups
    in_per_group = c_in // groups
    y = zeros(c_out, oh, ow)
    for c in range(c_in):
        g = c // in_per_group
        for oc in range(cg_out):
            o = g * cg_out + oc
            k = w[c][oc]
            for i in range(h):
                for j in range(wd):
                    v = x[c][i][j]
                    if not v:
                        continue
                    for a in range(kh):
                        u = i * sh + a * dh - pt
                        if not 0 <= u < oh:
                            continue
                        for b in range(kw):
                            t = j * sw + b * dw - pl
                            if 0 <= t < ow:
                                y[o][u][t] += v * k[a][b]
    if bias is not None:
        for o in range(c_out):
            y[o] = [[val + bias[o] for val in row] for row in y[o]]
    return y


# -- pooling --------------------------------------------------------------------------


def _windows(h, w, kernel, stride, pads, dilation, ceil_mode):
    """Output sizes (H, W) of a pooling window, with PyTorch's ceil_mode rule."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (pt, pb), (pl, pr) = pads
    sizes = []
    for n, k, s, d, (before, after) in ((h, kh, sh, dh, (pt, pb)), (w, kw, sw, dw, (pl, pr))):
        keff = d * (k - 1) + 1
        span = n + before + after - keff
        o = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (o - 1) * s >= n + before:
            o -= 1
        sizes.append(o)
    return sizes


def max_pool2d(x, kernel, stride, pads=((0, 0), (0, 0)), dilation=(1, 1), ceil_mode=False):
    """Y = max over each window; I = index of the maximiser inside the window,
    numbered 1..F_H·F_W row by row (the lectures'); the first one on ties.
    Returns (Y, I, argmax positions in input coordinates)."""
    c, h, w = len(x), len(x[0]), len(x[0][0])
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    (pt, _), (pl, _) = pads
    oh, ow = _windows(h, w, kernel, stride, pads, dilation, ceil_mode)
    y, idx, pos = zeros(c, oh, ow), zeros(c, oh, ow), [[[None] * ow for _ in range(oh)] for _ in range(c)]
    for ch in range(c):
        for i in range(oh):
            for j in range(ow):
                best = best_k = best_pos = None
                for a in range(kh):
                    for b in range(kw):
                        u, v = i * sh + a * dh - pt, j * sw + b * dw - pl
                        if not (0 <= u < h and 0 <= v < w):
                            continue  # padding (−∞) or past the end (ceil_mode)
                        val = x[ch][u][v]
                        if best is None or val > best:
                            best, best_k, best_pos = val, a * kw + b + 1, (u, v)
                y[ch][i][j], idx[ch][i][j], pos[ch][i][j] = best, best_k, best_pos
    return y, idx, pos


def max_pool2d_backward(x_shape, pos, dy):
    """Route each output gradient to its window's maximiser (sums where windows share it)."""
    c, h, w = x_shape
    dx = zeros(c, h, w)
    for ch in range(c):
        for i, row in enumerate(pos[ch]):
            for j, p in enumerate(row):
                if p is not None:
                    dx[ch][p[0]][p[1]] += dy[ch][i][j]
    return dx


def _avg_cells(h, w, i, j, kernel, stride, pads):
    """Cells of window (i, j) inside the input, and PyTorch's divisor with padding counted."""
    (kh, kw), (sh, sw) = kernel, stride
    (pt, pb), (pl, pr) = pads
    h0, w0 = i * sh - pt, j * sw - pl
    h1, w1 = min(h0 + kh, h + pb), min(w0 + kw, w + pr)
    padded_count = (h1 - h0) * (w1 - w0)
    cells = [(u, v) for u in range(max(h0, 0), min(h1, h)) for v in range(max(w0, 0), min(w1, w))]
    return cells, padded_count


def avg_pool2d(x, kernel, stride, pads=((0, 0), (0, 0)), ceil_mode=False, count_include_pad=True):
    """Mean over each window (= a convolution with the uniform kernel 1/(F_H·F_W)); padded zeros
    count in the divisor by default, as in PyTorch."""
    c, h, w = len(x), len(x[0]), len(x[0][0])
    oh, ow = _windows(h, w, kernel, stride, pads, (1, 1), ceil_mode)
    y = zeros(c, oh, ow)
    for ch in range(c):
        for i in range(oh):
            for j in range(ow):
                cells, n_pad = _avg_cells(h, w, i, j, kernel, stride, pads)
                n = n_pad if count_include_pad else len(cells)
                y[ch][i][j] = Fraction(sum(x[ch][u][v] for u, v in cells), n)
    return y


def avg_pool2d_backward(x_shape, kernel, stride, dy, pads=((0, 0), (0, 0)), count_include_pad=True):
    c, h, w = x_shape
    dx = zeros(c, h, w)
    for ch in range(c):
        for i, row in enumerate(dy[ch]):
            for j, g in enumerate(row):
                cells, n_pad = _avg_cells(h, w, i, j, kernel, stride, pads)
                n = n_pad if count_include_pad else len(cells)
                for u, v in cells:
                    dx[ch][u][v] += Fraction(g, n) if isinstance(g, int) else g / n
    return dx


# -- element-wise -----------------------------------------------------------------------


def relu(x):
    return [[[v if v > 0 else 0 for v in row] for row in ch] for ch in x]


def relu_backward(x, dy):
    return [[[g if v > 0 else 0 for v, g in zip(rx, rg)] for rx, rg in zip(cx, cg)] for cx, cg in zip(x, dy)]


# -- convolution as a matrix product -----------------------------------------------------


def conv_matrix(in_shape, w, stride=(1, 1), pads=((0, 0), (0, 0)), dilation=(1, 1), groups=1):
    """The sparse matrix C with Cx = vec(Z) for the flattened input x (row-major,
    channel by channel): one row per output value, holding the kernel shifted to
    that output's window; taps that fall in the padding are dropped."""
    c_in, h, wd = in_shape
    c_out, cg, kh, kw = len(w), len(w[0]), len(w[0][0]), len(w[0][0][0])
    (sh, sw), (dh, dw) = stride, dilation
    (pt, pb), (pl, pr) = pads
    oh = (h + pt + pb - (dh * (kh - 1) + 1)) // sh + 1
    ow = (wd + pl + pr - (dw * (kw - 1) + 1)) // sw + 1
    per_group = c_out // groups
    rows = []
    for o in range(c_out):
        g0 = (o // per_group) * cg
        for i in range(oh):
            for j in range(ow):
                row = [0] * (c_in * h * wd)
                for c in range(cg):
                    for a in range(kh):
                        for b in range(kw):
                            u, v = i * sh + a * dh - pt, j * sw + b * dw - pl
                            if 0 <= u < h and 0 <= v < wd:
                                row[((g0 + c) * h + u) * wd + v] += w[o][c][a][b]
                rows.append(row)
    return rows, (c_out, oh, ow)


def matvec(m, x):
    return [sum(a * b for a, b in zip(row, x) if a) for row in m]


def transpose(m):
    return [list(col) for col in zip(*m)]


def flatten(t):
    return [v for ch in t for row in ch for v in row]


def reshape(v, shape):
    c, h, w = shape
    return [[v[(ch * h + i) * w:(ch * h + i) * w + w] for i in range(h)] for ch in range(c)]


def shape_of(t):
    """(C, H, W) of a nested-list tensor."""
    return (len(t), len(t[0]), len(t[0][0]))
