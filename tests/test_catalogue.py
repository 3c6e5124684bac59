"""The rest of the lectures' layer catalogue, each worked by hand: resampling,
unpooling, K-max and Lp pooling, global pooling in 1D/2D/3D, the
locally-connected layer, explicit padding and cropping, causal dilated 1D
convolution, 3D convolution and pooling, and the 1×1 channel reduction."""

from fractions import Fraction

import pytest

from conftest import analyze_text


def net(input_shape, *layers):
    text = f"input: {list(input_shape)}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers)
    return analyze_text(text)


# -- resampling (Chapter 4 slides: uSample / dSample) -------------------------------------

def test_usample_inserts_zeros_between_cells():
    # The slides' uSample(X|2) of a 2×2 X is 3×3 (z1 = x1, z3 = x2, z7 = x3, z9 = x4)
    r = net([5, 2, 2], "upsample: {scale_factor: 2, mode: zeros}")
    assert r.layers[0].output_shape == (5, 3, 3)
    assert r.layers[0].multiplications == 0
    # and dSample(·|2) of that 3×3 is the 2×2 again (cells 0 and 2 kept)
    r = net([5, 2, 2], "upsample: {scale_factor: 2, mode: zeros}", "downsample: {factor: 2}")
    assert r.layers[1].output_shape == (5, 2, 2)
    assert r.output_rf[0].jump == 1 and r.output_rf[0].size == 1 and r.output_rf[0].start == 0


def test_downsample_keeps_every_fth():
    # 7 cells, f = 3: cells 0, 3, 6 → 3 = ⌈7/3⌉; stride 3 conv = dSample(conv stride 1) (slides)
    r = net([1, 7, 9], "downsample: {factor: [3, 2]}")
    assert r.layers[0].output_shape == (1, 3, 5)
    assert (r.output_rf[0].jump, r.output_rf[1].jump) == (3, 2)
    strided = net([1, 11], "conv: {out_channels: 1, kernel_size: 3, stride: 3}")
    split = net([1, 11], "conv: {out_channels: 1, kernel_size: 3}", "downsample: {factor: 3}")
    assert strided.layers[-1].output_shape == split.layers[-1].output_shape == (1, 3)
    assert strided.output_rf == split.output_rf


@pytest.mark.parametrize("mode,macs_per_value", [("nearest", 0), ("bilinear", 4)])
def test_upsample_block_modes(mode, macs_per_value):
    r = net([3, 5, 7], f"upsample: {{scale_factor: [2, 3], mode: {mode}}}")
    layer = r.layers[0]
    assert layer.output_shape == (3, 10, 21)
    assert layer.params.trainable == 0
    assert layer.multiplications == macs_per_value * 3 * 10 * 21
    # output j sits at input (j + ½)/f − ½: output 0 of ×2 at −1/4, adjacent outputs 1/2 apart
    h = layer.rf[0]
    assert h.jump == Fraction(1, 2) and h.start == Fraction(-1, 4)
    assert h.size == (2 if mode == "bilinear" else 1)


def test_upsample_linear_and_trilinear():
    assert net([2, 6], "upsample: {mode: linear}").layers[0].output_shape == (2, 12)
    assert net([2, 6], "upsample: {mode: linear}").layers[0].multiplications == 2 * 2 * 12
    r = net([2, 2, 3, 4], "upsample: {scale_factor: 2, mode: trilinear}")
    assert r.layers[0].output_shape == (2, 4, 6, 8)
    assert r.layers[0].multiplications == 8 * 2 * 4 * 6 * 8


# -- unpooling (lecture 6) ------------------------------------------------------------------

def test_nearest_and_bed_of_nails_unpooling():
    nearest = net([4, 3, 5], "unpool: {kernel_size: 2}").layers[0]
    nails = net([4, 3, 5], "unpool: {kernel_size: 2, mode: bed_of_nails}").layers[0]
    assert nearest.output_shape == nails.output_shape == (4, 6, 10)
    assert nearest.params.total == nails.params.total == 0
    # nearest: output 0 (a copy of input 0, like output 1) is centred at −1/4; bed of nails: exactly at input 0
    assert nearest.rf[0].start == Fraction(-1, 4)
    assert nails.rf[0].start == 0 and nails.rf[0].jump == Fraction(1, 2)


