"""Convolution (cross-correlation), N-d, grouped and depthwise, as im2col +
one stacked matrix product per group."""

from __future__ import annotations

from math import prod

import numpy as np

from ..kernel import Kernel, register_kernel
from ..window import col2im, crop, im2col, pad, padded_taps


@register_kernel("conv")
class ConvKernel(Kernel):
    """weight (C_out, C_in/G, *k); bias (C_out,).

    forward:  x (N, C_in, *i) → y (N, C_out, *o);  y_g = W_g @ cols_g
    backward: dW_g = dY_g @ cols_gᵀ, dcols_g = W_gᵀ @ dY_g → col2im → dx
    Only x is kept: the columns are rebuilt in backward (∏k times smaller memory).
    """

    counts_multiplications = True

    def setup(self):
        layer, x = self.layer, self.in_shapes[0]
        self.kernels, self.strides, self.dilations, self.outs, self.pads, _ = layer._geometry(x)
        self.groups = layer.groups
        c_in, c_out = x[0], layer.out_channels
        fan_in = (c_in // self.groups) * prod(self.kernels)
        self.weight = self.param("weight", (c_out, c_in // self.groups, *self.kernels), fan_in=fan_in)
        self.bias = self.param("bias", (c_out,)) if layer.bias else None
        # products whose data operand is a padded zero, per sample
        self.zero_per_sample = c_out * (c_in // self.groups) * padded_taps(
            x[1:], self.pads, self.kernels, self.strides, self.dilations, self.outs
        )

    @classmethod
    def workspace(cls, layer, xs, y):
        return xs[0][0] * prod(y[1:]) * prod(layer._geometry(xs[0])[0])  # the columns

    def _cols(self, x):
        xp = pad(x, self.pads)
        return xp.shape, im2col(xp, self.groups, self.kernels, self.strides, self.dilations, self.outs)

    def forward(self, x):
        self.save(x=x)
        n, g = x.shape[0], self.groups
        c_out = self.weight.shape[0]
        _, cols = self._cols(x)  # (G, K/G, N·P)
        y = self.matmul(self.weight.reshape(g, c_out // g, -1), cols)  # (G, C_out/G, N·P)
        self.count_zero_products(self.zero_per_sample * n)
        y = np.ascontiguousarray(y.reshape(c_out, n, *self.outs).swapaxes(0, 1))
        if self.bias is not None:
            y += self.bias.reshape(c_out, *(1,) * len(self.outs))
        return y

    def backward(self, dy):
        x = self.saved["x"]
        n, g = x.shape[0], self.groups
        c_out = self.weight.shape[0]
        p = prod(self.outs)
        dy_cols = dy.reshape(n, g, c_out // g, p).transpose(1, 2, 0, 3).reshape(g, c_out // g, n * p)
        padded_shape, cols = self._cols(x)
        self.grads["weight"] = self.matmul(dy_cols, cols.transpose(0, 2, 1)).reshape(self.weight.shape)
        del cols
        if self.bias is not None:
            self.grads["bias"] = dy.sum(axis=(0, *range(2, dy.ndim)))
        w = self.weight.reshape(g, c_out // g, -1)
        dcols = self.matmul(w.transpose(0, 2, 1), dy_cols)  # (G, K/G, N·P)
        dxp = col2im(dcols, padded_shape, self.kernels, self.strides, self.dilations, self.outs)
        return (crop(dxp, self.pads, x.shape[2:]),)
