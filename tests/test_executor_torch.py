"""PyTorch as the oracle of the numpy executor: forward outputs and every
gradient (input and parameters) against torch.nn.functional in float64 on
random configurations, whole networks end to end, and the training-memory
estimate against the bytes torch saves for backward."""

from __future__ import annotations

import random

import numpy as np
import pytest

from cnncalc import SpecError
from cnncalc.executor.network import Network
from conftest import SPECS, analyze_text

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from torch_executor import TorchRun, saved_bytes  # noqa: E402

TOLERANCE = 1e-5


def rel_err(mine, theirs) -> float:
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    scale = max(float(np.abs(theirs).max(initial=0.0)), 1e-8)  # gradients that are 0 in exact arithmetic
    return float(np.abs(np.asarray(mine) - theirs).max(initial=0.0)) / scale


def check_against_torch(text: str, batch: int = 2, seed: int = 0):
    """Run ``text`` with the executor and with torch (same weights, input and
    linear loss) in float64; compare outputs, input gradient and parameter gradients."""
    analysis = analyze_text(text, batch=batch, dtype="float64")
    net = Network(analysis, dtype="float64", seed=seed)
    run = TorchRun(net)
    x = net.random_input()
    cot = net.loss_weights()
    xt = torch.tensor(x, requires_grad=True)
    outs_t = run.forward(xt)
    outs = net.forward(x)
    dx = net.backward(cot)
    loss = sum((outs_t[n] * torch.tensor(c)).sum() for n, c in cot.items())
    loss.backward()
    problems = []
    for n in outs:
        e = rel_err(outs[n], outs_t[n])
        if e > TOLERANCE:
            problems.append(f"output {n}: rel err {e:.2e}\n  Mine:   {outs[n].ravel()[:6]}\n  Theirs: "
                            f"{outs_t[n].detach().numpy().ravel()[:6]}")
    if (e := rel_err(dx, xt.grad)) > TOLERANCE:
        problems.append(f"input gradient: rel err {e:.2e}")
    for (layer, p), tensor in run.params.items():
        if tensor.requires_grad:
            e = rel_err(net.kernels[layer].grads[p], tensor.grad)
            if e > TOLERANCE:
                problems.append(f"{layer}.{p} gradient: rel err {e:.2e}")
    assert not problems, f"spec:\n{text}\n" + "\n".join(problems)


def yl(values):
    return "[" + ", ".join(str(v) for v in values) + "]"


def spec(shape, *layers):
    return f"input: {yl(shape)}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)


def valid(text):
    try:
        analyze_text(text)
        return True
    except SpecError:
        return False


def draw(make, seed):
    """The first valid configuration ``make(rng)`` draws from ``seed``."""
    rng = random.Random(seed)
    for _ in range(200):
        text = make(rng)
        if valid(text):
            return text
    raise AssertionError("no valid configuration drawn")


def random_conv(rng):
    nd = rng.choice([1, 2, 2, 3])
    groups = rng.choice([1, 1, 2, 3])
    c_in = groups * rng.randint(1, 2)
    c_out = groups * rng.randint(1, 3)
    if rng.random() < 0.2:  # depthwise
        groups, c_out = c_in, c_in * rng.randint(1, 2)
    k = [rng.randint(1, 3) for _ in range(nd)]
    s = [rng.randint(1, 3) for _ in range(nd)]
    d = [rng.randint(1, 2) for _ in range(nd)]
    pad = rng.choice(["0", "same", "valid", yl([rng.randint(0, 2) for _ in range(nd)]),
                      yl([yl([rng.randint(0, 2), rng.randint(0, 2)]) for _ in range(nd)])])
    size = [rng.randint(3, 7) for _ in range(nd)]
    bias = rng.choice(["true", "false"])
    return spec([c_in, *size], f"conv: {{out_channels: {c_out}, kernel_size: {yl(k)}, stride: {yl(s)}, "
                               f"dilation: {yl(d)}, groups: {groups}, padding: {pad}, bias: {bias}}}")


def random_tconv(rng):
    nd = rng.choice([1, 2, 3])
    groups = rng.choice([1, 1, 2])
    c_in, c_out = groups * rng.randint(1, 2), groups * rng.randint(1, 2)
    k = [rng.randint(1, 3) for _ in range(nd)]
    s = [rng.randint(1, 3) for _ in range(nd)]
    d = [rng.randint(1, 2) for _ in range(nd)]
    p = [yl([rng.randint(0, d[a] * (k[a] - 1)), rng.randint(0, d[a] * (k[a] - 1))]) for a in range(nd)]
    op = [rng.randint(0, max(s[a], d[a]) - 1) for a in range(nd)]
    size = [rng.randint(1, 4) for _ in range(nd)]
    return spec([c_in, *size], f"conv_transpose: {{out_channels: {c_out}, kernel_size: {yl(k)}, stride: {yl(s)}, "
                               f"dilation: {yl(d)}, groups: {groups}, padding: [{', '.join(p)}], "
                               f"output_padding: {yl(op)}}}")


