"""Merge layers: several inputs become one (residual adds, concatenation,
squeeze-and-excitation gates).

They have no parameters and, in the lectures' and torchvision's count, cost no
multiplications (an element-wise product is not a weight product). The
receptive field passes through unchanged; where the paths meet the analysis
keeps, per axis, the largest field and warns when the paths are not aligned
(Araujo et al., Distill 2019).

Shape mismatches raise :class:`InputShapeError`, which the analysis completes
with the name of each input so the message shows ``name [C, H, W]`` pairs.
"""

from __future__ import annotations


from ..errors import FieldError
from .base import Layer, Saved, register
from .fields import Int, record, spec_field

#: No practical limit on the number of merged inputs.
MANY = 1_000_000


class InputShapeError(FieldError):
    """Inputs of a merge that do not fit together; ``named(names)`` rewrites
    the message with each input's node name beside its shape."""

    def __init__(self, problem: str, shapes, field: str | None = "inputs"):
        self.problem = problem
        self.shapes = tuple(tuple(s) for s in shapes)
        super().__init__(field, self._text([f"#{i + 1}" for i in range(len(self.shapes))]))

    def _text(self, names) -> str:
        listing = ", ".join(f"'{n}' {list(s)}" for n, s in zip(names, self.shapes))
        return f"{self.problem}: {listing}"

    def named(self, names) -> "InputShapeError":
        out = InputShapeError(self.problem, self.shapes, self.field)
        out.message = self._text(names)
        out.args = (out.message,)
        return out


def _same_rank(type_name, xs):
    if len({len(x) for x in xs}) > 1:
        raise InputShapeError(f"{type_name} needs inputs with the same number of axes", xs)


@record
class _Merge(Layer):
    family = "merge"
    min_inputs = 2
    max_inputs = MANY


@register
@record
class Add(_Merge):
    type_name = "add"
    aliases = ("sum", "residual_add")
    summary = "Element-wise sum of two or more inputs of the same shape (residual shortcut)."
    formulas = {
        "shape": "all inputs share one shape; the output has it",
        "params": "0",
        "macs": "0 (additions)",
        "rf": "per axis the largest input field; misaligned paths are reported",
    }

    def out_shape(self, xs):
        _same_rank(self.type_name, xs)
        if len(set(xs)) > 1:
            raise InputShapeError("add needs inputs of one shape", xs)
        return xs[0]

    def saved_for_backward(self, xs, y):
        return Saved()  # the gradient passes through unchanged


@register
@record
class Concat(_Merge):
    type_name = "concat"
    aliases = ("concatenate", "cat")
    summary = "Concatenation of two or more inputs along one axis (channels by default)."
    formulas = {
        "shape": "sizes along `dim` add up; every other axis must match",
        "params": "0",
        "macs": "0",
        "rf": "per axis the largest input field; misaligned paths are reported",
    }

    dim: int = spec_field(Int(0), 0, "axis of one sample to join along (0 = channels, 1 = first spatial axis, ...)")

    def out_shape(self, xs):
        _same_rank(self.type_name, xs)
        rank = len(xs[0])
        if self.dim >= rank:
            raise FieldError("dim", f"dim={self.dim} but the inputs have only {rank} axes (0 = channels)")
        rest = {x[: self.dim] + x[self.dim + 1 :] for x in xs}
        if len(rest) > 1:
            what = "channels" if self.dim == 0 else f"axis {self.dim}"
            raise InputShapeError(f"concat along {what} needs every other axis to match", xs)
        total = sum(x[self.dim] for x in xs)
        return xs[0][: self.dim] + (total,) + xs[0][self.dim + 1 :]

    def saved_for_backward(self, xs, y):
        return Saved()  # the gradient is split by the known sizes


@register
@record
class Multiply(_Merge):
    type_name = "multiply"
    aliases = ("mul", "scale")
    summary = (
        "Element-wise product with broadcasting of size-1 axes (squeeze-and-excitation gates); "
        "a flat [C] input scales every position of its channel."
    )
    formulas = {
        "shape": "per axis: equal sizes, or 1 broadcast to the other size",
        "params": "0",
        "macs": "0 (element-wise, not a weight product; torchvision's count)",
        "rf": "per axis the largest input field; misaligned paths are reported",
    }

    def out_shape(self, xs):
        rank = max(len(x) for x in xs)
        # a flat [C] gate (after global pooling) scales every position of its channel
        padded = [x + (1,) * (rank - 1) if len(x) == 1 else x for x in xs]
        _same_rank(self.type_name, padded)
        out = []
        for sizes in zip(*padded):
            big = {n for n in sizes if n != 1}
            if len(big) > 1:
                raise InputShapeError("multiply needs, per axis, equal sizes or 1 (broadcast)", xs)
            out.append(big.pop() if big else 1)
        return tuple(out)
