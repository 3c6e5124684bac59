"""The seven modern specs run for real: ``cnncalc verify`` at a reduced input
(64×64, 75×75 for Inception v3) checks every layer's shape, parameters,
multiplications and the bytes kept for backward; and a small variant of each
network — the spec's own blocks, narrow and shallow — passes the float64
gradient check of every layer."""

from __future__ import annotations

import pytest
import yaml

from cnncalc import analyze_file
from cnncalc.executor.verify import verify
from cnncalc.spec import loads_spec
from cnncalc.analysis import analyze
from conftest import SPECS

REDUCED = {
    "convnext_tiny": (3, 64, 64),
    "shufflenet_v2_x1_0": (3, 64, 64),
    "efficientnet_b0": (3, 64, 64),
    "regnet_y_400mf": (3, 64, 64),
    "mnasnet1_0": (3, 64, 64),
    "resnext50_32x4d": (3, 64, 64),
    "inception_v3": (3, 75, 75),
}


@pytest.mark.parametrize("name", sorted(REDUCED))
def test_modern_spec_verifies_at_reduced_input(name):
    analysis = analyze_file(SPECS / f"{name}.yaml", input_shape=REDUCED[name])
    report = verify(analysis)
    assert report.ok, report.failures
    assert report.held.measured == analysis.training_memory.activations


HEAD = [{"adaptive_avg_pool": {"output_size": 1}}, "flatten", {"dense": {"out_features": 5}}]

#: small variants: (input, layers) built from each spec's own blocks
SMALL = {
    "convnext_tiny": ([3, 16, 16], [
        {"conv": {"out_channels": 8, "kernel_size": 4, "stride": 4}}, "layer_norm",
        {"cn_block": {"dim": 8, "sd": 0.1}}, {"cn_downsample": {"out": 16}}, {"cn_block": {"dim": 16, "sd": 0.2}},
        {"adaptive_avg_pool": {"output_size": 1}}, "layer_norm", "flatten", {"dense": {"out_features": 5}},
    ]),
    "shufflenet_v2_x1_0": ([3, 16, 16], [
        {"conv": {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1}},
        {"shuffle_unit": {"inp": 8, "oup": 16, "stride": 2}}, {"shuffle_unit": {"inp": 16, "oup": 16}},
        {"mean": {"dim": [1, 2]}}, {"dense": {"out_features": 5}},
    ]),
    "efficientnet_b0": ([3, 16, 16], [
        {"conv_norm_act": {"out": 8, "kernel": 3, "stride": 2}},
        {"mbconv": {"inp": 8, "out": 8, "expand": 2, "sd": 0.2}},
        {"mbconv": {"inp": 8, "out": 16, "kernel": 5, "stride": 2, "expand": 2}}, *HEAD,
    ]),
    "regnet_y_400mf": ([3, 16, 16], [
        {"conv_norm_act": {"out": 8, "kernel": 3, "stride": 2}},
        {"res_bottleneck": {"inp": 8, "out": 16, "stride": 2}}, {"res_bottleneck": {"inp": 16, "out": 16}}, *HEAD,
    ]),
    "mnasnet1_0": ([3, 16, 16], [
        {"conv": {"out_channels": 8, "kernel_size": 3, "stride": 2, "padding": 1}},
        {"inverted_residual": {"inp": 8, "out": 8, "kernel": 3, "expand": 3}},
        {"inverted_residual": {"inp": 8, "out": 16, "kernel": 5, "stride": 2, "expand": 2}},
        {"mean": {"dim": [1, 2]}}, {"dense": {"out_features": 5}},
    ]),
    "resnext50_32x4d": ([3, 16, 16], [
        {"conv": {"out_channels": 16, "kernel_size": 3, "stride": 2, "padding": 1}},
        {"bottleneck": {"planes": 16, "groups": 4, "downsample": True}},   # width 16·4/64·4 = 4, out 64
        {"bottleneck": {"planes": 16, "groups": 4, "stride": 2, "downsample": True}}, *HEAD,
    ]),
    # modules A–C (their widths are fixed, not arguments, so each adds ~10^5–10^6
    # weights); D and E, built of the same layer types, run in the verify test above
    "inception_v3": ([8, 5, 5], [
        {"inception_a": {"pool_features": 8}}, {"inception_b": {}}, {"inception_c": {"c7": 8}}, *HEAD,
    ]),
}


def small_variant(name, batch=2, dtype="float64"):
    doc = yaml.safe_load((SPECS / f"{name}.yaml").read_text(encoding="utf-8"))
    doc["input"], doc["layers"] = SMALL[name]
    doc["name"] = f"{name} (small variant)"
    return analyze(loads_spec(yaml.safe_dump(doc, sort_keys=False), f"{name}-small.yaml"), batch=batch, dtype=dtype)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_small_variant_passes_the_gradient_check(name):
    analysis = small_variant(name)
    types = {r.type_name for r in analysis.layers}
    report = verify(analysis, gradcheck=True)
    assert report.ok, [(r.name, r.grad_error) for r in report.layers if not r.ok]
    assert all(r.grad_error is not None for r in report.layers)
    assert len(types) >= 6
