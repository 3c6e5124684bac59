"""PyTorch modules for the cnncalc layers torch has no module for.

This file is never imported by cnncalc (it needs torch): ``cnncalc export
--to pytorch`` copies the classes a spec needs, as text, into the file it
writes, so that file imports only torch. Each class is a faithful forward
pass of one cnncalc layer type (same shapes, same parameter count, same
values as cnncalc's numpy executor); ``tests/test_export_torch.py`` checks
that against the executor.
"""

import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    """A named group of layers (a block instance or a repeat group of the
    spec): holds its layers so that state_dict keys read like the spec."""


class Identity(nn.Module):
    """Passes its input through (written to ONNX as a Dropout that does
    nothing, so the layer survives the export as one node)."""

    def forward(self, x):
        return F.dropout(x, 0.0, False)


class Add(nn.Module):
    """Element-wise sum of two or more inputs."""

    def forward(self, *xs):
        y = xs[0]
        for x in xs[1:]:
            y = y + x
        return y


class Concat(nn.Module):
    """Concatenation along one axis of a sample (0 = channels)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = dim

    def forward(self, *xs):
        return torch.cat(xs, dim=self.dim + 1)


class Multiply(nn.Module):
    """Element-wise product; a flat [C] input scales every position of its channel."""

    def forward(self, *xs):
        rank = max(x.dim() for x in xs)
        y = None
        for x in xs:
            if x.dim() == 2 and rank > 2:
                x = x.reshape(*x.shape, *(1,) * (rank - 2))
            y = x if y is None else y * x
        return y


def zero_insert(x, factors):
    """The lectures' uSample: f − 1 zeros between neighbouring cells of each spatial axis."""
    if all(f == 1 for f in factors):
        return x
    sizes = [(n - 1) * f + 1 for n, f in zip(x.shape[2:], factors)]
    y = x.new_zeros((*x.shape[:2], *sizes))
    y[(slice(None), slice(None), *(slice(None, None, f) for f in factors))] = x
    return y


def pad_sides(x, sides, value=0.0):
    """Pad the spatial axes by (before, after) cells each."""
    flat = [v for before_after in reversed(sides) for v in before_after]
    return F.pad(x, flat, value=value) if any(flat) else x


