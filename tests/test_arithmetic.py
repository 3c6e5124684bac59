"""Hand-worked arithmetic: the lectures' examples and the output-size
relationships of Dumoulin & Visin, "A guide to convolution arithmetic for deep
learning" (2016), each with the numbers of the guide's figures."""

from fractions import Fraction

import pytest

from conftest import analyze_text


def conv_out(i, k, s=1, p=0, d=1, extra=""):
    pad = p if isinstance(p, str) else p
    r = analyze_text(
        f"input: [1, {i}, {i}]\nlayers:\n  - conv: {{out_channels: 1, kernel_size: {k}, stride: {s}, "
        f"padding: {pad}, dilation: {d}{extra}}}\n"
    )
    return r.layers[0].output_shape[1]


# Relationship 1: no padding, unit stride: o = i − k + 1 (figure 2.1: i=4, k=3 → 2)
def test_relationship_1():
    assert conv_out(4, 3) == 2


# Relationship 2: zero padding, unit stride: o = i − k + 2p + 1 (figure 2.2: i=5, k=4, p=2 → 6)
def test_relationship_2():
    assert conv_out(5, 4, p=2) == 6


# Relationship 3: half (same) padding, k = 2n+1: o = i (figure 2.3: i=5, k=3, p=1 → 5)
def test_relationship_3():
    assert conv_out(5, 3, p=1) == 5
    assert conv_out(5, 3, p="same") == 5


# Relationship 4: full padding p = k − 1: o = i + k − 1 (figure 2.4: i=5, k=3 → 7)
def test_relationship_4():
    assert conv_out(5, 3, p=2) == 7
    assert conv_out(5, 3, p="full") == 7


# Relationship 5: no padding, stride s: o = ⌊(i − k)/s⌋ + 1 (figure 2.5: i=5, k=3, s=2 → 2)
def test_relationship_5():
    assert conv_out(5, 3, s=2) == 2


# Relationship 6: padding and stride: o = ⌊(i + 2p − k)/s⌋ + 1 (figure 2.6: i=5,k=3,s=2,p=1 → 3;
# figure 2.7: i=6 gives the same 3 — the floor at work)
def test_relationship_6():
    assert conv_out(5, 3, s=2, p=1) == 3
    assert conv_out(6, 3, s=2, p=1) == 3


# Relationship 15: dilation: o = ⌊(i + 2p − k − (k − 1)(d − 1))/s⌋ + 1 (figure 5.1: i=7,k=3,d=2 → 3)
def test_relationship_15_dilation():
    assert conv_out(7, 3, d=2) == 3


def test_lecture_28x28x3_k5_s2_p2_gives_14x14x20():
    # Lecture 6 (scribe notes): ((28 − 5 + 2·2)/2) + 1 = 14; 20 filters → 14×14×20
    r = analyze_text(
        "input: [3, 28, 28]\nlayers:\n  - conv: {out_channels: 20, kernel_size: 5, stride: 2, padding: 2}\n"
    )
    layer = r.layers[0]
    assert layer.output_shape == (20, 14, 14)
    assert layer.params.trainable == 5 * 5 * 3 * 20 + 20 == 1520
    assert layer.multiplications == 20 * 14 * 14 * (3 * 5 * 5) == 294_000


def test_lecture_4x5_input_2x2_kernel():
    # Chapter 4 slides: a 4×5 input with a 2×2 kernel: stride 1 → 3×4, stride 2 → 2×2
    one = analyze_text("input: [1, 4, 5]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 2}\n")
    two = analyze_text("input: [1, 4, 5]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 2, stride: 2}\n")
    assert one.layers[0].output_shape == (1, 3, 4)
    assert two.layers[0].output_shape == (1, 2, 2)


def test_5x5_vs_two_3x3():
    # Lectures: one 5×5 layer and two stacked 3×3 layers see the same 5×5 field;
    # with C channels in and out, 25·C² weights versus 18·C².
    c = 64
    one = analyze_text(f"input: [{c}, 32, 32]\nlayers:\n  - conv: {{out_channels: {c}, kernel_size: 5, padding: 2, bias: false}}\n")
    two = analyze_text(
        f"input: [{c}, 32, 32]\nlayers:\n  - conv: {{out_channels: {c}, kernel_size: 3, padding: 1, bias: false}}\n    repeat: 2\n"
    )
    assert [a.size for a in one.output_rf] == [a.size for a in two.output_rf] == [5, 5]
    assert Fraction(one.totals.params, two.totals.params) == Fraction(25, 18)


def test_one_by_one_conv_reduces_channels():
    r = analyze_text("input: [256, 14, 14]\nlayers:\n  - conv: {out_channels: 64, kernel_size: 1, bias: false}\n")
    assert r.layers[0].output_shape == (64, 14, 14)
    assert r.layers[0].params.trainable == 256 * 64


