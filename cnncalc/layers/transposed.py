"""Transposed convolution ("deconvolution", fractionally-strided convolution), 1D/2D/3D.

A transposed convolution is the adjoint of a convolution with the same kernel,
stride, padding and dilation (lecture 6: the transpose of the convolution
matrix). Per axis it maps i cells to (PyTorch's rule)

    o = s·(i − 1) + d·(k − 1) + 1 − p_before − p_after + output_padding

Equivalently: insert s − 1 zeros between the input cells, pad with
d·(k − 1) − p on each side (plus output_padding after), and convolve with unit
stride. Multiplications are counted on the input side, the products that are
really made: every input value meets every kernel weight once,
C_in · (C_out / groups) · ∏k · ∏i. Counting on the output side as for a
convolution, C_out · (C_in / groups) · ∏k · ∏o, would include the products
with the inserted zeros and overstates the cost by about s^N.
"""

from __future__ import annotations

from math import prod

from ..errors import FieldError
from ..receptive import AxisStep, effective_kernel
from .base import Layer, Params, register, require_rank, spatial
from .fields import Axes, Flag, Int, Padding, per_axis, record, spec_field
from .window import AXIS_NAMES


def transposed_size(i: int, k_eff: int, stride: int, pad: tuple[int, int], output_padding: int) -> int:
    """Output length of a transposed convolution along one axis."""
    return stride * (i - 1) + k_eff - pad[0] - pad[1] + output_padding


@register
@record
class ConvTranspose(Layer):
    """N-d transposed convolution; the input rank picks 1D, 2D or 3D."""

    type_name = "conv_transpose"
    aliases = (
        "conv_transpose1d",
        "conv_transpose2d",
        "conv_transpose3d",
        "convtranspose",
        "transposed_conv",
        "deconv",
        "deconvolution",
    )
    family = "convolution"
    summary = (
        "Transposed convolution (deconvolution): spreads each input value over a k-sized patch of a "
        "larger output; the gradient of a convolution, used to upsample (DCGAN, U-Net)."
    )
    formulas = {
        "shape": "o = s·(i − 1) + d·(k − 1) + 1 − p_before − p_after + output_padding per axis "
        "(output_padding < s or < d); channels = out_channels",
        "params": "C_in · (C_out / groups) · ∏k  +  C_out (bias)",
        "macs": "C_in · (C_out / groups) · ∏k · ∏i  (counted on the input side: no products with inserted zeros)",
        "rf": "as upsampling by s then a unit-stride window: r ← r + (d·(k − 1))·j/s,  j ← j/s,  "
        "start ← start + (p_before − d·(k − 1)/2)·j/s",
    }
    takes_activation = True

    out_channels: int = spec_field(Int(1), doc="number of output feature maps")
    kernel_size: object = spec_field(Axes(1), doc="kernel size per spatial axis")
    stride: object = spec_field(Axes(1), 1, "upsampling factor (the stride of the convolution it transposes)")
    padding: object = spec_field(
        Padding(modes=("valid",)), 0, "cells removed from each side of the output: int, per axis, or [before, after] pairs"
    )
    output_padding: object = spec_field(
        Axes(0), 0, "cells added after the output on each axis (picks among the sizes a strided conv maps to the same size)"
    )
    dilation: object = spec_field(Axes(1), 1, "spacing between kernel taps (1 = none)")
    groups: int = spec_field(Int(1), 1, "channel groups")
    bias: bool = spec_field(Flag(), True, "add one learned bias per output channel")

    def _geometry(self, x):
        nd = require_rank((x,), (1, 2, 3), "conv_transpose", "kernel_size")
        kernels = per_axis(self.kernel_size, nd, "kernel_size")
        strides = per_axis(self.stride, nd, "stride")
        dilations = per_axis(self.dilation, nd, "dilation")
        extra = per_axis(self.output_padding, nd, "output_padding")
        if self.padding == "valid":
            pads = ((0, 0),) * nd
        else:
            pads = tuple(p if isinstance(p, tuple) else (p, p) for p in per_axis(self.padding, nd, "padding"))
        keff = tuple(effective_kernel(k, d) for k, d in zip(kernels, dilations))
        outs = []
        for a, (i, k, s, d, p, op) in enumerate(zip(spatial(x), keff, strides, dilations, pads, extra)):
            where = f" on axis {AXIS_NAMES[nd][a]}" if nd > 1 else ""
            if op >= s and op >= d:
                raise FieldError(
                    "output_padding",
                    f"output_padding{where} is {op}, but it must be smaller than the stride ({s}) "
                    f"or the dilation ({d}); larger values would add cells no input reaches",
                )
            o = transposed_size(i, k, s, p, op)
            if o < 1:
                raise FieldError(
                    "padding",
                    f"padding{where} removes too much: {s}·({i} − 1) + {k} − {p[0]} − {p[1]} + {op} = {o} < 1",
                )
            outs.append(o)
        return kernels, strides, pads, keff, tuple(outs)

    def _check_groups(self, c_in: int):
        if c_in % self.groups:
            raise FieldError("groups", f"groups={self.groups} does not divide the {c_in} input channels")
        if self.out_channels % self.groups:
            raise FieldError("groups", f"groups={self.groups} does not divide out_channels={self.out_channels}")

    def out_shape(self, xs):
        x = xs[0]
        self._check_groups(x[0])
        return (self.out_channels, *self._geometry(x)[4])

    def params(self, xs):
        c_in = xs[0][0]
        kernels = per_axis(self.kernel_size, len(xs[0]) - 1, "kernel_size")
        weights = c_in * (self.out_channels // self.groups) * prod(kernels)
        return Params(weights + (self.out_channels if self.bias else 0))

    def macs(self, xs, y):
        x = xs[0]
        kernels = per_axis(self.kernel_size, len(x) - 1, "kernel_size")
        return x[0] * (self.out_channels // self.groups) * prod(kernels) * prod(spatial(x))

    def rf(self, xs):
        _, strides, pads, keff, _ = self._geometry(xs[0])
        return tuple(AxisStep.resampled_window(k, s, 1, k - 1 - p[0]) for k, s, p in zip(keff, strides, pads))
