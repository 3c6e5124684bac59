"""Normalisation layers."""

from __future__ import annotations


from .base import Layer, Params, Saved, register
from .fields import Flag, Number, record, spec_field


@register
@record
class BatchNorm(Layer):
    type_name = "batch_norm"
    aliases = ("batchnorm", "bn", "batch_norm1d", "batch_norm2d", "batch_norm3d", "batchnorm1d", "batchnorm2d", "batchnorm3d")
    family = "normalization"
    summary = "Batch normalisation per channel: scale γ and shift β are trained; running mean and variance are buffers."
    formulas = {
        "shape": "unchanged",
        "params": "2·C trainable (γ, β) if affine; 2·C buffers (running mean, variance) if track_running_stats",
        "macs": "0 (folded into the preceding convolution at inference)",
        "rf": "unchanged",
    }

    eps: float = spec_field(Number(minimum=0), 1e-5, "added to the variance")
    momentum: float = spec_field(Number(minimum=0, maximum=1), 0.1, "running-statistics update rate")
    affine: bool = spec_field(Flag(), True, "learn a scale and a shift per channel")
    track_running_stats: bool = spec_field(Flag(), True, "keep running mean and variance buffers")

    def params(self, xs):
        c = xs[0][0]
        return Params(2 * c if self.affine else 0, 2 * c if self.track_running_stats else 0)

    def saved_for_backward(self, xs, y):
        # the input, and the batch mean and 1/√(var + eps) per channel (as PyTorch)
        return Saved(inputs=(0,), shared=2 * xs[0][0])
