"""Pooling: max and average windows, global pooling, adaptive pooling.

Pooling works on each feature map separately: channels are unchanged, there
are no weights, and it costs no multiplications in the lectures' count.
"""

from __future__ import annotations

from math import prod

from ..errors import FieldError
from ..lazy import Fraction
from ..receptive import IDENTITY, AxisStep
from .base import WHOLE, Layer, Saved, register, require_rank, spatial
from .fields import Axes, Flag, Int, Number, OptionalAxes, Padding, per_axis, record, spec_field
from .window import window_outputs

_WINDOW_FORMULAS = {
    "shape": "o = ⌊(i + p_before + p_after − d·(k − 1) − 1) / s⌋ + 1 (⌈⌉ with ceil_mode; a window may not start in the right padding); channels unchanged",
    "params": "0",
    "macs": "0",
    "rf": "r ← r + (d·(k − 1))·j,  j ← j·s,  start ← start + ((d·(k − 1))/2 − p_before)·j",
}


@record
class _WindowPool(Layer):
    family = "pooling"
    formulas = _WINDOW_FORMULAS

    kernel_size: object = spec_field(Axes(1), doc="window size per spatial axis")
    stride: object = spec_field(Axes(1), None, "step between windows (default: the kernel size)")
    padding: object = spec_field(Padding(), 0, "padding: int, per axis, [before, after] pairs, or valid/same")
    ceil_mode: bool = spec_field(Flag(), False, "round the output size up instead of down")

    dilation = 1  # overridden as a field by max pooling

    def _geometry(self, x):
        nd = require_rank((x,), (1, 2, 3), self.type_name, "kernel_size")
        kernels = per_axis(self.kernel_size, nd, "kernel_size")
        strides = kernels if self.stride is None else per_axis(self.stride, nd, "stride")
        dilations = per_axis(self.dilation, nd, "dilation")
        outs, pads, keff = window_outputs(
            spatial(x), kernels, strides, dilations, self.padding, ceil_mode=self.ceil_mode
        )
        return strides, outs, pads, keff

    def out_shape(self, xs):
        return (xs[0][0], *self._geometry(xs[0])[1])

    def rf(self, xs):
        strides, _, pads, keff = self._geometry(xs[0])
        return tuple(AxisStep.window(k, s, p[0]) for k, s, p in zip(keff, strides, pads))


@register
@record
class MaxPool(_WindowPool):
    type_name = "max_pool"
    aliases = ("maxpool", "max_pool1d", "max_pool2d", "max_pool3d", "maxpool1d", "maxpool2d", "maxpool3d")
    summary = "Maximum over each window of each feature map."

    dilation: object = spec_field(Axes(1), 1, "spacing between window taps")

    def saved_for_backward(self, xs, y):
        return Saved(indices=prod(y))  # the argmax of every window


@register
@record
class AvgPool(_WindowPool):
    type_name = "avg_pool"
    aliases = ("avgpool", "avg_pool1d", "avg_pool2d", "avg_pool3d", "avgpool1d", "avgpool2d", "avgpool3d", "mean_pool")
    summary = "Mean over each window of each feature map (padded zeros count, as in PyTorch's default)."
    count_include_pad: bool = spec_field(Flag(), True, "count padded zeros in the mean (PyTorch default)")

    def saved_for_backward(self, xs, y):
        return Saved()  # the backward pass needs only the shapes


@record
class _GlobalPool(Layer):
    family = "pooling"
    formulas = {
        "shape": "[C, ...] → [C] (or [C, 1, ...] with keepdims)",
        "params": "0",
        "macs": "0",
        "rf": "the whole input",
    }
    keepdims: bool = spec_field(Flag(), False, "keep the spatial axes with size 1 instead of dropping them")

    def out_shape(self, xs):
        x = xs[0]
        require_rank(xs, (1, 2, 3), self.type_name)
        return (x[0], *([1] * (len(x) - 1))) if self.keepdims else (x[0],)

    def rf(self, xs):
        return WHOLE


@register
@record
class GlobalAvgPool(_GlobalPool):
    type_name = "global_avg_pool"
    aliases = ("global_average_pool", "gap", "global_avg_pool1d", "global_avg_pool2d", "global_avg_pool3d")
    summary = "Mean of each whole feature map: one value per channel."

    def saved_for_backward(self, xs, y):
        return Saved()


@register
@record
class GlobalMaxPool(_GlobalPool):
    type_name = "global_max_pool"
    aliases = ("global_max_pool1d", "global_max_pool2d", "global_max_pool3d")
    summary = "Maximum of each whole feature map: one value per channel."

    def saved_for_backward(self, xs, y):
        return Saved(indices=prod(y))


