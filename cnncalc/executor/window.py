"""Sliding windows over (N, C, *spatial) arrays: padding, strided views,
im2col/col2im. Shared by convolution and pooling; N-d throughout."""

from __future__ import annotations

import functools
import itertools
from math import prod

import numpy as np
from numpy.lib.stride_tricks import as_strided


def pad(x: np.ndarray, pads, value=0.0) -> np.ndarray:
    """Pad the spatial axes of x (N, C, *spatial) by ``(before, after)`` each."""
    if not any(b or a for b, a in pads):
        return x
    widths = ((0, 0), (0, 0), *((b, a) for b, a in pads))
    return np.pad(x, widths, constant_values=value)


def windows(xp: np.ndarray, kernels, strides, dilations, outs) -> np.ndarray:
    """Read-only view (N, C, *outs, *kernels) of every window of xp."""
    st = xp.strides
    nd = len(kernels)
    shape = (*xp.shape[:2], *outs, *kernels)
    steps = (*st[:2], *(st[2 + a] * strides[a] for a in range(nd)), *(st[2 + a] * dilations[a] for a in range(nd)))
    return as_strided(xp, shape, steps, writeable=False)


def tap_slices(tap, strides, dilations, outs):
    """Index (all N, all C, one strided slice per axis) of the inputs that
    kernel tap ``tap`` meets across every output position."""
    return (slice(None), slice(None), *(
        slice(t * d, t * d + s * (o - 1) + 1, s) for t, s, d, o in zip(tap, strides, dilations, outs)
    ))


def taps(kernels):
    return itertools.product(*(range(k) for k in kernels))


def needed_extent(outs, kernels, strides, dilations):
    """Padded length each axis must have for every window to fit."""
    return tuple((o - 1) * s + d * (k - 1) + 1 for o, k, s, d in zip(outs, kernels, strides, dilations))


def pad_to_fit(x: np.ndarray, pads, outs, kernels, strides, dilations, value=0.0):
    """Pad the before side as asked and the after side just enough for every
    window (ceil_mode windows may overhang the asked padding; cells no window
    reaches are left in place). Returns (padded, pads used)."""
    need = needed_extent(outs, kernels, strides, dilations)
    used = tuple((b, max(n - size - b, 0)) for (b, _), n, size in zip(pads, need, x.shape[2:]))
    return pad(x, used, value), used


