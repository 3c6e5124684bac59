"""Explicit zero padding and cropping layers, per side of each spatial axis.

Both take the padding syntax of conv: an int for every side, one int per axis
(both sides), or ``[before, after]`` pairs per axis, in axis order (D, H, W)
— not PyTorch's ZeroPad2d order (left, right, top, bottom), which starts
from the last axis.
"""

from __future__ import annotations


from ..errors import FieldError
from ..receptive import AxisStep
from .base import Layer, Saved, register, require_rank, spatial
from .fields import Padding, per_axis, record, spec_field
from .window import AXIS_NAMES

_SIDES = Padding(modes=())


def _sides(value, x, field, what):
    nd = require_rank((x,), (1, 2, 3), what, field)
    return tuple(v if isinstance(v, tuple) else (v, v) for v in per_axis(value, nd, field))


@register
@record
class ZeroPad(Layer):
    type_name = "zero_pad"
    aliases = ("zero_padding", "zeropad", "pad", "zero_pad1d", "zero_pad2d", "zero_pad3d", "zeropad1d", "zeropad2d", "zeropad3d")
    family = "reshape"
    summary = "Add rows/columns of zeros on each side of every feature map (PyTorch's ZeroPad, Keras' ZeroPadding)."
    formulas = {
        "shape": "o = p_before + i + p_after per axis; channels unchanged",
        "params": "0",
        "macs": "0",
        "rf": "r and j unchanged,  start ← start − p_before·j",
    }

    padding: object = spec_field(_SIDES, doc="zeros per side: int, one per axis, or [before, after] pairs per axis")

    def out_shape(self, xs):
        x = xs[0]
        pads = _sides(self.padding, x, "padding", "zero_pad")
        return (x[0], *(b + i + a for i, (b, a) in zip(spatial(x), pads)))

    def rf(self, xs):
        return tuple(AxisStep(1, 1, -2 * b) for b, _ in _sides(self.padding, xs[0], "padding", "zero_pad"))


@register
@record
class Crop(Layer):
    type_name = "crop"
    aliases = ("cropping", "crop1d", "crop2d", "crop3d", "cropping1d", "cropping2d", "cropping3d")
    family = "reshape"
    summary = "Remove rows/columns on each side of every feature map (Keras' Cropping; U-Net crops its skips)."
    formulas = {
        "shape": "o = i − c_before − c_after per axis (≥ 1); channels unchanged",
        "params": "0",
        "macs": "0",
        "rf": "r and j unchanged,  start ← start + c_before·j",
    }

    cropping: object = spec_field(_SIDES, doc="cells removed per side: int, one per axis, or [before, after] pairs per axis")

    def out_shape(self, xs):
        x = xs[0]
        sides = _sides(self.cropping, x, "cropping", "crop")
        nd = len(sides)
        outs = []
        for a, (i, (b, e)) in enumerate(zip(spatial(x), sides)):
            if b + e >= i:
                where = f" on axis {AXIS_NAMES[nd][a]}" if nd > 1 else ""
                raise FieldError(
                    "cropping",
                    f"cropping{where} removes {b} + {e} = {b + e} of {i} cells; at least one must remain",
                )
            outs.append(i - b - e)
        return (x[0], *outs)

    def rf(self, xs):
        return tuple(AxisStep(1, 1, 2 * b) for b, _ in _sides(self.cropping, xs[0], "cropping", "crop"))


def _keeps_nothing(self, xs, y):
    """The backward pass crops or pads the gradient: it needs only the shapes."""
    return Saved()


for _cls in (ZeroPad, Crop):
    _cls.saved_for_backward = _keeps_nothing