@record
class _AdaptivePool(Layer):
    family = "pooling"
    formulas = {
        "shape": "spatial axes → output_size (null keeps an axis); channels unchanged",
        "params": "0",
        "macs": "0",
        "rf": "window i covers ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉ − 1; when o divides n this is k = s = n/o; o = 1 is the whole input",
    }
    output_size: object = spec_field(OptionalAxes(1), doc="output size per spatial axis")

    def _sizes(self, x):
        nd = require_rank((x,), (1, 2, 3), self.type_name, "output_size")
        if isinstance(self.output_size, tuple):
            wanted = per_axis(self.output_size, nd, "output_size")
        else:
            wanted = (self.output_size,) * nd
        return tuple(n if o is None else o for n, o in zip(spatial(x), wanted))

    def out_shape(self, xs):
        return (xs[0][0], *self._sizes(xs[0]))

    def rf(self, xs):
        outs = self._sizes(xs[0])
        ins = spatial(xs[0])
        if all(o == 1 for o in outs):
            return WHOLE
        steps = []
        for n, o in zip(ins, outs):
            if n % o == 0:
                steps.append(AxisStep.window(n // o, n // o, 0))
            else:
                # Windows of varying length: report the longest one, centred on
                # the mean step (exact for every output when o divides n).
                longest = longest_adaptive_window(n, o)
                steps.append(AxisStep(longest, Fraction(n, o), longest - 1))  # centred at (longest − 1)/2
        return tuple(steps)


@register
@record
class AdaptiveAvgPool(_AdaptivePool):
    type_name = "adaptive_avg_pool"
    aliases = ("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptiveavgpool")
    summary = "Average pooling to a fixed output size (PyTorch's AdaptiveAvgPool), as in torchvision's VGG and ResNet."

    def saved_for_backward(self, xs, y):
        return Saved()


@register
@record
class AdaptiveMaxPool(_AdaptivePool):
    type_name = "adaptive_max_pool"
    aliases = ("adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptivemaxpool")
    summary = "Max pooling to a fixed output size (PyTorch's AdaptiveMaxPool)."

    def saved_for_backward(self, xs, y):
        return Saved(indices=prod(y))


@register
@record
class LPPool(_WindowPool):
    type_name = "lp_pool"
    aliases = ("lppool", "lp_pool1d", "lp_pool2d", "lp_pool3d", "lppool1d", "lppool2d", "lppool3d", "l2_pool", "norm_pool")
    summary = (
        "Lp-norm of each window, (Σ x^p)^(1/p) (PyTorch's LPPool); p = 2 is the L2-norm pooling of the "
        "lectures, p → ∞ approaches max pooling."
    )
    formulas = {**_WINDOW_FORMULAS, "macs": "0 (pooling; the powers are not weight products)"}

    norm_type: float = spec_field(Number(minimum=0, exclusive_maximum=False), 2, "the p of the Lp norm (2: L2 pooling)")

    def __post_init__(self):
        if self.norm_type == 0:
            raise FieldError("norm_type", "norm_type p must be > 0, got 0")

    def saved_for_backward(self, xs, y):
        return Saved(inputs=(0,), output=True)  # ∂y/∂x = x^(p−1) · y^(1−p)


@register
@record
class KMaxPool(Layer):
    type_name = "kmax_pool"
    aliases = ("k_max_pool", "kmaxpool", "kmax_pooling", "k_max_pooling")
    family = "pooling"
    summary = (
        "K-max pooling (Kalchbrenner et al. 2014; lectures): along one spatial axis keep the K largest "
        "values of each feature map, in their original order."
    )
    formulas = {
        "shape": "the chosen axis becomes K (K ≤ its size); other axes and channels unchanged",
        "params": "0",
        "macs": "0",
        "rf": "the whole input along the chosen axis; other axes unchanged",
    }

    k: int = spec_field(Int(1), doc="how many values to keep (K)")
    axis: int = spec_field(Int(-3), -1, "which spatial axis (0 = first, −1 = last)")

    def _axis(self, x):
        nd = require_rank((x,), (1, 2, 3), "kmax_pool", "k")
        if not -nd <= self.axis < nd:
            raise FieldError(
                "axis", f"axis {self.axis} does not exist: the input has {nd} spatial axes (0 … {nd - 1}, or −1 … −{nd})"
            )
        return self.axis % nd

    def out_shape(self, xs):
        x = xs[0]
        a = self._axis(x)
        n = x[1 + a]
        if self.k > n:
            raise FieldError("k", f"K = {self.k} is larger than the {n} values along spatial axis {a} of {list(x)}")
        return (*x[: 1 + a], self.k, *x[2 + a :])

    def rf(self, xs):
        a = self._axis(xs[0])
        return tuple(WHOLE if i == a else IDENTITY for i in range(len(xs[0]) - 1))

    def saved_for_backward(self, xs, y):
        return Saved(indices=prod(y))  # where each kept value came from


def longest_adaptive_window(n: int, o: int) -> int:
    """The longest of the ``o`` adaptive-pooling windows over ``n`` cells,
    window i spanning ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉ (PyTorch's rule), in closed form
    (a loop over the outputs would run 10^18 times for a huge ``output_size``).

    With q = n // o, m = n % o and g = gcd(n, o), window i has q + ⌈(r_i + m)/o⌉
    cells where r_i = i·n mod o runs over the multiples of g below o; the
    largest, o − g, gives q + 2 cells exactly when m > g, else q + 1."""
    from math import gcd

    q, m = divmod(n, o)
    if m == 0:
        return q
    return q + 2 if m > gcd(n, o) else q + 1
