"""Rearranging layers: slice, split, channel shuffle, pixel shuffle and unshuffle.

Each forward moves values by index (a view where numpy can: slices and the
split); each backward moves the gradient back by the same indices. Nothing
is kept for backward but shapes.
"""

from __future__ import annotations

import numpy as np

from ..kernel import Kernel, register_kernel


def _own(y, x):
    """``y`` as an array of its own: where the rearrangement is the identity
    (one group, r = 1) numpy's reshapes return a view of ``x``, and the layer
    is declared to produce a new array (what the memory estimate counts)."""
    return y.copy() if np.may_share_memory(y, x) else y


@register_kernel("split")
class SplitKernel(Kernel):
    """y = x (the pieces are slice nodes of their own); dx = dy, the sum of the pieces' gradients."""

    def forward(self, x):
        return x

    def backward(self, dy):
        return (dy,)


@register_kernel("slice")
class SliceKernel(Kernel):
    """y = x[:, …, start:stop:step, …] along ``dim`` (a view);
    dx = zeros with dy put back at the same cells."""

    def setup(self):
        start, stop = self.layer.bounds(self.in_shapes[0])
        self.index = (slice(None),) * (self.layer.dim + 1) + (slice(start, stop, self.layer.step),)

    def forward(self, x):
        return x[self.index]

    def backward(self, dy):
        dx = np.zeros((dy.shape[0], *self.in_shapes[0]), dtype=dy.dtype)
        dx[self.index] = dy
        return (dx,)


@register_kernel("channel_shuffle")
class ChannelShuffleKernel(Kernel):
    """(N, g·k, *s) → view (N, g, k, *s) → transpose → (N, k·g, *s): output
    channel i·g + j is input channel j·k + i. The backward is the shuffle with
    g and k exchanged."""

    @staticmethod
    def _shuffle(a, groups):
        n, c = a.shape[:2]
        rest = a.shape[2:]
        return a.reshape(n, groups, c // groups, *rest).swapaxes(1, 2).reshape(a.shape)

    def forward(self, x):
        return _own(self._shuffle(x, self.layer.groups), x)

    def backward(self, dy):
        return (self._shuffle(dy, dy.shape[1] // self.layer.groups),)


def _pixel_shuffle(x, r):
    """(N, C·r², H, W) → (N, C, H·r, W·r): out[c, h·r + i, w·r + j] = in[c·r² + i·r + j, h, w]."""
    n, c, h, w = x.shape
    return x.reshape(n, c // (r * r), r, r, h, w).transpose(0, 1, 4, 2, 5, 3).reshape(n, c // (r * r), h * r, w * r)


def _pixel_unshuffle(x, r):
    """The inverse: (N, C, H·r, W·r) → (N, C·r², H, W)."""
    n, c, hr, wr = x.shape
    h, w = hr // r, wr // r
    return x.reshape(n, c, h, r, w, r).transpose(0, 1, 3, 5, 2, 4).reshape(n, c * r * r, h, w)


@register_kernel("pixel_shuffle")
class PixelShuffleKernel(Kernel):
    """y = pixel_shuffle(x, r); dx = pixel_unshuffle(dy, r)."""

    def forward(self, x):
        return _own(_pixel_shuffle(x, self.layer.upscale_factor), x)

    def backward(self, dy):
        return (_pixel_unshuffle(dy, self.layer.upscale_factor),)


@register_kernel("pixel_unshuffle")
class PixelUnshuffleKernel(Kernel):
    """y = pixel_unshuffle(x, r); dx = pixel_shuffle(dy, r)."""

    def forward(self, x):
        return _own(_pixel_unshuffle(x, self.layer.downscale_factor), x)

    def backward(self, dy):
        return (_pixel_shuffle(dy, self.layer.downscale_factor),)
