"""Resampling and unpooling: upsample (zeros, nearest, linear modes),
downsample, unpool (nearest, bed of nails), max-unpool; explicit zero padding
and cropping. None keeps anything for backward but shapes."""

from __future__ import annotations

from math import prod

import numpy as np

from ...layers.fields import per_axis
from ..kernel import Kernel, register_kernel
from ..window import downsample, upsample_zeros
from .pooling import scatter_add


def _sides(value, nd, field):
    return tuple(v if isinstance(v, tuple) else (v, v) for v in per_axis(value, nd, field))


def _repeat(x, factors):
    for a, f in enumerate(factors):
        x = np.repeat(x, f, axis=2 + a)
    return x


def _block_sum(dy, factors):
    """Sum each f-sized block of every spatial axis (the adjoint of :func:`_repeat`)."""
    n, c = dy.shape[:2]
    split = []
    for size, f in zip(dy.shape[2:], factors):
        split += [size // f, f]
    return dy.reshape(n, c, *split).sum(axis=tuple(3 + 2 * a for a in range(len(factors))))


def _linear_weights(n_in: int, f: int, dtype):
    """PyTorch's align_corners=False interpolation along one axis: for each of
    the n·f outputs the two source cells and the weight of the second."""
    src = np.maximum((np.arange(n_in * f) + 0.5) / f - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    return lo, hi, (src - lo).astype(dtype)


@register_kernel("upsample")
class UpsampleKernel(Kernel):
    """zeros: uSample; nearest: repeat each cell; linear modes: separable
    interpolation, one axis at a time (x_lo·(1 − λ) + x_hi·λ)."""

    def setup(self):
        self.factors = self.layer._factors(self.in_shapes[0])

    def forward(self, x):
        mode = self.layer.mode
        if mode == "zeros":
            y = upsample_zeros(x, self.factors)
            return x.copy() if y is x else y  # factor 1: still a new tensor, as the memory estimate counts it
        if mode == "nearest":
            return _repeat(x, self.factors)
        y = x
        for a, f in enumerate(self.factors):
            lo, hi, lam = _linear_weights(y.shape[2 + a], f, x.dtype)
            shape = (-1,) + (1,) * (len(self.factors) - a - 1)
            lam = lam.reshape(shape)
            y = np.take(y, lo, axis=2 + a) * (1 - lam) + np.take(y, hi, axis=2 + a) * lam
        return y

    def backward(self, dy):
        mode = self.layer.mode
        if mode == "zeros":
            return (np.ascontiguousarray(downsample(dy, self.factors)),)
        if mode == "nearest":
            return (_block_sum(dy, self.factors),)
        g = dy
        for a in reversed(range(len(self.factors))):
            f = self.factors[a]
            n_in = self.in_shapes[0][1 + a]
            lo, hi, lam = _linear_weights(n_in, f, dy.dtype)
            moved = np.moveaxis(g, 2 + a, -1)  # (..., n·f)
            out = np.zeros((*moved.shape[:-1], n_in), dtype=dy.dtype)
            np.add.at(out, (..., lo), moved * (1 - lam))
            np.add.at(out, (..., hi), moved * lam)
            g = np.moveaxis(out, -1, 2 + a)
        return (g,)


@register_kernel("downsample")
class DownsampleKernel(Kernel):
    """Every f-th cell (a copy, so the output owns its memory)."""

    def setup(self):
        self.factors = self.layer._factors(self.in_shapes[0])

    def forward(self, x):
        self.in_full_shape = x.shape
        return downsample(x, self.factors).copy()  # a new tensor even for factor 1 (never a view of x)

    def backward(self, dy):
        dx = np.zeros(self.in_full_shape, dtype=dy.dtype)
        dx[(slice(None), slice(None), *(slice(None, None, f) for f in self.factors))] = dy
        return (dx,)


@register_kernel("unpool")
class UnpoolKernel(Kernel):
    """nearest: each cell becomes a k-block of copies; bed_of_nails: the value
    in the block's first cell, zeros elsewhere."""

    def setup(self):
        self.factors = self.layer._factors(self.in_shapes[0])

    def forward(self, x):
        if self.layer.mode == "nearest":
            return _repeat(x, self.factors)
        y = np.zeros((x.shape[0], *self.out_shape), dtype=x.dtype)
        y[(slice(None), slice(None), *(slice(None, None, f) for f in self.factors))] = x
        return y

    def backward(self, dy):
        if self.layer.mode == "nearest":
            return (_block_sum(dy, self.factors),)
        return (np.ascontiguousarray(dy[(slice(None), slice(None), *(slice(None, None, f) for f in self.factors))]),)


@register_kernel("max_unpool")
class MaxUnpoolKernel(Kernel):
    """Puts each value back at its max_pool layer's argmax (flat input
    positions the pooling kernel keeps for its own backward pass)."""

    def _indices(self):
        return self.peers[self.layer.pool].saved["indices"]

    def forward(self, x):
        n = x.shape[0]
        size = n * prod(self.out_shape)
        return scatter_add(self._indices(), x, size, x.dtype).reshape(n, *self.out_shape)

    def backward(self, dy):
        index = self._indices()  # −1: a pooling window of padding only, no gradient
        picked = np.where(index >= 0, dy.reshape(-1)[np.maximum(index, 0)], 0).astype(dy.dtype, copy=False)
        return (picked.reshape(dy.shape[0], *self.in_shapes[0]),)


@register_kernel("zero_pad")
class ZeroPadKernel(Kernel):
    def setup(self):
        self.sides = _sides(self.layer.padding, len(self.in_shapes[0]) - 1, "padding")

    def forward(self, x):
        return np.pad(x, ((0, 0), (0, 0), *self.sides))

    def backward(self, dy):
        inner = tuple(slice(b, b + i) for (b, _), i in zip(self.sides, self.in_shapes[0][1:]))
        return (np.ascontiguousarray(dy[(slice(None), slice(None), *inner)]),)


@register_kernel("crop")
class CropKernel(Kernel):
    """A copy of the interior (so the output owns its memory)."""

    def setup(self):
        self.sides = _sides(self.layer.cropping, len(self.in_shapes[0]) - 1, "cropping")

    def forward(self, x):
        inner = tuple(slice(b, b + o) for (b, _), o in zip(self.sides, self.out_shape[1:]))
        return x[(slice(None), slice(None), *inner)].copy()  # a new tensor even when nothing is cropped

    def backward(self, dy):
        return (np.pad(dy, ((0, 0), (0, 0), *self.sides)),)
