"""The numpy executor: fast kernels against the loop reference, the verify
checks on real specs, the training-memory estimate, and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from conftest import CliRunner

from cnncalc.cli import cli
from cnncalc.executor.network import Network
from cnncalc.executor.reference import conv_loops, conv_loops_backward
from cnncalc.executor.verify import gradient_check, verify
from conftest import SPECS, analyze_text


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def run_main(capsys, *args):
    """The real entry point (exit codes included): (status, stdout, stderr)."""
    from cnncalc.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(list(map(str, args)))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def one_layer(layer_yaml: str, input_shape, batch=2, dtype="float64", seed=0):
    """A Network of a single layer on ``input_shape``; returns (net, analysis)."""
    analysis = analyze_text(f"input: {list(input_shape)}\nlayers:\n  - {layer_yaml}\n", batch=batch, dtype=dtype)
    return Network(analysis, dtype=dtype, seed=seed), analysis


CONV_CASES = [
    # (input, conv fields)
    ((3, 7, 6), "{out_channels: 4, kernel_size: 3}"),
    ((3, 9, 8), "{out_channels: 2, kernel_size: [3, 2], stride: [2, 3], padding: [[1, 2], [0, 1]]}"),
    ((4, 9, 9), "{out_channels: 6, kernel_size: 3, dilation: 2, groups: 2, padding: 2}"),
    ((4, 8, 7), "{out_channels: 4, kernel_size: 3, groups: 4, stride: 2, padding: same}"),  # depthwise
    ((2, 11), "{out_channels: 3, kernel_size: 4, padding: causal, dilation: 2}"),  # 1D
    ((2, 5, 6, 4), "{out_channels: 2, kernel_size: [2, 3, 2], padding: [1, 0, 1], bias: false}"),  # 3D
    # stride-1 'same' geometries take the flat path (one shift per kernel tap, no padded copy)
    ((2, 4, 5, 6), "{out_channels: 3, kernel_size: 3, padding: same, dilation: [1, 2, 1]}"),  # 3D
    ((3, 6, 7), "{out_channels: 2, kernel_size: [2, 4], padding: same}"),  # even kernels: uneven padding
    ((3, 6, 7), "{out_channels: 4, kernel_size: [3, 5], padding: [[0, 3], [2, 2]]}"),  # only the first axis differs
    # strided 'same' geometries: the flat path on phases (ResNet's 3×3/2 and 7×7/2)
    ((4, 8, 8), "{out_channels: 3, kernel_size: 3, stride: 2, padding: 1}"),
    ((3, 11, 10), "{out_channels: 2, kernel_size: 7, stride: 2, padding: 3}"),
]


FLAT_CASES = {1, 2, 3, 4, 6, 7, 8, 9, 10}  # every axis after the first ⌈size/stride⌉ long: one shift per kernel tap


@pytest.mark.parametrize("shape, fields", CONV_CASES)
def test_conv_kernel_matches_loop_reference(shape, fields):
    net, analysis = one_layer(f"conv: {fields}", shape)
    kernel = net.kernels["conv1"]
    x = net.random_input()
    y = kernel.forward(x)
    pads = kernel.pads
    bias = kernel.bias
    expected = conv_loops(x, kernel.weight, bias, kernel.strides, kernel.dilations, pads, kernel.groups)
    np.testing.assert_allclose(y, expected, rtol=1e-10, atol=1e-12)
    assert kernel.flat == (CONV_CASES.index((shape, fields)) in FLAT_CASES)
    # the counted products are the analysed multiplications, exactly
    assert kernel.products["forward"] == analysis.batch * analysis.layers[0].multiplications
    dy = np.random.default_rng(1).standard_normal(y.shape)
    (dx,) = kernel.backward(dy)
    rdx, rdw, rdb = conv_loops_backward(x, kernel.weight, dy, kernel.strides, kernel.dilations, pads, kernel.groups)
    np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(kernel.grads["weight"], rdw, rtol=1e-10, atol=1e-12)
    if bias is not None:
        np.testing.assert_allclose(kernel.grads["bias"], rdb, rtol=1e-10, atol=1e-12)


POINTWISE_CASES = [
    ((6, 5, 4), "{out_channels: 3, kernel_size: 1, bias: false}"),  # fewer outputs than inputs: dW by swapped rows
    ((3, 5, 4), "{out_channels: 8, kernel_size: 1}"),
    ((4, 7, 6), "{out_channels: 6, kernel_size: 1, stride: 2, groups: 2}"),
]


@pytest.mark.parametrize("batch", [1, 2])
@pytest.mark.parametrize("shape, fields", CONV_CASES + POINTWISE_CASES)
def test_conv_weight_gradient_is_written_over_the_previous_pass(shape, fields, batch):
    # a second pass writes dW into the first pass's array, in either orientation of the product,
    # and gets it right
    net, _ = one_layer(f"conv: {fields}", shape, batch=batch)
    kernel = net.kernels["conv1"]
    rng = np.random.default_rng(3)
    first = None
    for _ in range(2):
        x = rng.standard_normal((batch, *shape))
        y = kernel.forward(x)
        dy = rng.standard_normal(y.shape)
        (dx,) = kernel.backward(dy)
        first = kernel.grads["weight"] if first is None else first
    if kernel.groups == 1:  # (grouped, the swapped product's transpose may be copied into the weight's shape)
        assert np.shares_memory(kernel.grads["weight"], first)
    rdx, rdw, _ = conv_loops_backward(x, kernel.weight, dy, kernel.strides, kernel.dilations, kernel.pads,
                                      kernel.groups)
    np.testing.assert_allclose(kernel.grads["weight"], rdw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)


IN_PLACE = """
input: [3, 6, 6]
layers:
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
  - batch_norm:
    name: bn
  - relu:  # the only user of bn: in place
    name: r1
  - conv: {out_channels: 4, kernel_size: 1}
    name: d
  - relu:  # d is read by the add too: a new array
    name: r2
  - add:  # d is read twice, r2 and r1 are kept: a new array
    inputs: [d, r2, r1]
  - relu:  # the only user of the add: in place
    name: r3
  - relu:  # r3 keeps its output: a new array
    name: r4
  - batch_norm:
    name: bn2
  - add:  # written over bn2, its second input
    inputs: [r4, bn2]
    name: s2
  - add:  # backward: r4's gradient is pending when s2 hands r4 and bn2 one dy
    inputs: [s2, r4]
    name: s3
  - flatten
  - dense: {out_features: 5}
  - relu:  # the only user of the dense layer: in place
    name: r5
