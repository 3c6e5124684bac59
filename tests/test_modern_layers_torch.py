"""PyTorch as the oracle for the modern layer families (layer / group /
instance norm, layer scale, slice and split, channel shuffle, pixel shuffle
and unshuffle, stochastic depth, mean): the numpy kernels' outputs, input
gradients and parameter gradients against torch in float64, on random
configurations and on graphs (ShuffleNetV2's split unit, YOLOv8's C2f)."""

from __future__ import annotations

import random

import pytest

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from test_executor_torch import check_against_torch, draw, spec, yl  # noqa: E402


def random_norm(rng):
    nd = rng.choice([1, 2, 2, 3])
    size = [rng.randint(2, 4) for _ in range(nd)]  # every normalised group has ≥ 2 values (else x̂ ≡ 0)
    c = rng.choice([2, 3, 4, 6])
    kind = rng.choice(["layer_norm", "layer_norm_trailing", "group_norm", "instance_norm"])
    affine = rng.choice(["true", "false"])
    if kind == "layer_norm":
        layer = f"layer_norm: {{elementwise_affine: {affine}, bias: {rng.choice(['true', 'false'])}, eps: 0.001}}"
    elif kind == "layer_norm_trailing":
        shape = [c, *size]
        k = rng.randint(1, len(shape))
        layer = f"layer_norm: {{normalized_shape: {yl(shape[-k:])}, elementwise_affine: {affine}}}"
    elif kind == "group_norm":
        g = rng.choice([d for d in range(1, c + 1) if c % d == 0])
        layer = f"group_norm: {{num_groups: {g}, affine: {affine}}}"
    else:
        layer = f"instance_norm: {{affine: {affine}, track_running_stats: {rng.choice(['true', 'false'])}}}"
    return spec([c, *size], layer, "layer_scale")


def random_rearrange(rng):
    c = rng.choice([4, 8, 12])
    h, w = rng.randint(2, 5), rng.randint(2, 5)
    kind = rng.choice(["slice", "shuffle", "pixel", "mean"])
    if kind == "slice":
        dim = rng.randint(0, 2)
        n = (c, h, w)[dim]
        start = rng.randint(0, n - 1)
        stop = rng.randint(start + 1, n)
        return spec([c, h, w], f"slice: {{dim: {dim}, start: {start}, stop: {stop}, step: {rng.randint(1, 2)}}}")
    if kind == "shuffle":
        return spec([c, h, w], f"channel_shuffle: {{groups: {rng.choice([2, 4])}}}", "layer_scale")
    if kind == "pixel":
        r = 2
        return spec([c, 2 * h, 2 * w], f"pixel_unshuffle: {{downscale_factor: {r}}}", "layer_scale",
                    f"pixel_shuffle: {{upscale_factor: {r}}}")
    dims = sorted(rng.sample([0, 1, 2], rng.randint(1, 2)))
    return spec([c, h, w], f"mean: {{dim: {yl(dims)}, keepdim: {rng.choice(['true', 'false'])}}}")


@pytest.mark.parametrize("seed", range(16))
def test_normalization_kernels_match_torch(seed):
    check_against_torch(draw(random_norm, seed), batch=3)


@pytest.mark.parametrize("seed", range(12))
def test_rearranging_kernels_match_torch(seed):
    check_against_torch(draw(random_rearrange, seed), batch=2)


@pytest.mark.parametrize("mode, p", [("row", 0.5), ("batch", 0.3), ("row", 1.0), ("row", 0.0)])
def test_stochastic_depth_matches_torchvision(mode, p):
    # batch 8 so that some samples are dropped and some kept in row mode
    check_against_torch(spec([3, 4, 4], "layer_scale", f"stochastic_depth: {{p: {p}, mode: {mode}}}"), batch=8)


