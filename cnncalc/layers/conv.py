"""Convolution (cross-correlation, as deep-learning libraries define it), 1D/2D/3D."""

from __future__ import annotations

from math import prod

from ..errors import FieldError
from ..receptive import AxisStep
from .base import Layer, Params, register, require_rank, spatial
from .fields import Axes, Flag, Int, Padding, Strides, per_axis, record, spec_field
from .window import window_outputs


@register
@record
class Conv(Layer):
    """N-d convolution; the number of spatial axes of the input picks 1D, 2D or 3D."""

    type_name = "conv"
    aliases = ("conv1d", "conv2d", "conv3d", "convolution")
    family = "convolution"
    summary = "Convolution (cross-correlation) over 1, 2 or 3 spatial axes; groups=C_in gives depthwise."
    formulas = {
        "shape": "o = ⌊(i + p_before + p_after − d·(k − 1) − 1) / s⌋ + 1 per axis; channels = out_channels. "
        "A fractional stride s = S2/S1 (in lowest terms) first upsamples i → (i − 1)·S1 + 1 (zeros between cells), "
        "then pads and slides with stride S2",
        "params": "C_out · (C_in / groups) · ∏k  +  C_out (bias)",
        "macs": "C_out · (C_in / groups) · ∏k · ∏o",
        "rf": "r ← r + (d·(k − 1))·j/S1,  j ← j·s,  start ← start + ((d·(k − 1))/2 − p_before)·j/S1  (S1 = 1 for integer strides)",
    }
    takes_activation = True

    out_channels: int = spec_field(Int(1), doc="number of kernels (output feature maps)")
    kernel_size: object = spec_field(Axes(1), doc="kernel size per spatial axis")
    stride: object = spec_field(Strides(), 1, "step between windows; a fraction 'S2/S1' upsamples by S1 first")
    padding: object = spec_field(Padding(), 0, "zero padding: int, per axis, [before, after] pairs, or valid/same/full/causal")
    dilation: object = spec_field(Axes(1), 1, "spacing between kernel taps (1 = none)")
    groups: int = spec_field(Int(1), 1, "channel groups; groups = in channels is depthwise")
    bias: bool = spec_field(Flag(), True, "add one learned bias per output channel")

    def _geometry(self, x):
        nd = require_rank((x,), (1, 2, 3), "conv", "kernel_size")
        kernels = per_axis(self.kernel_size, nd, "kernel_size")
        strides = per_axis(self.stride, nd, "stride")
        dilations = per_axis(self.dilation, nd, "dilation")
        # Fractional stride S2/S1 (lectures): uSample by S1, convolve, keep every S2-th.
        # A stride is an int or a Fraction in lowest terms; both have numerator and denominator.
        ups = tuple(s.denominator for s in strides)
        downs = tuple(s.numerator for s in strides)
        sizes = tuple((i - 1) * u + 1 for i, u in zip(spatial(x), ups))
        outs, pads, keff = window_outputs(sizes, kernels, downs, dilations, self.padding)
        return kernels, strides, dilations, outs, pads, keff

    def _check_groups(self, c_in: int):
        if c_in % self.groups:
            raise FieldError("groups", f"groups={self.groups} does not divide the {c_in} input channels")
        if self.out_channels % self.groups:
            raise FieldError(
                "groups", f"groups={self.groups} does not divide out_channels={self.out_channels}"
            )

    def out_shape(self, xs):
        x = xs[0]
        self._check_groups(x[0])
        outs = self._geometry(x)[3]
        return (self.out_channels, *outs)

    def params(self, xs):
        c_in = xs[0][0]
        kernels = per_axis(self.kernel_size, len(xs[0]) - 1, "kernel_size")
        weights = self.out_channels * (c_in // self.groups) * prod(kernels)
        return Params(weights + (self.out_channels if self.bias else 0))

    def macs(self, xs, y):
        c_in = xs[0][0]
        kernels = per_axis(self.kernel_size, len(xs[0]) - 1, "kernel_size")
        return self.out_channels * (c_in // self.groups) * prod(kernels) * prod(y[1:])

    def rf(self, xs):
        _, strides, _, _, pads, keff = self._geometry(xs[0])
        return tuple(
            AxisStep.resampled_window(k, s.denominator, s.numerator, p[0])
            for k, s, p in zip(keff, strides, pads)
        )
