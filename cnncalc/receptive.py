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

from .lazy import Fraction
from .records import Record, record

Number = int | Fraction


def _norm(x: Number) -> Number:
    if x.__class__ is int:  # the common case, first (this runs for every layer and axis)
        return x
    if isinstance(x, Fraction) and x.denominator == 1:
        return int(x)
    return x


def _half(n: Number) -> Number:
    """n / 2, exact: an int when n is an even int, else a Fraction."""
    if n.__class__ is int:
        return n // 2 if n % 2 == 0 else Fraction(n, 2)
    return _norm(n / 2)


def terms(x: Number) -> tuple[int, int]:
    """Numerator and denominator of an exact number (1 for an int)."""
    return (x, 1) if x.__class__ is int else (x.numerator, x.denominator)


def effective_kernel(kernel: int, dilation: int = 1) -> int:
    """A kernel of size k with dilation d covers d·(k − 1) + 1 input cells."""
    return dilation * (kernel - 1) + 1


# Centres are carried doubled (``twice_offset``, ``twice_start``): a window of
# even size is centred between two cells, half a pixel off the grid, and twice
# that is an integer again. A network without upsampling then needs no Fraction
# at all, and ``fractions`` (with ``decimal`` and ``re``, about 3 ms of every
# start) is imported only where a field is fractional in truth: upsampling,
# fractional strides, uneven adaptive pooling, or a centre read out.


@record
class AxisStep(Record):
    """One layer's mapping along one axis.

    ``span``: field of one output in this layer's input cells;
    ``jump``: input cells between adjacent outputs;
    ``twice_offset``: twice the centre of output 0 in this layer's input
    coordinates (:attr:`offset` is the centre itself).
    """

    span: Number
    jump: Number
    twice_offset: Number

    @property
    def offset(self) -> Number:
        return _half(self.twice_offset)

    @classmethod
    def window(cls, kernel: int, stride: Number, pad_before: Number) -> "AxisStep":
        """A sliding window (convolution or pooling) with effective kernel k,
        stride s and padding p before the first cell:
        output 0 covers input cells −p … k − 1 − p, centred at (k − 1)/2 − p."""
        return cls(kernel, stride, _norm(kernel - 1 - 2 * pad_before))

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
            _norm((kernel - 1 - 2 * pad_before) / Fraction(up)),
        )


IDENTITY = AxisStep(1, 1, 0)


@record
class AxisRF(Record):
    """The receptive field of one output along one axis, in input pixels:
    ``size``, ``jump``, and ``twice_start``, twice the centre of the first
    output's field (:attr:`start` is the centre itself)."""

    size: Number = 1
    jump: Number = 1
    twice_start: Number = 0
    whole: bool = False  # the field is the whole input (dense, global pooling)

    @property
    def start(self) -> Number:
        return _half(self.twice_start)

    def start_terms(self) -> tuple[int, int]:
        """Numerator and denominator of :attr:`start`, without building it."""
        t = self.twice_start
        if t.__class__ is int:
            return (t // 2, 1) if t % 2 == 0 else (t, 2)
        return terms(self.start)

    @property
    def padding(self) -> Number:
        """Effective padding P = (r − 1)/2 − start."""
        return _half(self.size - 1 - self.twice_start)

    def then(self, step: AxisStep) -> "AxisRF":
        """Compose with one more layer:
        r ← r + (span − 1)·j,  start ← start + offset·j,  j ← j·jump."""
        if self.jump.__class__ is int and step.jump.__class__ is int and step.twice_offset.__class__ is int \
                and self.twice_start.__class__ is int and step.span.__class__ is int and self.size.__class__ is int:
            j = self.jump  # all integers: no Fraction arithmetic needed
            return AxisRF(self.size + (step.span - 1) * j, j * step.jump, self.twice_start + step.twice_offset * j,
                          self.whole)
        return AxisRF(
            size=_norm(self.size + (step.span - 1) * self.jump),
            jump=_norm(self.jump * step.jump),
            twice_start=_norm(self.twice_start + step.twice_offset * self.jump),
            whole=self.whole,
        )

    def input_center(self, index: int) -> Number:
        """Centre, in input coordinates, of the field of output ``index``."""
        return _half(self.twice_start + 2 * index * self.jump)

    def output_index(self, center: Number) -> Number:
        """Inverse of :meth:`input_center`."""
        return _norm((Fraction(center) - self.start) / self.jump)

    def whole_input(self, extent: int) -> "AxisRF":
        """The field after a layer that sees everything (dense, global pool):
        at least the whole input, centred on it."""
        return AxisRF(size=max(self.size, extent), jump=self.jump, twice_start=extent - 1, whole=True)

    def marked_whole(self) -> "AxisRF":
        """The same field, marked as the whole input."""
        return AxisRF(self.size, self.jump, self.twice_start, True)

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
