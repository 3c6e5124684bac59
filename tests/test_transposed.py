"""Transposed convolution and fractional stride, worked by hand.

Relationships 7–14 of Dumoulin & Visin, "A guide to convolution arithmetic for
deep learning" (2016), with the numbers of the guide's figures. Relationships
8–14 describe the transposed convolution of a convolution (i, k, s, p) as
o' = s(i' − 1) + a + k − 2p, where i' is the size the convolution produced
and a = (i + 2p − k) mod s is PyTorch's output_padding.
"""

from fractions import Fraction
from math import gcd

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conftest import analyze_text


def one_layer(i, layer, channels=1):
    r = analyze_text(f"input: [{channels}, {i}, {i}]\nlayers:\n  - {layer}\n")
    return r.layers[0]


def tconv_out(i, k, s=1, p=0, op=0, d=1):
    layer = one_layer(
        i,
        f"conv_transpose: {{out_channels: 1, kernel_size: {k}, stride: {s}, padding: {p}, "
        f"output_padding: {op}, dilation: {d}}}",
    )
    return layer.output_shape[1]


def conv_out(i, k, s=1, p=0):
    return one_layer(i, f"conv: {{out_channels: 1, kernel_size: {k}, stride: {s}, padding: {p}}}").output_shape[1]


def pool_out(i, k, s):
    return one_layer(i, f"max_pool: {{kernel_size: {k}, stride: {s}}}").output_shape[1]


# Relationship 7: pooling: o = ⌊(i − k)/s⌋ + 1 (figure 1.6: i=5, k=3, s=1 → 3; 2×2 pool stride 2 on 5 → 2)
def test_relationship_7_pooling():
    assert pool_out(5, 3, 1) == 3
    assert pool_out(5, 2, 2) == 2
    assert pool_out(6, 3, 2) == 2


# Relationship 8: transpose of (k, s=1, p=0): o' = i' + (k − 1) (figure 4.1: i=4, k=3: 4 → 2 → 4)
def test_relationship_8():
    assert conv_out(4, 3) == 2
    assert tconv_out(2, 3) == 4


# Relationship 9: transpose of (k, s=1, p): o' = i' + (k − 1) − 2p (figure 4.2: i=5, k=4, p=2: 5 → 6 → 5)
def test_relationship_9():
    assert conv_out(5, 4, p=2) == 6
    assert tconv_out(6, 4, p=2) == 5


# Relationship 10: half padding, k = 2n + 1, p = n: o' = i' (figure 4.3: i=5, k=3, p=1)
def test_relationship_10():
    assert tconv_out(5, 3, p=1) == 5
    assert tconv_out(7, 5, p=2) == 7


# Relationship 11: full padding p = k − 1: o' = i' − (k − 1) (figure 4.4: i=5, k=3, p=2: 5 → 7 → 5)
def test_relationship_11():
    assert conv_out(5, 3, p=2) == 7
    assert tconv_out(7, 3, p=2) == 5


# Relationship 12: no padding, stride s, (i − k) a multiple of s: o' = s(i' − 1) + k
# (figure 4.5: i=5, k=3, s=2: 5 → 2 → 5)
def test_relationship_12():
    assert conv_out(5, 3, s=2) == 2
    assert tconv_out(2, 3, s=2) == 5


# Relationship 13: padding p, stride s, (i + 2p − k) a multiple of s: o' = s(i' − 1) + k − 2p
# (figure 4.6: i=5, k=3, s=2, p=1: 5 → 3 → 5)
def test_relationship_13():
    assert conv_out(5, 3, s=2, p=1) == 3
    assert tconv_out(3, 3, s=2, p=1) == 5


# Relationship 14: otherwise a = (i + 2p − k) mod s: o' = s(i' − 1) + a + k − 2p
# (figure 4.7: i=6, k=3, s=2, p=1, a=1: 6 → 3 → 6)
def test_relationship_14():
    assert conv_out(6, 3, s=2, p=1) == 3
    assert tconv_out(3, 3, s=2, p=1, op=0) == 5
    assert tconv_out(3, 3, s=2, p=1, op=1) == 6


