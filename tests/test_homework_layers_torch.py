"""cnncalc run's exact taps (resampling, unpooling, pooling, fractional strides, transposed
convolution backward, activations) against PyTorch on random small inputs (float64)."""

import random
from fractions import Fraction as Fr

import pytest

from cnncalc.homework import kernels as K
from cnncalc.homework import steps
from cnncalc.homework import taps as T

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch


def rand(rng, *shape):
    if len(shape) == 1:
        return [Fr(rng.randint(-40, 40), 8) + Fr(rng.randint(0, 999), 10**5) for _ in range(shape[0])]
    return [rand(rng, *shape[1:]) for _ in range(shape[0])]


def tt(x, grad=False):
    return torch.tensor([[[[float(v) for v in r] for r in c] for c in x]], dtype=torch.float64,
                        requires_grad=grad)


def same(ours, theirs):
    a = torch.tensor([[[float(v) for v in r] for r in c] for c in ours], dtype=torch.float64)
    return torch.allclose(a, theirs.reshape(a.shape), rtol=0, atol=1e-9)


def check_linear(x, out_shape, taps, torch_fn, rng):
    """Forward y = Mx and backward δx = Mᵀδy against torch's function and autograd."""
    shape = K.shape_of(x)
    y = T.reshape(T.apply(taps, T.flatten(x)), out_shape)
    dy = rand(rng, *out_shape)
    dx = T.reshape(T.apply_transposed(taps, T.flatten(dy), T.size(shape)), shape)
    tx = tt(x, True)
    ty = torch_fn(tx)
    assert same(y, ty[0].detach()), f"forward: Mine {y} Theirs {ty}"
    ty.backward(tt(dy).reshape(ty.shape))
    assert same(dx, tx.grad[0]), f"backward: Mine {dx} Theirs {tx.grad}"


@pytest.mark.parametrize("seed", range(8))
def test_upsampling_and_unpooling(seed):
    rng = random.Random(seed)
    c, h, w = rng.randint(1, 2), rng.randint(1, 4), rng.randint(1, 4)
    f = (rng.randint(1, 3), rng.randint(1, 3))
    x = rand(rng, c, h, w)
    out, taps = T.nearest((c, h, w), f)
    check_linear(x, out, taps, lambda t: F.interpolate(t, scale_factor=f, mode="nearest"), rng)
    out, taps = T.bilinear((c, h, w), f)
    check_linear(x, out, taps, lambda t: F.interpolate(t, scale_factor=f, mode="bilinear", align_corners=False), rng)
    out, taps = T.downsample((c, h, w), f)
    check_linear(x, out, taps, lambda t: t[:, :, ::f[0], ::f[1]], rng)
    # uSample (zeros between) and bed of nails (value then zeros) are transposed convolutions with
    # a one-hot kernel, per channel
    one = torch.ones(c, 1, 1, 1, dtype=torch.float64)
    out, taps = T.upsample_zeros((c, h, w), f)
    check_linear(x, out, taps, lambda t: F.conv_transpose2d(t, one, stride=f, groups=c), rng)
    nail = torch.zeros(c, 1, *f, dtype=torch.float64)
    nail[:, :, 0, 0] = 1
    out, taps = T.bed_of_nails((c, h, w), f)
    check_linear(x, out, taps, lambda t: F.conv_transpose2d(t, nail, stride=f, groups=c), rng)


@pytest.mark.parametrize("seed", range(8))
def test_max_unpool_with_switches(seed):
    rng = random.Random(seed)
    c, k = rng.randint(1, 2), (rng.randint(1, 3), rng.randint(1, 3))
    h, w = k[0] * rng.randint(1, 3), k[1] * rng.randint(1, 3)
    x = rand(rng, c, h, w)
    pooled, _, pos = K.max_pool2d(x, k, k)
    taps = T.max_unpool(K.shape_of(pooled), (c, h, w), pos)
    _, idx = F.max_pool2d(tt(x), k, k, return_indices=True)
    check_linear(pooled, (c, h, w), taps, lambda t: F.max_unpool2d(t, idx, k, k, output_size=(h, w)), rng)


