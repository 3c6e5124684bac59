"""The one-layer calculators behind ``cnncalc conv|pool|tconv``.

Input shapes follow cnncalc's one notation (:mod:`cnncalc.shapes`): with
``x`` as in the lectures, channels last (``28x28x3`` is H×W×D, ``4x5`` is H×W
with one channel, ``16x112x112x3`` D×H×W×C); with commas channels first, as in
a spec (``3,28,28``); a lone number ``32`` is a 1D signal of length 32 with one channel.
Internally shapes are channels first, as everywhere in cnncalc.
"""

from __future__ import annotations

import re

from ..errors import FieldError, UsageError
from ..layers.conv import Conv
from ..layers.pooling import AvgPool, MaxPool
from ..layers.transposed import ConvTranspose
from ..records import record
from .explain import (
    Step,
    explain_conv,
    explain_conv_fractional,
    explain_pool,
    explain_tconv,
    shape_text,
)


def parse_sizes(text: str, what: str, *, minimum: int = 1) -> tuple[int, ...]:
    """'5' → (5,), '3x5' → (3, 5)."""
    parts = [p for p in re.split(r"[,x×\s]+", str(text).strip().strip("[]()")) if p]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise UsageError(f"--{what} {text!r}: expected integers such as 3 or 3x5") from None
    if not values or any(v < minimum for v in values):
        raise UsageError(f"--{what} {text!r}: every size must be an integer ≥ {minimum}")
    return values


def parse_strides(text: str) -> tuple:
    """'2' → (2,), '1/2' → (Fraction(1, 2),) (the lectures' fractional stride S2/S1), '1x1/2' per axis."""
    from fractions import Fraction

    parts = [p for p in re.split(r"[,x×\s]+", str(text).strip().strip("[]()")) if p]
    values = []
    for p in parts:
        try:
            v = Fraction(p)
        except (ValueError, ZeroDivisionError):
            raise UsageError(f"--stride {text!r}: expected integers or fractions such as 2, 1/2 or 3/2") from None
        if v <= 0 or len(p) > 12:
            raise UsageError(f"--stride {text!r}: every stride must be a positive integer or a fraction S2/S1")
        values.append(int(v) if v.denominator == 1 else v)
    if not values:
        raise UsageError(f"--stride {text!r}: expected integers or fractions such as 2, 1/2 or 3/2")
    return tuple(values)


def read_input(text: str, channels: int | None = None):
    """The typed input under cnncalc's one shape notation (:mod:`cnncalc.shapes`):
    ``28x28x3`` channels last as in the lectures, ``3,28,28`` channels first as
    in a spec. Returns (channels-first shape, what was understood, a warning or None)."""
    from ..shapes import ShapeSyntaxError, axis_labels, order_warning, parse_shape

    try:
        typed = parse_shape(text, what="--input")
    except ShapeSyntaxError as exc:
        raise UsageError(str(exc)) from None
    shape = typed.shape
    if len(shape) < 2:
        raise UsageError(f"--input {text!r} is a flat vector of {shape[0]} values (commas are channels first: C,H,W); "
                         f"a layer with a kernel needs spatial axes, e.g. {shape[0]} (1D) or {shape[0]}x{shape[0]}")
    if channels is not None:
        shape = (channels, *shape[1:])
    warning = order_warning(shape, channels_last_typed=typed.channels_last, what="--input ")
    labels = axis_labels(len(typed.shape))
    order = [*labels[1:], labels[0]] if typed.channels_last and len(typed.text.split("x")) > 2 else \
        labels[1:] if typed.channels_last else labels
    return shape, f"--input {typed.text} read as {('×' if typed.channels_last else ',').join(order)}", warning


def parse_input(text: str, channels: int | None = None) -> tuple[int, ...]:
    """The channels-first shape of a typed ``--input`` (see :func:`read_input`)."""
    return read_input(text, channels)[0]


def _axes(values: tuple[int, ...], nd: int, what: str):
    if len(values) == 1:
        return values[0]
    if len(values) != nd:
        raise UsageError(f"--{what} has {len(values)} sizes but the input has {nd} spatial axes")
    return tuple(values)


def parse_padding(text: str, nd: int):
    """An int, one per axis (1x2), or a mode a spec accepts (same, valid, full, causal)."""
    from ..layers.fields import PADDING_MODES

    mode = str(text).strip().lower()
    if mode in PADDING_MODES:
        return mode
    return _axes(parse_sizes(text, "padding", minimum=0), nd, "padding")