def test_max_unpool_takes_its_size_from_the_named_pool():
    # 7×7 pooled by 2×2/2 gives 3×3; unpooling needs the 7 back (PyTorch's output_size), which the pool knows
    r = analyze_text(
        "input: [8, 7, 7]\nlayers:\n"
        "  - max_pool: {kernel_size: 2}\n    name: pool1\n"
        "  - conv: {out_channels: 8, kernel_size: 3, padding: same}\n"
        "  - max_unpool: {pool: pool1}\n"
    )
    unpool = r.layers[-1]
    assert unpool.input_shapes == ((8, 3, 3),)
    assert unpool.output_shape == (8, 7, 7)
    assert unpool.params.total == unpool.multiplications == 0
    # pool, conv (3 × 3 at jump 2) and unpool: the field grows by the unpool's (k − 1)/s = 1/2 at jump 2
    rf = r.output_rf[0]
    assert rf.jump == 1
    assert rf.size == 2 + 2 * 2 + Fraction(1, 2) * 2 == 7


def test_max_unpool_of_a_3d_padded_pool():
    r = analyze_text(
        "input: [2, 5, 9, 9]\nlayers:\n"
        "  - max_pool: {kernel_size: 3, stride: 2, padding: 1}\n    name: p\n"
        "  - max_unpool: {pool: p}\n"
    )
    assert r.layers[0].output_shape == (2, 3, 5, 5)
    assert r.layers[1].output_shape == (2, 5, 9, 9)


# -- pooling variants -------------------------------------------------------------------------

def test_kmax_pooling_replaces_one_axis_by_k():
    # lectures: "replace one dimension of the volume with the K largest elements of the dimension"
    r = net([16, 40], "kmax_pool: {k: 5}")
    assert r.layers[0].output_shape == (16, 5)
    assert r.output_rf[0].whole and r.output_rf[0].size == 40
    r = net([16, 12, 40], "kmax_pool: {k: 5}")  # default: the last axis
    assert r.layers[0].output_shape == (16, 12, 5)
    assert not r.output_rf[0].whole and r.output_rf[0].size == 1
    assert r.output_rf[1].whole
    r = net([16, 12, 40], "kmax_pool: {k: 12, axis: 0}")
    assert r.layers[0].output_shape == (16, 12, 40)
    assert r.output_rf[0].whole and not r.output_rf[1].whole


def test_lp_pooling():
    # L2 pooling (lecture 6): the window arithmetic of average pooling
    r = net([3, 9, 9], "lp_pool: {kernel_size: 3, stride: 2}")
    assert r.layers[0].output_shape == (3, 4, 4)
    assert r.layers[0].params.total == r.layers[0].multiplications == 0
    assert r.output_rf[0].size == 3 and r.output_rf[0].jump == 2
    assert net([3, 9], "l2_pool: {kernel_size: 2, ceil_mode: true}").layers[0].output_shape == (3, 5)
    assert net([3, 9], "lp_pool: {kernel_size: 4, norm_type: 3}").layers[0].output_shape == (3, 2)


@pytest.mark.parametrize("shape", [[6, 50], [6, 7, 9], [6, 4, 7, 9]])
def test_global_pooling_in_1d_2d_3d(shape):
    for kind in ("global_avg_pool", "global_max_pool"):
        r = net(shape, kind)
        assert r.layers[0].output_shape == (6,)
        assert all(axis.whole for axis in r.output_rf)
        assert [axis.size for axis in r.output_rf] == shape[1:]
        keep = net(shape, f"{kind}: {{keepdims: true}}")
        assert keep.layers[0].output_shape == (6, *[1] * (len(shape) - 1))


# -- locally connected (Chapter 4: "locally-connected" before weight sharing) ---------------

def test_locally_connected_multiplies_weights_by_positions():
    # Keras LocallyConnected2D(filters=4, kernel_size=3) on 8×8×2: 6·6 positions, each with
    # its own 3·3·2·4 kernel and 4 biases: 36·(72 + 4) = 2736 parameters
    local = net([2, 8, 8], "locally_connected: {out_channels: 4, kernel_size: 3}").layers[0]
    conv = net([2, 8, 8], "conv: {out_channels: 4, kernel_size: 3}").layers[0]
    assert local.output_shape == conv.output_shape == (4, 6, 6)
    assert local.params.trainable == 36 * (3 * 3 * 2 * 4 + 4) == 2736
    assert conv.params.trainable == 3 * 3 * 2 * 4 + 4 == 76
    assert local.multiplications == conv.multiplications == 4 * 2 * 9 * 36
    assert local.rf == conv.rf
    # 1D, strided, without bias: ⌊(10 − 3)/2⌋ + 1 = 4 positions
    one = net([3, 10], "locally_connected1d: {out_channels: 5, kernel_size: 3, stride: 2, bias: false}").layers[0]
    assert one.output_shape == (5, 4)
    assert one.params.trainable == 4 * 3 * 3 * 5


