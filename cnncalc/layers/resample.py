"""Resampling units and unpooling: no weights, the size of the feature maps changes.

The lectures (Chapter 4) write a strided convolution as a unit-stride one
followed by ``dSample(·|f)`` (keep every f-th cell) and a fractionally-strided
one as ``uSample(·|f)`` (f − 1 zeros between cells) before a unit-stride
convolution; lecture 6 adds the unpooling layers of encoder–decoder networks
(bed of nails, nearest neighbour, max-unpooling with the pooling layer's
switches).

Receptive fields use the half-pixel picture for block upsampling: output j of
an ×f nearest/bilinear/unpooling layer is centred at input (j + ½)/f − ½.
"""

from __future__ import annotations

from math import prod

from .. import records
from ..errors import FieldError, did_you_mean
from ..lazy import Fraction
from ..receptive import AxisStep
from ..records import field
from .base import Layer, Saved, register, require_rank, spatial
from .fields import Axes, Choice, Text, per_axis, record, spec_field

UPSAMPLE_MODES = ("zeros", "nearest", "linear", "bilinear", "trilinear")
_LINEAR_RANK = {"linear": 1, "bilinear": 2, "trilinear": 3}


def _block_step(factor: int, span: int = 1) -> AxisStep:
    """Output j of an ×factor block upsampling sits at input (j + ½)/f − ½."""
    return AxisStep(span, Fraction(1, factor), Fraction(1 - factor, factor))  # centre (1 − f)/(2f), doubled


def _zeros_step(factor: int) -> AxisStep:
    """uSample(·|f): output j·f is input j; the zeros between see nothing."""
    return AxisStep(1, Fraction(1, factor), 0)


@register
@record
class Upsample(Layer):
    type_name = "upsample"
    aliases = ("upsampling", "upsample1d", "upsample2d", "upsample3d", "usample")
    family = "resampling"
    summary = (
        "Upsampling by an integer factor per axis: 'zeros' is the lectures' uSample (f − 1 zeros between "
        "cells), 'nearest' repeats cells, 'linear'/'bilinear'/'trilinear' interpolate (PyTorch's Upsample)."
    )
    formulas = {
        "shape": "zeros: o = (i − 1)·f + 1;  nearest / linear: o = i·f;  channels unchanged",
        "params": "0",
        "macs": "zeros / nearest: 0;  linear modes: 2^N per output value (each is a weighted sum of 2^N inputs, "
        "N = interpolated axes; fvcore counts the same)",
        "rf": "zeros: r unchanged, j ← j/f;  nearest: r unchanged, j ← j/f, start ← start + ((1 − f)/(2f))·j;  "
        "linear: r ← r + j, same jump and start",
    }

    scale_factor: object = spec_field(Axes(1), 2, "integer upsampling factor per spatial axis")
    mode: str = spec_field(Choice(UPSAMPLE_MODES), "nearest", "zeros (lectures' uSample), nearest, linear, bilinear, trilinear")

    def _factors(self, x):
        nd = require_rank((x,), (1, 2, 3), "upsample", "scale_factor")
        want = _LINEAR_RANK.get(self.mode)
        if want is not None and want != nd:
            right = {v: k for k, v in _LINEAR_RANK.items()}[nd]
            raise FieldError(
                "mode", f"mode '{self.mode}' interpolates {want} axes but the input has {nd}; use '{right}'"
            )
        return per_axis(self.scale_factor, nd, "scale_factor")

    def out_shape(self, xs):
        x = xs[0]
        factors = self._factors(x)
        if self.mode == "zeros":
            return (x[0], *((i - 1) * f + 1 for i, f in zip(spatial(x), factors)))
        return (x[0], *(i * f for i, f in zip(spatial(x), factors)))

    def macs(self, xs, y):
        if self.mode in _LINEAR_RANK:
            return 2 ** (len(y) - 1) * prod(y)
        return 0

    def rf(self, xs):
        factors = self._factors(xs[0])
        if self.mode == "zeros":
            return tuple(_zeros_step(f) for f in factors)
        span = 2 if self.mode in _LINEAR_RANK else 1
        return tuple(_block_step(f, span) for f in factors)