@pytest.mark.parametrize(
    "i,k,s,expected_out,expected_pad",
    [
        (5, 3, 1, 5, (1, 1)),
        (5, 4, 1, 5, (1, 2)),  # even kernel: the extra cell goes after (TF/Keras)
        (7, 3, 2, 4, (1, 1)),  # ⌈7/2⌉ = 4
        (8, 3, 2, 4, (0, 1)),
        (6, 1, 3, 2, (0, 0)),
    ],
)
def test_same_padding_like_tensorflow(i, k, s, expected_out, expected_pad):
    from cnncalc.layers.window import resolve_padding

    assert conv_out(i, k, s=s, p="same") == expected_out
    assert resolve_padding("same", 1, (i,), (k,), (s,)) == (expected_pad,)


def test_asymmetric_and_non_square():
    r = analyze_text(
        "input: [1, 10, 12]\nlayers:\n  - conv: {out_channels: 2, kernel_size: [3, 5], padding: [[0, 2], [1, 1]], stride: [1, 2]}\n"
    )
    # H: (10 + 0 + 2 − 3)/1 + 1 = 10 ; W: ⌊(12 + 1 + 1 − 5)/2⌋ + 1 = 5
    assert r.layers[0].output_shape == (2, 10, 5)
    assert r.layers[0].params.trainable == 2 * 1 * 15 + 2


def test_causal_1d_dilated():
    r = analyze_text(
        "input: [1, 16]\nlayers:\n"
        "  - conv: {out_channels: 4, kernel_size: 2, padding: causal, dilation: 1}\n"
        "  - conv: {out_channels: 4, kernel_size: 2, padding: causal, dilation: 2}\n"
        "  - conv: {out_channels: 4, kernel_size: 2, padding: causal, dilation: 4}\n"
    )
    assert r.layers[-1].output_shape == (4, 16)
    rf = r.output_rf[0]
    assert rf.size == 8  # 1 + 1 + 2 + 4 (WaveNet)
    # causal: the field ends at the output position, so its centre lags by (r − 1)/2
    assert rf.start == Fraction(-7, 2)


def test_depthwise_conv():
    r = analyze_text("input: [32, 56, 56]\nlayers:\n  - conv: {out_channels: 32, kernel_size: 3, padding: 1, groups: 32, bias: false}\n")
    assert r.layers[0].params.trainable == 32 * 9
    assert r.layers[0].multiplications == 32 * 9 * 56 * 56


@pytest.mark.parametrize(
    "i,k,s,p,ceil,expected",
    [
        (7, 2, 2, 0, False, 3),
        (7, 2, 2, 0, True, 4),
        (6, 3, 2, 1, True, 4),  # ⌈(6+2−3)/2⌉+1 = 4; window 4 starts at cell 5, inside the input
        (5, 2, 2, 1, True, 3),  # ⌈(5+2−2)/2⌉+1 = 4, but window 4 would start in the right padding → 3
        (112, 3, 2, 1, False, 56),
        (5, 3, 2, 1, True, 3),
    ],
)
def test_pool_output_with_ceil_mode(i, k, s, p, ceil, expected):
    r = analyze_text(
        f"input: [1, {i}]\nlayers:\n  - max_pool: {{kernel_size: {k}, stride: {s}, padding: {p}, ceil_mode: {str(ceil).lower()}}}\n"
    )
    assert r.layers[0].output_shape == (1, expected)


def test_rf_distill_example():
    # Araujo et al. worked example shape: conv k3 s1 → conv k3 s2 → conv k3 s1: r = 1+2+2+4 = 9, j = 2
    r = analyze_text(
        "input: [1, 32, 32]\nlayers:\n"
        "  - conv: {out_channels: 1, kernel_size: 3, padding: 1}\n"
        "  - conv: {out_channels: 1, kernel_size: 3, stride: 2, padding: 1}\n"
        "  - conv: {out_channels: 1, kernel_size: 3, padding: 1}\n"
    )
    rf = r.output_rf[0]
    assert (rf.size, rf.jump, rf.start, rf.padding) == (9, 2, 0, 4)


def test_google_receptive_field_test_network_shape():
    # google-research/receptive_field create_test_network_1 (its chain part):
    # conv k1 s4 'VALID' → ... field 3, stride 4, padding 1 for its aligned net;
    # here its simplest chain: k3 s1 pad1 then k1 s4 gives r=3, j=4, P=1.
    r = analyze_text(
        "input: [1, 32, 32]\nlayers:\n"
        "  - conv: {out_channels: 1, kernel_size: 3, padding: 1}\n"
        "  - conv: {out_channels: 1, kernel_size: 1, stride: 4}\n"
    )
    rf = r.output_rf[0]
    assert (rf.size, rf.jump, rf.padding) == (3, 4, 1)
