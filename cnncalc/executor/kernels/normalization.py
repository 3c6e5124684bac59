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

    def _per_channel_dot(self, a, b):
        """Σ a·b over (N, *spatial) for each channel, without an a·b temporary."""
        n, c = a.shape[:2]
        a3, b3 = a.reshape(n, c, -1), b.reshape(n, c, -1)
        return np.einsum("ncp,ncp->c", a3, b3, dtype=self.dtype)

    def forward(self, x):
        axes, shape = self._axes(x), self._shape(x)
        m = x.size // x.shape[1]
        mean = x.mean(axis=axes, dtype=self.dtype)
        xmu = x - mean.reshape(shape)
        var = (self._per_channel_dot(xmu, xmu) / m).astype(self.dtype, copy=False)
        invstd = (1.0 / np.sqrt(var + self.layer.eps)).astype(self.dtype)
        self.save(x=x, mean=mean, invstd=invstd)
        # y = (x − μ)·(γ/σ) + β, written into the x − μ temporary (fewer full passes)
        y = xmu
        scale = invstd if self.weight is None else invstd * self.weight
        y *= scale.reshape(shape)
        if self.weight is not None:
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
        # with x̂ = (x − μ)/σ: Σdy·x̂ = Σdy·(x − μ)/σ, and
        # dx = γ/σ·dy − γ/σ·Σdy/m − (x − μ)·γ/σ³·Σdy·(x − μ)/m, per-channel coefficients
        xmu = x - mean.reshape(shape)
        sum_dy = dy.sum(axis=axes, dtype=self.dtype)
        dot = self._per_channel_dot(dy, xmu)
        gamma = self.weight if self.weight is not None else np.ones_like(invstd)
        if self.weight is not None:
            self.grads["weight"] = (dot * invstd).astype(self.dtype, copy=False)
            self.grads["bias"] = sum_dy
        k_dy = gamma * invstd
        k_xmu = -gamma * invstd**3 * dot / m
        k_const = -k_dy * sum_dy / m
        dx = dy * k_dy.reshape(shape)
        xmu *= k_xmu.reshape(shape)
        dx += xmu
        dx += k_const.reshape(shape)
        return (dx,)
