"""Locally-connected layer: a convolution whose weights are not shared.

The Chapter 4 slides build the convolutional layer from a locally-connected
one (each neuron looks at a small patch) by sharing the weights across
positions. Without the sharing every output position has its own kernel
(Keras' LocallyConnected1D/2D): the same shape, window arithmetic, receptive
field and multiplications as the convolution, but ∏o times the weights.
"""

from __future__ import annotations

from math import prod

from .base import Params, register
from .fields import record
from .conv import Conv


@register
@record
class LocallyConnected(Conv):
    type_name = "locally_connected"
    aliases = ("locally_connected1d", "locally_connected2d", "locally_connected3d", "local", "unshared_conv")
    family = "convolution"
    summary = (
        "Convolution with unshared weights: a separate kernel (and bias) at every output position "
        "(Keras' LocallyConnected); the lectures' step before weight sharing."
    )
    formulas = {
        "shape": "as conv: o = ⌊(i + p_before + p_after − d·(k − 1) − 1) / s⌋ + 1 per axis; channels = out_channels",
        "params": "∏o · C_out · (C_in / groups) · ∏k  +  ∏o · C_out (bias): the conv's count times ∏o",
        "macs": "C_out · (C_in / groups) · ∏k · ∏o (as conv)",
        "rf": "as conv",
    }

    def params(self, xs):
        outs = self._geometry(xs[0])[3]
        shared = super().params(xs).trainable
        return Params(shared * prod(outs))
