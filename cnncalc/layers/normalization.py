"""Normalisation layers."""

from __future__ import annotations

from math import prod

from ..errors import FieldError
from ..receptive import IDENTITY
from .base import WHOLE, Layer, Params, Saved, register, require_rank
from .fields import Axes, Flag, Int, Number, record, spec_field


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


# -- normalisation over other sets of axes (layer, group, instance) ------------
#
# Other tools' counts (checked in tests/test_conventions.py against the tools):
# fvcore's aten::layer_norm / group_norm / instance_norm handlers charge 5 per
# value with an affine weight and 4 without; ptflops' module hook charges 1 per
# value, 2 when the module has a true ``affine`` attribute (GroupNorm and
# InstanceNorm do; LayerNorm's is called ``elementwise_affine``, so a LayerNorm
# is always 1); torchinfo charges their parameter count (its default).

def _fvcore_norm(affine_attr):
    return lambda layer, xs, y, mults: prod(xs[0]) * (5 if getattr(layer, affine_attr) else 4)


def _ptflops_norm(layer, xs, y, mults):
    return prod(xs[0]) * (2 if getattr(layer, "affine", False) else 1)


@register
@record
class LayerNorm(Layer):
    type_name = "layer_norm"
    aliases = ("layernorm", "layer_norm2d", "layernorm2d")
    family = "normalization"
    summary = (
        "Layer normalisation of each sample: over the channels at every position (ConvNeXt's LayerNorm2d; "
        "the default), or over the trailing axes given as normalized_shape (PyTorch's nn.LayerNorm)."
    )
    formulas = {
        "shape": "unchanged",
        "params": "elementwise_affine: weight and (bias) over the normalised axes — 2·C for channels at each "
        "position, 2·∏normalized_shape for trailing axes; no buffers",
        "macs": "0 (normalisation is not a weight product); fvcore 5 per value (4 without affine), "
        "ptflops 1 per value",
        "rf": "channels at each position: unchanged; trailing spatial axes: the whole extent of those axes",
    }
    tool_macs = {"fvcore": _fvcore_norm("elementwise_affine"), "ptflops": lambda layer, xs, y, m: prod(xs[0])}

    normalized_shape: object = spec_field(
        Axes(1), None,
        "sizes of the trailing axes to normalise over, as nn.LayerNorm (null: the channels at each position)",
    )
    eps: float = spec_field(Number(minimum=0), 1e-5, "added to the variance")
    elementwise_affine: bool = spec_field(Flag(), True, "learn a weight (and a bias) per normalised element")
    bias: bool = spec_field(Flag(), True, "learn the bias too (with elementwise_affine)")

    def axes(self, x) -> tuple[int, ...]:
        """The axes of one sample (0 = channels) normalised together."""
        if self.normalized_shape is None:
            return (0,)
        want = self.normalized_shape if isinstance(self.normalized_shape, tuple) else (self.normalized_shape,)
        if len(want) > len(x) or tuple(x[len(x) - len(want):]) != tuple(want):
            raise FieldError(
                "normalized_shape",
                f"normalized_shape {list(want)} must equal the trailing sizes of the input {list(x)}",
            )
        return tuple(range(len(x) - len(want), len(x)))

    def out_shape(self, xs):
        self.axes(xs[0])
        return xs[0]

    def params(self, xs):
        n = prod(xs[0][a] for a in self.axes(xs[0]))
        if not self.elementwise_affine:
            return Params()
        return Params(n * (2 if self.bias else 1))

    def rf(self, xs):
        axes = self.axes(xs[0])
        if axes == (0,) or len(xs[0]) == 1:
            return None
        return tuple(WHOLE if a + 1 in axes else IDENTITY for a in range(len(xs[0]) - 1))

    def saved_for_backward(self, xs, y):
        # the input, and mean and 1/√(var + eps) of every normalised group (as PyTorch)
        x = xs[0]
        groups = prod(n for a, n in enumerate(x) if a not in self.axes(x))
        return Saved(inputs=(0,), values=2 * groups)


