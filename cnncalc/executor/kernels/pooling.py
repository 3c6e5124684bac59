"""Pooling: max (recording the argmax), average, global and adaptive pooling.

Window pooling walks the ∏k kernel taps, each one a strided slice over every
output position at once (no window copies)."""

from __future__ import annotations

from math import prod

import numpy as np

from ...layers.fields import per_axis
from ..kernel import Kernel, register_kernel
from ..window import crop, pad_to_fit, tap_slices, taps


def scatter_add(flat_index: np.ndarray, values: np.ndarray, size: int, dtype) -> np.ndarray:
    """out[flat_index[i]] += values[i] for a flat output of ``size`` elements;
    index −1 (a window of padding only) adds nothing."""
    index, weights = flat_index.ravel(), values.ravel()
    keep = index >= 0
    if not keep.all():
        index, weights = index[keep], weights[keep]
    return np.bincount(index, weights=weights, minlength=size).astype(dtype, copy=False)


class _WindowKernel(Kernel):
    def setup(self):
        layer, x = self.layer, self.in_shapes[0]
        nd = len(x) - 1
        self.kernels = per_axis(layer.kernel_size, nd, "kernel_size")
        self.dilations = per_axis(layer.dilation, nd, "dilation")
        self.strides, self.outs, self.pads, _ = layer._geometry(x)

    def _padded(self, x, value):
        return pad_to_fit(x, self.pads, self.outs, self.kernels, self.strides, self.dilations, value)

    def _slices(self, tap):
        return tap_slices(tap, self.strides, self.dilations, self.outs)


@register_kernel("max_pool")
class MaxPoolKernel(_WindowKernel):
    """x (N, C, *i) → y (N, C, *o); keeps the argmax of every window (int64),
    as a flat position in x (which max_unpool reuses).

    Padding is −∞, so a maximum is a real input cell whenever the window
    holds one; a window of padding only (possible with large padding or
    dilation) gives −∞ and the position −1, which receives no gradient."""

    _index_key = None  # the geometry _index_plan was built for

    def forward(self, x):
        self.in_full_shape = x.shape
        xp, used_pads = self._padded(x, -np.inf)
        tap_list = list(taps(self.kernels))
        # the winning tap, as a small integer: taps come in increasing order, so
        # "tap t if better else keep" is max(arg, better·t) (masked copies are ~20× slower)
        tap_type = np.uint8 if len(tap_list) <= 256 else np.int64
        best = xp[self._slices(tap_list[0])].copy()
        arg = np.zeros(best.shape, dtype=tap_type)
        better = np.empty(best.shape, dtype=bool)
        scaled = np.empty(best.shape, dtype=tap_type)
        for t, tap in enumerate(tap_list[1:], 1):
            v = xp[self._slices(tap)]
            np.greater(v, best, out=better)
            np.maximum(best, v, out=best)  # = v where better (NaN propagates, as in torch)
            np.multiply(better, tap_type(t), out=scaled)
            np.maximum(arg, scaled, out=arg)
        del better, scaled
        self.save(indices=self._positions(arg, x.shape, xp.shape, used_pads))
        return best

    def _positions(self, arg, shape, padded_shape, used_pads):
        """Flat position in x of each window's winning tap ``arg``; −1 where
        it is padding (a window of padding only)."""
        key = (shape, padded_shape, tuple(used_pads))
        if self._index_key != key:
            self._index_key, self._index_plan = key, self._index_tables(shape, padded_shape, used_pads)
        tap_offsets, origin, table, base = self._index_plan
        within = tap_offsets.take(arg)  # the tap's offset in a padded channel
        within += origin  # + the window's start
        if table is not None:  # padded: to x's own within-channel position, or far below zero
            within = table.take(within)
        within += base  # + the sample and channel
        if table is not None:
            np.maximum(within, -1, out=within)
        return within

    def _index_tables(self, shape, padded_shape, used_pads):
        """Constant per geometry: each tap's offset and each window's start in
        a padded channel's flat layout, the padded → x position table (None
        without padding), and each (sample, channel)'s first position in x."""
        n, c, *sizes = shape
        nd = len(sizes)
        padded = list(padded_shape[2:])
        steps = [prod(padded[a + 1:]) for a in range(nd)]
        tap_offsets = np.array([sum(t * d * st for t, d, st in zip(tap, self.dilations, steps))
                                for tap in taps(self.kernels)], dtype=np.int64)
        origin = np.zeros((), dtype=np.int64)
        for o, s, st in zip(self.outs, self.strides, steps):
            origin = np.add.outer(origin, np.arange(o, dtype=np.int64) * (s * st))
        base = (np.arange(n * c, dtype=np.int64) * prod(sizes)).reshape(n, c, *(1,) * nd)
        if not any(b or a for b, a in used_pads):
            return tap_offsets, origin, None, base
        table = np.full(padded, -(n * c * prod(sizes) + 1), dtype=np.int64)  # stays < 0 after + base
        table[tuple(slice(b, b + i) for (b, _), i in zip(used_pads, sizes))] = np.arange(
            prod(sizes), dtype=np.int64).reshape(sizes)
        return tap_offsets, origin, table.ravel(), base

    def backward(self, dy):
        index = self.saved["indices"]
        if all((k - 1) * d < s for k, d, s in zip(self.kernels, self.dilations, self.strides)):
            # windows do not overlap: every input cell gets at most one gradient,
            # written in dy's dtype (no float64 bincount)
            dx = np.zeros(prod(self.in_full_shape), dtype=dy.dtype)
            keep = index >= 0
            if keep.all():
                dx[index.ravel()] = dy.ravel()
            else:
                dx[index[keep]] = dy[keep]
        else:
            dx = scatter_add(index, dy, prod(self.in_full_shape), dy.dtype)
        return (dx.reshape(self.in_full_shape),)


