"""Test helper: run an analysed cnncalc graph with torch.nn.functional, using
the weights of a cnncalc executor Network, so that outputs, gradients and the
bytes torch saves for backward can be compared with cnncalc's.

Only symmetric padding is passed to torch's own ops (as real torch models do);
asymmetric padding goes through F.pad first.
"""

from __future__ import annotations

from math import prod

import torch
import torch.nn.functional as F

from cnncalc.graph import INPUT
from cnncalc.layers.fields import per_axis

_ACT = {
    "relu": lambda x, L: F.relu(x),
    "relu6": lambda x, L: F.relu6(x),
    "leaky_relu": lambda x, L: F.leaky_relu(x, L.negative_slope),
    "elu": lambda x, L: F.elu(x, L.alpha),
    "sigmoid": lambda x, L: torch.sigmoid(x),
    "tanh": lambda x, L: torch.tanh(x),
    "gelu": lambda x, L: F.gelu(x),
    "silu": lambda x, L: F.silu(x),
    "hardswish": lambda x, L: F.hardswish(x),
    "hardsigmoid": lambda x, L: F.hardsigmoid(x),
    "softplus": lambda x, L: F.softplus(x),
    "mish": lambda x, L: F.mish(x),
    "identity": lambda x, L: x,
    "softmax": lambda x, L: F.softmax(x, dim=L.dim + 1),
    "log_softmax": lambda x, L: F.log_softmax(x, dim=L.dim + 1),
}


def _fn(name, nd):
    return getattr(F, f"{name}{nd}d")


def _sym(pads):
    """Symmetric padding as torch's ints, or None."""
    return [b for b, _ in pads] if all(b == a for b, a in pads) else None


def _pad(x, pads, value=0.0):
    flat = [v for b, a in reversed(pads) for v in (b, a)]
    return F.pad(x, flat, value=value) if any(flat) else x


