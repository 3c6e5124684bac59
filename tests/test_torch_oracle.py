"""PyTorch as the oracle: every layer's output shape and parameter count of
the shipped networks, and a randomised comparison of convolution and pooling
output sizes (strides, paddings including asymmetric ones via F.pad,
dilations, groups, ceil_mode), including agreement on which configurations
are impossible."""

from __future__ import annotations

import math

import pytest

from cnncalc import SpecError, analyze, analyze_file, loads_spec
from conftest import SPECS

torch = pytest.importorskip("torch")
F = torch.nn.functional

from hypothesis import HealthCheck, assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import torch_nets  # noqa: E402

pytestmark = pytest.mark.torch

#: cnncalc layer type -> the torch module class it stands for in these networks
TORCH_CLASS = {
    "conv": "Conv2d",
    "relu": "ReLU",
    "max_pool": "MaxPool2d",
    "adaptive_avg_pool": "AdaptiveAvgPool2d",
    "flatten": "Flatten",
    "dense": "Linear",
    "dropout": "Dropout",
    "batch_norm": "BatchNorm2d",
    "relu6": "ReLU6",
}


SEQUENTIAL = ["lenet5", "alexnet", "vgg11", "vgg16", "vgg16_bn"]


@pytest.mark.parametrize("name", SEQUENTIAL)
def test_every_layer_matches_torch(name):
    result = analyze_file(SPECS / f"{name}.yaml")
    model = torch_nets.build(name, device="meta")
    theirs = torch_nets.leaf_records(model, result.input_shape)
    ours = result.layers
    assert len(ours) == len(theirs), [r.type_name for r in ours]
    for mine, t in zip(ours, theirs):
        where = f"{name} layer {mine.node.index} '{mine.name}'"
        assert TORCH_CLASS[mine.type_name] == t["class"], where
        assert mine.output_shape == t["output_shape"], f"{where}: mine {mine.output_shape}, torch {t['output_shape']}"
        assert mine.params.trainable == t["params"], f"{where}: mine {mine.params.trainable}, torch {t['params']}"
        assert mine.params.buffers == t["buffers"], f"{where}: mine {mine.params.buffers}, torch {t['buffers']}"
    assert result.totals.params_trainable == sum(
        p.numel() for p in model.parameters() if p.requires_grad
    )


@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v2"])
def test_every_layer_of_a_branching_net_matches_torch(name):
    """Branches run in a different order in torch, so compare the layers as a
    multiset of (type, output shape, parameters, buffers); merges have no module."""
    from collections import Counter

    result = analyze_file(SPECS / f"{name}.yaml")
    model = torch_nets.build(name, device="meta")
    theirs = Counter(
        (t["class"], t["output_shape"], t["params"], t["buffers"])
        for t in torch_nets.leaf_records(model, result.input_shape)
    )
    ours = Counter(
        (TORCH_CLASS[r.type_name], r.output_shape, r.params.trainable, r.params.buffers)
        for r in result.layers
        if r.type_name != "add"
    )
    assert ours == theirs, f"only cnncalc: {ours - theirs}; only torch: {theirs - ours}"
    assert result.totals.params_trainable == sum(p.numel() for p in model.parameters())


# -- randomised convolution and pooling geometry --------------------------------

def _cnncalc_shape(spec_input, layer_yaml):
    try:
        r = analyze(loads_spec(f"input: {list(spec_input)}\nlayers:\n  - {layer_yaml}\n"))
    except SpecError as exc:
        return exc
    return r.layers[0].output_shape


def _torch_shape(fn):
    try:
        with torch.no_grad():
            return tuple(fn().shape[1:])
    except (RuntimeError, ValueError) as exc:
        return exc


def _yaml_list(values):
    return "[" + ", ".join(str(list(v)) if isinstance(v, tuple) else str(v) for v in values) + "]"