def random_pool(rng):
    nd = rng.choice([1, 2, 2, 3])
    kind = rng.choice(["max_pool", "avg_pool", "lp_pool"])
    k = [rng.randint(1, 3) for _ in range(nd)]
    s = [rng.randint(1, 3) for _ in range(nd)]
    size = [rng.randint(3, 8) for _ in range(nd)]
    fields = f"kernel_size: {yl(k)}, stride: {yl(s)}"
    if kind != "lp_pool":
        fields += f", padding: {yl([rng.randint(0, kk // 2) for kk in k])}, ceil_mode: {rng.choice(['true', 'false'])}"
    if kind == "max_pool":
        fields += f", dilation: {yl([rng.randint(1, 2) for _ in range(nd)])}"
    if kind == "avg_pool":
        fields += f", count_include_pad: {rng.choice(['true', 'false'])}"
    if kind == "lp_pool":
        fields += f", norm_type: {rng.choice([1, 2, 3])}"
        # keep x^p well defined for fractional powers: pool the output of a sigmoid
        return spec([2, *size], "sigmoid", f"lp_pool: {{{fields}}}")
    return spec([2, *size], f"{kind}: {{{fields}}}")


def random_adaptive(rng):
    nd = rng.choice([1, 2, 3])
    size = [rng.randint(2, 9) for _ in range(nd)]
    out = [rng.randint(1, n) for n in size]
    kind = rng.choice(["adaptive_avg_pool", "adaptive_max_pool"])
    return spec([2, *size], f"{kind}: {{output_size: {yl(out)}}}")


@pytest.mark.parametrize("seed", range(24))
def test_conv_matches_torch(seed):
    check_against_torch(draw(random_conv, seed))


@pytest.mark.parametrize("seed", range(12))
def test_conv_transpose_matches_torch(seed):
    check_against_torch(draw(random_tconv, seed))


@pytest.mark.parametrize("seed", range(24))
def test_window_pools_match_torch(seed):
    check_against_torch(draw(random_pool, seed))


@pytest.mark.parametrize("seed", range(8))
def test_adaptive_pools_match_torch(seed):
    check_against_torch(draw(random_adaptive, seed))


@pytest.mark.parametrize("layers", [
    ["relu", "relu6", "leaky_relu: {negative_slope: 0.2}", "elu: {alpha: 0.7}", "sigmoid"],
    ["tanh", "gelu", "silu", "hardswish", "hardsigmoid"],
    ["softplus", "mish", "identity", "softmax", "log_softmax: {dim: 1}"],
    ["batch_norm", "dropout: {p: 0.3}", "global_avg_pool: {keepdims: true}", "flatten", "dense: {out_features: 4}",
     "batch_norm"],
    ["global_max_pool", "dense: {out_features: 3, bias: false}"],
    ["kmax_pool: {k: 2, axis: 0}", "zero_pad: {padding: [[1, 0], [0, 2]]}", "crop: {cropping: [[0, 1], [1, 1]]}"],
    ["upsample: {scale_factor: [2, 3], mode: bilinear}", "upsample: {scale_factor: 2, mode: nearest}",
     "upsample: {mode: zeros}", "downsample: {factor: [2, 3]}"],
    ["unpool: {kernel_size: 2}", "unpool: {kernel_size: [1, 2], mode: bed_of_nails}"],
])
def test_layer_chains_match_torch(layers):
    check_against_torch(spec([3, 5, 4], *layers), batch=3)


@pytest.mark.parametrize("stride", ["1/2", "[1/3, 2/3]", "[3/2, 1/2]"])
def test_fractional_stride_conv_matches_torch(stride):
    check_against_torch(spec([2, 5, 4], f"conv: {{out_channels: 3, kernel_size: 3, stride: {stride}, padding: 1}}"))


def test_1d_and_3d_resampling_match_torch():
    check_against_torch(spec([2, 5], "upsample: {scale_factor: 3, mode: linear}", "kmax_pool: {k: 4}"))
    check_against_torch(spec([2, 3, 2, 4], "upsample: {scale_factor: [2, 1, 2], mode: trilinear}",
                             "batch_norm", "global_max_pool"))


GRAPH = """
input: [3, 8, 8]
layers:
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
    name: stem
  - max_pool: {kernel_size: 2}
    name: pool
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
  - max_unpool: {pool: pool}
  - add:
    inputs: [max_unpool1, stem]
  - global_avg_pool:
    name: squeeze
  - dense: {out_features: 4}
  - sigmoid
    name: gate
  - multiply:
    inputs: [add1, gate]
  - concat:
    inputs: [multiply1, stem]
"""


def test_graph_with_merges_and_unpooling_matches_torch():
    check_against_torch(GRAPH.replace("  - sigmoid\n    name: gate", "  - sigmoid:\n    name: gate"), batch=2)


def test_lenet5_end_to_end_matches_torch():
    check_against_torch((SPECS / "lenet5.yaml").read_text(), batch=2)


def test_resnet18_end_to_end_matches_torch():
    text = (SPECS / "resnet18.yaml").read_text().replace("input: [3, 224, 224]", "input: [3, 16, 16]")
    check_against_torch(text, batch=2)


@pytest.mark.parametrize("name, shape", [("lenet5", None), ("resnet18", (3, 32, 32))])
def test_training_memory_matches_bytes_torch_saves(name, shape):
    """The estimate of what is kept for backward is within 10% of what torch
    really saves (saved_tensors_hooks, each storage once, weights excluded)."""
    from cnncalc import analyze_file

    analysis = analyze_file(SPECS / f"{name}.yaml", input_shape=shape, batch=2)
    net = Network(analysis, dtype="float32", seed=0)
    run = TorchRun(net, dtype=torch.float32)
    x = torch.tensor(net.random_input(), requires_grad=False)
    theirs = saved_bytes(run, x)
    ours = analysis.training_memory.activations
    assert abs(ours - theirs) <= 0.10 * theirs, f"estimate {ours:,} vs torch {theirs:,} bytes"