def test_dilated_transposed():
    # o = s(i − 1) + d(k − 1) + 1 − 2p + a = 1·4 + 2·2 + 1 = 9 (the transpose of a dilated 9 → 5 conv)
    assert tconv_out(5, 3, d=2) == 9
    # output_padding may reach the dilation when the stride is 1 (PyTorch allows a < max(s, d))
    assert tconv_out(5, 3, d=3, op=2) == 5 - 1 + 3 * 2 + 1 + 2


def test_dcgan_block_doubles_and_counts_input_side():
    # DCGAN: k=4, s=2, p=1 doubles the size: 2·(4 − 1) + 4 − 2 = 8
    layer = one_layer(4, "conv_transpose: {out_channels: 256, kernel_size: 4, stride: 2, padding: 1, bias: false}", 512)
    assert layer.output_shape == (256, 8, 8)
    assert layer.params.trainable == 512 * 256 * 4 * 4 == 2_097_152
    # input side: C_in · C_out · ∏k · ∏i = 512·256·16·16; the output-side
    # formula would give 512·256·16·64, four (= s²) times as much.
    assert layer.multiplications == 512 * 256 * 16 * 16 == 33_554_432


def test_groups_and_bias_and_asymmetric():
    r = analyze_text(
        "input: [6, 5, 7]\nlayers:\n"
        "  - conv_transpose: {out_channels: 4, kernel_size: [3, 2], stride: [2, 3], padding: [[1, 0], 0], groups: 2}\n"
    )
    layer = r.layers[0]
    # H: 2·4 + 3 − 1 − 0 = 10 ; W: 3·6 + 2 = 20
    assert layer.output_shape == (4, 10, 20)
    assert layer.params.trainable == 6 * (4 // 2) * 3 * 2 + 4 == 76
    assert layer.multiplications == 6 * 2 * 6 * 35


def test_1d_and_3d():
    r1 = analyze_text("input: [2, 10]\nlayers:\n  - conv_transpose1d: {out_channels: 3, kernel_size: 5, stride: 3}\n")
    assert r1.layers[0].output_shape == (3, 3 * 9 + 5)
    r3 = analyze_text(
        "input: [8, 2, 4, 4]\nlayers:\n  - conv_transpose3d: {out_channels: 4, kernel_size: 2, stride: 2}\n"
    )
    assert r3.layers[0].output_shape == (4, 4, 8, 8)
    assert r3.layers[0].params.trainable == 8 * 4 * 8 + 4


def test_transposed_receptive_field_has_fractional_jump():
    # k=4, s=2, p=1 over an input of unit jump: adjacent outputs are half an
    # input cell apart; one output spans 1 + 3/2 input cells; output 0 is centred
    # at (p − (k − 1)/2)/s = (1 − 3/2)/2 = −1/4.
    rf = one_layer(4, "conv_transpose: {out_channels: 1, kernel_size: 4, stride: 2, padding: 1}").rf[0]
    assert rf.jump == Fraction(1, 2)
    assert rf.size == Fraction(5, 2)
    assert rf.start == Fraction(-1, 4)
    # a stride-2 conv after it restores the unit jump exactly (no float drift)
    r = analyze_text(
        "input: [1, 16]\nlayers:\n"
        "  - conv_transpose: {out_channels: 1, kernel_size: 4, stride: 2, padding: 1}\n"
        "  - conv: {out_channels: 1, kernel_size: 2, stride: 2}\n"
    )
    assert r.output_rf[0].jump == 1
    assert isinstance(r.output_rf[0].jump, int)


def test_transposed_rf_matches_its_zero_insertion_form():
    # conv_transpose(k, s, p) == upsample-by-s with zeros, pad k − 1 − p, conv k with stride 1
    a = analyze_text("input: [1, 9]\nlayers:\n  - conv_transpose: {out_channels: 1, kernel_size: 3, stride: 2, padding: 1}\n")
    b = analyze_text(
        "input: [1, 9]\nlayers:\n  - upsample: {scale_factor: 2, mode: zeros}\n"
        "  - conv: {out_channels: 1, kernel_size: 3, padding: 1}\n"
    )
    assert a.layers[0].output_shape == b.layers[-1].output_shape == (1, 17)
    assert a.output_rf == b.output_rf


# -- fractional stride (Chapter 4 slides: Conv(X|W, S2/S1) = dSample(Conv(uSample(X|S1)|W)|S2)) --

def test_half_stride_is_upsample_then_convolve():
    # uSample(X|2) of 8 cells has (8 − 1)·2 + 1 = 15; a 3-kernel, unit stride → 13
    frac = one_layer(8, "conv: {out_channels: 2, kernel_size: 3, stride: 1/2}", 3)
    assert frac.output_shape == (2, 13, 13)
    assert frac.params.trainable == 2 * 3 * 9 + 2
    # the lectures' count: every kernel tap at every output position
    assert frac.multiplications == 2 * 3 * 9 * 13 * 13
    two = analyze_text(
        "input: [3, 8, 8]\nlayers:\n  - upsample: {scale_factor: 2, mode: zeros}\n"
        "  - conv: {out_channels: 2, kernel_size: 3}\n"
    )
    assert two.layers[-1].output_shape == frac.output_shape
    assert two.output_rf == frac.rf


def test_stride_three_halves():
    # S = 3/2: upsample by 2 (10 → 19), pad 1 each side (21), kernel 3, keep every 3rd: ⌊(21 − 3)/3⌋ + 1 = 7
    layer = one_layer(10, "conv: {out_channels: 1, kernel_size: 3, stride: 3/2, padding: 1}")
    assert layer.output_shape == (1, 7, 7)
    rf = layer.rf[0]
    assert rf.jump == Fraction(3, 2)
    assert rf.size == 2  # 1 + (3 − 1)/2
    assert rf.start == Fraction(0)  # ((3 − 1)/2 − 1)/2
    three = analyze_text(
        "input: [1, 10, 10]\nlayers:\n  - upsample: {scale_factor: 2, mode: zeros}\n"
        "  - conv: {out_channels: 1, kernel_size: 3, padding: 1}\n  - downsample: {factor: 3}\n"
    )
    assert three.layers[-1].output_shape == layer.output_shape
    assert three.output_rf == layer.rf


@pytest.mark.parametrize("value,expected", [("1/2", Fraction(1, 2)), ("2/4", Fraction(1, 2)), (0.25, Fraction(1, 4)), ("4/2", 2), ("[1/2, 1]", None)])
def test_stride_values(value, expected):
    layer = one_layer(8, f"conv: {{out_channels: 1, kernel_size: 1, stride: {value}}}")
    if expected is None:
        assert layer.output_shape == (1, 15, 8)
    else:
        assert layer.node.layer.stride == expected
    # the JSON settings stay exact
    assert "/" in str(layer.node.layer.settings()["stride"]) or expected == 2


# -- properties over many sizes ------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(i=st.integers(1, 40), k=st.integers(1, 6), s=st.integers(1, 4), p=st.integers(0, 3), d=st.integers(1, 3))
def test_transposed_conv_restores_the_size_its_conv_took(i, k, s, p, d):
    # relationship 14 with dilation: a = (i + 2p − d(k − 1) − 1) mod s picks i among the sizes the conv maps to o
    keff = d * (k - 1) + 1
    assume(i + 2 * p >= keff and p <= d * (k - 1))
    o = one_layer(i, f"conv: {{out_channels: 1, kernel_size: {k}, stride: {s}, padding: {p}, dilation: {d}}}").output_shape[1]
    a = (i + 2 * p - keff) % s
    assert tconv_out(o, k, s=s, p=p, op=a, d=d) == i


@settings(max_examples=60, deadline=None)
@given(i=st.integers(1, 30), k=st.integers(1, 5), up=st.integers(1, 4), down=st.integers(1, 4), p=st.integers(0, 2))
def test_fractional_stride_is_upsample_conv_downsample(i, k, up, down, p):
    assume(gcd(up, down) == 1 and (i - 1) * up + 1 + 2 * p >= k)
    frac = analyze_text(
        f"input: [1, {i}]\nlayers:\n  - conv: {{out_channels: 1, kernel_size: {k}, stride: {down}/{up}, padding: {p}}}\n"
    )
    steps = analyze_text(
        f"input: [1, {i}]\nlayers:\n  - upsample: {{scale_factor: {up}, mode: zeros}}\n"
        f"  - conv: {{out_channels: 1, kernel_size: {k}, padding: {p}}}\n  - downsample: {{factor: {down}}}\n"
    )
    assert frac.layers[-1].output_shape == steps.layers[-1].output_shape
    assert frac.output_rf == steps.output_rf
