"""The counting presets on the modern layer types: by hand, and against
torchinfo, fvcore and ptflops on the same network written in torch."""

from __future__ import annotations

import pytest

from conftest import analyze_text
from test_conventions import _compare_with_tools, macs

MODERN_SPEC = """
input: [8, 6, 6]
layers:
  - conv: {out_channels: 8, kernel_size: 3, padding: 1}
  - layer_norm: {eps: 0.000001}
  - group_norm: {num_groups: 4}
  - group_norm: {num_groups: 2, affine: false}
  - instance_norm
  - instance_norm: {affine: true, track_running_stats: true}
  - layer_scale
  - stochastic_depth: {p: 0.2}
  - channel_shuffle: {groups: 2}
  - pixel_shuffle: {upscale_factor: 2}
  - pixel_unshuffle: {downscale_factor: 2}
  - layer_norm: {normalized_shape: [6, 6]}
  - layer_norm: {normalized_shape: 6, elementwise_affine: false}
  - slice: {start: 2, stop: 6}
  - mean: {dim: [1, 2]}
  - dense: {out_features: 3}
"""
VALUES = 8 * 6 * 6


def test_modern_layers_by_hand():
    assert macs(MODERN_SPEC, "multiplications") == 8 * 72 * 36 + 4 * 3  # conv and dense only
    # torchinfo: conv (weights + bias) × positions, every other layer its parameters
    # (layer norm 2C, group norm 2C, instance norm 2C with affine; layer scale 0: its γ is no weight/bias)
    assert macs(MODERN_SPEC, "torchinfo") == (8 * 72 + 8) * 36 + 16 + 16 + 16 + 2 * 36 + (4 * 3 + 3)
    # fvcore: layer/group/instance norm 5 per value with affine, 4 without; mean and the rest 0
    norms = VALUES * (5 + 5 + 4 + 4 + 5 + 5 + 4)
    assert macs(MODERN_SPEC, "fvcore") == 8 * 72 * 36 + norms + 4 * 3
    # ptflops: + bias; LayerNorm 1 per value (it has no `affine`), group and instance norm 2 with affine
    norms = VALUES * (1 + 2 + 1 + 1 + 2 + 1 + 1)
    assert macs(MODERN_SPEC, "ptflops") == 8 * 72 * 36 + VALUES + norms + 4 * 3 + 3


def _modern_torch():
    import torch
    from torch import nn

    class Permute(nn.Module):
        def __init__(self, dims):
            super().__init__()
            self.dims = dims

        def forward(self, x):
            return x.permute(self.dims)

    class LayerScale(nn.Module):  # CaiT / timm: x · γ
        def __init__(self, dim):
            super().__init__()
            self.gamma = nn.Parameter(torch.ones(dim, 1, 1))

        def forward(self, x):
            return x * self.gamma

    class StochasticDepth(nn.Module):  # torchvision.ops.StochasticDepth: identity in eval mode
        def forward(self, x):
            return x

    class Slice(nn.Module):
        def forward(self, x):
            return x[:, 2:6]

    class Mean(nn.Module):
        def forward(self, x):
            return x.mean([2, 3])

    return nn.Sequential(
        nn.Conv2d(8, 8, 3, padding=1),
        Permute([0, 2, 3, 1]), nn.LayerNorm(8, eps=1e-6), Permute([0, 3, 1, 2]),  # ConvNeXt's block layer norm
        nn.GroupNorm(4, 8), nn.GroupNorm(2, 8, affine=False),
        nn.InstanceNorm2d(8), nn.InstanceNorm2d(8, affine=True, track_running_stats=True),
        LayerScale(8), StochasticDepth(), nn.ChannelShuffle(2), nn.PixelShuffle(2), nn.PixelUnshuffle(2),
        nn.LayerNorm([6, 6]), nn.LayerNorm(6, elementwise_affine=False),
        Slice(), Mean(), nn.Linear(4, 3),
    )


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore::UserWarning")
def test_presets_reproduce_the_tools_on_the_modern_layers():
    pytest.importorskip("torch")
    result = analyze_text(MODERN_SPEC)
    problems = _compare_with_tools(result, _modern_torch().eval())
    assert not problems, "\n".join(problems)