# -- explicit padding and cropping ---------------------------------------------------------------

def test_zero_pad_and_crop_per_side():
    r = net([3, 10, 12], "zero_pad: {padding: [[1, 2], [0, 3]]}", "crop: {cropping: [[1, 2], [0, 3]]}")
    assert r.layers[0].output_shape == (3, 13, 15)
    assert r.layers[1].output_shape == (3, 10, 12)
    # pad then crop the same amounts: the identity on the receptive field too
    assert all(a.size == 1 and a.jump == 1 and a.start == 0 for a in r.output_rf)
    assert r.layers[0].rf[0].start == -1 and r.layers[0].rf[1].start == 0
    assert net([3, 10], "zero_pad: {padding: 2}").layers[0].output_shape == (3, 14)
    assert net([3, 4, 10, 10], "crop: {cropping: [0, 1, [2, 3]]}").layers[0].output_shape == (3, 4, 8, 5)


def test_explicit_pad_then_valid_conv_equals_padded_conv():
    a = net([1, 9, 9], "zero_pad: {padding: 1}", "conv: {out_channels: 1, kernel_size: 3, stride: 2}")
    b = net([1, 9, 9], "conv: {out_channels: 1, kernel_size: 3, stride: 2, padding: 1}")
    assert a.layers[-1].output_shape == b.layers[-1].output_shape
    assert a.output_rf == b.output_rf


# -- causal dilated 1D convolution (WaveNet figure 3) ----------------------------------------------

def test_causal_dilated_stack_wavenet_figure_3():
    # dilations 1, 2, 4, 8 with kernel 2: receptive field 1 + (1 + 2 + 4 + 8) = 16, length kept,
    # and the field of output t ends at input t (nothing from the future)
    layers = [f"conv: {{out_channels: 8, kernel_size: 2, dilation: {d}, padding: causal}}" for d in (1, 2, 4, 8)]
    r = net([1, 100], *layers)
    assert all(layer.output_shape == (8, 100) for layer in r.layers)
    rf = r.output_rf[0]
    assert rf.size == 16 and rf.jump == 1
    assert rf.start + Fraction(rf.size - 1, 2) == 0  # last input cell seen by output 0 is cell 0


# -- 3D convolution and pooling ------------------------------------------------------------------

def test_3d_conv_and_pool():
    # C3D's first block on a 16×112×112 clip: 3×3×3 conv, padding 1, 64 kernels; 1×2×2 pool
    r = net([3, 16, 112, 112], "conv3d: {out_channels: 64, kernel_size: 3, padding: 1}", "max_pool3d: {kernel_size: [1, 2, 2]}")
    conv, pool = r.layers
    assert conv.output_shape == (64, 16, 112, 112)
    assert conv.params.trainable == 64 * 3 * 27 + 64 == 5248
    assert conv.multiplications == 64 * 3 * 27 * 16 * 112 * 112
    assert pool.output_shape == (64, 16, 56, 56)
    assert [a.size for a in r.output_rf] == [3, 4, 4]
    assert [a.jump for a in r.output_rf] == [1, 2, 2]


# -- 1×1 convolution (lectures: change the number of feature maps, keep the spatial size) ---------

def test_one_by_one_conv_channel_reduction_cost():
    # 28×28×192 → 16 maps with a 1×1 conv before an expensive 5×5 (the Inception bottleneck):
    # direct 5×5 to 32 maps: 28·28·32·192·25 = 120,422,400 multiplications;
    # via 1×1 to 16 first: 28·28·16·192 + 28·28·32·16·25 = 2,408,448 + 10,035,200 = 12,443,648
    direct = net([192, 28, 28], "conv: {out_channels: 32, kernel_size: 5, padding: same, bias: false}")
    reduced = net(
        [192, 28, 28],
        "conv: {out_channels: 16, kernel_size: 1, bias: false}",
        "conv: {out_channels: 32, kernel_size: 5, padding: same, bias: false}",
    )
    assert reduced.layers[0].output_shape == (16, 28, 28)
    assert all(a.size == 1 for a in reduced.layers[0].rf)
    assert direct.totals.multiplications == 120_422_400
    assert reduced.totals.multiplications == 12_443_648
    assert reduced.totals.params == 192 * 16 + 16 * 32 * 25
