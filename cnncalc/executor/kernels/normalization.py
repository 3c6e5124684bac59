"""Batch normalisation in training mode (batch statistics, running averages updated)."""

from __future__ import annotations

import numpy as np

from ..kernel import Kernel, register_kernel


@register_kernel("batch_norm")
class BatchNormKernel(Kernel):
    """weight γ, bias β (C,); buffers running_mean, running_var (C,).

    forward:  x̂ = (x − μ_B)/√(σ²_B + eps), y = γ·x̂ + β over the axes (N, *spatial)
    backward: dx = γ/√(σ²+eps)/m · (m·dy − Σdy − x̂·Σ(dy·x̂)),  m = N·∏spatial
    Keeps x, μ_B and 1/√(σ²_B + eps), as PyTorch does.
    """

    def setup(self):
        c = self.in_shapes[0][0]
        layer = self.layer
        self.weight = self.param("weight", (c,), init="one") if layer.affine else None
        self.bias = self.param("bias", (c,)) if layer.affine else None
        if layer.track_running_stats:
            self.buffer("running_mean", np.zeros(c))
            self.buffer("running_var", np.ones(c))

    def _shape(self, x):
        return (1, x.shape[1], *(1,) * (x.ndim - 2))

    def _axes(self, x):
        return (0, *range(2, x.ndim))

    def forward(self, x):
        axes, shape = self._axes(x), self._shape(x)
        m = x.size // x.shape[1]
        mean = x.mean(axis=axes, dtype=self.dtype)
        var = x.var(axis=axes, dtype=self.dtype)
        invstd = (1.0 / np.sqrt(var + self.layer.eps)).astype(self.dtype)
        self.save(x=x, mean=mean, invstd=invstd)
        y = (x - mean.reshape(shape)) * invstd.reshape(shape)
        if self.weight is not None:
            y *= self.weight.reshape(shape)
            y += self.bias.reshape(shape)
        if self.layer.track_running_stats:
            mom = self.layer.momentum
            unbiased = var * (m / (m - 1)) if m > 1 else var
            self.buffers["running_mean"][...] = (1 - mom) * self.buffers["running_mean"] + mom * mean
            self.buffers["running_var"][...] = (1 - mom) * self.buffers["running_var"] + mom * unbiased
        return y

    def backward(self, dy):
        x, mean, invstd = self.saved["x"], self.saved["mean"], self.saved["invstd"]
        axes, shape = self._axes(x), self._shape(x)
        m = x.size // x.shape[1]
        xhat = (x - mean.reshape(shape)) * invstd.reshape(shape)
        if self.weight is not None:
            self.grads["weight"] = (dy * xhat).sum(axis=axes)
            self.grads["bias"] = dy.sum(axis=axes)
            dxhat = dy * self.weight.reshape(shape)
        else:
            dxhat = dy
        dx = dxhat - dxhat.mean(axis=axes).reshape(shape) - xhat * (dxhat * xhat).mean(axis=axes).reshape(shape)
        dx *= invstd.reshape(shape)
        del m
        return (dx,)
