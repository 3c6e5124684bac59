"""Receptive-field arithmetic (Araujo, Norris & Sim, Distill 2019).

Per spatial axis we carry, in input pixels:

* ``size``  r — how many input pixels one output unit sees;
* ``jump``  j — the distance in the input between two adjacent outputs
  (the product of strides; a Fraction after upsampling);
* ``start`` — the centre of the first output's field, in input coordinates
  (pixel i of the input has centre i; may be negative or a half-integer);
* ``padding`` P = (r − 1)/2 − start, the effective padding.

A layer describes one step with :class:`AxisStep`: how one of *its* output
units maps onto *its* input. Every formula lives here, once, over axes.
"""

from __future__ import annotations

from fractions import Fraction

from .records import Record, record

Number = int | Fraction


def _norm(x: Number) -> Number:
    if x.__class__ is int:  # the common case, first (this runs for every layer and axis)
        return x
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    return x


def _half(n: int) -> Number:
    """n / 2, an int when n is even."""
    return n // 2 if n % 2 == 0 else Fraction(n, 2)


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """A kernel of size k with dilation d covers d·(k − 1) + 1 input cells."""
    return dilation * (kernel - 1) + 1


@record
class AxisStep(Record):
    """One layer's mapping along one axis.

    ``span``: field of one output in this layer's input cells;
    ``jump``: input cells between adjacent outputs;
    ``offset``: centre of output 0 in this layer's input coordinates.
    """

    span: Number
    jump: Number
    offset: Number

    @classmethod
    def window(cls, kernel: int, stride: Number, pad_before: Number) -> "AxisStep":
        """A sliding window (convolution or pooling) with effective kernel k,
        stride s and padding p before the first cell:
        output 0 covers input cells −p … k − 1 − p, centred at (k − 1)/2 − p."""
        return cls(kernel, stride, _norm(_half(kernel - 1) - pad_before))

    @classmethod
    def resampled_window(cls, kernel: int, up: int, down: int, pad_before: Number) -> "AxisStep":
        """Upsample by ``up`` (insert up − 1 zeros between cells), slide a window
        of effective kernel k with stride ``down`` and padding p before, in that
        order (the lectures' fractional stride down/up; a transposed convolution
        is up = s, down = 1, p = k − 1 − padding). In input cells:
        span 1 + (k − 1)/up, jump down/up, offset ((k − 1)/2 − p)/up."""
        if up == 1:  # an ordinary window: no Fraction arithmetic
            return cls.window(kernel, down, pad_before)
        return cls(
            _norm(1 + Fraction(kernel - 1, up)),
            _norm(Fraction(down, up)),
            _norm((Fraction(kernel - 1, 2) - pad_before) / up),
        )


IDENTITY = AxisStep(1, 1, 0)


@record
class AxisRF(Record):
    size: Number = 1
    jump: Number = 1
    start: Number = 0
    whole: bool = False  # the field is the whole input (dense, global pooling)

    @property
    def padding(self) -> Number:
        """Effective padding P = (r − 1)/2 − start."""
        return _norm(_half(self.size - 1) - self.start)

    def then(self, step: AxisStep) -> "AxisRF":
        """Compose with one more layer:
        r ← r + (span − 1)·j,  start ← start + offset·j,  j ← j·jump."""
        if self.jump.__class__ is int and step.jump.__class__ is int and step.offset.__class__ is int \
                and self.start.__class__ is int and step.span.__class__ is int and self.size.__class__ is int:
            j = self.jump  # all integers: no Fraction arithmetic needed
            return AxisRF(self.size + (step.span - 1) * j, j * step.jump, self.start + step.offset * j, self.whole)
        return AxisRF(
            size=_norm(self.size + (step.span - 1) * self.jump),
            jump=_norm(self.jump * step.jump),
            start=_norm(self.start + step.offset * self.jump),
            whole=self.whole,
        )

    def input_center(self, index: int) -> Number:
        """Centre, in input coordinates, of the field of output ``index``."""
        return _norm(self.start + index * self.jump)

    def output_index(self, center: Number) -> Number:
        """Inverse of :meth:`input_center`."""
        return _norm((Fraction(center) - self.start) / self.jump)

    def whole_input(self, extent: int) -> "AxisRF":
        """The field after a layer that sees everything (dense, global pool):
        at least the whole input, centred on it."""
        return AxisRF(size=max(self.size, extent), jump=self.jump, start=Fraction(extent - 1, 2), whole=True)

    def to_json(self) -> dict:
        return {
            "size": _json_num(self.size),
            "jump": _json_num(self.jump),
            "start": _json_num(self.start),
            "padding": _json_num(self.padding),
            "whole_input": self.whole,
        }


def _json_num(x: Number):
    """Exact JSON for an int or Fraction: ints stay ints, fractions become "a/b"."""
    x = _norm(x)
    if isinstance(x, Fraction):
        return f"{x.numerator}/{x.denominator}"
    return x


def format_number(x: Number) -> str:
    x = _norm(x)
    return str(x) if isinstance(x, int) else f"{x.numerator}/{x.denominator}"
