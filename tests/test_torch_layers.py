"""PyTorch as the oracle for the lecture-catalogue layers: randomised
configurations, compared on output shape, parameter count and (for the
transposed convolution) multiplications against torch's FlopCounterMode,
which reports FLOPs = 2 × MACs counted on the input side."""

import random

import pytest

from cnncalc import SpecError
from conftest import analyze_text

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

N_CASES = 15
AXES = {1: "L", 2: "HW", 3: "DHW"}


def yaml_list(values):
    return "[" + ", ".join(str(v) for v in values) + "]"


def ours(shape, layer):
    text = f"input: {yaml_list(shape)}\nlayers:\n  - {layer}\n"
    return analyze_text(text).layers[-1]


def diff(what, mine, theirs, config):
    return f"{what} differs for {config}\n  Mine:   {mine}\n  Theirs: {theirs}"


def torch_cls(base, nd):
    return getattr(torch.nn, f"{base}{nd}d")


def random_tconv(rng):
    nd = rng.choice([1, 2, 3])
    groups = rng.choice([1, 1, 2, 3])
    c_in = groups * rng.randint(1, 3)
    c_out = groups * rng.randint(1, 3)
    k = [rng.randint(1, 4) for _ in range(nd)]
    s = [rng.randint(1, 3) for _ in range(nd)]
    d = [rng.randint(1, 2) for _ in range(nd)]
    p = [rng.randint(0, d[a] * (k[a] - 1)) for a in range(nd)]
    op = [rng.randint(0, max(s[a], d[a]) - 1) for a in range(nd)]
    size = [rng.randint(1, 6) for _ in range(nd)]
    bias = rng.random() < 0.5
    return nd, groups, c_in, c_out, k, s, d, p, op, size, bias


@pytest.mark.parametrize("seed", range(N_CASES))
def test_conv_transpose_matches_torch(seed):
    from torch.utils.flop_counter import FlopCounterMode

    rng = random.Random(seed)
    nd, groups, c_in, c_out, k, s, d, p, op, size, bias = random_tconv(rng)
    m = torch_cls("ConvTranspose", nd)(c_in, c_out, k, s, p, op, groups, bias, d)
    x = torch.zeros(1, c_in, *size)
    config = dict(nd=nd, groups=groups, c_in=c_in, c_out=c_out, k=k, s=s, d=d, p=p, op=op, size=size, bias=bias)
    spec = (
        f"conv_transpose: {{out_channels: {c_out}, kernel_size: {yaml_list(k)}, stride: {yaml_list(s)}, "
        f"padding: {yaml_list(p)}, output_padding: {yaml_list(op)}, dilation: {yaml_list(d)}, "
        f"groups: {groups}, bias: {str(bias).lower()}}}"
    )
    try:
        with FlopCounterMode(display=False) as counter:
            y = m(x)
        empty = 0 in y.shape
    except RuntimeError:
        empty = True
    if empty:  # padding removes the whole output (torch errs or returns an empty tensor): refuse it
        with pytest.raises(SpecError, match="removes too much"):
            ours([c_in, *size], spec)
        return
    layer = ours([c_in, *size], spec)
    assert layer.output_shape == tuple(y.shape[1:]), diff("shape", layer.output_shape, tuple(y.shape[1:]), config)
    n_params = sum(t.numel() for t in m.parameters())
    assert layer.params.trainable == n_params, diff("params", layer.params.trainable, n_params, config)
    flops = counter.get_total_flops()
    assert 2 * layer.multiplications == flops, diff("2 × MACs", 2 * layer.multiplications, flops, config)


def test_conv_transpose_macs_are_not_the_output_side_count():
    # The output-side formula (what counters that treat a transposed conv as a conv report)
    # overstates DCGAN's 4×4 → 8×8 block by s² = 4; torch agrees with the input side.
    from torch.utils.flop_counter import FlopCounterMode

    m = torch.nn.ConvTranspose2d(512, 256, 4, 2, 1, bias=False)
    with FlopCounterMode(display=False) as counter:
        m(torch.zeros(1, 512, 4, 4))
    layer = ours([512, 4, 4], "conv_transpose: {out_channels: 256, kernel_size: 4, stride: 2, padding: 1, bias: false}")
    output_side = 256 * 512 * 16 * 8 * 8
    assert counter.get_total_flops() == 2 * layer.multiplications == 2 * output_side // 4