def _avg_divisor(sizes, pads, kernels, strides, outs, include_pad):
    """PyTorch's divisor per output position: the window clipped to the padded
    input (count_include_pad) or to the real input."""
    per_axis_div = []
    for i, (b, a), k, s, o in zip(sizes, pads, kernels, strides, outs):
        start = np.arange(o) * s - b
        end = np.minimum(start + k, i + a)
        if include_pad:
            per_axis_div.append(end - start)
        else:
            per_axis_div.append(np.minimum(end, i) - np.maximum(start, 0))
    div = np.ones((), dtype=np.int64)
    for d in per_axis_div:
        div = np.multiply.outer(div, d)
    return div


@register_kernel("avg_pool")
class AvgPoolKernel(_WindowKernel):
    """x (N, C, *i) → y (N, C, *o), the window sums over PyTorch's divisor; keeps nothing."""

    def setup(self):
        super().setup()
        self.divisor = _avg_divisor(
            self.in_shapes[0][1:], self.pads, self.kernels, self.strides, self.outs, self.layer.count_include_pad
        ).astype(self.dtype)

    def forward(self, x):
        self.in_full_shape = x.shape
        xp, self.used_pads = self._padded(x, 0.0)
        self.padded_shape = xp.shape
        total = None
        for tap in taps(self.kernels):
            v = xp[self._slices(tap)]
            total = v.copy() if total is None else total + v
        return total / self.divisor

    def backward(self, dy):
        g = dy / self.divisor
        dxp = np.zeros(self.padded_shape, dtype=dy.dtype)
        for tap in taps(self.kernels):
            dxp[self._slices(tap)] += g
        return (crop(dxp, self.used_pads, self.in_full_shape[2:]),)


@register_kernel("global_avg_pool")
class GlobalAvgPoolKernel(Kernel):
    """x (N, C, *s) → mean over s: (N, C) or (N, C, 1, …) with keepdims; keeps nothing."""

    def forward(self, x):
        self.in_full_shape = x.shape
        y = x.mean(axis=tuple(range(2, x.ndim)), dtype=x.dtype)
        return y.reshape(x.shape[0], *self.out_shape)

    def backward(self, dy):
        n, c = self.in_full_shape[:2]
        size = prod(self.in_full_shape[2:])
        dx = np.broadcast_to((dy.reshape(n, c) / size).reshape(n, c, *(1,) * (len(self.in_full_shape) - 2)),
                             self.in_full_shape)
        return (np.ascontiguousarray(dx),)


@register_kernel("global_max_pool")
class GlobalMaxPoolKernel(Kernel):
    """x (N, C, *s) → max over s; keeps the argmax per (sample, channel) (int64)."""

    def forward(self, x):
        self.in_full_shape = x.shape
        flat = x.reshape(x.shape[0], x.shape[1], -1)
        arg = flat.argmax(axis=2)
        self.save(indices=arg)
        y = np.take_along_axis(flat, arg[:, :, None], axis=2)
        return y.reshape(x.shape[0], *self.out_shape)

    def backward(self, dy):
        n, c = self.in_full_shape[:2]
        dx = np.zeros((n, c, prod(self.in_full_shape[2:])), dtype=dy.dtype)
        np.put_along_axis(dx, self.saved["indices"][:, :, None], dy.reshape(n, c, 1), axis=2)
        return (dx.reshape(self.in_full_shape),)