def im2col(xp: np.ndarray, groups: int, kernels, strides, dilations, outs, out=None) -> np.ndarray:
    """Columns (G, C/G·∏k, N·∏o): one column per output position and sample
    (written into ``out`` when given)."""
    n, c = xp.shape[:2]
    nd = len(kernels)
    view = windows(xp, kernels, strides, dilations, outs)  # (N, C, *o, *k)
    order = (1, *range(2 + nd, 2 + 2 * nd), 0, *range(2, 2 + nd))  # (C, *k, N, *o)
    shape = (groups, (c // groups) * prod(kernels), n * prod(outs))
    if out is None:
        return view.transpose(order).reshape(shape)
    np.copyto(out.reshape(c, *kernels, n, *outs), view.transpose(order))
    return out.reshape(shape)


def col2im(cols: np.ndarray, shape, kernels, strides, dilations, outs) -> np.ndarray:
    """Sum columns (G, C/G·∏k, N·∏o) back into an array of the padded input's
    ``shape`` (N, C, *padded): the adjoint of :func:`im2col`."""
    n, c = shape[:2]
    cols = cols.reshape(c, *kernels, n, *outs)
    out = np.zeros(shape, dtype=cols.dtype)
    for number, tap in enumerate(taps(kernels)):
        block = cols[(slice(None), *tap)].swapaxes(0, 1)  # (N, C, *o)
        if number:
            out[tap_slices(tap, strides, dilations, outs)] += block
        else:  # the first tap meets only zeros: written, not added (a 1×1 kernel's only pass)
            out[tap_slices(tap, strides, dilations, outs)] = block
    return out


def flat_taps_apply(sizes, outs, strides, kernels, ups=None) -> bool:
    """Whether :func:`im2col_flat`/:func:`col2im_flat` handle this geometry:
    every spatial axis after the first as long in the output as the input's
    phases, ⌈size/stride⌉ (a 'same' convolution, strided or not), so that a
    kernel tap is one shift of the flattened positions of one phase. A
    strided 1×1 kernel reads a single phase and keeps the direct gather."""
    if any(u != 1 for u in (ups or ())) or (prod(kernels) == 1 and any(s != 1 for s in strides)):
        return False
    return all(o == -(-i // s) for i, o, s in zip(sizes[1:], outs[1:], strides[1:]))


def _phase_sizes(sizes, strides):
    return [-(-i // s) for i, s in zip(sizes, strides)]


@functools.lru_cache(maxsize=256)
def _flat_plan(sizes, outs, kernels, strides, dilations, pads):
    """:func:`_flat_taps` as a tuple, computed once per geometry."""
    return tuple(_flat_taps(sizes, outs, kernels, strides, dilations, pads))


@functools.lru_cache(maxsize=256)
def _col2im_plan(sizes, outs, kernels, strides, dilations, pads):
    """The taps for :func:`col2im_flat`, each with whether it is written
    (the first tap that covers its whole phase unshifted, e.g. a 'same'
    kernel's centre) or added, those first; and whether some phase has no
    such tap and must start from zeros."""
    total_in = prod(_phase_sizes(sizes, strides))
    covering = {}
    for tap in _flat_plan(sizes, outs, kernels, strides, dilations, pads):
        _, phase, shift, first, end, strips = tap
        if shift == 0 and first == 0 and end == total_in and not strips:
            covering.setdefault(phase, tap)
    order = [(tap, True) for tap in covering.values()]
    order += [(tap, False) for tap in _flat_plan(sizes, outs, kernels, strides, dilations, pads)
              if covering.get(tap[1]) is not tap]
    return tuple(order), len(covering) < prod(strides)


def _flat_taps(sizes, outs, kernels, strides, dilations, pads):
    """Per kernel tap: (tap number, phase, flat shift, first and end output
    position whose input is inside the flat range, the wrapped strips as
    indices into a (C, N, *outs) block).

    Output position q meets input q·s + o with o = tap·dilation − pad_before,
    which is cell q + ⌊o/s⌋ of phase o mod s (the input cells i ≡ o mod s,
    i = s·u + o mod s, each phase ⌈size/s⌉ long, zero past the input);
    flattened, that is q + shift. Positions whose offset moves an axis after
    the first out of its phase would wrap into a neighbouring row: those
    strips (axis, slice) are the padding and are zeroed instead."""
    phase_sizes = _phase_sizes(sizes, strides)
    steps = [prod(phase_sizes[a + 1:]) for a in range(len(sizes))]
    total_in, total_out = prod(phase_sizes), prod(outs)
    for number, tap in enumerate(taps(kernels)):
        offsets = [t * d - b for t, d, (b, _) in zip(tap, dilations, pads)]
        phase = 0
        for o, st in zip(offsets, strides):
            phase = phase * st + o % st
        moves = [o // st for o, st in zip(offsets, strides)]
        shift = sum(m * step for m, step in zip(moves, steps))
        first, end = max(0, -shift), min(total_out, total_in - shift)
        strips = []
        for axis in range(1, len(sizes)):
            m, n = moves[axis], phase_sizes[axis]
            if m:
                cut = slice(0, min(-m, n)) if m < 0 else slice(max(n - m, 0), n)
                strips.append((slice(None), slice(None), *(slice(None),) * axis, cut))
        yield number, phase, shift, first, max(first, end), tuple(strips)


def _key(*geometry):
    """Hashable form of a geometry (tuples of ints and of (before, after) pairs)."""
    return tuple(tuple(tuple(v) if isinstance(v, (list, tuple)) else int(v) for v in g) for g in geometry)


def _phase_slices(sizes, strides):
    """Per phase (residues r, in _flat_taps' order): the slice of x it takes
    and the part of the phase array that slice fills."""
    phase_sizes = _phase_sizes(sizes, strides)
    for residues in itertools.product(*(range(s) for s in strides)):
        lengths = [len(range(r, i, s)) for r, i, s in zip(residues, sizes, strides)]
        yield ((slice(None), slice(None), *(slice(r, None, s) for r, s in zip(residues, strides))),
               (slice(None), slice(None), *(slice(0, n) for n in lengths)),
               any(n < p for n, p in zip(lengths, phase_sizes)))


def _phases(x: np.ndarray, strides) -> np.ndarray:
    """(∏s, N, C, ∏phase sizes): x split by residue along every strided axis
    (x itself, as one phase, for stride 1)."""
    n, c, *sizes = x.shape
    if all(s == 1 for s in strides):
        return x.reshape(1, n, c, -1)
    phase_sizes = _phase_sizes(sizes, strides)
    out = np.empty((prod(strides), n, c, *phase_sizes), dtype=x.dtype)
    for phase, (take, fill, short) in zip(out, _phase_slices(sizes, strides)):
        if short:
            phase[...] = 0
        phase[fill] = x[take]
    return out.reshape(prod(strides), n, c, -1)


def _zero_strips(block, outs, strips):
    """Zero the wrapped strips of a (C, N, ∏outs) tap block, in place."""
    if strips:
        grid = block.reshape(*block.shape[:2], *outs)
        for strip in strips:
            grid[strip] = 0


def im2col_flat(x: np.ndarray, groups: int, kernels, strides, dilations, pads, outs, out=None) -> np.ndarray:
    """:func:`im2col` of the unpadded x for a 'same' geometry (see
    :func:`flat_taps_apply`): one contiguous copy per kernel tap (from the
    tap's phase when strided) instead of a padded copy and a strided gather."""
    n, c, *sizes = x.shape
    t, p = prod(kernels), prod(outs)
    cols = np.empty((c, t, n, p), dtype=x.dtype) if out is None else out.reshape(c, t, n, p)
    phases = _phases(x, strides).swapaxes(1, 2)  # (∏s, C, N, ∏phase sizes)
    for number, phase, shift, first, end, strips in _flat_plan(*_key(sizes, outs, kernels, strides, dilations, pads)):
        block, src = cols[:, number], phases[phase]
        block[:, :, :first] = 0
        block[:, :, end:] = 0
        block[:, :, first:end] = src[:, :, first + shift:end + shift]
        _zero_strips(block, outs, strips)
    return cols.reshape(groups, c // groups * t, n * p)


def col2im_flat(cols: np.ndarray, shape, kernels, strides, dilations, pads, outs) -> np.ndarray:
    """:func:`col2im` straight into the unpadded input's ``shape`` for a
    'same' geometry: one contiguous add per kernel tap into the tap's phase,
    then the phases back into place. The wrapped strips of ``cols``
    (products with padding) are zeroed in place."""
    n, c, *sizes = shape
    t, p = prod(kernels), prod(outs)
    cols = cols.reshape(c, t, n, p)
    phase_sizes = _phase_sizes(sizes, strides)
    order, from_zeros = _col2im_plan(*_key(sizes, outs, kernels, strides, dilations, pads))
    phases = (np.zeros if from_zeros else np.empty)((prod(strides), n, c, prod(phase_sizes)), dtype=cols.dtype)
    dst = phases.swapaxes(1, 2)  # (∏s, C, N, ∏phase sizes)
    for (number, phase, shift, first, end, strips), write in order:
        block = cols[:, number]
        _zero_strips(block, outs, strips)
        if write:  # covers the phase: no zero fill and no read of it
            dst[phase] = block[:, :, :end]
        else:
            dst[phase, :, :, first + shift:end + shift] += block[:, :, first:end]
    if len(phases) == 1:
        return phases[0].reshape(shape)
    out = np.empty(shape, dtype=cols.dtype)
    for phase, (take, fill, _) in zip(phases, _phase_slices(sizes, strides)):
        out[take] = phase.reshape(n, c, *phase_sizes)[fill]
    return out


def crop(xp: np.ndarray, pads, sizes) -> np.ndarray:
    """Undo :func:`pad`: the interior of xp of spatial ``sizes``. Trailing
    cells that :func:`pad_to_fit` trimmed (no window reaches them) come back
    as zeros, so a gradient always has its input's shape."""
    out = xp[(slice(None), slice(None), *(slice(b, b + s) for (b, _), s in zip(pads, sizes)))]
    short = [s - n for s, n in zip(sizes, out.shape[2:])]
    if any(short):
        out = np.pad(out, [(0, 0), (0, 0), *((0, m) for m in short)])
    return out


def upsample_zeros(x: np.ndarray, factors) -> np.ndarray:
    """uSample: ``f − 1`` zeros between the cells of each spatial axis."""
    if all(f == 1 for f in factors):
        return x
    sizes = tuple((i - 1) * f + 1 for i, f in zip(x.shape[2:], factors))
    out = np.zeros((*x.shape[:2], *sizes), dtype=x.dtype)
    out[(slice(None), slice(None), *(slice(None, None, f) for f in factors))] = x
    return out


def downsample(x: np.ndarray, factors) -> np.ndarray:
    """Every f-th cell of each spatial axis (the adjoint of :func:`upsample_zeros`)."""
    if all(f == 1 for f in factors):
        return x
    return x[(slice(None), slice(None), *(slice(None, None, f) for f in factors))]


def padded_taps(sizes, pads, kernels, strides, dilations, outs, ups=None) -> int:
    """Number of (kernel tap, output position) pairs that land on padding (or
    on zeros inserted by a fractional stride 1/u), per channel."""
    mask = upsample_zeros(np.ones((1, 1, *sizes), dtype=np.int64), ups or (1,) * len(sizes))
    mask = pad(mask, pads, 0)
    real = windows(mask, kernels, strides, dilations, outs).sum()
    return prod(kernels) * prod(outs) - int(real)
