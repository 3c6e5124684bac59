"""Element-wise activations and dropout: shape unchanged, no parameters, no
multiplications in the lectures' count."""

from __future__ import annotations


from math import prod

from ..errors import FieldError
from .base import Layer, Saved, register
from .fields import Choice, Int, Number, record, spec_field

_FORMULAS = {"shape": "unchanged", "params": "0", "macs": "0", "rf": "unchanged"}


@record
class Activation(Layer):
    family = "activation"
    formulas = _FORMULAS
    #: Its derivative is a function of its output (relu, sigmoid, tanh, softmax),
    #: so it keeps the output; otherwise it keeps its input (as PyTorch does).
    keeps_output = False

    def saved_for_backward(self, xs, y):
        return Saved(output=True) if self.keeps_output else Saved(inputs=(0,))


def _simple(name: str, summary: str, aliases: tuple = (), **attrs):
    body = {"type_name": name, "summary": summary, "aliases": aliases, **attrs}
    cls = record(type(name.title().replace("_", ""), (Activation,), body))
    cls.__module__ = __name__
    return register(cls)


ReLU = _simple("relu", "max(0, x).", keeps_output=True)
ReLU6 = _simple("relu6", "min(max(0, x), 6).")
Sigmoid = _simple("sigmoid", "1 / (1 + e^(−x)).", keeps_output=True)
Tanh = _simple("tanh", "Hyperbolic tangent.", keeps_output=True)
GELU = _simple("gelu", "x·Φ(x), Gaussian error linear unit.")
SiLU = _simple("silu", "x·sigmoid(x) (swish).", ("swish",))
HardSwish = _simple("hardswish", "x·relu6(x + 3)/6 (MobileNetV3).", ("hard_swish",))
HardSigmoid = _simple("hardsigmoid", "relu6(x + 3)/6.", ("hard_sigmoid",))
Softplus = _simple("softplus", "log(1 + e^x).")
Mish = _simple("mish", "x·tanh(softplus(x)).")
Identity = _simple(
    "identity", "Passes its input through unchanged.", ("linear_activation",),
    output_is_view=True, saved_for_backward=lambda self, xs, y: Saved(),
)


@register
@record
class LeakyReLU(Activation):
    type_name = "leaky_relu"
    aliases = ("leakyrelu",)
    summary = "x for x > 0, negative_slope·x otherwise."
    negative_slope: float = spec_field(Number(), 0.01, "slope for negative inputs")


@register
@record
class ELU(Activation):
    type_name = "elu"
    summary = "x for x > 0, α·(e^x − 1) otherwise."
    alpha: float = spec_field(Number(), 1.0, "α")


@register
@record
class Softmax(Activation):
    type_name = "softmax"
    summary = "e^x / Σe^x along the channel axis (dim 0 of one sample)."
    keeps_output = True
    dim: int = spec_field(Int(0), 0, "axis of one sample to normalise over (0 = channels)")

    def out_shape(self, xs):
        return _check_dim(self, xs[0])


def _check_dim(layer, x):
    """``dim`` must be an axis of one sample (0 … rank − 1)."""
    if layer.dim >= len(x):
        raise FieldError(
            "dim", f"dim={layer.dim} but one sample has {len(x)} ax{'is' if len(x) == 1 else 'es'} "
            f"(shape {list(x)}); use 0 … {len(x) - 1}",
        )
    return x


@register
@record
class LogSoftmax(Activation):
    type_name = "log_softmax"
    aliases = ("logsoftmax",)
    summary = "log of softmax along the channel axis."
    keeps_output = True
    dim: int = spec_field(Int(0), 0, "axis of one sample to normalise over (0 = channels)")

    def out_shape(self, xs):
        return _check_dim(self, xs[0])


@register
@record
class Dropout(Layer):
    type_name = "dropout"
    aliases = ("dropout1d", "dropout2d", "dropout3d")
    family = "regularization"
    summary = "Zeroes each value with probability p during training; identity at inference."
    formulas = _FORMULAS
    p: float = spec_field(Number(minimum=0, maximum=1, exclusive_maximum=True), 0.5, "drop probability")

    def saved_for_backward(self, xs, y):
        return Saved(masks=prod(xs[0]))  # the keep-mask, one byte per element


@register
@record
class StochasticDepth(Layer):
    type_name = "stochastic_depth"
    aliases = ("drop_path", "droppath")
    family = "regularization"
    summary = (
        "torchvision's StochasticDepth: in training, drops the whole input of a sample (mode row) or of the "
        "batch (mode batch) with probability p and scales survivors by 1/(1 − p); identity at inference."
    )
    formulas = _FORMULAS

    p: float = spec_field(Number(minimum=0, maximum=1), doc="probability of dropping a sample's (or the batch's) input")
    mode: str = spec_field(Choice(("row", "batch")), "row", "row: one draw per sample; batch: one for the batch")

    def saved_for_backward(self, xs, y):
        # row: the keep flag of each sample (one byte); batch: one flag for the batch, nothing per sample
        return Saved(masks=1 if self.mode == "row" else 0)


def activation_names() -> list[str]:
    """Names accepted by the ``activation:`` shorthand of conv and dense layers."""
    from .base import REGISTRY

    return sorted(name for name, cls in REGISTRY.items() if issubclass(cls, Activation))