def _adaptive_windows(sizes, outs):
    """Per axis, the (start, end) of each output's window: ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉."""
    return [[((j * n) // o, -(-((j + 1) * n) // o)) for j in range(o)] for n, o in zip(sizes, outs)]


class _AdaptiveKernel(Kernel):
    def setup(self):
        self.ranges = _adaptive_windows(self.in_shapes[0][1:], self.out_shape[1:])

    def _positions(self):
        import itertools

        for pos in itertools.product(*(range(len(r)) for r in self.ranges)):
            yield pos, tuple(slice(*self.ranges[a][j]) for a, j in enumerate(pos))


@register_kernel("adaptive_avg_pool")
class AdaptiveAvgPoolKernel(_AdaptiveKernel):
    """x (N, C, *i) → y (N, C, *o), each the mean of its window; keeps nothing."""

    def forward(self, x):
        self.in_full_shape = x.shape
        y = np.empty((x.shape[0], *self.out_shape), dtype=x.dtype)
        axes = tuple(range(2, x.ndim))
        for pos, window in self._positions():
            y[(slice(None), slice(None), *pos)] = x[(slice(None), slice(None), *window)].mean(axis=axes)
        return y

    def backward(self, dy):
        dx = np.zeros(self.in_full_shape, dtype=dy.dtype)
        for pos, window in self._positions():
            size = prod(s.stop - s.start for s in window)
            g = dy[(slice(None), slice(None), *pos)] / size
            dx[(slice(None), slice(None), *window)] += g.reshape(*g.shape, *(1,) * len(window))
        return (dx,)


@register_kernel("adaptive_max_pool")
class AdaptiveMaxPoolKernel(_AdaptiveKernel):
    """x (N, C, *i) → y (N, C, *o), each the max of its window; keeps the flat argmax (int64)."""

    def forward(self, x):
        self.in_full_shape = x.shape
        n, c = x.shape[:2]
        sizes = x.shape[2:]
        y = np.empty((n, c, *self.out_shape[1:]), dtype=x.dtype)
        flat = np.empty((n, c, *self.out_shape[1:]), dtype=np.int64)
        base = np.arange(n * c, dtype=np.int64).reshape(n, c) * prod(sizes)
        for pos, window in self._positions():
            block = x[(slice(None), slice(None), *window)]
            arg = block.reshape(n, c, -1).argmax(axis=2)
            local = np.unravel_index(arg, block.shape[2:])
            coords = [loc + w.start for loc, w in zip(local, window)]
            where = (slice(None), slice(None), *pos)
            flat[where] = base + np.ravel_multi_index(coords, sizes)
            y[where] = np.take_along_axis(block.reshape(n, c, -1), arg[:, :, None], axis=2)[:, :, 0]
        self.save(indices=flat)
        return y

    def backward(self, dy):
        dx = scatter_add(self.saved["indices"], dy, prod(self.in_full_shape), dy.dtype)
        return (dx.reshape(self.in_full_shape),)


@register_kernel("lp_pool")
class LPPoolKernel(_WindowKernel):
    """y = (Σ_window x^p)^(1/p); keeps x and y: ∂y/∂x = x^(p−1)·y^(1−p)."""

    def forward(self, x):
        p = self.layer.norm_type
        self.in_full_shape = x.shape
        xp, self.used_pads = self._padded(x ** p, 0.0)
        self.padded_shape = xp.shape
        total = None
        for tap in taps(self.kernels):
            v = xp[self._slices(tap)]
            total = v.copy() if total is None else total + v
        y = (total ** (1.0 / p)).astype(x.dtype, copy=False)
        self.save(x=x, y=y)
        return y

    def backward(self, dy):
        p = self.layer.norm_type
        x, y = self.saved["x"], self.saved["y"]
        g = dy * y ** (1 - p)
        dxp = np.zeros(self.padded_shape, dtype=dy.dtype)
        for tap in taps(self.kernels):
            dxp[self._slices(tap)] += g
        dpow = crop(dxp, self.used_pads, self.in_full_shape[2:])
        return ((dpow * x ** (p - 1)).astype(dy.dtype, copy=False),)


@register_kernel("kmax_pool")
class KMaxPoolKernel(Kernel):
    """The K largest values along one spatial axis, in their original order;
    keeps their positions (int64)."""

    def setup(self):
        self.axis = 2 + self.layer._axis(self.in_shapes[0])

    def forward(self, x):
        self.in_full_shape = x.shape
        k = self.layer.k
        top = np.argpartition(-x, k - 1, axis=self.axis)
        top = np.take(top, np.arange(k), axis=self.axis)
        idx = np.sort(top, axis=self.axis)
        self.save(indices=idx)
        return np.take_along_axis(x, idx, axis=self.axis)

    def backward(self, dy):
        dx = np.zeros(self.in_full_shape, dtype=dy.dtype)
        np.put_along_axis(dx, self.saved["indices"], dy, axis=self.axis)
        return (dx,)
