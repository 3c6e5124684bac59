"""The modern layer families worked by hand: shapes, parameters and buffers,
receptive fields (a fractional jump through pixel shuffle), what each keeps
for backward, split pieces by index and by name, and the errors."""

from __future__ import annotations

from fractions import Fraction

import pytest

from cnncalc import SpecError
from conftest import analyze_text


def net(shape, *layers, **kw):
    text = f"input: {list(shape)}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)
    return analyze_text(text, **kw)


def one(shape, layer, **kw):
    return net(shape, layer, **kw).layers[0]


# -- normalisation ---------------------------------------------------------------------

def test_layer_norm_over_channels_is_convnext_layernorm2d():
    r = one((96, 56, 56), "layer_norm")
    assert r.output_shape == (96, 56, 56)
    assert tuple(r.params) == (2 * 96, 0)
    assert [a.size for a in r.rf] == [1, 1]  # each position alone
    # keeps its input and mean, 1/σ per position (56·56 groups), float32, batch 1
    assert net((96, 56, 56), "layer_norm").training_memory.activations == (96 + 2) * 56 * 56 * 4


def test_layer_norm_over_trailing_axes_is_nn_layernorm():
    r = one((4, 6, 8), "layer_norm: {normalized_shape: [6, 8]}")
    assert tuple(r.params) == (2 * 48, 0)
    assert [a.whole for a in r.rf] == [True, True]
    assert one((4, 6, 8), "layer_norm: {normalized_shape: 8, bias: false}").params.trainable == 8
    assert one((4, 6, 8), "layer_norm: {normalized_shape: [4, 6, 8], elementwise_affine: false}").params.trainable == 0
    r = one((4, 6, 8), "layer_norm: {normalized_shape: 8}")
    assert [a.whole for a in r.rf] == [False, True]  # only the last axis is pooled together


def test_group_and_instance_norm_parameters_and_buffers():
    assert tuple(one((32, 4, 4), "group_norm: {num_groups: 8}").params) == (64, 0)
    assert tuple(one((32, 4, 4), "group_norm: {num_groups: 8, affine: false}").params) == (0, 0)
    assert tuple(one((32, 4, 4), "instance_norm").params) == (0, 0)  # PyTorch's defaults
    assert tuple(one((32, 4, 4), "instance_norm: {affine: true, track_running_stats: true}").params) == (64, 64)
    # kept: the input plus mean and 1/σ per (sample, group) or (sample, channel)
    assert net((32, 4, 4), "group_norm: {num_groups: 8}").training_memory.activations == (32 * 16 + 16) * 4
    assert net((32, 4, 4), "instance_norm").training_memory.activations == (32 * 16 + 64) * 4


def test_layer_scale_has_one_parameter_per_channel_and_no_multiplications():
    r = one((768, 7, 7), "layer_scale")
    assert tuple(r.params) == (768, 0) and r.multiplications == 0


# -- rearranging -------------------------------------------------------------------------

def test_split_pieces_by_index_and_name():
    a = net((116, 28, 28),
            "split: {split_size_or_sections: 58}\n    name: chunk",
            "concat:\n    inputs: [chunk.0, chunk.1]")
    assert [(r.name, r.type_name, r.output_shape) for r in a.layers] == [
        ("chunk", "split", (116, 28, 28)),
        ("chunk.0", "slice", (58, 28, 28)),
        ("chunk.1", "slice", (58, 28, 28)),
        ("concat1", "concat", (116, 28, 28)),
    ]
    b = net((10, 4, 4),
            "split: {split_size_or_sections: [2, 3, 5], names: [a, b, c]}\n    name: s",
            "concat:\n    inputs: [s.c, s.a, s.1]")
    assert [r.output_shape[0] for r in b.layers[1:4]] == [2, 3, 5]  # pieces in the order of the axis
    assert b.layers[-1].output_shape == (10, 4, 4)
    assert not b.warnings


def test_split_by_size_leaves_a_shorter_last_piece_as_torch_split():
    a = net((10, 4), "split: {split_size_or_sections: 4, dim: 0}", "concat:\n    inputs: [split1.2, split1.0]")
    assert [r.output_shape for r in a.layers[1:3]] == [(4, 4), (2, 4)]


def test_split_along_a_spatial_axis_moves_the_receptive_field():
    a = net((3, 10, 8), "conv: {out_channels: 2, kernel_size: 3}",
            "split: {split_size_or_sections: [3, 5], dim: 1}", "conv: {out_channels: 2, kernel_size: 1}\n    inputs: split1.1")
    piece = a["split1.1"]
    assert piece.output_shape == (2, 5, 6)
    h, w = piece.rf
    assert (h.size, h.start) == (3, 4)  # first cell of the piece is cell 3 of the conv's output, centred at 3 + 1
    assert (w.size, w.start) == (3, 1)


def test_slice_with_step():
    r = one((3, 10, 7), "slice: {dim: 2, start: 1, step: 3}")
    assert r.output_shape == (3, 10, 2)
    assert (r.rf[1].jump, r.rf[1].start) == (3, 1)


def test_channel_shuffle_and_pixel_shuffle_shapes():
    assert one((12, 5, 5), "channel_shuffle: {groups: 3}").output_shape == (12, 5, 5)
    assert one((12, 5, 5), "pixel_shuffle: {upscale_factor: 2}").output_shape == (3, 10, 10)
    assert one((3, 10, 6), "pixel_unshuffle: {downscale_factor: 2}").output_shape == (12, 5, 3)


