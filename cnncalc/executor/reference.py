"""Slow, obviously correct loop implementations, kept as references for tests.

Nothing here is used by ``cnncalc verify``; tests compare the fast kernels
with these on small random configurations.
"""

from __future__ import annotations

import itertools

import numpy as np


def conv_loops(x, weight, bias, strides, dilations, pads, groups):
    """Cross-correlation by the definition, one output value at a time.

    x (N, C_in, *i), weight (C_out, C_in/G, *k), bias (C_out,) or None,
    pads ((before, after), ...) → y (N, C_out, *o)::

        y[n, o, p] = b[o] + Σ_c Σ_t w[o, c, t] · x_pad[n, g·C_in/G + c, p·s + t·d]
    """
    n, c_in = x.shape[:2]
    c_out, c_per_group = weight.shape[:2]
    kernels = weight.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    outs = [
        (size - d * (k - 1) - 1) // s + 1
        for size, k, s, d in zip(xp.shape[2:], kernels, strides, dilations)
    ]
    y = np.zeros((n, c_out, *outs), dtype=x.dtype)
    out_per_group = c_out // groups
    for b in range(n):
        for o in range(c_out):
            g = o // out_per_group
            for pos in itertools.product(*(range(v) for v in outs)):
                total = 0.0 if bias is None else bias[o]
                for c in range(c_per_group):
                    for tap in itertools.product(*(range(k) for k in kernels)):
                        where = tuple(p * s + t * d for p, t, s, d in zip(pos, tap, strides, dilations))
                        total += weight[(o, c, *tap)] * xp[(b, g * c_per_group + c, *where)]
                y[(b, o, *pos)] = total
    return y


def conv_loops_backward(x, weight, dy, strides, dilations, pads, groups):
    """Gradients (dx, dweight, dbias) of :func:`conv_loops`, by the chain
    rule applied to the same loops: every product w·x sends dy·x to w and
    dy·w to x."""
    n, c_in = x.shape[:2]
    c_out, c_per_group = weight.shape[:2]
    kernels = weight.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), *pads))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(weight)
    out_per_group = c_out // groups
    for b in range(n):
        for o in range(c_out):
            g = o // out_per_group
            for pos in itertools.product(*(range(v) for v in dy.shape[2:])):
                grad = dy[(b, o, *pos)]
                for c in range(c_per_group):
                    for tap in itertools.product(*(range(k) for k in kernels)):
                        where = (b, g * c_per_group + c, *(p * s + t * d for p, t, s, d in zip(pos, tap, strides, dilations)))
                        dw[(o, c, *tap)] += grad * xp[where]
                        dxp[where] += grad * weight[(o, c, *tap)]
    inner = (slice(None), slice(None), *(slice(b, b + size) for (b, _), size in zip(pads, x.shape[2:])))
    return dxp[inner], dw, dy.sum(axis=(0, *range(2, dy.ndim)))