@record
class Calculation:
    kind: str
    input_shape: tuple[int, ...]  # channels first
    steps: list[Step]
    settings: dict
    biases: int = 0  # bias terms among the parameters (the lectures count weights only)
    understood: str = ""  # the typed --input and how it was read
    warning: str | None = None  # the typed --input looks written in the other order

    @property
    def output_shape(self):
        return next(s.value for s in self.steps if s.quantity == "output shape")

    def value(self, prefix: str):
        return next((s.value for s in self.steps if s.quantity.startswith(prefix)), None)

    def header(self) -> str:
        x = self.input_shape
        nd = len(x) - 1
        label = {1: "L×D", 2: "H×W×D", 3: "D×H×W×C"}[nd]
        parts = ", ".join(f"{k} {v}" for k, v in self.settings.items() if v is not None)
        read = f"; {self.understood}" if self.understood else ""
        return (f"{self.kind}: input {shape_text(x, True)} ({label}, shown channels last as in the lectures{read}), {parts} "
                f"→ output {shape_text(self.output_shape, True)}")


def _guard(fn):
    try:
        return fn()
    except FieldError as exc:
        where = f"--{exc.field.replace('_size', '').replace('_', '-')}: " if exc.field else ""
        raise UsageError(where + exc.message) from None


def conv(input_text, kernel, stride="1", padding="0", dilation="1", filters=1, groups=1, bias=True,
         channels=None) -> Calculation:
    x, understood, warning = read_input(input_text, channels)
    nd = len(x) - 1
    layer = Conv(
        out_channels=filters,
        kernel_size=_axes(parse_sizes(kernel, "kernel"), nd, "kernel"),
        stride=_axes(parse_strides(stride), nd, "stride"),
        padding=parse_padding(padding, nd),
        dilation=_axes(parse_sizes(dilation, "dilation"), nd, "dilation"),
        groups=groups,
        bias=bias,
    )
    if x[0] % groups or filters % groups:
        raise UsageError(f"--groups {groups} must divide the {x[0]} input channels and the {filters} filters")
    strides = layer.stride if isinstance(layer.stride, tuple) else (layer.stride,)
    explain = explain_conv_fractional if any(not isinstance(v, int) for v in strides) else explain_conv
    steps = _guard(lambda: explain(layer, x, channels_last=True))
    return Calculation("conv", x, steps, {"kernel": kernel, "stride": stride, "padding": padding,
                                          "dilation": dilation if dilation != "1" else None,
                                          "filters": filters, "groups": groups if groups > 1 else None},
                       filters if bias else 0,
                       understood=understood, warning=warning)


def pool(input_text, kernel, stride=None, padding="0", dilation="1", kind="max", ceil_mode=False) -> Calculation:
    x, understood, warning = read_input(input_text)
    nd = len(x) - 1
    common = dict(
        kernel_size=_axes(parse_sizes(kernel, "kernel"), nd, "kernel"),
        stride=None if stride is None else _axes(parse_sizes(stride, "stride"), nd, "stride"),
        padding=parse_padding(padding, nd),
        ceil_mode=ceil_mode,
    )
    if kind == "max":
        layer = MaxPool(dilation=_axes(parse_sizes(dilation, "dilation"), nd, "dilation"), **common)
    else:
        layer = AvgPool(**common)
    steps = _guard(lambda: explain_pool(layer, x, channels_last=True))
    return Calculation(f"{kind} pool", x, steps, {"kernel": kernel, "stride": stride or f"{kernel} (= kernel)",
                                                  "padding": padding},
                       understood=understood, warning=warning)


def tconv(input_text, kernel, stride="1", padding="0", output_padding="0", dilation="1", filters=1,
          groups=1, bias=True, channels=None) -> Calculation:
    x, understood, warning = read_input(input_text, channels)
    nd = len(x) - 1
    strides = _axes(parse_sizes(stride, "stride"), nd, "stride")
    dilations = _axes(parse_sizes(dilation, "dilation"), nd, "dilation")
    ops = _axes(parse_sizes(output_padding, "output-padding", minimum=0), nd, "output-padding")
    layer = ConvTranspose(
        out_channels=filters,
        kernel_size=_axes(parse_sizes(kernel, "kernel"), nd, "kernel"),
        stride=strides,
        padding=_axes(parse_sizes(padding, "padding", minimum=0), nd, "padding"),
        output_padding=ops,
        dilation=dilations,
        groups=groups,
        bias=bias,
    )
    if x[0] % groups or filters % groups:
        raise UsageError(f"--groups {groups} must divide the {x[0]} input channels and the {filters} filters")
    _guard(lambda: layer.out_shape((x,)))  # the layer's own checks (output_padding < S or d, ...)
    steps = _guard(lambda: explain_tconv(layer, x, channels_last=True))
    return Calculation("transposed conv", x, steps, {"kernel": kernel, "stride": stride, "padding": padding,
                                                     "output_padding": output_padding if output_padding != "0" else None,
                                                     "filters": filters}, filters if bias else 0,
                       understood=understood, warning=warning)