class PaddedConv(nn.Module):
    """A convolution with [before, after] padding per axis and a stride that may
    be a fraction S2/S1: S1 − 1 zeros between the cells, pad, then convolve with
    stride S2. The weight and bias have torch's ConvNd layout."""

    def __init__(self, nd, in_channels, out_channels, kernel_size, stride, sides, dilation, groups, bias, ups):
        super().__init__()
        self.nd, self.stride, self.sides, self.dilation, self.groups, self.ups = (
            nd, tuple(stride), tuple(sides), tuple(dilation), groups, tuple(ups))
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, *kernel_size))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        if self.bias is not None:
            nn.init.uniform_(self.bias, -0.1, 0.1)

    def forward(self, x):
        x = pad_sides(zero_insert(x, self.ups), self.sides)
        conv = (F.conv1d, F.conv2d, F.conv3d)[self.nd - 1]
        return conv(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


class LocallyConnected(nn.Module):
    """A convolution with unshared weights: one kernel (and bias) per output position.
    weight (P, G, C_out/G, C_in/G·∏k) and bias (P, C_out), P = ∏o (cnncalc's executor layout)."""

    def __init__(self, nd, in_channels, out_channels, kernel_size, stride, sides, dilation, groups, bias, ups, outs):
        super().__init__()
        self.kernel_size, self.stride, self.sides, self.dilation, self.groups, self.ups, self.outs = (
            tuple(kernel_size), tuple(stride), tuple(sides), tuple(dilation), groups, tuple(ups), tuple(outs))
        positions, taps = 1, 1
        for o in outs:
            positions *= o
        for k in kernel_size:
            taps *= k
        self.out_channels = out_channels
        fan_in = in_channels // groups * taps
        self.weight = nn.Parameter(torch.randn(positions, groups, out_channels // groups, fan_in) / fan_in ** 0.5)
        self.bias = nn.Parameter(torch.zeros(positions, out_channels)) if bias else None

    def forward(self, x):
        x = pad_sides(zero_insert(x, self.ups), self.sides)
        n, c = x.shape[:2]
        for a, (k, s, d) in enumerate(zip(self.kernel_size, self.stride, self.dilation)):
            x = x.unfold(2 + a, d * (k - 1) + 1, s)[..., ::d]  # a window axis at the end per spatial axis
        nd = len(self.kernel_size)
        g = self.groups
        # (N, C, o1…oN, k1…kN) → (N, P, G, C/G·∏k): per position and group, channel-major then taps
        x = x.reshape(n, g, c // g, *self.outs, *self.kernel_size)
        x = x.permute(0, *range(3, 3 + nd), 1, 2, *range(3 + nd, 3 + 2 * nd))
        x = x.reshape(n, self.weight.shape[0], g, -1)
        y = torch.einsum("npgi,pgoi->npgo", x, self.weight).reshape(n, -1, self.out_channels)  # (N, P, C_out)
        if self.bias is not None:
            y = y + self.bias
        return y.transpose(1, 2).reshape(n, self.out_channels, *self.outs)


class CroppedConvTranspose(nn.Module):
    """A transposed convolution whose output loses [before, after] cells per axis
    (asymmetric padding). The weight and bias have torch's ConvTransposeNd layout."""

    def __init__(self, nd, in_channels, out_channels, kernel_size, stride, sides, output_padding, dilation, groups,
                 bias):
        super().__init__()
        self.nd, self.stride, self.sides, self.output_padding, self.dilation, self.groups = (
            nd, tuple(stride), tuple(sides), tuple(output_padding), tuple(dilation), groups)
        self.weight = nn.Parameter(torch.randn(in_channels, out_channels // groups, *kernel_size) * 0.1)
        self.bias = nn.Parameter(torch.randn(out_channels) * 0.1) if bias else None

    def forward(self, x):
        conv = (F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[self.nd - 1]
        y = conv(x, self.weight, self.bias, self.stride, 0, self.output_padding, self.groups, self.dilation)
        return y[(slice(None), slice(None), *(slice(b, n - a) for (b, a), n in zip(self.sides, y.shape[2:])))]


class PaddedPool(nn.Module):
    """Max, average or Lp pooling with [before, after] padding per axis (torch's
    pools pad symmetrically only). Padded cells never win a max; for an average
    they count as zeros (count_include_pad) or are left out of the divisor."""

    def __init__(self, kind, nd, kernel_size, stride, sides, dilation=None, ceil_mode=False,
                 count_include_pad=True, norm_type=2.0):
        super().__init__()
        self.kind, self.nd, self.kernel_size, self.stride, self.sides = (
            kind, nd, tuple(kernel_size), tuple(stride), tuple(sides))
        self.dilation = tuple(dilation or (1,) * nd)
        self.ceil_mode, self.count_include_pad, self.norm_type = ceil_mode, count_include_pad, norm_type

    def forward(self, x):
        if self.kind == "max":
            pool = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[self.nd - 1]
            return pool(pad_sides(x, self.sides, float("-inf")), self.kernel_size, self.stride, 0, self.dilation,
                        self.ceil_mode)
        avg = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[self.nd - 1]
        if self.kind == "lp":
            p = float(self.norm_type)
            taps = 1
            for k in self.kernel_size:
                taps *= k
            s = avg(pad_sides(x, self.sides) ** p, self.kernel_size, self.stride, 0, self.ceil_mode, True) * taps
            return s ** (1.0 / p)
        y = avg(pad_sides(x, self.sides), self.kernel_size, self.stride, 0, self.ceil_mode, True)
        if self.count_include_pad:
            return y
        ones = pad_sides(torch.ones_like(x[:1, :1]), self.sides)
        return y / avg(ones, self.kernel_size, self.stride, 0, self.ceil_mode, True)


class GlobalPool(nn.Module):
    """Mean or maximum of each whole feature map: [N, C, ...] → [N, C] (or [N, C, 1, ...])."""

    def __init__(self, kind, keepdims=False):
        super().__init__()
        self.kind, self.keepdims = kind, keepdims

    def forward(self, x):
        dims = tuple(range(2, x.dim()))
        if self.kind == "max":
            return x.amax(dim=dims, keepdim=self.keepdims)
        return x.mean(dim=dims, keepdim=self.keepdims)


class KMaxPool(nn.Module):
    """K-max pooling: along one spatial axis keep the K largest values, in their original order."""

    def __init__(self, k, axis):
        super().__init__()
        self.k, self.axis = k, axis

    def forward(self, x):
        dim = 2 + self.axis
        idx = x.topk(self.k, dim=dim).indices.sort(dim=dim).values
        return x.gather(dim, idx)


class ZeroUpsample(nn.Module):
    """The lectures' uSample: f − 1 zeros between cells, (i − 1)·f + 1 cells per axis."""

    def __init__(self, factors):
        super().__init__()
        self.factors = tuple(factors)

    def forward(self, x):
        return zero_insert(x, self.factors)


class Downsample(nn.Module):
    """Keep every f-th cell (cells 0, f, 2f, …) along each spatial axis."""

    def __init__(self, factors):
        super().__init__()
        self.factors = tuple(factors)

    def forward(self, x):
        return x[(slice(None), slice(None), *(slice(None, None, f) for f in self.factors))]


class BedOfNailsUnpool(nn.Module):
    """Unpooling without switches: each cell becomes a k-sized block holding
    the value in its first cell and zeros elsewhere."""

    def __init__(self, factors):
        super().__init__()
        self.factors = tuple(factors)

    def forward(self, x):
        y = x.new_zeros((*x.shape[:2], *(n * f for n, f in zip(x.shape[2:], self.factors))))
        y[(slice(None), slice(None), *(slice(None, None, f) for f in self.factors))] = x
        return y


class MaxUnpool(nn.Module):
    """Max-unpooling: each value goes back where the named max pool found its
    maximum; called with (pooled values, indices, the pool's input)."""

    def __init__(self, nd, kernel_size, stride, padding):
        super().__init__()
        self.nd, self.kernel_size, self.stride, self.padding = nd, tuple(kernel_size), tuple(stride), tuple(padding)

    def forward(self, x, indices, before):
        unpool = (F.max_unpool1d, F.max_unpool2d, F.max_unpool3d)[self.nd - 1]
        return unpool(x, indices, self.kernel_size, self.stride, self.padding, output_size=before.shape[2:])


class Crop(nn.Module):
    """Remove (before, after) cells on each spatial axis."""

    def __init__(self, sides):
        super().__init__()
        self.sides = tuple(sides)

    def forward(self, x):
        return x[(slice(None), slice(None), *(slice(b, n - a) for (b, a), n in zip(self.sides, x.shape[2:])))]


class ZeroPad(nn.Module):
    """Add (before, after) zeros on each spatial axis."""

    def __init__(self, sides):
        super().__init__()
        self.sides = tuple(sides)

    def forward(self, x):
        return pad_sides(x, self.sides)


class ChannelLayerNorm(nn.LayerNorm):
    """Layer normalisation over the channels at every position (ConvNeXt's
    LayerNorm2d): channels moved last, normalised, moved back."""

    def forward(self, x):
        if x.dim() == 2:
            return super().forward(x)
        last = [0, *range(2, x.dim()), 1]
        back = [0, x.dim() - 1, *range(1, x.dim() - 1)]
        return super().forward(x.permute(last)).permute(back)


class LayerScale(nn.Module):
    """A learned multiplier per channel: y = γ_c·x (weight (C,))."""

    def __init__(self, channels):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))

    def forward(self, x):
        return x * self.weight.reshape(-1, *(1,) * (x.dim() - 2))


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle: channels as [groups, C/groups], transposed, flattened."""

    def __init__(self, groups):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        n, c = x.shape[:2]
        rest = x.shape[2:]
        x = x.reshape(n, self.groups, c // self.groups, *rest).transpose(1, 2)
        return x.reshape(n, c, *rest)


class Mean(nn.Module):
    """Mean over axes of one sample (0 = channels)."""

    def __init__(self, dim, keepdim=False):
        super().__init__()
        self.dim, self.keepdim = tuple(d + 1 for d in dim), keepdim

    def forward(self, x):
        return x.mean(dim=self.dim, keepdim=self.keepdim)


class StochasticDepth(nn.Module):
    """torchvision's StochasticDepth: in training, drops a sample's input (row)
    or the batch's (batch) with probability p and scales survivors by
    1/(1 − p); at inference a dropout that does nothing (kept as one node)."""

    def __init__(self, p, mode="row"):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training:
            return F.dropout(x, self.p, False)
        if self.p == 1.0:
            return x * 0.0
        shape = [x.shape[0] if self.mode == "row" else 1] + [1] * (x.dim() - 1)
        keep = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        return x * keep / (1.0 - self.p)


class Split(nn.Module):
    """torch.split along one axis of a sample; returns the input itself (a
    split's own output) followed by the pieces."""

    def __init__(self, sections, dim=0):
        super().__init__()
        self.sections, self.dim = list(sections), dim

    def forward(self, x):
        return (x, *torch.split(x, self.sections, dim=self.dim + 1))


class Slice(nn.Module):
    """Cells [start, stop) of one axis of a sample, every step-th."""

    def __init__(self, dim, start, stop, step=1):
        super().__init__()
        self.dim, self.start, self.stop, self.step = dim, start, stop, step

    def forward(self, x):
        index = [slice(None)] * x.dim()
        index[self.dim + 1] = slice(self.start, self.stop, self.step)
        return x[tuple(index)]
