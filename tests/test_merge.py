"""Merge layers (add, concat, multiply): shapes worked out by hand, errors
that name each input, and the cost convention (0 parameters, 0 multiplications)."""

import pytest

from cnncalc import SpecError, analyze, loads_spec
from conftest import analyze_text

RESIDUAL = """
input: [16, 8, 8]
layers:
  - conv: {out_channels: 16, kernel_size: 3, padding: 1}
    name: a
  - relu
  - conv: {out_channels: 16, kernel_size: 3, padding: 1}
    name: b
  - add:
    inputs: [input, b]
    name: sum
"""


def error_of(text):
    with pytest.raises(SpecError) as info:
        analyze(loads_spec(text, "t.yaml"))
    return info.value


def test_residual_add_keeps_the_shape_and_costs_nothing():
    r = analyze_text(RESIDUAL)
    s = r["sum"]
    assert s.input_shapes == ((16, 8, 8), (16, 8, 8))
    assert s.output_shape == (16, 8, 8)
    assert (s.params.trainable, s.multiplications) == (0, 0)
    # totals count each node once: two 3×3 convs 16→16 with bias
    assert r.totals.params_trainable == 2 * (16 * 16 * 9 + 16)
    assert r.totals.multiplications == 2 * 16 * 16 * 9 * 64
    assert r.warnings == []


def test_concat_adds_channels_and_other_axes_must_match():
    r = analyze_text(
        "input: [3, 10, 10]\nlayers:\n"
        "  - conv: {out_channels: 4, kernel_size: 1}\n    name: x\n"
        "  - conv: {out_channels: 6, kernel_size: 3, padding: 1}\n    inputs: input\n    name: y\n"
        "  - concat:\n    inputs: [x, y, input]\n"
    )
    assert r["concat1"].output_shape == (4 + 6 + 3, 10, 10)


def test_concat_along_a_spatial_axis():
    r = analyze_text(
        "input: [2, 5, 7]\nlayers:\n  - relu:\n    name: x\n"
        "  - max_pool: {kernel_size: [2, 1]}\n    inputs: input\n"
        "  - concat: {dim: 1}\n    inputs: [x, max_pool1]\n"
    )
    assert r["concat1"].output_shape == (2, 5 + 2, 7)


def test_multiply_broadcasts_a_channel_gate():
    r = analyze_text(
        "input: [8, 6, 6]\nlayers:\n"
        "  - adaptive_avg_pool: {output_size: 1}\n"
        "  - conv: {out_channels: 8, kernel_size: 1}\n"
        "  - sigmoid\n"
        "  - multiply:\n    inputs: [input, sigmoid1]\n"
        "  - global_avg_pool:\n    name: g\n"
        "  - multiply:\n    inputs: [multiply1, g]\n"
    )
    assert r["multiply1"].input_shapes == ((8, 6, 6), (8, 1, 1))
    assert r["multiply1"].output_shape == (8, 6, 6)
    assert r["multiply2"].output_shape == (8, 6, 6)  # a flat [C] gate scales its channel
    assert r["multiply1"].multiplications == 0


@pytest.mark.parametrize(
    "layers,fragment",
    [
        ("  - conv: {out_channels: 4, kernel_size: 3}\n    name: c\n  - add:\n    inputs: [input, c]\n",
         "add needs inputs of one shape: 'input' [3, 8, 8], 'c' [4, 6, 6]"),
        ("  - max_pool: {kernel_size: 2}\n    name: p\n  - concat:\n    inputs: [input, p]\n",
         "concat along channels needs every other axis to match: 'input' [3, 8, 8], 'p' [3, 4, 4]"),
        ("  - conv: {out_channels: 4, kernel_size: 1}\n    name: c\n  - multiply:\n    inputs: [input, c]\n",
         "multiply needs, per axis, equal sizes or 1 (broadcast): 'input' [3, 8, 8], 'c' [4, 8, 8]"),
        ("  - add:\n    inputs: input\n", "add takes at least 2 inputs, got 1"),
        ("  - concat: {dim: 3}\n    inputs: [input, input]\n", "dim=3 but the inputs have only 3 axes"),
    ],
)
def test_merge_errors_name_each_input(layers, fragment):
    err = error_of("input: [3, 8, 8]\nlayers:\n" + layers)
    assert fragment in err.message
    assert err.loc.file == "t.yaml" and err.loc.line is not None
    assert err.field in ("inputs", "dim")


def test_mismatch_points_at_the_inputs_line():
    err = error_of(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3}\n    name: c\n"
        "  - add:\n    inputs: [input, c]\n"
    )
    assert err.loc.line == 6
    assert str(err).startswith("t.yaml:6:")
    assert "layer 2 'add1' (add)" in str(err)


def test_unused_output_is_a_warning_with_its_line():
    r = analyze_text(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernel_size: 1}\n    name: lost\n"
        "  - relu:\n    inputs: input\n"
    )
    assert len(r.warnings) == 1
    name, message = r.warnings[0]
    assert name == "lost" and ":3:" in message and "not used" in message


def test_merges_are_in_the_layer_registry_with_input_counts():
    from cnncalc.layers import REGISTRY

    for name in ("add", "concat", "multiply"):
        assert REGISTRY[name].min_inputs == 2
        assert REGISTRY[name].max_inputs > 2
