"""Fully connected (dense / linear) layers and flattening."""

from __future__ import annotations

from math import prod

from ..errors import FieldError
from .base import WHOLE, Layer, Params, Saved, register
from .fields import Flag, Int, record, spec_field


@register
@record
class Flatten(Layer):
    type_name = "flatten"
    family = "reshape"
    summary = "Flatten [C, ...] into a vector of C·∏spatial values (channels first, as PyTorch)."
    formulas = {"shape": "[C, d1, …, dN] → [C·d1·…·dN]", "params": "0", "macs": "0", "rf": "the whole input"}
    output_is_view = True

    def saved_for_backward(self, xs, y):
        return Saved()

    def out_shape(self, xs):
        return (prod(xs[0]),)

    def rf(self, xs):
        return WHOLE if len(xs[0]) > 1 else None


@register
@record
class Dense(Layer):
    type_name = "dense"
    aliases = ("linear", "fc", "fully_connected")
    family = "dense"
    summary = "Fully connected layer: every output is a weighted sum of every input."
    formulas = {
        "shape": "[n_in] → [out_features]",
        "params": "n_in · out_features  +  out_features (bias)",
        "macs": "n_in · out_features",
        "rf": "the whole input",
    }
    takes_activation = True

    out_features: int = spec_field(Int(1), doc="number of outputs")
    bias: bool = spec_field(Flag(), True, "add one learned bias per output")

    def out_shape(self, xs):
        x = xs[0]
        if len(x) != 1:
            raise FieldError(
                None,
                f"dense needs a flat input [n], got shape {list(x)}; add a 'flatten' "
                "or a global pooling layer before it",
            )
        return (self.out_features,)

    def params(self, xs):
        n_in = xs[0][0]
        return Params(n_in * self.out_features + (self.out_features if self.bias else 0))

    def macs(self, xs, y):
        return xs[0][0] * self.out_features

    def rf(self, xs):
        return WHOLE
