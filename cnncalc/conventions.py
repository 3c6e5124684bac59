"""Counting conventions: what a "MAC" and a "FLOP" are.

cnncalc's own count is the lectures' one: multiplications of the weight
products of convolution, transposed convolution and dense layers, per sample;
bias additions, activations, pooling, normalisation and merges cost 0. This is
also what torchvision publishes in its "GFLOPS" column (which is really
GMACs). Other tools count differently; each preset here reproduces one tool's
number so that users can compare like with like.

A convention maps (layer, input shapes, output shape, multiplications) to
``(macs, flops)``. Every output of cnncalc names the convention it used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Callable


class Convention(str, Enum):
    MULTIPLICATIONS = "multiplications"
    TORCHVISION = "torchvision"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class ConventionRule:
    name: str
    summary: str
    #: (layer, xs, y, multiplications) -> (macs, flops)
    count: Callable


def _plain(layer, xs, y, mults):
    return mults, 2 * mults


_PLAIN_SUMMARY = (
    "MACs = multiplications of weights by inputs per sample (conv, transposed conv, dense); "
    "bias, activations, pooling, normalisation and merges count 0; FLOPs = 2 × MACs"
)

RULES: dict[Convention, ConventionRule] = {
    Convention.MULTIPLICATIONS: ConventionRule("multiplications", _PLAIN_SUMMARY, _plain),
    Convention.TORCHVISION: ConventionRule(
        "torchvision",
        _PLAIN_SUMMARY + " (torchvision's published 'GFLOPS' are these GMACs)",
        _plain,
    ),
}

DEFAULT = Convention.MULTIPLICATIONS


def rule(convention: Convention | str) -> ConventionRule:
    return RULES[Convention(convention)]
