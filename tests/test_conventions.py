"""Counting conventions: hand-worked numbers for each preset, and each preset
against the real tool (torchinfo, fvcore, ptflops) where it installs
(``pip install -r requirements-oracles.txt``)."""

from __future__ import annotations

import json

import pytest
from conftest import CliRunner

from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.conventions import RULES, Convention
from conftest import SPECS, analyze_text

PRESETS = [c.value for c in Convention]


def macs(text_or_name, convention, input_shape=None):
    if text_or_name.endswith(".yaml"):
        return analyze_file(SPECS / text_or_name, input_shape=input_shape, convention=convention).totals.macs
    return analyze_text(text_or_name, convention=convention).totals.macs


# -- by hand -----------------------------------------------------------------------

LENET_MULTS = 6 * 25 * 784 + 16 * 150 * 100 + 400 * 120 + 120 * 84 + 84 * 10  # 416,520


def test_lenet5_by_hand():
    assert macs("lenet5.yaml", "multiplications") == LENET_MULTS == 416_520
    # torchinfo: conv (weights + bias) × output positions, dense its parameters
    assert macs("lenet5.yaml", "torchinfo") == (156 * 784 + 2416 * 100) + (48120 + 10164 + 850)
    # fvcore: weight products only, nothing else in LeNet has a handler
    assert macs("lenet5.yaml", "fvcore") == LENET_MULTS
    # ptflops: + bias per output value, ReLU twice per output value, max pooling twice per input value
    relu_outputs = 6 * 784 + 16 * 100 + 120 + 84
    pool_inputs = 6 * 784 + 16 * 100
    bias = 6 * 784 + 16 * 100 + 120 + 84 + 10
    assert macs("lenet5.yaml", "ptflops") == LENET_MULTS + bias + 2 * relu_outputs + 2 * pool_inputs


def test_batch_norm_and_pooling_rules():
    text = (
        "input: [4, 8, 8]\nlayers:\n"
        "  - batch_norm\n  - batch_norm: {affine: false}\n  - adaptive_avg_pool: {output_size: 2}\n"
    )
    assert macs(text, "multiplications") == 0
    assert macs(text, "torchinfo") == 8  # the affine one's 2·C parameters
    assert macs(text, "fvcore") == 256 * 2 + 256 * 1 + 256
    assert macs(text, "ptflops") == 256 * 2 + 256 * 1 + 2 * 256


def test_fvcore_handles_2d_adaptive_pooling_only():
    one_d = "input: [4, 16]\nlayers:\n  - adaptive_avg_pool: {output_size: 2}\n"
    assert macs(one_d, "fvcore") == 0
    assert macs(one_d, "ptflops") == 2 * 64


def test_flops_are_twice_macs_in_every_preset():
    for convention in PRESETS:
        t = analyze_file(SPECS / "lenet5.yaml", convention=convention).totals
        assert t.flops == 2 * t.macs
        assert t.multiplications == LENET_MULTS  # the lectures' count is kept whatever the preset


@pytest.mark.parametrize("convention", PRESETS)
def test_every_output_names_the_convention(convention):
    runner = CliRunner()
    spec = str(SPECS / "lenet5.yaml")
    for fmt in ("table", "markdown", "csv", "json"):
        out = runner.invoke(cli, ["analyze", spec, "--convention", convention, "--format", fmt]).output
        if fmt == "json":
            assert json.loads(out)["convention"]["name"] == convention
        else:
            assert (f"Convention ({convention})" in out) if fmt != "csv" else out.splitlines()[-1].endswith(f",{convention}"), fmt


def test_every_preset_has_a_summary_and_rule():
    assert set(RULES) == set(Convention)
    for preset in RULES.values():
        assert preset.summary and preset.name in PRESETS


# -- against the real tools --------------------------------------------------------

NETS = ["lenet5", "alexnet", "vgg11", "vgg16", "vgg16_bn", "resnet18", "mobilenet_v2"]
#: small inputs where the count scales exactly (adaptive pooling fixes the head)
SMALL = {"lenet5": None, "alexnet": (3, 64, 64), "vgg11": (3, 32, 32), "vgg16": (3, 32, 32), "vgg16_bn": (3, 32, 32),
         "resnet18": (3, 64, 64), "mobilenet_v2": (3, 64, 64)}


def _torchinfo(model, shape):
    import torchinfo

    return torchinfo.summary(model, input_size=(1, *shape), verbose=0, device="cpu").total_mult_adds


def _fvcore(model, shape):
    import torch
    from fvcore.nn import FlopCountAnalysis

    analysis = FlopCountAnalysis(model.eval(), torch.zeros((1, *shape)))
    analysis.unsupported_ops_warnings(False)
    analysis.uncalled_modules_warnings(False)
    return analysis.total()


def _ptflops(model, shape):
    import ptflops

    total, _ = ptflops.get_model_complexity_info(
        model, tuple(shape), as_strings=False, print_per_layer_stat=False, backend="pytorch"
    )
    return total


TOOLS = {"torchinfo": _torchinfo, "fvcore": _fvcore, "ptflops": _ptflops}


def _installed_tools():
    import importlib.util

    found = [t for t in TOOLS if importlib.util.find_spec(t) is not None]
    if not found:
        pytest.skip("none of torchinfo, fvcore, ptflops is installed (pip install -r requirements-oracles.txt)")
    return found


