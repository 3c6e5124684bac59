"""Batch normalisation in training mode (batch statistics, running averages updated)."""

from __future__ import annotations

import numpy as np

from ..kernel import Kernel, register_kernel


def _channel_sums(a3: np.ndarray, ones: np.ndarray) -> np.ndarray:
    """Σ over (N, P) per channel of a (N, C, P) array, as a matrix-vector
    product (BLAS: several times faster than ``a.sum(axis=(0, 2))``)."""
    return np.matmul(a3, ones).sum(axis=0)


def _scaled(a3: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """a·factor per channel of a (N, C, P) array, as a new array (einsum's
    loop runs this ~1.3× faster than broadcasting a (C, 1) column)."""
    return np.einsum("ncp,c->ncp", a3, factors)


def _channel_dots(a3: np.ndarray, b3: np.ndarray) -> np.ndarray:
    """Σ a·b over (N, P) per channel of two (N, C, P) arrays, as one stacked
    1×P by P×1 product per (sample, channel): no a·b temporary."""
    return np.matmul(a3[:, :, None, :], b3[:, :, :, None])[:, :, 0, 0].sum(axis=0)


#: bytes of one array per block of channels in :func:`_combined`: the block's
#: temporary stays in the core's cache (a third faster at 256×56×56 and 64×112×112)
_BLOCK_BYTES = 512 * 1024


def _combined(a3: np.ndarray, fa: np.ndarray, b3: np.ndarray, fb: np.ndarray, const: np.ndarray) -> np.ndarray:
    """a·fa + b·fb + const per channel of two (N, C, P) arrays, as a new
    array, a block of channels at a time so that b·fb is summed while cached."""
    n, c, p = a3.shape
    out = np.empty_like(a3)
    step = max(1, _BLOCK_BYTES // (n * p * a3.itemsize))
    tmp = np.empty((n, min(step, c), p), dtype=a3.dtype)
    for lo in range(0, c, step):
        hi = min(lo + step, c)
        block, part = out[:, lo:hi], tmp[:, :hi - lo]
        np.einsum("ncp,c->ncp", a3[:, lo:hi], fa[lo:hi], out=block)
        np.einsum("ncp,c->ncp", b3[:, lo:hi], fb[lo:hi], out=part)
        block += part
        block += const[lo:hi, None]
    return out


def _channel_affine_and_statistics(kernel) -> int:
    """Batch and instance norm alike: γ, β per channel when ``affine``, running
    mean and variance buffers when ``track_running_stats``. Returns C."""
    c = kernel.in_shapes[0][0]
    layer = kernel.layer
    kernel.weight = kernel.param("weight", (c,), init="one") if layer.affine else None
    kernel.bias = kernel.param("bias", (c,)) if layer.affine else None
    if layer.track_running_stats:
        kernel.buffer("running_mean", np.zeros(c))
        kernel.buffer("running_var", np.ones(c))
    return c


@register_kernel("batch_norm")
class BatchNormKernel(Kernel):
    """weight γ, bias β (C,); buffers running_mean, running_var (C,).

    forward:  x̂ = (x − μ_B)/√(σ²_B + eps), y = γ·x̂ + β over the axes (N, *spatial)
    backward: dx = γ/√(σ²+eps)/m · (m·dy − Σdy − x̂·Σ(dy·x̂)),  m = N·∏spatial
    Keeps x, μ_B and 1/√(σ²_B + eps), as PyTorch does.

    Both passes use per-channel coefficients so each is a few full passes
    over the activations: forward y = x·a + b (σ² = E[x²] − μ²), backward
    dx = dy·a + x·c + d, with channel sums and dot products as BLAS
    matrix-vector products. Where the mean is large against the spread
    (μ² > 15σ² in some channel, where E[x²] − μ² would lose more than 4 of
    float32's 24 bits), σ² and the output come from x − μ instead, the
    textbook two-pass form.
    """

    output_is_private = True

    def setup(self):
        _channel_affine_and_statistics(self)

    def _flat(self, a):
        return a.reshape(a.shape[0], a.shape[1], -1)  # (N, C, P)

    def forward(self, x):
        x3 = self._flat(x)
        n, c, p = x3.shape
        m = n * p
        ones = np.ones(p, dtype=self.dtype)
        mean = (_channel_sums(x3, ones) / m).astype(self.dtype, copy=False)
        var = _channel_dots(x3, x3) / m - mean * mean
        centred = self.centred = bool(np.any(mean * mean > 15 * var))  # E[x²] − μ² would lose digits
        if centred:
            xmu = x3 - mean[:, None]
            var = _channel_dots(xmu, xmu) / m
        var = np.maximum(var, 0).astype(self.dtype, copy=False)
        invstd = (1.0 / np.sqrt(var + self.layer.eps)).astype(self.dtype)
        self.save(x=x, mean=mean, invstd=invstd)
        scale = invstd if self.weight is None else invstd * self.weight
        if centred:
            y = xmu
            y *= scale[:, None]
            if self.weight is not None:
                y += self.bias[:, None]
        else:
            shift = -mean * scale if self.weight is None else self.bias - mean * scale
            y = _scaled(x3, scale)
            y += shift[:, None]
        if self.layer.track_running_stats:
            mom = self.layer.momentum
            unbiased = var * (m / (m - 1)) if m > 1 else var
            self.buffers["running_mean"][...] = (1 - mom) * self.buffers["running_mean"] + mom * mean
            self.buffers["running_var"][...] = (1 - mom) * self.buffers["running_var"] + mom * unbiased
        return y.reshape(x.shape)

    def backward(self, dy):
        x, mean, invstd = self.saved["x"], self.saved["mean"], self.saved["invstd"]
        x3, dy3 = self._flat(x), self._flat(dy)
        n, c, p = x3.shape
        m = n * p
        # with x̂ = (x − μ)/σ: Σdy·x̂ = (Σdy·x − μ·Σdy)/σ, and
        # dx = γ/σ·dy − γ/σ³·Σdy·(x − μ)/m·(x − μ) − γ/σ·Σdy/m
        sum_dy = _channel_sums(dy3, np.ones(p, dtype=self.dtype))
        centred = self.centred  # as forward decided
        xmu = x3 - mean[:, None] if centred else None
        dot = _channel_dots(dy3, xmu) if centred else _channel_dots(dy3, x3) - mean * sum_dy
        gamma = self.weight if self.weight is not None else np.ones_like(invstd)
        if self.weight is not None:
            self.grads["weight"] = (dot * invstd).astype(self.dtype, copy=False)
            self.grads["bias"] = sum_dy.astype(self.dtype, copy=False)
        k_dy = (gamma * invstd).astype(self.dtype, copy=False)
        k_xmu = (-gamma * invstd**3 * dot / m).astype(self.dtype, copy=False)
        k_const = -k_dy * sum_dy / m
        if not centred:
            k_const = k_const - k_xmu * mean  # x·k_xmu in place of (x − μ)·k_xmu
        dx = _combined(dy3, k_dy, xmu if centred else x3, k_xmu, k_const.astype(self.dtype, copy=False))
        return (dx.reshape(x.shape),)


# -- normalisation over other axes: layer, group and instance norm -------------

def _normalize(x: np.ndarray, axes: tuple, eps: float):
    """x̂ = (x − μ)/√(σ² + eps) over ``axes`` (biased variance, two passes).
    Returns x̂, μ and 1/√(σ² + eps), the statistics with the reduced axes kept as size 1."""
    mean = x.mean(axis=axes, keepdims=True)
    xmu = x - mean
    var = np.mean(xmu * xmu, axis=axes, keepdims=True)
    rstd = (1.0 / np.sqrt(var + eps)).astype(x.dtype, copy=False)
    xmu *= rstd
    return xmu, mean, rstd


def _normalize_backward(dxhat: np.ndarray, xhat: np.ndarray, rstd: np.ndarray, axes: tuple) -> np.ndarray:
    """dx from dL/dx̂: rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), means over ``axes``."""
    dx = dxhat - dxhat.mean(axis=axes, keepdims=True)
    dx -= xhat * np.mean(dxhat * xhat, axis=axes, keepdims=True)
    dx *= rstd
    return dx


@register_kernel("layer_norm")
class LayerNormKernel(Kernel):
    """weight γ and bias β over the normalised axes (C for channels at each position).

    forward:  x̂ = (x − μ)/√(σ² + eps) over the normalised axes, y = γ·x̂ + β
    backward: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) with g = γ·dy;
              dγ = Σ dy·x̂, dβ = Σ dy over the other axes (batch included).
    Keeps x, μ and 1/√(σ² + eps) per normalised group, as PyTorch does.
    """

    def setup(self):
        x = self.in_shapes[0]
        self.axes = tuple(a + 1 for a in self.layer.axes(x))  # array axes (batch first)
        wshape = tuple(x[a - 1] for a in self.axes)
        # γ broadcasts over the array: (C, 1, …) for channels, the trailing sizes otherwise
        self.view = wshape + (1,) * (len(x) - self.axes[-1]) if self.axes == (1,) else wshape
        layer = self.layer
        self.weight = self.param("weight", wshape, init="one") if layer.elementwise_affine else None
        self.bias = self.param("bias", wshape) if layer.elementwise_affine and layer.bias else None
        self.other = tuple(a for a in range(len(x) + 1) if a not in self.axes)  # summed for dγ, dβ

    def forward(self, x):
        xhat, mean, rstd = _normalize(x, self.axes, self.layer.eps)
        self.save(x=x, mean=mean, rstd=rstd)
        if self.weight is None:
            return xhat
        xhat *= self.weight.reshape(self.view)
        if self.bias is not None:
            xhat += self.bias.reshape(self.view)
        return xhat

    def backward(self, dy):
        x, mean, rstd = self.saved["x"], self.saved["mean"], self.saved["rstd"]
        xhat = (x - mean) * rstd
        if self.weight is None:
            return (_normalize_backward(dy, xhat, rstd, self.axes),)
        self.grads["weight"] = (dy * xhat).sum(axis=self.other).reshape(self.weight.shape)
        if self.bias is not None:
            self.grads["bias"] = dy.sum(axis=self.other).reshape(self.bias.shape)
        return (_normalize_backward(dy * self.weight.reshape(self.view), xhat, rstd, self.axes),)


@register_kernel("group_norm")
class GroupNormKernel(Kernel):
    """weight γ, bias β (C,); x viewed as (N, G, C/G·positions), each group normalised.

    forward:  x̂ = (x − μ_g)/√(σ²_g + eps), y = γ_c·x̂ + β_c
    backward: dx = rstd·(g − mean(g) − x̂·mean(g·x̂)) per group, g = γ_c·dy;
              dγ = Σ dy·x̂, dβ = Σ dy over (N, positions).
    Keeps x, μ and 1/√(σ² + eps) per (sample, group), as PyTorch does.
    """

    def setup(self):
        c = self.in_shapes[0][0]
        self.cshape = (c,) + (1,) * (len(self.in_shapes[0]) - 1)
        if self.layer.affine:
            self.weight = self.param("weight", (c,), init="one")
            self.bias = self.param("bias", (c,))
        else:
            self.weight = self.bias = None

    def _groups(self, a):
        return a.reshape(a.shape[0], self.layer.num_groups, -1)

    def forward(self, x):
        xhat, mean, rstd = _normalize(self._groups(x), (2,), self.layer.eps)
        self.save(x=x, mean=mean, rstd=rstd)
        y = xhat.reshape(x.shape)
        if self.weight is not None:
            y *= self.weight.reshape(self.cshape)
            y += self.bias.reshape(self.cshape)
        return y

    def backward(self, dy):
        x, mean, rstd = self.saved["x"], self.saved["mean"], self.saved["rstd"]
        xhat = (self._groups(x) - mean) * rstd
        g = dy
        if self.weight is not None:
            other = (0, *range(2, dy.ndim))
            self.grads["weight"] = (dy * xhat.reshape(x.shape)).sum(axis=other)
            self.grads["bias"] = dy.sum(axis=other)
            g = dy * self.weight.reshape(self.cshape)
        return (_normalize_backward(self._groups(g), xhat, rstd, (2,)).reshape(x.shape),)


@register_kernel("instance_norm")
class InstanceNormKernel(Kernel):
    """Optional weight γ, bias β (C,) and running mean/variance buffers (C,);
    each (sample, channel) normalised over its positions (training mode: the
    instance statistics, running statistics updated as PyTorch does — the
    mean over the batch of each instance's mean and unbiased variance).
    Keeps x, μ and 1/√(σ² + eps) per (sample, channel)."""

    def setup(self):
        c = _channel_affine_and_statistics(self)
        self.cshape = (c,) + (1,) * (len(self.in_shapes[0]) - 1)

    def forward(self, x):
        axes = tuple(range(2, x.ndim))
        xhat, mean, rstd = _normalize(x, axes, self.layer.eps)
        self.save(x=x, mean=mean.reshape(x.shape[:2]), rstd=rstd.reshape(x.shape[:2]))
        if self.layer.track_running_stats:
            m = x[0, 0].size
            var = 1.0 / (rstd.reshape(x.shape[:2]) ** 2) - self.layer.eps
            unbiased = var * (m / (m - 1)) if m > 1 else var
            mom = self.layer.momentum
            self.buffers["running_mean"][...] = (1 - mom) * self.buffers["running_mean"] + mom * mean.reshape(x.shape[:2]).mean(0)
            self.buffers["running_var"][...] = (1 - mom) * self.buffers["running_var"] + mom * unbiased.mean(0)
        if self.weight is not None:
            xhat *= self.weight.reshape(self.cshape)
            xhat += self.bias.reshape(self.cshape)
        return xhat

    def backward(self, dy):
        x = self.saved["x"]
        stats = x.shape[:2] + (1,) * (x.ndim - 2)
        mean, rstd = self.saved["mean"].reshape(stats), self.saved["rstd"].reshape(stats)
        axes = tuple(range(2, x.ndim))
        xhat = (x - mean) * rstd
        g = dy
        if self.weight is not None:
            other = (0, *axes)
            self.grads["weight"] = (dy * xhat).sum(axis=other)
            self.grads["bias"] = dy.sum(axis=other)
            g = dy * self.weight.reshape(self.cshape)
        return (_normalize_backward(g, xhat, rstd, axes),)


@register_kernel("layer_scale")
class LayerScaleKernel(Kernel):
    """weight γ (C,): y = γ_c·x; dx = γ_c·dy, dγ = Σ dy·x over (N, positions). Keeps x."""

    def setup(self):
        c = self.in_shapes[0][0]
        self.cshape = (c,) + (1,) * (len(self.in_shapes[0]) - 1)
        self.weight = self.param("weight", (c,), init="one")

    def forward(self, x):
        self.save(x=x)
        return x * self.weight.reshape(self.cshape)

    def backward(self, dy):
        x = self.saved["x"]
        self.grads["weight"] = (dy * x).sum(axis=(0, *range(2, dy.ndim)))
        return (dy * self.weight.reshape(self.cshape),)
