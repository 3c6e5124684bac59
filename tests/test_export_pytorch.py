"""``cnncalc export --to pytorch``: the written module has the spec's numbers
(every shipped spec: parameters, buffers and every named module's output
shape, on the meta device), and every layer type cnncalc has computes what
cnncalc's numpy executor computes (same weights, float64)."""

from __future__ import annotations

import ast
import sys

import numpy as np
import pytest

from cnncalc.analysis import analyze
from cnncalc.executor.network import Network
from cnncalc.exporters.pytorch import EMITTERS, export_pytorch
from cnncalc.layers import REGISTRY
from cnncalc.spec import load_spec
from conftest import SPECS, CliRunner, analyze_text

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from cnncalc.exporters.onnx_export import load_module  # noqa: E402


def build_meta(analysis):
    module = load_module(export_pytorch(analysis))
    with torch.device("meta"):
        return module.Net()


def output_shapes(net, input_shape, device="meta", x=None):
    shapes = {}
    handles = [
        m.register_forward_hook(lambda mod, args, out, name=name: shapes.__setitem__(
            name, tuple((out[0] if isinstance(out, tuple) else out).shape[1:])))
        for name, _, m in net.steps
    ]
    with torch.no_grad():
        net.eval()(torch.empty(1, *input_shape, device=device) if x is None else x)
    for h in handles:
        h.remove()
    return shapes


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_spec_builds_with_the_same_numbers(path):
    analysis = analyze(load_spec(path))
    net = build_meta(analysis)
    assert sum(p.numel() for p in net.parameters()) == analysis.totals.params_trainable
    buffers = sum(b.numel() for n, b in net.named_buffers() if not n.endswith("num_batches_tracked"))
    assert buffers == analysis.totals.params_buffers
    shapes = output_shapes(net, analysis.input_shape)
    wrong = [(r.name, r.output_shape, shapes.get(r.name)) for r in analysis.layers if shapes.get(r.name) != r.output_shape]
    assert not wrong, f"first differences (name, cnncalc, torch): {wrong[:5]}"


def test_state_dict_keys_read_like_the_spec():
    analysis = analyze(load_spec(SPECS / "resnet18.yaml"))
    keys = list(build_meta(analysis).state_dict())
    assert keys[:2] == ["conv1.weight", "bn1.weight"]
    assert "layer1.0.conv1.weight" in keys
    assert "layer2.0.downsample.0.weight" in keys  # a named group inside a block is a submodule
    assert "fc.bias" in keys


def test_the_file_imports_only_torch():
    source = export_pytorch(analyze(load_spec(SPECS / "unet.yaml")))
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module.split(".")[0])
    assert imported == {"torch"}


def test_every_layer_type_has_an_emitter():
    assert not sorted(set(REGISTRY) - set(EMITTERS))