@st.composite
def windows(draw, pooling: bool):
    nd = draw(st.integers(1, 3))
    top = {1: 16, 2: 11, 3: 6}[nd]
    sizes = tuple(draw(st.integers(1, top)) for _ in range(nd))
    kernels = tuple(draw(st.integers(1, 5)) for _ in range(nd))
    strides = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    dilations = tuple(draw(st.integers(1, 3)) for _ in range(nd))
    asymmetric = draw(st.booleans())
    if asymmetric:
        pads = tuple((draw(st.integers(0, 3)), draw(st.integers(0, 3))) for _ in range(nd))
    elif pooling:  # torch: pad at most half the kernel
        pads = tuple(draw(st.integers(0, k // 2)) for k in kernels)
    else:
        pads = tuple(draw(st.integers(0, 3)) for _ in range(nd))
    return nd, sizes, kernels, strides, dilations, pads, asymmetric


def _torch_pad(pads):
    """F.pad wants (last axis before, last axis after, ...)."""
    out = []
    for before, after in reversed(pads):
        out += [before, after]
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(windows(pooling=False), st.integers(1, 3), st.integers(1, 6), st.integers(1, 6), st.booleans())
def test_conv_output_shape_matches_torch(window, groups, c_in, c_out, bias):
    nd, sizes, kernels, strides, dilations, pads, asymmetric = window
    mine = _cnncalc_shape(
        (c_in, *sizes),
        f"conv: {{out_channels: {c_out}, kernel_size: {list(kernels)}, stride: {list(strides)}, "
        f"dilation: {list(dilations)}, groups: {groups}, bias: {str(bias).lower()}, "
        f"padding: {_yaml_list(pads)}}}",
    )

    def run():
        conv = (torch.nn.Conv1d, torch.nn.Conv2d, torch.nn.Conv3d)[nd - 1](
            c_in, c_out, kernels, stride=strides, dilation=dilations, groups=groups, bias=bias,
            padding=0 if asymmetric else pads,
        )
        x = torch.zeros((1, c_in, *sizes))
        return conv(F.pad(x, _torch_pad(pads)) if asymmetric else x)

    theirs = _torch_shape(run)
    if isinstance(theirs, Exception) or isinstance(mine, Exception):
        assert isinstance(theirs, Exception) and isinstance(mine, Exception), f"mine {mine!r}, torch {theirs!r}"
    else:
        assert mine == theirs, f"mine {mine}, torch {theirs}"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(windows(pooling=True), st.sampled_from(["max_pool", "avg_pool"]), st.booleans(), st.booleans())
def test_pool_output_shape_matches_torch(window, kind, ceil_mode, default_stride):
    nd, sizes, kernels, strides, dilations, pads, asymmetric = window
    if kind == "avg_pool":
        dilations = (1,) * nd  # average pooling has no dilation
    # torch's avg_pool3d alone refuses an unpadded input smaller than the kernel
    # (2D and 1D accept it when padding makes room): a torch restriction, not arithmetic.
    assume(not (kind == "avg_pool" and nd == 3 and any(i < k for i, k in zip(sizes, kernels))))
    if asymmetric:
        ceil_mode = False  # the "no window starts in the right padding" rule sees F.pad's cells as input
    stride_yaml = "" if default_stride else f", stride: {list(strides)}"
    dilation_yaml = f", dilation: {list(dilations)}" if kind == "max_pool" else ""
    mine = _cnncalc_shape(
        (2, *sizes),
        f"{kind}: {{kernel_size: {list(kernels)}{stride_yaml}{dilation_yaml}, "
        f"padding: {_yaml_list(pads)}, ceil_mode: {str(ceil_mode).lower()}}}",
    )

    def run():
        stride = None if default_stride else strides
        x = torch.zeros((1, 2, *sizes))
        if asymmetric:
            x = F.pad(x, _torch_pad(pads), value=-math.inf if kind == "max_pool" else 0.0)
        padding = 0 if asymmetric else pads
        if kind == "max_pool":
            fn = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[nd - 1]
            return fn(x, kernels, stride, padding, dilations, ceil_mode=ceil_mode)
        fn = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[nd - 1]
        return fn(x, kernels, stride, padding, ceil_mode=ceil_mode)

    theirs = _torch_shape(run)
    if isinstance(theirs, Exception) or isinstance(mine, Exception):
        assert isinstance(theirs, Exception) and isinstance(mine, Exception), f"mine {mine!r}, torch {theirs!r}"
    else:
        assert mine == theirs, f"mine {mine}, torch {theirs}"


@pytest.mark.filterwarnings("ignore:Using padding=.same.")
@pytest.mark.parametrize("size,kernel,dilation", [(7, 3, 1), (8, 4, 1), (9, 2, 3), (5, 5, 1), (10, 4, 2)])
def test_same_padding_matches_torch_at_unit_stride(size, kernel, dilation):
    mine = _cnncalc_shape((1, size), f"conv: {{out_channels: 1, kernel_size: {kernel}, dilation: {dilation}, padding: same}}")
    theirs = F.conv1d(torch.zeros(1, 1, size), torch.zeros(1, 1, kernel), dilation=dilation, padding="same")
    assert mine == tuple(theirs.shape[1:])
