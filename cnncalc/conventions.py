"""Counting conventions: what a "MAC" and a "FLOP" are.

cnncalc's own count is the lectures' one: multiplications of the weight
products of convolution, transposed convolution and dense layers, per sample;
bias additions, activations, pooling, normalisation and merges cost 0. This is
also what torchvision publishes in its "GFLOPS" column (which is really
GMACs). Other tools count differently; each preset here reproduces one tool's
total so that users can compare like with like:

* ``torchinfo`` (``summary(...).total_mult_adds``, torchinfo 1.8): every layer
  whose torch class name contains "Conv" costs *parameters × output
  positions* (so the bias counts as a MAC per output value, and a transposed
  convolution is charged per *output* position instead of per input position,
  too much by about stride²: torchinfo issues #39, #77, #126); every other
  layer with parameters costs its parameter count (dense: in·out + out; batch
  norm: 2C); layers without parameters cost 0.
* ``fvcore`` (``FlopCountAnalysis(model.eval(), x).total()``; its "flops" are
  MACs): convolution, transposed convolution and dense without bias; batch
  norm 2 per value with affine (1 without; 5 or 4 when it normalises with
  batch statistics); ``adaptive_avg_pool2d`` one per input value; nearest
  ``upsample_nearest2d`` one and bilinear four per output value; everything
  else (activations, max/avg pooling, merges) 0. Only the 2D forms of pooling
  and upsampling have handlers.
* ``ptflops`` (``get_model_complexity_info(model, res)``, pytorch backend as by
  default, ptflops 0.7.5): convolution and dense with bias (one per output
  value), ReLU-like activations one per output value, every pooling one per
  input value, batch norm one per value (two with affine), upsampling one per
  output value. Its default ``count_functional=True`` also counts the
  functional call inside the module, so ReLU, ELU, GELU, every pooling and
  upsampling are counted twice, while SiLU and softmax (whose modules it does
  not hook) are counted once through ``F.silu`` / ``F.softmax``.

Each preset is a table: layer type name → rule, where a rule maps
``(layer, input shapes, output shape, multiplications)`` to MACs per sample.
A type missing from a table uses the rule its layer class declares for that
preset (``Layer.tool_macs``, so a layer type's tool counts live in its own
module), else the table's default (0 for fvcore and ptflops, which ignore
modules they do not know; torchinfo's parameter-based rule for torchinfo).
FLOPs are 2 × MACs under every preset.
Every output of cnncalc names the convention it used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from math import prod

from .choices import Choice
from .records import Record, field, record


class Convention(Choice):
    MULTIPLICATIONS = "multiplications"
    TORCHVISION = "torchvision"
    TORCHINFO = "torchinfo"
    FVCORE = "fvcore"
    PTFLOPS = "ptflops"


#: (layer, input shapes, output shape, multiplications) -> MACs per sample
Rule = Callable[[object, tuple, tuple, int], int]


@record
class ConventionRule(Record):
    name: str
    summary: str
    #: layer type name -> rule; types not listed use ``default``
    table: Mapping[str, Rule] = field(default_factory=dict)
    default: Rule = lambda layer, xs, y, mults: mults  # noqa: E731

    def macs(self, layer, xs, y, mults) -> int:
        rule = self.table.get(layer.type_name)
        if rule is None:  # a layer module may state how the tools count it (Layer.tool_macs)
            rule = layer.tool_macs.get(self.name, self.default)
        return rule(layer, xs, y, mults)

    def count(self, layer, xs, y, mults) -> tuple[int, int]:
        """(MACs, FLOPs) of one layer per sample under this convention."""
        macs = self.macs(layer, xs, y, mults)
        return macs, 2 * macs


# -- building blocks of the tables ---------------------------------------------

def zero(layer, xs, y, mults) -> int:
    return 0


def plain(layer, xs, y, mults) -> int:
    """The weight multiplications (the lectures' count)."""
    return mults


def per_input(layer, xs, y, mults) -> int:
    """One per input value."""
    return prod(xs[0])


def per_output(layer, xs, y, mults) -> int:
    """One per output value."""
    return prod(y)


def times(rule: Rule, k: int) -> Rule:
    return lambda layer, xs, y, mults: k * rule(layer, xs, y, mults)


def only_2d(rule: Rule) -> Rule:
    """The rule for 2D inputs [C, H, W], 0 otherwise (a handler exists for the 2D op only)."""
    return lambda layer, xs, y, mults: rule(layer, xs, y, mults) if len(xs[0]) == 3 else 0


def _bias_per_output(layer, xs, y, mults) -> int:
    return prod(y) if getattr(layer, "bias", False) else 0


def plus_bias(layer, xs, y, mults) -> int:
    """Weight multiplications plus one bias addition per output value."""
    return mults + _bias_per_output(layer, xs, y, mults)


def _trainable(layer, xs) -> int:
    return layer.params(xs).trainable


def torchinfo_params(layer, xs, y, mults) -> int:
    """torchinfo for a layer whose class name has no "Conv": its parameters."""
    return _trainable(layer, xs)


def torchinfo_conv(layer, xs, y, mults) -> int:
    """torchinfo for "Conv" classes: parameters × output positions."""
    return _trainable(layer, xs) * prod(y[1:])


def fvcore_batch_norm(layer, xs, y, mults) -> int:
    # aten::batch_norm in eval mode: 2 per value with affine, else 1; with
    # batch statistics (track_running_stats=False) its training-mode count 5 / 4.
    affine = getattr(layer, "affine", True)
    if getattr(layer, "track_running_stats", True):
        return prod(xs[0]) * (2 if affine else 1)
    return prod(xs[0]) * (5 if affine else 4)


def fvcore_upsample(layer, xs, y, mults) -> int:
    mode = str(getattr(layer, "mode", "nearest"))
    if len(xs[0]) != 3:
        return 0
    return {"nearest": 1, "bilinear": 4}.get(mode, 0) * prod(y)


def ptflops_batch_norm(layer, xs, y, mults) -> int:
    return prod(xs[0]) * (2 if getattr(layer, "affine", True) else 1)


# -- the presets -----------------------------------------------------------------

_PLAIN_SUMMARY = (
    "MACs = multiplications of weights by inputs per sample (conv, transposed conv, dense); "
    "bias, activations, pooling, normalisation and merges count 0; FLOPs = 2 × MACs"
)

_CONV_TYPES = ("conv", "conv_transpose")
_POOL_TYPES = (
    "max_pool", "avg_pool", "adaptive_avg_pool", "adaptive_max_pool", "global_avg_pool", "global_max_pool",
)

RULES: dict[Convention, ConventionRule] = {
    Convention.MULTIPLICATIONS: ConventionRule("multiplications", _PLAIN_SUMMARY, {}, plain),
    Convention.TORCHVISION: ConventionRule(
        "torchvision",
        _PLAIN_SUMMARY + " (torchvision's published 'GFLOPS' are these GMACs)",
        {},
        plain,
    ),
    Convention.TORCHINFO: ConventionRule(
        "torchinfo",
        "torchinfo's total mult-adds: conv and transposed conv cost parameters (weights and bias) × output "
        "positions (for transposed conv this over-counts by about stride², as torchinfo does); every other "
        "layer costs its parameter count (dense in·out + out, batch norm 2C); layers without parameters 0; "
        "FLOPs = 2 × MACs",
        {name: torchinfo_conv for name in _CONV_TYPES},
        torchinfo_params,
    ),
    Convention.FVCORE: ConventionRule(
        "fvcore",
        "fvcore's FlopCountAnalysis (its 'flops' are MACs), model in eval mode: conv, transposed conv and "
        "dense without bias; batch norm 2 per value (1 without affine); 2D adaptive average pooling 1 per "
        "input value; 2D upsampling 1 (nearest) or 4 (bilinear) per output value; layer, group and instance "
        "norm 5 per value (4 without affine); activations, max/avg pooling and merges 0; FLOPs = 2 × MACs",
        {
            "conv": plain,
            "conv_transpose": plain,
            "dense": plain,
            "batch_norm": fvcore_batch_norm,
            "adaptive_avg_pool": only_2d(per_input),
            "global_avg_pool": only_2d(per_input),  # AdaptiveAvgPool2d(1)
            "upsample": fvcore_upsample,
        },
        zero,
    ),
    Convention.PTFLOPS: ConventionRule(
        "ptflops",
        "ptflops' get_model_complexity_info (pytorch backend, count_functional on): conv, transposed conv "
        "and dense plus 1 per output value for the bias; ReLU, ReLU6, LeakyReLU, ELU, GELU 1 per output "
        "value; pooling 1 per input value; batch, group and instance norm 1 per value (2 with affine), layer "
        "norm 1; upsampling 1 per output value; ReLU, ELU, GELU, pooling and upsampling counted twice (module "
        "hook and patched functional), "
        "SiLU and softmax once (functional only); other activations, dropout and merges 0; FLOPs = 2 × MACs",
        {
            "conv": plus_bias,
            "conv_transpose": plus_bias,
            "dense": plus_bias,
            "batch_norm": ptflops_batch_norm,
            "relu": times(per_output, 2),
            "elu": times(per_output, 2),
            "gelu": times(per_output, 2),
            "relu6": per_output,
            "leaky_relu": per_output,
            "silu": per_output,
            "softmax": per_output,
            **{name: times(per_input, 2) for name in _POOL_TYPES},
            "upsample": times(per_output, 2),
        },
        zero,
    ),
}

DEFAULT = Convention.MULTIPLICATIONS


def rule(convention: Convention | str) -> ConventionRule:
    return RULES[Convention(convention)]