def _compare_with_tools(result, model) -> list[str]:
    """Run every installed tool on ``model``; return the disagreements."""
    problems = []
    for tool in _installed_tools():
        ours = rule_total(result, tool)
        theirs = TOOLS[tool](model, result.input_shape)
        if ours != theirs:
            per_layer = ", ".join(f"{r.name} {RULES[Convention(tool)].macs(r.node.layer, r.input_shapes, r.output_shape, r.multiplications)}" for r in result.layers)
            problems.append(f"{tool}: cnncalc {ours:,}, {tool} {theirs:,} (per layer: {per_layer})")
    return problems


def rule_total(result, tool) -> int:
    """The total MACs of an analysis under another convention (same graph, same shapes)."""
    preset = RULES[Convention(tool)]
    return sum(preset.macs(r.node.layer, r.input_shapes, r.output_shape, r.multiplications) for r in result.layers)


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("name", NETS)
def test_presets_reproduce_the_tools(name):
    pytest.importorskip("torch")
    import torch_nets

    result = analyze_file(SPECS / f"{name}.yaml", input_shape=SMALL[name])
    problems = _compare_with_tools(result, torch_nets.build(name).eval())
    assert not problems, f"{name} at {result.input_shape}:\n" + "\n".join(problems)


def test_analysis_under_a_preset_equals_the_rule_total():
    for tool in TOOLS:
        result = analyze_file(SPECS / "vgg16_bn.yaml", input_shape=(3, 32, 32), convention=tool)
        assert result.totals.macs == rule_total(result, tool)


#: every layer type of the core with a torch module, in one small network
ZOO_SPEC = """
input: [3, 16, 16]
layers:
  - conv: {out_channels: 8, kernel_size: 3, padding: 1, bias: false}
  - batch_norm
  - relu6
  - conv: {out_channels: 8, kernel_size: 3, groups: 4, stride: 2}
  - batch_norm: {affine: false}
  - leaky_relu
  - avg_pool: {kernel_size: 3, stride: 1, padding: 1}
  - elu
  - conv: {out_channels: 12, kernel_size: [1, 3], dilation: 2}
  - gelu
  - adaptive_max_pool: {output_size: [3, 2]}
  - silu
  - sigmoid
  - tanh
  - max_pool: {kernel_size: 2, ceil_mode: true}
  - hardswish
  - global_avg_pool
  - dense: {out_features: 10, bias: false}
  - softmax
  - dropout
"""


def _zoo_torch():
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU6(),
        nn.Conv2d(8, 8, 3, groups=4, stride=2), nn.BatchNorm2d(8, affine=False), nn.LeakyReLU(),
        nn.AvgPool2d(3, stride=1, padding=1), nn.ELU(),
        nn.Conv2d(8, 12, (1, 3), dilation=2), nn.GELU(),
        nn.AdaptiveMaxPool2d((3, 2)), nn.SiLU(), nn.Sigmoid(), nn.Tanh(),
        nn.MaxPool2d(2, ceil_mode=True), nn.Hardswish(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(12, 10, bias=False), nn.Softmax(dim=1), nn.Dropout(),
    )


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_presets_reproduce_the_tools_on_every_layer_type():
    pytest.importorskip("torch")
    result = analyze_text(ZOO_SPEC)
    problems = _compare_with_tools(result, _zoo_torch().eval())
    assert not problems, "\n".join(problems)


#: the resampling layers: transposed convolutions (torchinfo charges output
#: positions) and nearest / bilinear upsampling (fvcore and ptflops handle them)
RESAMPLING_SPEC = """
input: [4, 6, 6]
layers:
  - conv_transpose: {out_channels: 8, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}
  - relu
  - upsample: {scale_factor: 2, mode: nearest}
  - conv_transpose: {out_channels: 4, kernel_size: [2, 3], stride: [2, 1], groups: 2, bias: false}
  - upsample: {scale_factor: 2, mode: bilinear}
  - conv: {out_channels: 2, kernel_size: 1}
"""


def _resampling_torch():
    from torch import nn

    return nn.Sequential(
        nn.ConvTranspose2d(4, 8, 3, 2, 1, output_padding=1), nn.ReLU(), nn.Upsample(scale_factor=2, mode="nearest"),
        nn.ConvTranspose2d(8, 4, (2, 3), stride=(2, 1), groups=2, bias=False),
        nn.Upsample(scale_factor=2, mode="bilinear"), nn.Conv2d(4, 2, 1),
    )


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_presets_reproduce_the_tools_on_resampling_layers():
    pytest.importorskip("torch")
    result = analyze_text(RESAMPLING_SPEC)
    problems = _compare_with_tools(result, _resampling_torch().eval())
    assert not problems, "\n".join(problems)


def test_torchinfo_charges_transposed_convolution_per_output_position():
    text = "input: [4, 6, 6]\nlayers:\n  - conv_transpose: {out_channels: 8, kernel_size: 3, stride: 2, bias: false}\n"
    r = analyze_text(text, convention="torchinfo")
    right = 4 * 8 * 9 * 6 * 6  # every input value meets every kernel weight once
    assert r.totals.multiplications == right
    assert r.layers[0].output_shape == (8, 13, 13)
    assert r.totals.macs == 4 * 8 * 9 * 13 * 13  # torchinfo's count: (13/6)² ≈ stride² too many
    assert macs(text, "fvcore") == macs(text, "ptflops") == right
