"""Executor kernels of the merge layers: verify (shapes, parameters, bytes
kept for backward) and the float64 gradient check on graphs with residual
adds, concatenation and squeeze-and-excitation gates."""

import numpy as np
import pytest

from cnncalc.executor.network import Network
from cnncalc.executor.verify import verify
from conftest import analyze_text

MERGES = """
input: [4, 6, 6]
layers:
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
    name: a
  - relu
  - add:
    inputs: [input, relu1, a]
    name: sum
  - conv: {out_channels: 2, kernel_size: 1}
    name: b
  - concat:
    inputs: [sum, b, sum]
    name: cat
  - adaptive_avg_pool: {output_size: 1}
  - conv: {out_channels: 10, kernel_size: 1}
  - sigmoid:
    name: gate
  - multiply:
    inputs: [cat, gate]
    name: scaled
  - global_avg_pool:
    name: flat_gate
    inputs: gate
  - multiply:
    inputs: [scaled, flat_gate, scaled]
  - concat: {dim: 2}
    inputs: [multiply1, multiply1]
"""


def test_merges_verify_with_gradcheck():
    analysis = analyze_text(MERGES, batch=2)
    report = verify(analysis, seed=1, gradcheck=True)
    assert report.ok, [(r.name, r) for r in report.layers if not r.ok]
    assert report.held.measured == analysis.training_memory.activations


@pytest.mark.parametrize("dim", [0, 1, 2])
def test_concat_and_add_forward_values(dim):
    analysis = analyze_text(
        f"input: [2, 3, 4]\nlayers:\n  - relu\n  - concat: {{dim: {dim}}}\n    inputs: [input, relu1]\n"
        "  - add:\n    inputs: [concat1, concat1]\n", batch=2, dtype="float64")
    net = Network(analysis, dtype="float64")
    x = net.random_input()
    (y,) = net.forward(x).values()
    np.testing.assert_array_equal(y, 2 * np.concatenate([x, np.maximum(x, 0)], axis=dim + 1))


def test_flat_gate_scales_each_channel():
    analysis = analyze_text("input: [3, 2, 2]\nlayers:\n  - global_avg_pool\n  - multiply:\n"
                            "    inputs: [input, global_avg_pool1]\n", batch=1, dtype="float64")
    net = Network(analysis, dtype="float64")
    x = net.random_input()
    (y,) = net.forward(x).values()
    np.testing.assert_allclose(y, x * x.mean(axis=(2, 3))[:, :, None, None])