class TorchRun:
    """The forward pass of ``net`` (a cnncalc Network) in torch, same weights."""

    def __init__(self, net, dtype=torch.float64):
        self.net = net
        self.dtype = dtype
        self.params = {}
        for name, k in net.kernels.items():
            for p, a in {**k.params}.items():
                self.params[(name, p)] = torch.tensor(a, dtype=dtype, requires_grad=True)
            for p, a in k.buffers.items():
                self.params[(name, p)] = torch.tensor(a, dtype=dtype)
        self.indices = {}

    def p(self, name, key):
        return self.params.get((name, key))

    def forward(self, x):
        values = {INPUT: x}
        for node in self.net.graph.nodes:
            values[node.name] = self.layer(node, [values[s] for s in node.inputs])
        return {n: values[n] for n in self.net.outputs}

    def layer(self, node, xs):  # noqa: C901 - one branch per layer type, read as a table
        L, t, name = node.layer, node.type_name, node.name
        k = self.net.kernels[name]
        x = xs[0]
        nd = x.dim() - 2
        if t in _ACT:
            return _ACT[t](x, L)
        if t in ("conv", "locally_connected") and any(u > 1 for u in k.ups):
            # fractional stride S2/S1: S1 − 1 zeros between the cells first (the lectures' uSample)
            up = x.new_zeros((*x.shape[:2], *((i - 1) * u + 1 for i, u in zip(x.shape[2:], k.ups))))
            up[(slice(None), slice(None), *(slice(None, None, u) for u in k.ups))] = x
            x = up
        if t == "conv":
            sym = _sym(k.pads)
            if sym is None:
                x, sym = _pad(x, k.pads), 0
            return _fn("conv", nd)(x, self.p(name, "weight"), self.p(name, "bias"), k.strides, sym, k.dilations, k.groups)
        if t == "conv_transpose":
            op = per_axis(L.output_padding, nd, "output_padding")
            y = _fn("conv_transpose", nd)(x, self.p(name, "weight"), self.p(name, "bias"), k.strides, 0, op,
                                         k.groups, k.dilations)
            return y[(slice(None), slice(None), *(slice(b, b + o) for (b, _), o in zip(k.pads, k.outs)))]
        if t == "dense":
            return F.linear(x, self.p(name, "weight"), self.p(name, "bias"))
        if t == "flatten":
            return x.flatten(1)
        if t == "batch_norm":
            return F.batch_norm(x, self.p(name, "running_mean"), self.p(name, "running_var"), self.p(name, "weight"),
                                self.p(name, "bias"), True, L.momentum, L.eps)
        if t == "dropout":
            mask = torch.tensor(__import__("numpy").random.default_rng(k.seed).random(tuple(x.shape)) >= L.p)
            return x * mask / (1 - L.p)
        if t in ("max_pool", "avg_pool", "lp_pool"):
            sym = _sym(k.pads)
            assert sym is not None, "torch pools take symmetric padding only"
            if t == "max_pool":
                y, idx = _fn("max_pool", nd)(x, k.kernels, k.strides, sym, k.dilations, L.ceil_mode, return_indices=True)
                self.indices[name] = idx
                return y
            if t == "avg_pool":
                return _fn("avg_pool", nd)(x, k.kernels, k.strides, sym, L.ceil_mode, L.count_include_pad)
            assert not any(sym)
            kernels = k.kernels[0] if nd == 1 else k.kernels  # lp_pool1d multiplies by kernel_size as given
            return _fn("lp_pool", nd)(x, L.norm_type, kernels, k.strides, L.ceil_mode)
        if t == "adaptive_avg_pool":
            return _fn("adaptive_avg_pool", nd)(x, k.out_shape[1:])
        if t == "adaptive_max_pool":
            return _fn("adaptive_max_pool", nd)(x, k.out_shape[1:])
        if t in ("global_avg_pool", "global_max_pool"):
            dims = tuple(range(2, x.dim()))
            y = x.mean(dims, keepdim=L.keepdims) if t == "global_avg_pool" else x.amax(dims, keepdim=L.keepdims)
            return y
        if t == "add":
            return sum(xs[1:], xs[0])
        if t == "concat":
            return torch.cat(xs, dim=L.dim + 1)
        if t == "multiply":
            rank = max(v.dim() for v in xs)
            y = None
            for v in xs:
                v = v.reshape(*v.shape, *(1,) * (rank - v.dim())) if v.dim() == 2 else v
                y = v if y is None else y * v
            return y
        if t == "upsample":
            f = k.factors
            if L.mode == "zeros":
                y = x.new_zeros((*x.shape[:2], *((i - 1) * s + 1 for i, s in zip(x.shape[2:], f))))
                y[(slice(None), slice(None), *(slice(None, None, s) for s in f))] = x
                return y
            return F.interpolate(x, scale_factor=tuple(float(s) for s in f), mode=L.mode,
                                 **({} if L.mode == "nearest" else {"align_corners": False}))
        if t == "downsample":
            return x[(slice(None), slice(None), *(slice(None, None, s) for s in k.factors))]
        if t == "unpool":
            if L.mode == "nearest":
                for a, s in enumerate(k.factors):
                    x = x.repeat_interleave(s, dim=2 + a)
                return x
            y = x.new_zeros((x.shape[0], *k.out_shape))
            y[(slice(None), slice(None), *(slice(None, None, s) for s in k.factors))] = x
            return y
        if t == "max_unpool":
            pool = self.net.kernels[L.pool]
            return _fn("max_unpool", nd)(x, self.indices[L.pool], pool.kernels, pool.strides, _sym(pool.pads),
                                         output_size=k.out_shape[1:])
        if t == "kmax_pool":
            axis = k.axis
            idx = x.topk(L.k, dim=axis).indices.sort(dim=axis).values
            return x.gather(axis, idx)
        if t == "zero_pad":
            return _pad(x, k.sides)
        if t == "crop":
            return x[(slice(None), slice(None), *(slice(b, b + o) for (b, _), o in zip(k.sides, k.out_shape[1:])))]
        if t == "layer_norm":
            axes = L.axes(k.in_shapes[0])
            if axes == (0,):  # channels at each position: LayerNorm2d (permute, layer_norm, permute back)
                y = F.layer_norm(x.movedim(1, -1), (x.shape[1],), self.p(name, "weight"), self.p(name, "bias"), L.eps)
                return y.movedim(-1, 1)
            return F.layer_norm(x, tuple(x.shape[1 + axes[0]:]), self.p(name, "weight"), self.p(name, "bias"), L.eps)
        if t == "group_norm":
            return F.group_norm(x, L.num_groups, self.p(name, "weight"), self.p(name, "bias"), L.eps)
        if t == "instance_norm":
            return F.instance_norm(x, self.p(name, "running_mean"), self.p(name, "running_var"), self.p(name, "weight"),
                                   self.p(name, "bias"), True, L.momentum, L.eps)
        if t == "layer_scale":
            return x * self.p(name, "weight").reshape(-1, *(1,) * (x.dim() - 2))
        if t == "stochastic_depth":  # torchvision.ops.stochastic_depth with the kernel's draws
            keep = torch.tensor(k.keep(x.shape[0]), dtype=x.dtype)
            noise = keep.reshape(-1, *(1,) * (x.dim() - 1))
            return x * (noise / (1 - L.p) if L.p < 1 else noise)
        if t == "split":
            return x
        if t == "slice":
            start, stop = L.bounds(k.in_shapes[0])
            return x.narrow(L.dim + 1, start, stop - start)[(slice(None),) * (L.dim + 1) + (slice(None, None, L.step),)]
        if t == "channel_shuffle":
            return F.channel_shuffle(x, L.groups) if x.dim() > 2 else torch.nn.ChannelShuffle(L.groups)(x)
        if t == "pixel_shuffle":
            return F.pixel_shuffle(x, L.upscale_factor)
        if t == "pixel_unshuffle":
            return F.pixel_unshuffle(x, L.downscale_factor)
        if t == "mean":
            return x.mean([d + 1 for d in L.dim], keepdim=L.keepdim)
        raise NotImplementedError(t)


def saved_bytes(run: TorchRun, x) -> int:
    """Bytes of the tensors torch's autograd saves for backward during a
    forward pass, each storage once, parameters and buffers excluded."""
    own = {p.untyped_storage().data_ptr() for p in run.params.values()}
    storages = {}

    def pack(t):
        s = t.untyped_storage()
        if s.data_ptr() not in own:
            storages[s.data_ptr()] = s.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        outputs = run.forward(x)
    del outputs
    return sum(storages.values())


def numel(shape):
    return prod(shape)
