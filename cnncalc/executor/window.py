"""Sliding windows over (N, C, *spatial) arrays: padding, strided views,
im2col/col2im. Shared by convolution and pooling; N-d throughout."""

from __future__ import annotations

import itertools
from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pad(x: np.ndarray, pads, value=0.0) -> np.ndarray:
    """Pad the spatial axes of x (N, C, *spatial) by ``(before, after)`` each."""
    if not any(b or a for b, a in pads):
        return x
    widths = ((0, 0), (0, 0), *((b, a) for b, a in pads))
    return np.pad(x, widths, constant_values=value)


def windows(xp: np.ndarray, kernels, strides, dilations, outs) -> np.ndarray:
    """Read-only view (N, C, *outs, *kernels) of every window of xp."""
    st = xp.strides
    nd = len(kernels)
    shape = (*xp.shape[:2], *outs, *kernels)
    steps = (*st[:2], *(st[2 + a] * strides[a] for a in range(nd)), *(st[2 + a] * dilations[a] for a in range(nd)))
    return as_strided(xp, shape, steps, writeable=False)


def tap_slices(tap, strides, dilations, outs):
    """Index (all N, all C, one strided slice per axis) of the inputs that
    kernel tap ``tap`` meets across every output position."""
    return (slice(None), slice(None), *(
        slice(t * d, t * d + s * (o - 1) + 1, s) for t, s, d, o in zip(tap, strides, dilations, outs)
    ))


def taps(kernels):
    return itertools.product(*(range(k) for k in kernels))


def needed_extent(outs, kernels, strides, dilations):
    """Padded length each axis must have for every window to fit."""
    return tuple((o - 1) * s + d * (k - 1) + 1 for o, k, s, d in zip(outs, kernels, strides, dilations))


def pad_to_fit(x: np.ndarray, pads, outs, kernels, strides, dilations, value=0.0):
    """Pad the before side as asked and the after side just enough for every
    window (ceil_mode windows may overhang the asked padding; cells no window
    reaches are left in place). Returns (padded, pads used)."""
    need = needed_extent(outs, kernels, strides, dilations)
    used = tuple((b, max(n - size - b, 0)) for (b, _), n, size in zip(pads, need, x.shape[2:]))
    return pad(x, used, value), used


def im2col(xp: np.ndarray, groups: int, kernels, strides, dilations, outs, out=None) -> np.ndarray:
    """Columns (G, C/G·∏k, N·∏o): one column per output position and sample
    (written into ``out`` when given)."""
    n, c = xp.shape[:2]
    nd = len(kernels)
    view = windows(xp, kernels, strides, dilations, outs)  # (N, C, *o, *k)
    order = (1, *range(2 + nd, 2 + 2 * nd), 0, *range(2, 2 + nd))  # (C, *k, N, *o)
    shape = (groups, (c // groups) * prod(kernels), n * prod(outs))
    if out is None:
        return view.transpose(order).reshape(shape)
    np.copyto(out.reshape(c, *kernels, n, *outs), view.transpose(order))
    return out.reshape(shape)


def col2im(cols: np.ndarray, shape, kernels, strides, dilations, outs) -> np.ndarray:
    """Sum columns (G, C/G·∏k, N·∏o) back into an array of the padded input's
    ``shape`` (N, C, *padded): the adjoint of :func:`im2col`."""
    n, c = shape[:2]
    nd = len(kernels)
    cols = cols.reshape(c, *kernels, n, *outs)
    out = np.zeros(shape, dtype=cols.dtype)
    for tap in taps(kernels):
        block = cols[(slice(None), *tap)]  # (C, N, *o)
        out[tap_slices(tap, strides, dilations, outs)] += block.swapaxes(0, 1)
    return out


def crop(xp: np.ndarray, pads, sizes) -> np.ndarray:
    """Undo :func:`pad`: the interior of xp of spatial ``sizes``. Trailing
    cells that :func:`pad_to_fit` trimmed (no window reaches them) come back
    as zeros, so a gradient always has its input's shape."""
    out = xp[(slice(None), slice(None), *(slice(b, b + s) for (b, _), s in zip(pads, sizes)))]
    short = [s - n for s, n in zip(sizes, out.shape[2:])]
    if any(short):
        out = np.pad(out, [(0, 0), (0, 0), *((0, m) for m in short)])
    return out


def upsample_zeros(x: np.ndarray, factors) -> np.ndarray:
    """uSample: ``f − 1`` zeros between the cells of each spatial axis."""
    if all(f == 1 for f in factors):
        return x
    sizes = tuple((i - 1) * f + 1 for i, f in zip(x.shape[2:], factors))
    out = np.zeros((*x.shape[:2], *sizes), dtype=x.dtype)
    out[(slice(None), slice(None), *(slice(None, None, f) for f in factors))] = x
    return out


def downsample(x: np.ndarray, factors) -> np.ndarray:
    """Every f-th cell of each spatial axis (the adjoint of :func:`upsample_zeros`)."""
    if all(f == 1 for f in factors):
        return x
    return x[(slice(None), slice(None), *(slice(None, None, f) for f in factors))]


def padded_taps(sizes, pads, kernels, strides, dilations, outs, ups=None) -> int:
    """Number of (kernel tap, output position) pairs that land on padding (or
    on zeros inserted by a fractional stride 1/u), per channel."""
    mask = upsample_zeros(np.ones((1, 1, *sizes), dtype=np.int64), ups or (1,) * len(sizes))
    mask = pad(mask, pads, 0)
    real = windows(mask, kernels, strides, dilations, outs).sum()
    return prod(kernels) * prod(outs) - int(real)