@pytest.mark.parametrize("seed", range(N_CASES))
def test_max_unpool_matches_torch(seed):
    rng = random.Random(100 + seed)
    nd = rng.choice([1, 2, 3])
    k = [rng.randint(1, 3) for _ in range(nd)]
    s = [rng.randint(1, 3) for _ in range(nd)]
    p = [rng.randint(0, k[a] // 2) for a in range(nd)]
    size = [rng.randint(k[a], 9) for a in range(nd)]
    pool = torch_cls("MaxPool", nd)(k, s, p, return_indices=True)
    unpool = torch_cls("MaxUnpool", nd)(k, s, p)
    x = torch.randn(1, 2, *size)
    pooled, idx = pool(x)
    y = unpool(pooled, idx, output_size=x.shape)
    r = analyze_text(
        f"input: {yaml_list([2, *size])}\nlayers:\n"
        f"  - max_pool: {{kernel_size: {yaml_list(k)}, stride: {yaml_list(s)}, padding: {yaml_list(p)}}}\n"
        "    name: p\n  - max_unpool: {pool: p}\n"
    )
    assert r.layers[0].output_shape == tuple(pooled.shape[1:])
    assert r.layers[1].output_shape == tuple(y.shape[1:]), (k, s, p, size)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_upsample_matches_torch(seed):
    rng = random.Random(200 + seed)
    nd = rng.choice([1, 2, 3])
    mode = rng.choice(["nearest", {1: "linear", 2: "bilinear", 3: "trilinear"}[nd]])
    f = [rng.randint(1, 4) for _ in range(nd)]
    size = [rng.randint(1, 7) for _ in range(nd)]
    kw = {} if mode == "nearest" else {"align_corners": False}
    y = torch.nn.Upsample(scale_factor=tuple(float(v) for v in f), mode=mode, **kw)(torch.zeros(1, 3, *size))
    layer = ours([3, *size], f"upsample: {{scale_factor: {yaml_list(f)}, mode: {mode}}}")
    assert layer.output_shape == tuple(y.shape[1:]), (mode, f, size)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_zero_insertion_and_downsample_match_slicing(seed):
    rng = random.Random(300 + seed)
    nd = rng.choice([1, 2, 3])
    f = [rng.randint(1, 4) for _ in range(nd)]
    size = [rng.randint(1, 7) for _ in range(nd)]
    x = torch.randn(1, 2, *size)
    up = torch.zeros(1, 2, *[(i - 1) * u + 1 for i, u in zip(size, f)])
    up[(slice(None), slice(None), *[slice(None, None, u) for u in f])] = x
    assert torch.equal(up[(slice(None), slice(None), *[slice(None, None, u) for u in f])], x)
    assert ours([2, *size], f"upsample: {{scale_factor: {yaml_list(f)}, mode: zeros}}").output_shape == tuple(up.shape[1:])
    down = x[(slice(None), slice(None), *[slice(None, None, u) for u in f])]
    assert ours([2, *size], f"downsample: {{factor: {yaml_list(f)}}}").output_shape == tuple(down.shape[1:])


@pytest.mark.parametrize("seed", range(N_CASES))
def test_fractional_stride_conv_matches_zero_insertion_then_torch_conv(seed):
    # the slides' definition computed in torch: uSample by S1, conv with stride S2
    rng = random.Random(400 + seed)
    nd = rng.choice([1, 2])
    # S2/S1 in lowest terms (cnncalc reads a stride as a number: '2/4' is '1/2')
    pairs = [rng.choice([(1, 2), (1, 3), (2, 3), (3, 2), (1, 1), (2, 1)]) for _ in range(nd)]
    s2, s1 = [b for b, _ in pairs], [a for _, a in pairs]
    k = [rng.randint(1, 4) for _ in range(nd)]
    p = [rng.randint(0, 2) for _ in range(nd)]
    size = [rng.randint(2, 6) for _ in range(nd)]
    x = torch.randn(1, 2, *size)
    up = torch.zeros(1, 2, *[(i - 1) * u + 1 for i, u in zip(size, s1)])
    up[(slice(None), slice(None), *[slice(None, None, u) for u in s1])] = x
    if any(u + 2 * q < kk for u, q, kk in zip(up.shape[2:], p, k)):
        pytest.skip("kernel larger than the padded input")
    y = torch_cls("Conv", nd)(2, 3, k, s2, p)(up)
    strides = yaml_list([f"{b}/{a}" for a, b in zip(s1, s2)])
    layer = ours([2, *size], f"conv: {{out_channels: 3, kernel_size: {yaml_list(k)}, stride: {strides}, padding: {yaml_list(p)}}}")
    assert layer.output_shape == tuple(y.shape[1:]), (s1, s2, k, p, size)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_lp_pool_matches_torch(seed):
    rng = random.Random(500 + seed)
    nd = rng.choice([1, 2, 3])
    k = [rng.randint(1, 3) for _ in range(nd)]
    s = [rng.randint(1, 3) for _ in range(nd)]
    size = [rng.randint(k[a], 9) for a in range(nd)]
    ceil = rng.random() < 0.5
    norm = rng.choice([1, 2, 3])
    kt, st = (k[0], s[0]) if nd == 1 else (tuple(k), tuple(s))
    y = torch_cls("LPPool", nd)(norm, kt, st, ceil_mode=ceil)(torch.rand(1, 2, *size))
    layer = ours(
        [2, *size],
        f"lp_pool: {{norm_type: {norm}, kernel_size: {yaml_list(k)}, stride: {yaml_list(s)}, ceil_mode: {str(ceil).lower()}}}",
    )
    assert layer.output_shape == tuple(y.shape[1:]), (k, s, size, ceil)


@pytest.mark.parametrize("seed", range(N_CASES))
def test_adaptive_and_global_pool_match_torch_in_1d_and_3d(seed):
    rng = random.Random(600 + seed)
    nd = rng.choice([1, 3])
    size = [rng.randint(1, 9) for _ in range(nd)]
    out = [rng.randint(1, 9) for _ in range(nd)]
    x = torch.zeros(1, 4, *size)
    y = torch_cls("AdaptiveAvgPool", nd)(out)(x)
    assert ours([4, *size], f"adaptive_avg_pool: {{output_size: {yaml_list(out)}}}").output_shape == tuple(y.shape[1:])
    g = torch_cls("AdaptiveMaxPool", nd)(1)(x).flatten(1)
    assert ours([4, *size], "global_max_pool").output_shape == tuple(g.shape[1:])


@pytest.mark.parametrize("seed", range(N_CASES))
def test_zero_pad_and_crop_match_torch(seed):
    rng = random.Random(700 + seed)
    nd = rng.choice([1, 2, 3])
    size = [rng.randint(3, 8) for _ in range(nd)]
    sides = [[rng.randint(0, 3), rng.randint(0, 3)] for _ in range(nd)]
    # torch's ZeroPad takes (last axis before, after, …, first axis before, after)
    flat = [v for pair in reversed(sides) for v in pair]
    y = torch_cls("ZeroPad", nd)(tuple(flat))(torch.zeros(1, 2, *size))
    text = yaml_list([yaml_list(pair) for pair in sides])
    assert ours([2, *size], f"zero_pad: {{padding: {text}}}").output_shape == tuple(y.shape[1:])
    crops = [[rng.randint(0, (n - 1) // 2), rng.randint(0, (n - 1) // 2)] for n in size]
    x = torch.zeros(1, 2, *size)
    cropped = x[(slice(None), slice(None), *[slice(b, n - a) for (b, a), n in zip(crops, size)])]
    text = yaml_list([yaml_list(pair) for pair in crops])
    assert ours([2, *size], f"crop: {{cropping: {text}}}").output_shape == tuple(cropped.shape[1:])


@pytest.mark.parametrize("seed", range(N_CASES))
def test_3d_conv_and_pools_match_torch(seed):
    rng = random.Random(800 + seed)
    k = [rng.randint(1, 3) for _ in range(3)]
    s = [rng.randint(1, 2) for _ in range(3)]
    d = [rng.randint(1, 2) for _ in range(3)]
    p = [rng.randint(0, k[a] // 2) for a in range(3)]
    size = [rng.randint(d[a] * (k[a] - 1) + 1, 8) for a in range(3)]
    ceil = rng.random() < 0.5
    x = torch.zeros(1, 2, *size)
    conv = torch.nn.Conv3d(2, 4, k, s, p, d)
    layer = ours(
        [2, *size],
        f"conv3d: {{out_channels: 4, kernel_size: {yaml_list(k)}, stride: {yaml_list(s)}, padding: {yaml_list(p)}, dilation: {yaml_list(d)}}}",
    )
    assert layer.output_shape == tuple(conv(x).shape[1:])
    assert layer.params.trainable == sum(t.numel() for t in conv.parameters())
    mp = torch.nn.MaxPool3d(k, s, p, d, ceil_mode=ceil)(x)
    layer = ours(
        [2, *size],
        f"max_pool3d: {{kernel_size: {yaml_list(k)}, stride: {yaml_list(s)}, padding: {yaml_list(p)}, "
        f"dilation: {yaml_list(d)}, ceil_mode: {str(ceil).lower()}}}",
    )
    assert layer.output_shape == tuple(mp.shape[1:])
    ap = torch.nn.AvgPool3d(k, s, p, ceil_mode=ceil)(x)
    layer = ours(
        [2, *size],
        f"avg_pool3d: {{kernel_size: {yaml_list(k)}, stride: {yaml_list(s)}, padding: {yaml_list(p)}, ceil_mode: {str(ceil).lower()}}}",
    )
    assert layer.output_shape == tuple(ap.shape[1:])


@pytest.mark.parametrize("seed", range(10))
def test_causal_dilated_conv1d_matches_left_padded_torch_conv(seed):
    rng = random.Random(900 + seed)
    k, d, n = rng.randint(1, 4), rng.randint(1, 8), rng.randint(1, 40)
    x = torch.nn.functional.pad(torch.zeros(1, 2, n), (d * (k - 1), 0))
    y = torch.nn.Conv1d(2, 3, k, dilation=d)(x)
    layer = ours([2, n], f"conv1d: {{out_channels: 3, kernel_size: {k}, dilation: {d}, padding: causal}}")
    assert layer.output_shape == tuple(y.shape[1:]) == (3, n)


@pytest.mark.parametrize("seed", range(10))
def test_kmax_matches_topk(seed):
    rng = random.Random(1000 + seed)
    nd = rng.choice([1, 2])
    size = [rng.randint(1, 9) for _ in range(nd)]
    axis = rng.randrange(nd)
    k = rng.randint(1, size[axis])
    y = torch.randn(1, 2, *size).topk(k, dim=2 + axis).values
    assert ours([2, *size], f"kmax_pool: {{k: {k}, axis: {axis}}}").output_shape == tuple(y.shape[1:])
