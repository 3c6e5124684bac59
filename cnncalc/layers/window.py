"""Sliding-window arithmetic shared by convolution and pooling.

Output size along one axis (Dumoulin & Visin; the lectures' ⌊(N + 2P − F)/S⌋ + 1
with asymmetric padding and dilation):

    o = ⌊(i + p_before + p_after − k_eff) / s⌋ + 1,   k_eff = d·(k − 1) + 1

With ``ceil_mode`` the floor becomes a ceiling, but (PyTorch's rule) the last
window may not start inside the right padding.
"""

from __future__ import annotations

from ..errors import FieldError
from ..receptive import effective_kernel
from .fields import per_axis

#: Names of the spatial axes for messages, by number of spatial axes.
AXIS_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


def resolve_padding(
    padding,
    ndim: int,
    sizes: tuple[int, ...],
    kernels_eff: tuple[int, ...],
    strides: tuple[int, ...],
    field: str = "padding",
) -> tuple[tuple[int, int], ...]:
    """Turn a padding value (int, per-axis list, [before, after] pairs or a
    mode) into explicit ``(before, after)`` per axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * ndim
        if padding == "full":
            return tuple((k - 1, k - 1) for k in kernels_eff)
        if padding == "causal":
            if ndim != 1:
                raise FieldError(field, f"'causal' padding is for 1D inputs [C, L]; this input has {ndim} spatial axes")
            return ((kernels_eff[0] - 1, 0),)
        if padding == "same":
            # TF/Keras: out = ⌈i/s⌉; the odd extra cell goes after.
            out = []
            for i, k, s in zip(sizes, kernels_eff, strides):
                o = -(-i // s)
                total = max((o - 1) * s + k - i, 0)
                out.append((total // 2, total - total // 2))
            return tuple(out)
        raise FieldError(field, f"unknown padding mode {padding!r}")  # pragma: no cover - parse() checked it
    values = per_axis(padding, ndim, field)
    return tuple(v if isinstance(v, tuple) else (v, v) for v in values)


def window_output(
    size: int,
    kernel_eff: int,
    stride: int,
    pad: tuple[int, int],
    *,
    ceil_mode: bool = False,
    axis: int = 0,
    ndim: int = 1,
    field: str = "kernel_size",
) -> int:
    """Output length of a sliding window along one axis (see module doc)."""
    before, after = pad
    padded = size + before + after
    if ceil_mode:
        # PyTorch: the last window may run past the padded end (not start in the
        # right padding), so only an empty output is an error.
        out = -(-(padded - kernel_eff) // stride) + 1
        if (out - 1) * stride >= size + before:
            out -= 1
        if out >= 1:
            return out
        where = f" on axis {AXIS_NAMES[ndim][axis]}" if ndim > 1 else ""
        raise FieldError(
            field,
            f"no window fits{where}: with ceil_mode the output is "
            f"⌈({size} + {before} + {after} − {kernel_eff}) / {stride}⌉ + 1 = {out + 1}, and its last "
            f"window would start in the right padding, leaving {out} < 1",
        )
    if kernel_eff > padded:
        where = f" on axis {AXIS_NAMES[ndim][axis]}" if ndim > 1 else ""
        raise FieldError(
            field,
            f"kernel{where} covers {kernel_eff} cells but the padded input has only "
            f"{size} + {before} + {after} = {padded}: "
            f"⌊({size} + {before} + {after} − {kernel_eff}) / {stride}⌋ + 1 = "
            f"{(padded - kernel_eff) // stride + 1} < 1",
        )
    return (padded - kernel_eff) // stride + 1


def window_outputs(sizes, kernels, strides, dilations, padding, *, ceil_mode=False, kernel_field="kernel_size"):
    """Per-axis output sizes and resolved padding for an N-d window.

    Returns (out_sizes, pads, kernels_eff).
    """
    ndim = len(sizes)
    kernels_eff = tuple(effective_kernel(k, d) for k, d in zip(kernels, dilations))
    pads = resolve_padding(padding, ndim, sizes, kernels_eff, strides)
    outs = tuple(
        window_output(i, k, s, p, ceil_mode=ceil_mode, axis=a, ndim=ndim, field=kernel_field)
        for a, (i, k, s, p) in enumerate(zip(sizes, kernels_eff, strides, pads))
    )
    return outs, pads, kernels_eff