# One small network per family of layers, covering every layer type and the
# settings torch has no direct module for (fractional stride, asymmetric
# padding, bed-of-nails unpooling, locally-connected, K-max, ...).
LAYER_SPECS = {
    "conv_paddings": """
input: [2, 9, 8]
layers:
  - conv: {out_channels: 4, kernel_size: 3, padding: same, stride: 2}
  - conv: {out_channels: 4, kernel_size: [2, 3], padding: [[1, 0], [0, 2]], dilation: [2, 1], groups: 2}
  - conv: {out_channels: 3, kernel_size: 3, stride: "1/2", padding: 1}
  - conv: {out_channels: 2, kernel_size: 2, stride: "3/2", bias: false}
""",
    "conv_1d_3d": """
input: [2, 5, 6, 7]
layers:
  - conv: {out_channels: 3, kernel_size: 2, padding: [[0, 1], 1, [1, 0]]}
  - conv_transpose: {out_channels: 2, kernel_size: 3, stride: 2, padding: 1, output_padding: 1}
  - global_max_pool: {keepdims: true}
""",
    "transposed": """
input: [3, 5, 6]
layers:
  - conv_transpose: {out_channels: 4, kernel_size: 3, stride: 2, padding: [[1, 0], [0, 2]], groups: 1}
  - conv_transpose: {out_channels: 4, kernel_size: 2, stride: [1, 2], dilation: 2, groups: 2, bias: false}
""",
    "local": """
input: [4, 7, 6]
layers:
  - locally_connected: {out_channels: 4, kernel_size: [3, 2], stride: [2, 1], padding: [[1, 0], [0, 1]], groups: 2}
  - locally_connected: {out_channels: 2, kernel_size: 2, dilation: 2}
""",
    "pools": """
input: [3, 11, 10]
layers:
  - max_pool: {kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - avg_pool: {kernel_size: 2, stride: 1, padding: same, count_include_pad: false}
  - avg_pool: {kernel_size: 3, stride: 1, padding: 1}
  - max_pool: {kernel_size: 2, stride: 1, padding: [[0, 1], [1, 0]], dilation: 1}
  - lp_pool: {kernel_size: 2, norm_type: 2}
  - adaptive_max_pool: {output_size: [2, null]}
  - adaptive_avg_pool: {output_size: 1}
  - flatten
""",
    "pools_1d": """
input: [3, 20]
layers:
  - relu
  - lp_pool: {kernel_size: 3, stride: 2, norm_type: 3}
  - kmax_pool: {k: 4}
  - avg_pool: {kernel_size: 2}
  - global_avg_pool
""",
    "resampling": """
input: [2, 4, 5]
layers:
  - upsample: {scale_factor: 2, mode: zeros}
  - downsample: {factor: [2, 3]}
  - unpool: {kernel_size: [2, 3], mode: bed_of_nails}
  - unpool: {kernel_size: 2}
  - upsample: {scale_factor: [1, 2], mode: bilinear}
  - upsample: {scale_factor: 2}
  - zero_pad: {padding: [[1, 0], 2]}
  - crop: {cropping: [[0, 3], [1, 2]]}
  - kmax_pool: {k: 3, axis: 0}
""",
    "unpooling_with_switches": """
input: [2, 8, 6]
layers:
  - conv: {out_channels: 3, kernel_size: 3, padding: 1}
    name: c
  - max_pool: {kernel_size: 2}
    name: pool
  - relu
  - max_unpool: {pool: pool}
  - add:
    inputs: [c, max_unpool1]
""",
    "activations_dense": """
input: [2, 3, 3]
layers:
  - batch_norm
  - leaky_relu: {negative_slope: 0.2}
  - elu: {alpha: 0.5}
  - gelu
  - silu
  - hardswish
  - hardsigmoid
  - softplus
  - mish
  - tanh
  - sigmoid
  - relu6
  - identity
  - softmax: {dim: 1}
  - log_softmax
  - dropout: {p: 0.0}
  - flatten
  - dense: {out_features: 5, activation: relu}
  - batch_norm
  - dense: {out_features: 3, bias: false}
""",
    "merges": """
input: [4, 5, 5]
layers:
  - conv: {out_channels: 4, kernel_size: 1}
    name: a
  - global_avg_pool:
    name: gap
  - dense: {out_features: 4}
  - sigmoid:
    name: gate
  - multiply:
    inputs: [a, gate]
  - concat:
    inputs: [a, multiply1]
  - concat: {dim: 2}
    inputs: [a, a]
  - conv: {out_channels: 4, kernel_size: [1, 2], stride: [1, 2]}
    name: c2
  - add:
    inputs: [c2, a, a]
  - concat:
    inputs: [concat1, add1]
""",
    "modern": """
input: [8, 6, 4]
layers:
  - layer_norm:
    name: ln
  - group_norm: {num_groups: 2, eps: 0.001}
  - instance_norm: {affine: true}
  - layer_scale
  - split: {split_size_or_sections: [3, 5]}
    name: parts
  - conv: {out_channels: 3, kernel_size: 1}
    inputs: parts.1
    name: right
  - concat:
    inputs: [parts.0, right, ln]
  - channel_shuffle: {groups: 2}
  - slice: {dim: 1, start: 1, stop: 5, step: 2}
  - pixel_unshuffle: {downscale_factor: 2}
  - pixel_shuffle: {upscale_factor: 2}
  - layer_norm: {normalized_shape: [2, 4], eps: 0.0001}
  - instance_norm: {track_running_stats: true}
  - stochastic_depth: {p: 0.0}
  - split: {split_size_or_sections: 5, dim: 0}
    name: chunk
  - mean: {dim: [0, 2], keepdim: true}
    inputs: chunk.1
  - mean: {dim: 1}
  - flatten
  - layer_norm:
  - layer_scale
""",
}


def _executor_vs_module(text: str):
    analysis = analyze_text(text, batch=2, dtype="float64")
    net = Network(analysis, dtype="float64", seed=1)
    module = load_module(export_pytorch(analysis)).Net().double().train()
    state = {}
    for name, kernel in net.kernels.items():
        for key, array in {**kernel.params, **kernel.buffers}.items():
            state[f"{name}.{key}"] = torch.tensor(array)
    missing, unexpected = module.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("num_batches_tracked")]
    assert not missing and not unexpected, (missing, unexpected)
    x = net.random_input()
    ours = net.forward(x)
    values = {}
    handles = [m.register_forward_hook(lambda mod, a, out, name=name: values.__setitem__(name, out))
               for name, _, m in module.steps]
    with torch.no_grad():
        module(torch.tensor(x))
    for h in handles:
        h.remove()
    for name, y in ours.items():
        theirs = values[name]
        theirs = (theirs[0] if isinstance(theirs, tuple) else theirs).numpy()
        assert theirs.shape == y.shape, name
        np.testing.assert_allclose(theirs, y, rtol=1e-7, atol=1e-9, err_msg=f"output {name}")
    return analysis


@pytest.mark.parametrize("name", sorted(LAYER_SPECS))
def test_every_layer_type_computes_what_the_executor_computes(name):
    analysis = _executor_vs_module(LAYER_SPECS[name])
    shapes = output_shapes(build_meta(analysis), analysis.input_shape)
    assert {r.name: r.output_shape for r in analysis.layers} == shapes


def test_the_layer_specs_cover_every_layer_type():
    covered = set()
    for text in LAYER_SPECS.values():
        covered |= {r.type_name for r in analyze_text(text).layers}
    assert covered == set(REGISTRY) - NOT_IN_EXECUTOR_TESTS


#: Layer types whose values are checked elsewhere (none so far).
NOT_IN_EXECUTOR_TESTS: set = set()


def test_cli_writes_a_file_that_runs(tmp_path):
    out = tmp_path / "net.py"
    result = CliRunner().invoke(__import__("cnncalc.cli", fromlist=["cli"]).cli,
                                ["export", str(SPECS / "lenet5.yaml"), "--to", "pytorch", "-o", str(out)])
    assert result.exit_code == 0, result.output
    module = load_module(out.read_text())
    y = module.Net()(torch.zeros(2, 1, 32, 32))
    assert tuple(y.shape) == (2, 10)
    assert "torch" in sys.modules