@register
@record
class Downsample(Layer):
    type_name = "downsample"
    aliases = ("downsampling", "dsample", "subsample")
    family = "resampling"
    summary = "Keep every f-th cell along each axis (the lectures' dSample; a stride is a downsampling)."
    formulas = {
        "shape": "o = ⌈i / f⌉ per axis (cells 0, f, 2f, …); channels unchanged",
        "params": "0",
        "macs": "0",
        "rf": "r unchanged,  j ← j·f,  start unchanged",
    }

    factor: object = spec_field(Axes(1), 2, "keep one cell in every f along each spatial axis")

    def _factors(self, x):
        nd = require_rank((x,), (1, 2, 3), "downsample", "factor")
        return per_axis(self.factor, nd, "factor")

    def out_shape(self, xs):
        x = xs[0]
        return (x[0], *(-(-i // f) for i, f in zip(spatial(x), self._factors(x))))

    def rf(self, xs):
        return tuple(AxisStep(1, f, 0) for f in self._factors(xs[0]))


UNPOOL_MODES = ("nearest", "bed_of_nails")


@register
@record
class Unpool(Layer):
    type_name = "unpool"
    aliases = ("unpooling", "nearest_unpool", "bed_of_nails_unpool")
    family = "resampling"
    summary = (
        "Unpooling without switches (lecture 6): each cell becomes a k-sized block, filled with copies "
        "('nearest') or with the value in the first cell and zeros elsewhere ('bed_of_nails')."
    )
    formulas = {
        "shape": "o = i·k per axis; channels unchanged",
        "params": "0",
        "macs": "0",
        "rf": "r unchanged,  j ← j/k;  nearest: start ← start + ((1 − k)/(2k))·j;  bed of nails: start unchanged",
    }

    kernel_size: object = spec_field(Axes(1), 2, "block size (upsampling factor) per spatial axis")
    mode: str = spec_field(Choice(UNPOOL_MODES), "nearest", "nearest (copies) or bed_of_nails (value then zeros)")

    def _factors(self, x):
        nd = require_rank((x,), (1, 2, 3), "unpool", "kernel_size")
        return per_axis(self.kernel_size, nd, "kernel_size")

    def out_shape(self, xs):
        x = xs[0]
        return (x[0], *(i * k for i, k in zip(spatial(x), self._factors(x))))

    def rf(self, xs):
        factors = self._factors(xs[0])
        if self.mode == "bed_of_nails":
            return tuple(_zeros_step(k) for k in factors)
        return tuple(_block_step(k) for k in factors)


@register
@record
class MaxUnpool(Layer):
    type_name = "max_unpool"
    aliases = ("maxunpool", "max_unpool1d", "max_unpool2d", "max_unpool3d", "max_unpooling")
    family = "resampling"
    summary = (
        "Max-unpooling (SegNet, lecture 6): puts each value back where the named max_pool layer found its "
        "maximum, zeros elsewhere; the output has that pooling layer's input size."
    )
    formulas = {
        "shape": "[C, pooled sizes] → [C, input sizes of the named max_pool layer]",
        "params": "0",
        "macs": "0",
        "rf": "the pooling window transposed: r ← r + (d·(k − 1))·j/s,  j ← j/s,  "
        "start ← start + (p_before − d·(k − 1)/2)·j/s",
    }

    pool: str = spec_field(Text(), doc="name of the max_pool layer whose switches (argmax positions) this reuses")
    #: the named pooling layer's result, filled in by bind()
    _pool: object = field(default=None, compare=False, repr=False)

    def bind(self, known):
        result = known.get(self.pool)
        if result is None:
            candidates = [n for n, r in known.items() if r.node.type_name == "max_pool"]
            hint = did_you_mean(self.pool, candidates) or (
                "; max_pool layers before it: " + ", ".join(candidates) if candidates else
                "; there is no max_pool layer before it"
            )
            raise FieldError("pool", f"no layer named '{self.pool}' comes before this one{hint}")
        if result.node.type_name != "max_pool":
            raise FieldError(
                "pool",
                f"'{self.pool}' is a {result.node.type_name} layer; max_unpool needs a max_pool layer "
                "(it puts values back at the positions of that layer's maxima)",
            )
        return records.replace(self, _pool=result)

    def _source(self):
        if self._pool is None:  # pragma: no cover - the analysis always binds first
            raise FieldError("pool", "max_unpool was not bound to its pooling layer")
        return self._pool

    def out_shape(self, xs):
        src = self._source()
        x = xs[0]
        pooled = tuple(src.output_shape)
        if tuple(x) != pooled:
            raise FieldError(
                "pool",
                f"the input {list(x)} does not match the output {list(pooled)} of max_pool '{self.pool}'; "
                "max_unpool needs one switch per input value",
            )
        return tuple(src.input_shapes[0])

    def rf(self, xs):
        src = self._source()
        pool = src.node.layer
        strides, _, pads, keff = pool._geometry(src.input_shapes[0])
        return tuple(AxisStep.resampled_window(k, s, 1, k - 1 - p[0]) for k, s, p in zip(keff, strides, pads))


def _keeps_nothing(self, xs, y):
    """The backward pass needs only the shapes (max_unpool reads the argmax
    positions its max_pool layer keeps anyway)."""
    return Saved()


for _cls in (Upsample, Downsample, Unpool, MaxUnpool):
    _cls.saved_for_backward = _keeps_nothing
