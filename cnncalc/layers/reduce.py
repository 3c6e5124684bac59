"""Reductions over chosen axes of one sample: ``mean`` (torchvision's
ShuffleNetV2 and MnasNet end with ``x.mean([2, 3])``).

Written as a mean rather than an adaptive pooling because the tools count
them apart: fvcore charges ``adaptive_avg_pool2d`` one per input value and
``aten::mean`` nothing, ptflops hooks pooling modules (twice) and not
``torch.mean``, torchinfo counts neither.
"""

from __future__ import annotations


from ..errors import FieldError
from ..receptive import IDENTITY
from .base import WHOLE, Layer, Saved, register
from .fields import Flag, Kind, _is_int, _type_name, record, spec_field


@record
class Dims(Kind):
    """One axis of a sample (0 = channels) or a list of distinct axes."""

    description = "an axis of one sample (0 = channels, 1 = first spatial axis, ...) or a list of distinct axes"

    def parse(self, field, value):
        items = [value] if _is_int(value) else value
        if not isinstance(items, list) or not items or not all(_is_int(i) and i >= 0 for i in items):
            raise FieldError(field, f"must be {self.description}, got {_type_name(value)} {value!r}")
        if len(set(items)) != len(items):
            raise FieldError(field, f"axes must differ, got {list(items)}")
        return tuple(sorted(items))

    def schema(self):
        item = {"type": "integer", "minimum": 0}
        return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1, "maxItems": 4, "uniqueItems": True}]}


@register
@record
class Mean(Layer):
    type_name = "mean"
    aliases = ("reduce_mean",)
    family = "reduce"
    summary = "Mean over the given axes of one sample (x.mean(dim)); keepdim keeps them with size 1."
    formulas = {
        "shape": "the averaged axes are dropped (keepdim: kept with size 1)",
        "params": "0",
        "macs": "0 (additions; a 1/n scale per output); fvcore, ptflops and torchinfo count 0 too",
        "rf": "averaged spatial axes: the whole extent; others unchanged",
    }

    dim: tuple = spec_field(Dims(), (1, 2), "axes of one sample to average (0 = channels; [1, 2] = H and W of [C, H, W])")
    keepdim: bool = spec_field(Flag(), False, "keep the averaged axes with size 1")

    def _dims(self, x):
        for d in self.dim:
            if d >= len(x):
                raise FieldError("dim", f"axis {d} is not an axis of one sample {list(x)} (0 … {len(x) - 1}; 0 = channels)")
        if len(self.dim) == len(x) and not self.keepdim:
            raise FieldError("dim", f"averaging every axis of {list(x)} leaves a scalar; keep one axis or set keepdim")
        return self.dim

    def out_shape(self, xs):
        x = xs[0]
        dims = self._dims(x)
        if self.keepdim:
            return tuple(1 if a in dims else n for a, n in enumerate(x))
        return tuple(n for a, n in enumerate(x) if a not in dims)

    def rf(self, xs):
        dims = self._dims(xs[0])
        spatial = [a for a in dims if a > 0]
        if not spatial:
            return None
        if len(spatial) == len(xs[0]) - 1:
            return WHOLE
        return tuple(WHOLE if a + 1 in spatial else IDENTITY for a in range(len(xs[0]) - 1))

    def saved_for_backward(self, xs, y):
        return Saved()  # the gradient is dy/n spread back
