"""Reductions: the mean over chosen axes of each sample."""

from __future__ import annotations

from math import prod

import numpy as np

from ..kernel import Kernel, register_kernel


@register_kernel("mean")
class MeanKernel(Kernel):
    """y = mean of x over ``dim`` (axes of one sample; +1 for the batch axis);
    dx = dy/n spread over the averaged cells (n = their count). Keeps nothing."""

    def setup(self):
        self.axes = tuple(d + 1 for d in self.layer.dim)
        self.count = prod(self.in_shapes[0][d] for d in self.layer.dim)

    def forward(self, x):
        return x.mean(axis=self.axes, keepdims=self.layer.keepdim)

    def backward(self, dy):
        shape = (dy.shape[0], *self.in_shapes[0])
        kept = dy if self.layer.keepdim else np.expand_dims(dy, self.axes)
        return (np.broadcast_to(kept / self.dtype.type(self.count), shape).copy(),)
