"""cnncalc run's exact kernels against PyTorch on random small inputs (float64)."""

import random
from fractions import Fraction as Fr

import pytest

from cnncalc.homework import kernels as K

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def rand_tensor(rng, *shape, distinct=False):
    if len(shape) == 1:
        return [Fr(rng.randint(-40, 40), 8) + (Fr(rng.random()).limit_denominator(997) / 1000 if distinct else 0)
                for _ in range(shape[0])]
    return [rand_tensor(rng, *shape[1:], distinct=distinct) for _ in range(shape[0])]


def T(x):
    return torch.tensor([[[[float(v) for v in r] for r in c] for c in x]] if not isinstance(x[0][0][0], list)
                        else [[[[float(v) for v in r] for r in c] for c in o] for o in x], dtype=torch.float64)


def close(ours, theirs):
    a = torch.tensor([[[float(v) for v in r] for r in c] for c in ours], dtype=torch.float64)
    return torch.allclose(a, theirs, rtol=0, atol=1e-9)


CASES = [dict(seed=s) for s in range(12)]


def config(rng):
    groups = rng.choice([1, 1, 2])
    c_in = groups * rng.randint(1, 2)
    c_out = groups * rng.randint(1, 2)
    k = (rng.randint(1, 3), rng.randint(1, 3))
    d = (rng.randint(1, 2), rng.randint(1, 2))
    s = (rng.randint(1, 3), rng.randint(1, 3))
    p = (rng.randint(0, 2), rng.randint(0, 2))
    h = rng.randint(d[0] * (k[0] - 1) + 1, 7)
    w = rng.randint(d[1] * (k[1] - 1) + 1, 7)
    return groups, c_in, c_out, k, d, s, p, h, w


@pytest.mark.parametrize("seed", range(12))
def test_conv_forward_and_backward(seed):
    rng = random.Random(seed)
    groups, c_in, c_out, k, d, s, p, h, w = config(rng)
    x = rand_tensor(rng, c_in, h, w)
    wt = rand_tensor(rng, c_out, c_in // groups, *k)
    b = rand_tensor(rng, c_out)
    pads = ((p[0], p[0]), (p[1], p[1]))
    z = K.conv2d(x, wt, b, s, pads, d, groups)
    tx = T(x).requires_grad_(True)
    tw = T(wt).requires_grad_(True)
    tb = torch.tensor([float(v) for v in b], dtype=torch.float64, requires_grad=True)
    tz = torch.nn.functional.conv2d(tx, tw, tb, stride=s, padding=p, dilation=d, groups=groups)
    assert close(z, tz[0].detach()), f"forward: Mine {z} Theirs {tz}"
    dz = rand_tensor(rng, *K.shape_of(z))
    tz.backward(T(dz))
    dx, dw, db, _ = K.conv2d_backward(x, wt, dz, s, pads, d, groups)
    assert close(dx, tx.grad[0]), f"δX: Mine {dx} Theirs {tx.grad[0]}"
    for o in range(c_out):
        assert close(dw[o], tw.grad[o]), "δW"
    assert torch.allclose(torch.tensor([float(v) for v in db], dtype=torch.float64), tb.grad)


@pytest.mark.parametrize("seed", range(12))
def test_pools_forward_indices_and_backward(seed):
    rng = random.Random(100 + seed)
    k = (rng.randint(1, 3), rng.randint(1, 3))
    s = (rng.randint(1, 3), rng.randint(1, 3))
    p = (rng.randint(0, k[0] // 2), rng.randint(0, k[1] // 2))
    ceil = rng.random() < 0.5
    h, w = rng.randint(k[0], 7), rng.randint(k[1], 7)
    x = rand_tensor(rng, 2, h, w, distinct=True)
    pads = ((p[0], p[0]), (p[1], p[1]))
    y, idx, pos = K.max_pool2d(x, k, s, pads, (1, 1), ceil)
    tx = T(x).requires_grad_(True)
    ty, tind = torch.nn.functional.max_pool2d(tx, k, s, p, ceil_mode=ceil, return_indices=True)
    assert close(y, ty[0].detach())
    flat = [[[u * w + v for (u, v) in row] for row in ch] for ch in pos]
    assert flat == tind[0].tolist()
    dy = rand_tensor(rng, *(len(y), len(y[0]), len(y[0][0])))
    ty.backward(T(dy))
    assert close(K.max_pool2d_backward((2, h, w), pos, dy), tx.grad[0])
    for include in (True, False):
        ya = K.avg_pool2d(x, k, s, pads, ceil, include)
        tx2 = T(x).requires_grad_(True)
        tya = torch.nn.functional.avg_pool2d(tx2, k, s, p, ceil_mode=ceil, count_include_pad=include)
        assert close(ya, tya[0].detach()), f"avg: Mine {ya} Theirs {tya}"
        dya = rand_tensor(rng, *(len(ya), len(ya[0]), len(ya[0][0])))
        tya.backward(T(dya))
        assert close(K.avg_pool2d_backward((2, h, w), k, s, dya, pads, include), tx2.grad[0])


@pytest.mark.parametrize("seed", range(8))
def test_conv_transpose_forward(seed):
    rng = random.Random(200 + seed)
    groups, c_in, c_out, k, d, s, p, h, w = config(rng)
    h, w = rng.randint(1, 4), rng.randint(1, 4)
    op = tuple(rng.randint(0, max(si, di) - 1) for si, di in zip(s, d))
    p = tuple(min(pi, (di * (ki - 1)) // 2) for pi, di, ki in zip(p, d, k))
    x = rand_tensor(rng, c_in, h, w)
    wt = rand_tensor(rng, c_in, c_out // groups, *k)
    b = rand_tensor(rng, c_out)
    y = K.conv_transpose2d(x, wt, b, s, ((p[0], p[0]), (p[1], p[1])), d, op, groups)
    ty = torch.nn.functional.conv_transpose2d(T(x), T(wt), torch.tensor([float(v) for v in b], dtype=torch.float64),
                                              stride=s, padding=p, output_padding=op, groups=groups, dilation=d)
    assert close(y, ty[0]), f"Mine {y} Theirs {ty}"