def test_pixel_shuffle_receptive_field_has_a_fractional_jump():
    a = net((4, 8, 8), "conv: {out_channels: 16, kernel_size: 3, stride: 2, padding: 1}",
            "pixel_shuffle: {upscale_factor: 4}")
    rf = a.layers[-1].rf[0]
    assert rf.jump == Fraction(1, 2)  # 2 · 1/4
    assert rf.size == 3
    assert rf.start == Fraction(-3, 4)  # output 0 sits at (0 + ½)/4 − ½ of the conv output, times its jump 2
    # unshuffle after shuffle: back to the conv's jump, field grows by (r − 1)·j
    b = net((4, 8, 8), "conv: {out_channels: 16, kernel_size: 3, stride: 2, padding: 1}",
            "pixel_shuffle: {upscale_factor: 4}", "pixel_unshuffle: {downscale_factor: 4}")
    rf = b.layers[-1].rf[0]
    assert rf.jump == 2 and rf.size == 3 + 3 * Fraction(1, 2)
    assert rf.input_center(0) == 0  # centred as the conv's output 0 again


def test_mean_over_height_and_width():
    r = one((1024, 7, 7), "mean: {dim: [1, 2]}")
    assert r.output_shape == (1024,) and r.multiplications == 0
    assert [a.whole for a in r.rf] == [True, True]
    assert one((8, 4, 6), "mean: {dim: 2, keepdim: true}").output_shape == (8, 4, 1)
    assert one((8, 4, 6), "mean: {dim: 0}").output_shape == (4, 6)


def test_stochastic_depth_is_identity_in_the_analysis():
    r = one((8, 4, 4), "drop_path: {p: 0.3}")
    assert r.type_name == "stochastic_depth" and r.output_shape == (8, 4, 4)
    assert r.multiplications == 0 and tuple(r.params) == (0, 0)
    # row mode keeps one flag (one byte) per sample; batch mode nothing per sample
    assert net((8, 4, 4), "stochastic_depth: {p: 0.3}", batch=4).training_memory.activations == 4
    assert net((8, 4, 4), "stochastic_depth: {p: 0.3, mode: batch}", batch=4).training_memory.activations == 0


def test_rearranging_layers_keep_nothing_and_slices_share_storage():
    a = net((8, 4, 4), "split: {split_size_or_sections: 4}", "conv: {out_channels: 2, kernel_size: 1}\n    inputs: split1.1",
            "conv: {out_channels: 2, kernel_size: 1}\n    inputs: split1.0",
            "concat:\n    inputs: [conv1, conv2]")
    # both convs keep a piece, and both pieces are views of the input: the input counts once
    assert a.training_memory.activations == 8 * 16 * 4


# -- errors --------------------------------------------------------------------------------

@pytest.mark.parametrize("layers, words", [
    (["group_norm: {num_groups: 3}"], "num_groups=3 does not divide the 8 input channels"),
    (["slice: {dim: 3}"], "dim=3 but one sample has 3 axes"),
    (["slice: {start: 5, stop: 5}"], "slice [5, 5) is empty"),
    (["pixel_shuffle: {upscale_factor: 3}"], "divisible by upscale_factor² = 9"),
    (["split: {split_size_or_sections: [4, 4], names: [a]}"], "1 names for 2 sections"),
    (["split: {split_size_or_sections: 4, names: [a, b, c]}"], "3 names but pieces of 4 make 2 pieces"),
    (["split: {split_size_or_sections: 4, names: [a, a]}"], "piece names must differ"),
    (["split: {split_size_or_sections: 4, names: [a, '0']}"], "piece names must not be numbers"),
    (["split: {split_size_or_sections: 4}\n    name: s", "relu:\n    inputs: s.x"], "unknown input 's.x'"),
    (["split: {split_size_or_sections: 4}\n    name: s", "relu:\n    inputs: s.01"], "unknown input 's.01'"),
    (["relu:\n    name: r", "relu:\n    inputs: r.0"], "unknown input 'r.0'"),
    (["mean: {dim: [0, 1, 2]}"], "leaves a scalar"),
    (["instance_norm"], "instance_norm needs"),
])
def test_errors_name_the_problem(layers, words):
    shape = (8,) if layers == ["instance_norm"] else (8, 4, 4)
    with pytest.raises(SpecError) as info:
        net(shape, *layers)
    assert words in str(info.value)


def test_schema_describes_the_modern_layers():
    import json

    from cnncalc.schema import spec_schema

    schema = spec_schema()
    text = json.dumps(schema)
    for name in ("layer_norm", "group_norm", "instance_norm", "layer_scale", "slice", "split", "channel_shuffle",
                 "pixel_shuffle", "pixel_unshuffle", "stochastic_depth", "drop_path", "mean"):
        assert f'"{name}"' in text, name

    def variants(node):
        if isinstance(node, dict):
            yield node
            for v in node.values():
                yield from variants(v)
        elif isinstance(node, list):
            for v in node:
                yield from variants(v)

    split = next(v for v in variants(schema)
                 if v.get("properties", {}).get("type", {}).get("enum", [None])[0] == "split")
    assert "split_size_or_sections" in split["required"]
    assert split["properties"]["names"]["oneOf"][0]["uniqueItems"] is True
    sizes = split["properties"]["split_size_or_sections"]["oneOf"]
    assert sizes[1] == {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1}


def test_split_pieces_count_towards_the_layer_limit(monkeypatch):
    import cnncalc.spec as spec

    monkeypatch.setattr(spec, "MAX_LAYERS", 10)
    refs = ", ".join(f"s.{i}" for i in range(12))
    with pytest.raises(SpecError) as info:
        net((12, 2, 2), "split: {split_size_or_sections: 1}\n    name: s", f"concat:\n    inputs: [{refs}]")
    assert "more than 10 layers with the split pieces" in str(info.value) and info.value.field == "inputs"