@pytest.mark.parametrize("seed", range(8))
def test_adaptive_and_global_pools(seed):
    rng = random.Random(seed)
    c, h, w = rng.randint(1, 2), rng.randint(1, 6), rng.randint(1, 6)
    o = (rng.randint(1, h), rng.randint(1, w))
    x = rand(rng, c, h, w)
    out, taps = T.adaptive_avg((c, h, w), o)
    check_linear(x, out, taps, lambda t: F.adaptive_avg_pool2d(t, o), rng)
    out, taps, _ = T.adaptive_max(x, o)
    check_linear(x, out, taps, lambda t: F.adaptive_max_pool2d(t, o), rng)
    out, taps, _ = T.global_max(x)
    check_linear(x, out, taps, lambda t: t.amax(dim=(2, 3), keepdim=True), rng)
    k = rng.randint(1, w)
    out, taps, _ = T.kmax(x, k, 1)
    check_linear(x, out, taps, lambda t: t.gather(3, t.topk(k, dim=3).indices.sort(dim=3).values), rng)


@pytest.mark.parametrize("seed", range(8))
def test_fractional_stride_is_a_transposed_convolution(seed):
    # Conv(uSample(X | u) | W, padding P) = conv_transpose2d(X, rot180(W), stride u, padding F − 1 − P)
    rng = random.Random(seed)
    u, k = rng.randint(2, 3), rng.randint(1, 3)
    p = rng.randint(max(0, k - 2), k - 1)  # keeps the output at least one cell wide
    x = rand(rng, 1, rng.randint(2, 4), rng.randint(2, 4))
    wt = rand(rng, 1, 1, k, k)
    out, taps = T.conv(K.shape_of(x), wt, (1, 1), ((p, p), (p, p)), (1, 1), 1, (u, u))
    tw = torch.tensor([[[[float(v) for v in r] for r in K.flip(wt)[0][0]]]], dtype=torch.float64)
    check_linear(x, out, taps, lambda t: F.conv_transpose2d(t, tw, stride=u, padding=k - 1 - p), rng)


@pytest.mark.parametrize("seed", range(8))
def test_lp_pool_forward_and_backward(seed):
    rng = random.Random(seed)
    k = rng.randint(1, 3)
    x = [[[Fr(rng.randint(1, 9)) for _ in range(2 * k)] for _ in range(2 * k)]]
    from cnncalc.layers.pooling import LPPool
    from types import SimpleNamespace

    layer = LPPool(kernel_size=k, norm_type=2)
    node = SimpleNamespace(layer=layer, index=1, name="l2", type_name="lp_pool")
    done = steps.lp_pool(node, [x], None, "X")
    dy = rand(rng, 1, 2, 2)
    from cnncalc.homework.worked import Block

    dx = done.backward(dy, Block(""))[0]
    tx = tt(x, True)
    ty = F.lp_pool2d(tx, 2, k)
    assert torch.allclose(torch.tensor([float(v) for v in T.flatten(done.y)], dtype=torch.float64),
                          ty.flatten(), atol=1e-6)
    ty.backward(tt(dy))
    assert torch.allclose(torch.tensor([float(v) for v in T.flatten(dx)], dtype=torch.float64),
                          tx.grad.flatten(), atol=1e-5)


@pytest.mark.parametrize("name,fn", [("sigmoid", torch.sigmoid), ("tanh", torch.tanh), ("gelu", F.gelu),
                                     ("silu", F.silu), ("softplus", F.softplus), ("mish", F.mish),
                                     ("hardswish", F.hardswish), ("hardsigmoid", F.hardsigmoid),
                                     ("relu6", F.relu6)])
def test_activations(name, fn):
    from types import SimpleNamespace

    from cnncalc.homework.worked import Block
    from cnncalc.layers.base import REGISTRY

    rng = random.Random(name)
    x = rand(rng, 1, 3, 3)
    x[0][0][0] = Fr(7, 2)  # inside hardswish's middle piece
    node = SimpleNamespace(layer=REGISTRY[name](), index=1, name=name, type_name=name)
    env = SimpleNamespace(results={name: SimpleNamespace(output_shape=(1, 3, 3))}, notation=None)
    done = steps.elementwise(node, [x], env, "X")
    dy = rand(rng, 1, 3, 3)
    dx = done.backward(dy, Block(""))[0]
    tx = tt(x, True)
    ty = fn(tx)
    ty.backward(tt(dy))
    assert torch.allclose(torch.tensor(T.flatten([[[float(v) for v in r] for r in c] for c in done.y]),
                                       dtype=torch.float64), ty.flatten(), atol=1e-6)
    assert torch.allclose(torch.tensor([float(v) for v in T.flatten(dx)], dtype=torch.float64),
                          tx.grad.flatten(), atol=1e-4)