@register
@record
class GroupNorm(Layer):
    type_name = "group_norm"
    aliases = ("groupnorm",)
    family = "normalization"
    summary = "Group normalisation: the channels of each sample in num_groups groups, each normalised over its channels and positions."
    formulas = {
        "shape": "unchanged (num_groups must divide C)",
        "params": "2·C trainable (weight, bias) if affine; no buffers",
        "macs": "0; fvcore 5 per value (4 without affine), ptflops 1 per value (2 with affine)",
        "rf": "the whole input (a group's statistics see every position)",
    }
    tool_macs = {"fvcore": _fvcore_norm("affine"), "ptflops": _ptflops_norm}

    num_groups: int = spec_field(Int(1), doc="number of channel groups (divides the channels)")
    eps: float = spec_field(Number(minimum=0), 1e-5, "added to the variance")
    affine: bool = spec_field(Flag(), True, "learn a scale and a shift per channel")

    def out_shape(self, xs):
        c = xs[0][0]
        if c % self.num_groups:
            raise FieldError("num_groups", f"num_groups={self.num_groups} does not divide the {c} input channels")
        return xs[0]

    def params(self, xs):
        return Params(2 * xs[0][0] if self.affine else 0)

    def rf(self, xs):
        return WHOLE if len(xs[0]) > 1 else None

    def saved_for_backward(self, xs, y):
        return Saved(inputs=(0,), values=2 * self.num_groups)  # mean and 1/σ per (sample, group)


@register
@record
class InstanceNorm(Layer):
    type_name = "instance_norm"
    aliases = ("instancenorm", "instance_norm1d", "instance_norm2d", "instance_norm3d",
               "instancenorm1d", "instancenorm2d", "instancenorm3d")
    family = "normalization"
    summary = (
        "Instance normalisation: each channel of each sample over its positions (PyTorch's defaults: no "
        "affine, no running statistics)."
    )
    formulas = {
        "shape": "unchanged (needs spatial axes)",
        "params": "2·C trainable if affine; 2·C buffers (running mean, variance) if track_running_stats",
        "macs": "0; fvcore 5 per value (4 without affine), ptflops 1 per value (2 with affine)",
        "rf": "the whole input",
    }
    tool_macs = {"fvcore": _fvcore_norm("affine"), "ptflops": _ptflops_norm}

    eps: float = spec_field(Number(minimum=0), 1e-5, "added to the variance")
    momentum: float = spec_field(Number(minimum=0, maximum=1), 0.1, "running-statistics update rate")
    affine: bool = spec_field(Flag(), False, "learn a scale and a shift per channel")
    track_running_stats: bool = spec_field(Flag(), False, "keep running mean and variance buffers")

    def out_shape(self, xs):
        require_rank(xs, (1, 2, 3), "instance_norm")
        return xs[0]

    def params(self, xs):
        c = xs[0][0]
        return Params(2 * c if self.affine else 0, 2 * c if self.track_running_stats else 0)

    def rf(self, xs):
        return WHOLE

    def saved_for_backward(self, xs, y):
        return Saved(inputs=(0,), values=2 * xs[0][0])  # mean and 1/σ per (sample, channel)


@register
@record
class LayerScale(Layer):
    type_name = "layer_scale"
    aliases = ("layerscale",)
    family = "normalization"
    summary = "A learned multiplier per channel (ConvNeXt's and CaiT's layer scale): y = γ_c·x."
    formulas = {
        "shape": "unchanged",
        "params": "C trainable (γ)",
        "macs": "0 (element-wise, foldable into the preceding layer like batch norm's γ); every tool counts "
        "0: torchinfo charges only parameters named weight/bias, fvcore and ptflops have no handler for "
        "a tensor product written x·γ",
        "rf": "unchanged",
    }
    tool_macs = {"torchinfo": lambda layer, xs, y, m: 0}

    def params(self, xs):
        return Params(xs[0][0])
