"""Merges on graphs: add, concat, multiply (with size-1 / flat [C] broadcasting)."""

from __future__ import annotations

import numpy as np

from ..kernel import Kernel, register_kernel


@register_kernel("add")
class AddKernel(Kernel):
    """y = Σ x_i (one shape); every input receives dy; keeps nothing."""

    output_is_private = True

    def forward(self, *xs):
        if self.overwrite_input is not None:  # into an input nobody else reads (see Network.forward)
            y = xs[self.overwrite_input]
            for i, x in enumerate(xs):
                if i != self.overwrite_input:
                    y += x
            return y
        y = xs[0] + xs[1]
        for x in xs[2:]:
            y += x
        return y

    def backward(self, dy):
        return tuple(dy for _ in self.in_shapes)


@register_kernel("concat")
class ConcatKernel(Kernel):
    """y = concatenation along ``dim`` of one sample; dy is split back by the known sizes."""

    def forward(self, *xs):
        return np.concatenate(xs, axis=self.layer.dim + 1)

    def backward(self, dy):
        cuts = np.cumsum([s[self.layer.dim] for s in self.in_shapes])[:-1]
        return tuple(np.split(dy, cuts, axis=self.layer.dim + 1))


def _broadcastable(shape, rank):
    """A flat [C] gate becomes [C, 1, …] to scale every position of its channel."""
    return shape + (1,) * (rank - 1) if len(shape) == 1 else shape


@register_kernel("multiply")
class MultiplyKernel(Kernel):
    """y = Π x_i with size-1 broadcasting; keeps every input (each one's
    gradient is dy times the product of the others)."""

    def setup(self):
        rank = max(len(s) for s in self.in_shapes)
        self.shapes = [_broadcastable(s, rank) for s in self.in_shapes]

    def forward(self, *xs):
        self.save(**{f"x{i}": x for i, x in enumerate(xs)})
        views = [x.reshape(x.shape[0], *s) for x, s in zip(xs, self.shapes)]
        y = views[0]
        for v in views[1:]:
            y = self.multiply(y, v)
        return y

    def backward(self, dy):
        xs = [self.saved[f"x{i}"] for i in range(len(self.in_shapes))]
        views = [x.reshape(x.shape[0], *s) for x, s in zip(xs, self.shapes)]
        grads = []
        for i, (x, shape) in enumerate(zip(xs, self.shapes)):
            g = dy
            for j, v in enumerate(views):
                if j != i:
                    g = g * v
            axes = tuple(a + 1 for a, n in enumerate(shape) if n == 1 and g.shape[a + 1] != 1)
            if axes:
                g = g.sum(axis=axes, keepdims=True)
            grads.append(g.reshape(x.shape))
        return tuple(grads)