@pytest.mark.parametrize("seed", range(6))
def test_conv_transpose_backward(seed, spec_file):
    from cnncalc.homework.worked import load_and_run

    rng = random.Random(seed)
    s, k, p = rng.randint(1, 3), rng.randint(1, 3), 0
    x = rand(rng, 1, rng.randint(1, 3), rng.randint(1, 3))
    wt = rand(rng, 1, 1, k, k)
    y = K.conv_transpose2d(x, wt, None, (s, s), ((p, p), (p, p)))
    dy = rand(rng, *K.shape_of(y))
    text = (f"values: {[[str(v) for v in r] for r in x[0]]}\nlayers:\n  - conv_transpose: {{out_channels: 1, "
            f"kernel_size: {k}, stride: {s}, bias: false}}\n    weights: {[[str(v) for v in r] for r in wt[0][0]]}\n"
            f"grad_output: {[[str(v) for v in r] for r in dy[0]]}\n")
    run = load_and_run(spec_file(text), backward=True)
    tx, tw = tt(x, True), tt(wt[0], True)
    ty = F.conv_transpose2d(tx, tw, stride=s)
    ty.backward(tt(dy))
    assert same(run.input_grad, tx.grad[0])


@pytest.mark.parametrize("seed", range(4))
def test_softmax_batch_norm_locally_connected(seed, spec_file):
    from cnncalc.homework.worked import load_and_run

    rng = random.Random(seed)
    x = rand(rng, 2, 3, 3)
    dy = rand(rng, 2, 3, 3)
    for layer, fn in (("softmax: {}", lambda t: F.softmax(t, dim=1)),
                      ("log_softmax: {}", lambda t: F.log_softmax(t, dim=1)),
                      ("batch_norm: {}", lambda t: F.batch_norm(t, None, None, training=True, eps=1e-5))):
        text = (f"values: {[[[str(v) for v in r] for r in c] for c in x]}\nlayers:\n  - {layer}\n"
                f"grad_output: {[[[str(v) for v in r] for r in c] for c in dy]}\n")
        run = load_and_run(spec_file(text), backward=True)
        tx = tt(x, True)
        ty = fn(tx)
        ty.backward(tt(dy))
        y = list(run.outputs.values())[-1]
        assert torch.allclose(torch.tensor(T.flatten(y), dtype=torch.float64).double(), ty.flatten(), atol=2e-6), layer
        assert torch.allclose(torch.tensor([float(v) for v in T.flatten(run.input_grad)], dtype=torch.float64),
                              tx.grad.flatten(), atol=5e-6), layer


@pytest.mark.parametrize("seed", range(6))
def test_1d_causal_convolution(seed, spec_file):
    from cnncalc.homework.worked import load_and_run

    rng = random.Random(seed)
    k, d, n = rng.randint(1, 3), rng.randint(1, 2), rng.randint(4, 7)
    x = rand(rng, 1, n)[0]
    wt = rand(rng, 1, k)[0]
    dy = rand(rng, 1, n)[0]
    text = (f"values: {[str(v) for v in x]}\nlayers:\n  - conv: {{out_channels: 1, kernel_size: {k}, dilation: {d}, "
            f"padding: causal, bias: false}}\n    weights: {[str(v) for v in wt]}\ngrad_output: {[str(v) for v in dy]}\n")
    run = load_and_run(spec_file(text), backward=True)
    tx = torch.tensor([[[float(v) for v in x]]], dtype=torch.float64, requires_grad=True)
    tw = torch.tensor([[[float(v) for v in wt]]], dtype=torch.float64)
    ty = F.conv1d(F.pad(tx, (d * (k - 1), 0)), tw, dilation=d)
    ty.backward(torch.tensor([[[float(v) for v in dy]]], dtype=torch.float64))
    assert torch.allclose(torch.tensor([float(v) for v in T.flatten(list(run.outputs.values())[-1])],
                                       dtype=torch.float64), ty.flatten())
    assert torch.allclose(torch.tensor([float(v) for v in T.flatten(run.input_grad)], dtype=torch.float64),
                          tx.grad.flatten())