def test_stochastic_depth_drops_whole_samples():
    from cnncalc.executor.network import Network
    from conftest import analyze_text
    import numpy as np

    net = Network(analyze_text(spec([2, 3, 3], "drop_path: {p: 0.5}"), batch=16, dtype="float64"), dtype="float64")
    x = np.ones((16, 2, 3, 3))
    y = next(iter(net.forward(x).values()))
    per_sample = {float(v) for v in np.unique(y.reshape(16, -1), axis=1).ravel()}
    assert per_sample == {0.0, 2.0}  # dropped or scaled by 1/(1 − p), whole samples at once
    assert all(len(set(row)) == 1 for row in y.reshape(16, -1).tolist())


SHUFFLE_UNIT = """
input: [8, 6, 6]
layers:
  - split: {split_size_or_sections: 4}
    name: chunk
  - conv: {out_channels: 4, kernel_size: 1, bias: false}
    inputs: chunk.1
  - batch_norm
  - relu
  - conv: {out_channels: 4, kernel_size: 3, padding: 1, groups: 4, bias: false}
  - batch_norm
  - conv: {out_channels: 4, kernel_size: 1, bias: false}
  - concat:
    inputs: [chunk.0, conv3]
  - channel_shuffle: {groups: 2}
"""

C2F = """
input: [6, 5, 5]
layers:
  - conv: {out_channels: 8, kernel_size: 1}
    name: cv1
  - split: {split_size_or_sections: 4, names: [a, b]}
    name: y
  - conv: {out_channels: 4, kernel_size: 3, padding: 1, activation: silu}
    inputs: y.b
    name: m0
  - conv: {out_channels: 4, kernel_size: 3, padding: 1, activation: silu}
    name: m1
  - concat:
    inputs: [y.a, y.1, m0.silu, m1.silu]
  - conv: {out_channels: 6, kernel_size: 1}
    name: cv2
"""


def test_shufflenet_unit_matches_torch():
    check_against_torch(SHUFFLE_UNIT, batch=2)


def test_c2f_block_matches_torch():
    check_against_torch(C2F, batch=2)


@pytest.mark.parametrize("name", ["convnext_tiny", "efficientnet_b0", "inception_v3", "mnasnet1_0", "regnet_y_400mf",
                                  "resnext50_32x4d", "shufflenet_v2_x1_0"])
def test_training_memory_of_the_modern_specs_matches_what_torch_saves(name):
    """The kept-for-backward estimate of each modern spec's small variant
    against the bytes torch's autograd saves (each storage once, weights
    excluded). They differ only where torch keeps stochastic depth's noise as
    floats (4 bytes per sample) and cnncalc a keep flag (1 byte)."""
    from test_modern_specs import small_variant
    from torch_executor import TorchRun, saved_bytes
    from cnncalc.executor.network import Network

    analysis = small_variant(name, batch=2, dtype="float32")
    net = Network(analysis, dtype="float32", seed=0)
    theirs = saved_bytes(TorchRun(net, dtype=torch.float32), torch.tensor(net.random_input()))
    flags = sum(1 for r in analysis.layers if r.type_name == "stochastic_depth" and r.node.layer.mode == "row")
    assert theirs - analysis.training_memory.activations == flags * 2 * (4 - 1)


def test_instance_norm_running_statistics_update_as_torch():
    import numpy as np
    from cnncalc.executor.network import Network
    from conftest import analyze_text
    from torch_executor import TorchRun

    text = spec([3, 4, 5], "instance_norm: {affine: true, track_running_stats: true, momentum: 0.3}")
    net = Network(analyze_text(text, batch=4, dtype="float64"), dtype="float64", seed=1)
    run = TorchRun(net)
    x = net.random_input() * 3 + 1
    net.forward(x)
    run.forward(torch.tensor(x))
    kernel = net.kernels["instance_norm1"]
    for buffer in ("running_mean", "running_var"):
        theirs = run.p("instance_norm1", buffer).numpy()
        assert np.allclose(kernel.buffers[buffer], theirs, rtol=1e-12, atol=1e-12), buffer
        assert not np.allclose(theirs, {"running_mean": 0.0, "running_var": 1.0}[buffer])  # really updated