"""


def test_relu_and_add_write_over_private_arrays_only_without_callbacks():
    # forward (relu and add): an input that is the only user of a private output; backward
    # (relu, and two gradients of one array summed): dy unless shared (the add hands r2, d
    # and r1 one dy; r5's dy is the caller's cotangent)
    analysis = analyze_text(IN_PLACE, batch=2, dtype="float64")
    runs = []
    for observe in (False, True):
        net = Network(analysis, dtype="float64", seed=4)
        assert {name: net.in_place[k] for name, k in net.kernels.items() if k in net.in_place} == {
            "r1": 0, "r3": 0, "s2": 1, "s3": 0, "r5": 0}
        seen = {}
        record = (lambda node, a: seen.setdefault(node.name, []).append((a, a.copy()))) if observe else None
        outs = net.forward(net.random_input(), on_layer=record)
        assert all((k.overwrite_input is None) == observe for k in net.in_place)
        cot = net.loss_weights()
        cot_copy = {name: c.copy() for name, c in cot.items()}
        dx = net.backward(cot, on_layer=record)
        overwritten = sorted(name for name, k in net.kernels.items() if getattr(k, "overwrite_dy", False))
        assert overwritten == ([] if observe else ["r1", "r3", "r4"])
        for name in cot:
            np.testing.assert_array_equal(cot[name], cot_copy[name])
        runs.append((outs, dx, {name: dict(k.grads) for name, k in net.kernels.items()}))
        for name, pairs in seen.items():  # a callback's arrays are never written over
            for array, copy in pairs:
                np.testing.assert_array_equal(array, copy, err_msg=name)
    (outs1, dx1, grads1), (outs2, dx2, grads2) = runs
    for name in outs1:
        np.testing.assert_array_equal(outs1[name], outs2[name])
    np.testing.assert_array_equal(dx1, dx2)
    for name in grads1:
        for p in grads1[name]:
            np.testing.assert_array_equal(grads1[name][p], grads2[name][p], err_msg=f"{name}.{p}")


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_flat_columns_equal_the_padded_gather_and_its_adjoint(data):
    """im2col_flat/col2im_flat (every axis after the first as long as the
    input's phases, ⌈size/stride⌉) equal im2col of the padded input and
    col2im cropped back, on random geometries, strided or not."""
    from cnncalc.executor.window import col2im, col2im_flat, crop, flat_taps_apply, im2col, im2col_flat, pad

    nd = data.draw(st.integers(1, 3))
    sizes = data.draw(st.tuples(*[st.integers(1, 7)] * nd))
    kernels = data.draw(st.tuples(*[st.integers(1, 3)] * nd))
    strides = data.draw(st.tuples(*[st.integers(1, 3)] * nd))
    dilations = data.draw(st.tuples(*[st.integers(1, 2)] * nd))
    pads, outs = [], []
    for axis, (size, k, s, d) in enumerate(zip(sizes, kernels, strides, dilations)):
        span = d * (k - 1)
        before = data.draw(st.integers(0, span + s))
        after = data.draw(st.integers(0, span + s))
        pads.append((before, after))
        outs.append((size + before + after - span - 1) // s + 1)
    assume(all(o >= 1 for o in outs) and all(size + b + a > span for size, (b, a) in zip(sizes, pads)))
    assume(flat_taps_apply(sizes, outs, strides, kernels))
    groups = data.draw(st.sampled_from([1, 2]))
    n, c = data.draw(st.integers(1, 2)), groups * data.draw(st.integers(1, 2))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, *sizes))
    xp = pad(x, pads)
    cols = im2col(xp, groups, kernels, strides, dilations, outs)
    assert np.array_equal(im2col_flat(x, groups, kernels, strides, dilations, pads, outs), cols)
    dcols = rng.standard_normal(cols.shape)
    expected = crop(col2im(dcols, xp.shape, kernels, strides, dilations, outs), pads, sizes)
    np.testing.assert_allclose(col2im_flat(dcols, x.shape, kernels, strides, dilations, pads, outs), expected,
                               rtol=1e-12)


def test_padded_zero_products_are_counted_apart():
    # 1 channel, 3×3 input, 3×3 kernel, padding 1: of 9 outputs × 9 taps = 81 products,
    # 81 − 25 (taps on real cells: Σ over outputs of covered cells = 4·4 + 4·6 + 9 = 49) ...
    net, analysis = one_layer("conv: {out_channels: 1, kernel_size: 3, padding: 1}", (1, 3, 3), batch=1)
    kernel = net.kernels["conv1"]
    kernel.forward(net.random_input())
    # corners see 4 real cells, edges 6, the centre 9: 4·4 + 4·6 + 9 = 49 real, 81 − 49 = 32 on zeros
    assert kernel.products["forward"] == 81 == analysis.layers[0].multiplications
    assert kernel.zero_products == 32


WHOLE_NET = """
name: every-core-layer
input: [3, 12, 12]
layers:
  - conv: {out_channels: 8, kernel_size: 3, padding: same}
  - batch_norm
  - relu
  - max_pool: {kernel_size: 3, stride: 2, padding: 1, ceil_mode: true}
  - conv: {out_channels: 8, kernel_size: 3, groups: 8, padding: [[0, 1], [1, 0]]}
  - leaky_relu
  - avg_pool: {kernel_size: 2, ceil_mode: true, count_include_pad: false}
  - conv: {out_channels: 6, kernel_size: 1}
  - tanh
  - adaptive_max_pool: {output_size: [2, 3]}
  - sigmoid
  - adaptive_avg_pool: {output_size: 2}
  - elu
  - flatten
  - dense: {out_features: 10}
  - batch_norm
  - dropout: {p: 0.25}
  - silu
  - dense: {out_features: 5}
  - softmax
"""


def test_every_core_layer_verifies_with_gradcheck():
    analysis = analyze_text(WHOLE_NET, batch=3)
    report = verify(analysis, seed=3, gradcheck=True)
    assert report.ok, [(r.name, r) for r in report.layers if not r.ok]
    assert all(r.grad_error is not None and r.grad_error < 1e-6 for r in report.layers)
    assert report.held.measured == analysis.training_memory.activations


EVERY_OTHER_LAYER = """name: new-layers
input: [3, 10, 9]
layers:
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
    name: stem
  - max_pool: {kernel_size: 2}
    name: pool
  - conv_transpose: {out_channels: 6, kernel_size: 3, stride: 2, padding: [[1, 0], [0, 1]], output_padding: 1, groups: 2}
  - conv: {out_channels: 4, kernel_size: 2, stride: 2}
  - max_unpool: {pool: pool}
  - add: {}
    inputs: [max_unpool1, stem]
  - conv: {out_channels: 4, kernel_size: 3, stride: 1/2}
    name: frac
  - downsample: {factor: 2}
  - zero_pad: {padding: [[1, 0], [2, 1]]}
  - crop: {cropping: [[0, 1], [1, 0]]}
  - locally_connected: {out_channels: 3, kernel_size: 2, stride: 2, groups: 1}
  - upsample: {scale_factor: 2, mode: bilinear}
  - lp_pool: {kernel_size: 2, norm_type: 2}
  - unpool: {kernel_size: 2, mode: bed_of_nails}
  - kmax_pool: {k: 3}
  - upsample: {scale_factor: [1, 2], mode: nearest}
    name: up
  - global_avg_pool: {}
  - multiply: {}
    inputs: [up, global_avg_pool1]
  - concat: {}
    inputs: [multiply1, up]
  - unpool: {kernel_size: 2}
  - upsample: {scale_factor: 2, mode: zeros}
"""


def test_merges_resampling_transposed_and_local_layers_verify_with_gradcheck():
    analysis = analyze_text(EVERY_OTHER_LAYER, batch=2)
    report = verify(analysis, seed=1, gradcheck=True)
    assert report.ok, [r for r in report.layers if not r.ok]
    by_name = {r.name: r for r in report.layers}
    assert by_name["conv_transpose1"].mults.ok and by_name["conv_transpose1"].zero_products == 0
    # stride 1/2 inserts zeros: the analysis counts those products, verify shows them apart
    assert by_name["frac"].mults.ok and by_name["frac"].zero_products > 0
    assert by_name["locally_connected1"].mults.ok


@pytest.mark.parametrize("layer", ["relu6", "gelu", "hardswish", "hardsigmoid", "softplus", "mish", "log_softmax",
                                   "identity", "global_avg_pool", "global_max_pool"])
def test_more_layers_gradcheck(layer):
    analysis = analyze_text(f"input: [4, 5, 6]\nlayers:\n  - conv: {{out_channels: 3, kernel_size: 2}}\n  - {layer}\n",
                            batch=2)
    report = verify(analysis, gradcheck=True)
    assert report.ok, report.layers


def test_lenet5_training_memory_by_hand():
    """LeNet-5, batch 1, float32: the tensors kept for backward, each once."""
    from cnncalc import analyze_file

    tm = analyze_file(SPECS / "lenet5.yaml", optimizer="adam").training_memory
    kept = (
        1 * 32 * 32  # conv1 input (the image)
        + 6 * 28 * 28  # relu1 output = max_pool1 input
        + 6 * 14 * 14  # conv2 input
        + 16 * 10 * 10  # relu2 output
        + 400  # dense1 input (the flattened pool output)
        + 120 + 84  # relu outputs = next dense inputs
    ) * 4 + (6 * 14 * 14 + 16 * 5 * 5) * 8  # max-pool argmax indices, int64
    assert tm.activations == kept == 49_040
    assert tm.params == tm.gradients == 61_706 * 4
    assert tm.optimizer_state == 2 * 61_706 * 4
    assert tm.total == 4 * 61_706 * 4 + kept


def test_verify_cli_passes_and_prints_checks():
    result = run("verify", SPECS / "lenet5.yaml", "--gradcheck")
    assert result.exit_code == 0, result.output
    assert "✓ all checks passed" in result.output
    assert "117,600 ✓" in result.output  # conv1's multiplications, measured
    assert "49,040 bytes" in result.output


def test_verify_fails_with_exit_1_when_analysis_is_wrong(monkeypatch, capsys):
    from cnncalc.layers.conv import Conv

    monkeypatch.setattr(Conv, "macs", lambda self, xs, y: 1)
    status, out, _ = run_main(capsys, "verify", SPECS / "lenet5.yaml", "--quiet")
    assert status == 1
    assert "conv1" in out and "117,600 ≠ 1 ✗" in out


def test_memory_guard_refuses_with_a_suggestion(capsys):
    status, out, err = run_main(capsys, "verify", SPECS / "vgg16.yaml", "--max-memory", "100M")
    assert status == 2 and out == ""
    assert "--input 3,112,112" in err and "--batch" in err and "Traceback" not in err


def test_dropout_mask_is_stable_and_seeded():
    net, _ = one_layer("dropout: {p: 0.5}", (4, 5), batch=3)
    k = net.kernels["dropout1"]
    x = np.ones((3, 4, 5))
    a, b = k.forward(x), k.forward(x)
    assert np.array_equal(a, b) and set(np.unique(a)) <= {0.0, 2.0}


def test_batch_norm_updates_running_statistics_like_pytorch():
    net, _ = one_layer("batch_norm: {momentum: 0.5}", (2, 3, 3), batch=4)
    k = net.kernels["batch_norm1"]
    x = np.random.default_rng(0).standard_normal((4, 2, 3, 3))
    y = k.forward(x)
    np.testing.assert_allclose(k.buffers["running_mean"], 0.5 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(k.buffers["running_var"], 0.5 + 0.5 * x.var(axis=(0, 2, 3), ddof=1))
    xhat = (y - k.params["bias"][:, None, None]) / k.params["weight"][:, None, None]
    np.testing.assert_allclose(xhat.mean(axis=(0, 2, 3)), 0, atol=1e-12)


def _batch_norm_float64(x, gamma, beta, dy, eps=1e-5):
    """Batch norm forward and input/parameter gradients in float64, by the textbook formulas."""
    axes = (0, 2, 3)
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    xhat = (x - mu) / np.sqrt(var + eps)
    g = gamma.astype(np.float64)[None, :, None, None]
    y = g * xhat + beta.astype(np.float64)[None, :, None, None]
    m = x.size // x.shape[1]
    dxhat = dy * g
    dx = (m * dxhat - dxhat.sum(axis=axes, keepdims=True) - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True))
    dx /= m * np.sqrt(var + eps)
    return y, dx, (dy * xhat).sum(axis=axes), dy.sum(axis=axes)


@pytest.mark.parametrize("offset", [0.0, 0.5, 300.0])
def test_batch_norm_float32_keeps_its_precision_when_the_mean_dwarfs_the_spread(offset):
    # E[x²] − μ² is used only where μ² ≤ σ²; an offset of 300σ takes the centred path
    net, _ = one_layer("batch_norm", (5, 6, 7), batch=3, dtype="float32")
    k = net.kernels["batch_norm1"]
    rng = np.random.default_rng(1)
    x = (offset + rng.standard_normal((3, 5, 6, 7))).astype(np.float32)
    dy = rng.standard_normal(x.shape).astype(np.float32)
    y = k.forward(x)
    (dx,) = k.backward(dy)
    y64, dx64, dgamma64, dbeta64 = _batch_norm_float64(x, k.params["weight"], k.params["bias"], dy)
    assert y.dtype == dx.dtype == np.float32
    np.testing.assert_allclose(y, y64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, dx64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(k.grads["weight"], dgamma64, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(k.grads["bias"], dbeta64, rtol=1e-4, atol=1e-3)
    assert k.centred == (offset > 1)


@pytest.mark.parametrize("offset", [0.0, 300.0])
def test_batch_norm_backward_by_blocks_of_channels_matches_the_textbook(monkeypatch, offset):
    # blocks of 2 channels (the last one short) over a batch of 3: every block a strided view
    from cnncalc.executor.kernels import normalization

    monkeypatch.setattr(normalization, "_BLOCK_BYTES", 2 * 3 * 6 * 7 * 8)
    net, _ = one_layer("batch_norm", (5, 6, 7), batch=3, dtype="float64")
    k = net.kernels["batch_norm1"]
    rng = np.random.default_rng(2)
    x = offset + rng.standard_normal((3, 5, 6, 7))
    dy = rng.standard_normal(x.shape)
    k.forward(x)
    (dx,) = k.backward(dy)
    _, dx64, dgamma64, dbeta64 = _batch_norm_float64(x, k.params["weight"], k.params["bias"], dy)
    np.testing.assert_allclose(dx, dx64, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(k.grads["weight"], dgamma64, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(k.grads["bias"], dbeta64, rtol=1e-9, atol=1e-9)


def test_gradient_check_detects_a_wrong_backward(monkeypatch):
    from cnncalc.executor.kernels.activation import _ELEMENTWISE

    analysis = analyze_text("input: [3, 4]\nlayers:\n  - tanh\n")
    monkeypatch.setitem(_ELEMENTWISE, "tanh", (_ELEMENTWISE["tanh"][0], lambda y, L: 1 - y, True))
    errors = gradient_check(analysis)
    assert errors["tanh1"]["input"] > 1e-3


def test_every_registered_layer_type_has_a_kernel():
    from cnncalc.executor.kernel import KERNELS, kernel_for  # noqa: F401  (kernel_for registers them)
    from cnncalc.layers.base import REGISTRY

    kernel_for(REGISTRY["relu"]())
    assert sorted(set(REGISTRY) - set(KERNELS)) == []


def test_analyze_shows_training_memory_breakdown():
    result = run("analyze", SPECS / "lenet5.yaml", "--optimizer", "momentum", "--format", "json")
    data = json.loads(result.output)
    training = data["totals"]["memory"]["training"]
    assert training == {
        "optimizer": "momentum", "params_bytes": 246_824, "gradient_bytes": 246_824,
        "optimizer_state_bytes": 246_824, "buffer_bytes": 0, "kept_for_backward_bytes": 49_040,
        "total_bytes": 3 * 246_824 + 49_040,
    }
    assert data["layers"][1]["memory"]["kept_for_backward_bytes"] == 6 * 28 * 28 * 4  # relu keeps its output
    table = run("analyze", SPECS / "lenet5.yaml", "--optimizer", "adam").output
    assert "Training memory:" in table and "adam state" in table and "Kept" in table


@pytest.mark.parametrize("name, shape", [("resnet18", (3, 32, 32)), ("mobilenet_v2", (3, 32, 32)),
                                         ("squeezenet1_0", (3, 64, 64))])
def test_shipped_graph_specs_verify(name, shape):
    from cnncalc import analyze_file

    analysis = analyze_file(SPECS / f"{name}.yaml", input_shape=shape, batch=2)
    report = verify(analysis)
    assert report.ok, [r.name for r in report.layers if not r.ok]
    assert report.held.measured == analysis.training_memory.activations


@pytest.mark.parametrize("seed", range(6))
def test_gradient_check_tolerates_rounding_noise_of_a_degenerate_batch_norm(seed):
    # Batch 2 and one cell per channel: the normalised output is ±1 whatever the
    # input, so the true input gradient is ~0 and the finite difference is pure
    # rounding noise. That noise must not read as a gradient error.
    analysis = analyze_text("input: [3, 1, 1]\nlayers:\n  - batch_norm\n", batch=2)
    assert verify(analysis, seed=seed, gradcheck=True).ok


def test_a_training_step_skips_only_the_input_gradient():
    analysis = analyze_text(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3, padding: 1}\n  - relu\n"
        "  - flatten\n  - dense: {out_features: 5}\n", batch=2)
    net = Network(analysis, dtype="float64", seed=0)
    x, cot = net.random_input(), net.loss_weights()
    net.forward(x)
    dx = net.backward(cot)
    full = {n: {p: g.copy() for p, g in k.grads.items()} for n, k in net.kernels.items()}
    products = net.kernels["conv1"].products["backward"]
    net.forward(x)
    assert net.backward(cot, input_grad=False) is None and dx.shape == x.shape
    for name, grads in full.items():
        for p, g in grads.items():
            np.testing.assert_array_equal(net.kernels[name].grads[p], g)
    # the second pass counted the weight gradient's products only: 4·27·64 per sample
    assert net.kernels["conv1"].products["backward"] - products == 2 * 4 * 27 * 64
    assert net.kernels["conv1"].needs_input_grad == (True,)  # the per-layer gradient check still gets dx


def test_gradient_check_detects_a_wrong_weight_gradient_of_a_large_layer(monkeypatch):
    """A parameter larger than KEEP_DIRECTION: its direction is drawn chunk by chunk."""
    from cnncalc.executor import verify as verify_module
    from cnncalc.executor.kernels import dense

    monkeypatch.setattr(verify_module, "KEEP_DIRECTION", 1000)
    monkeypatch.setattr(verify_module, "DIRECTION_CHUNK", 777)
    analysis = analyze_text("input: [60]\nlayers:\n  - dense: {out_features: 50}\n")
    assert all(e <= 1e-5 for e in gradient_check(analysis)["dense1"].values())
    backward = dense.DenseKernel.backward

    def wrong(self, dy):
        out = backward(self, dy)
        self.grads["weight"][0, 0] += 1.0
        return out

    monkeypatch.setattr(dense.DenseKernel, "backward", wrong)
    errors = gradient_check(analysis)["dense1"]
    assert errors["weight"] > 1e-4 and errors["input"] <= 1e-5


def test_gradient_check_memory_stays_near_one_layer_and_within_its_estimate():
    """No float64 copy of the network and no copies of a layer's arrays: the
    peak of numpy allocations is about the largest layer's parameters and
    gradients in float64 (VGG-16 at 32×32 fell from 6.9 GiB to 1.7 GiB peak RSS)."""
    import tracemalloc

    from cnncalc.executor.verify import gradcheck_bytes

    analysis = analyze_text("input: [1000]\nlayers:\n  - dense: {out_features: 1000}\n  - relu\n"
                            "  - dense: {out_features: 1000}\n")
    params = 1000 * 1000 + 1000
    tracemalloc.start()
    try:
        gradient_check(analysis)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    estimate, where = gradcheck_bytes(analysis)
    assert where in ("dense1", "dense2")
    # one layer's parameters and gradients in float64 (16 MB), its direction (float32) and one
    # float64 chunk buffer: 28 MB; the former float64 copy of the network with per-layer copies took 73 MB
    assert peak <= estimate <= 4 * 8 * params, (peak, estimate)
