"""The kernel base class and the registry of kernels by layer type.

A kernel is the executable form of one layer instance: it owns the layer's
parameter arrays, runs ``forward`` on a batch, keeps what its ``backward``
needs, and counts the multiplications it performs from the operands of every
matrix and element-wise product it executes.
"""

from __future__ import annotations

from math import prod
from typing import ClassVar

import numpy as np

from ..layers.base import Layer

#: Layer type name → kernel class.
KERNELS: dict[str, type["Kernel"]] = {}


def register_kernel(*type_names: str):
    """Class decorator: the kernel that executes layers of these type names."""

    def wrap(cls):
        for name in type_names:
            if name in KERNELS:
                raise RuntimeError(f"kernel for layer type {name!r} registered twice")
            KERNELS[name] = cls
        return cls

    return wrap


def kernel_for(layer: Layer) -> type["Kernel"] | None:
    from . import kernels  # noqa: F401  (registration)

    return KERNELS.get(layer.type_name)


class Kernel:
    """Forward and backward of one layer instance on batches of ``batch`` samples.

    ``in_shapes`` and ``out_shape`` are the analysed per-sample shapes
    (channels first, no batch axis). Arrays passed to and returned by
    ``forward``/``backward`` carry the batch axis first.
    """

    #: verify requires the counted forward multiplications to equal layer.macs().
    counts_multiplications: ClassVar[bool] = False
    #: forward returns a new array that the kernel itself does not keep, so the
    #: only user of the output may overwrite it (see Network.forward)
    output_is_private: ClassVar[bool] = False
    #: the input that forward may write its output over (set per pass by the network)
    overwrite_input: int | None = None

    def __init__(self, layer: Layer, in_shapes, out_shape, *, batch: int, dtype, rng: np.random.Generator):
        self.layer = layer
        self.in_shapes = tuple(tuple(s) for s in in_shapes)
        self.out_shape = tuple(out_shape)
        self.batch = batch
        self.dtype = np.dtype(dtype)
        self.rng = rng
        self.params: dict[str, np.ndarray] = {}
        self.buffers: dict[str, np.ndarray] = {}
        self.grads: dict[str, np.ndarray] = {}
        self.saved: dict[str, np.ndarray] = {}
        self.products = {"forward": 0, "backward": 0}
        self.zero_products = 0  # forward products with a padded zero (per batch)
        self.phase = "forward"
        self.needs_input_grad = (True,) * len(self.in_shapes)  # set per pass by Network.backward
        self.peers: dict[str, "Kernel"] = {}  # the other kernels of the network, by node name
        self.scratchpad: dict[str, np.ndarray] = {}  # shared by the network's kernels (see scratch)
        self.setup()

    # -- to override -------------------------------------------------------
    def setup(self) -> None:
        """Create parameters (``self.param``) from the shapes."""

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dy: np.ndarray) -> tuple:
        """Gradients for each input (``None`` for none); fills ``self.grads``.
        A kernel may return ``None`` for an input whose ``needs_input_grad``
        is false (the network's own input, when nobody asks for its gradient)."""
        raise NotImplementedError

    @classmethod
    def workspace(cls, layer: Layer, xs, y) -> int:
        """Elements per sample of the largest temporary array (for the memory guard)."""
        return 0

    # -- helpers for kernels -----------------------------------------------
    def param(self, name: str, shape, *, fan_in: int | None = None, init: str = "normal") -> np.ndarray:
        """A trainable parameter drawn from the seeded generator.

        ``fan_in`` scales weights by 1/√fan_in (outputs of order one);
        ``init='one'`` draws around 1 (batch-norm scale)."""
        draw_type = self.dtype.type if self.dtype in (np.float32, np.float64) else np.float64
        values = self.rng.standard_normal(shape, dtype=draw_type)
        if fan_in:
            values *= draw_type(1 / np.sqrt(fan_in))
        elif init == "one":
            values = 1.0 + 0.1 * values
        else:
            values *= draw_type(0.1)
        array = values.astype(self.dtype, copy=False)
        self.params[name] = array
        return array

    def buffer(self, name: str, array) -> np.ndarray:
        array = np.asarray(array, dtype=self.dtype)
        self.buffers[name] = array
        return array

    def save(self, **arrays: np.ndarray) -> None:
        """Keep arrays for the backward pass (by reference: no copies)."""
        self.saved.update(arrays)

    def release(self) -> None:
        self.saved.clear()

    def _count(self, n: int) -> None:
        self.products[self.phase] += int(n)

    def matmul(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a @ b`` (stacked), counting m·k·n products per matrix pair."""
        batch = prod(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        self._count(batch * a.shape[-2] * a.shape[-1] * b.shape[-1])
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] == 1:
            # an outer product (a dense weight gradient at batch 1): BLAS runs
            # k = 1 products ~5× slower than the broadcast multiply, the same m·n products
            # (einsum's loop is faster at 1000×2048 but 1.6× slower at VGG-16's 4096×25088)
            return np.multiply(a, b, out=out)
        return np.matmul(a, b, out=out)

    def matmul_nt(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``a @ bᵀ`` for stacks a (G, M, P) and b (G, N, P) with a long inner
        P (weight gradients), as a (G, M, N) array that may be a transposed
        view. OpenBLAS runs these products faster with the larger of M and N
        as the rows of the call (measured on ResNet-50's weight gradients: up
        to 1.4× at 512×2048×49), so when N > M it computes b @ aᵀ and returns
        the transpose as a view (no copy; the same m·n·p products are counted).

        ``out`` (G, M, N), a previous result of the same call, is written over
        when it is laid out as this call writes (else a new array is made)."""
        swap = b.shape[-2] > a.shape[-2]
        if out is not None:
            out = out.swapaxes(-1, -2) if swap else out
            if not out.flags.c_contiguous:
                out = None
        if swap:
            return self.matmul(b, a.swapaxes(-1, -2), out=out).swapaxes(-1, -2)
        return self.matmul(a, b.swapaxes(-1, -2), out=out)

    def scratch(self, slot: str, shape) -> np.ndarray:
        """A temporary array of ``shape`` from a buffer the network's kernels
        share per slot (im2col columns and their gradients), so the largest
        temporaries are allocated once instead of once per layer and pass.
        Valid until the next ``scratch`` call for the same slot."""
        size = prod(shape)
        buffer = self.scratchpad.get(slot)
        if buffer is None or buffer.size < size or buffer.dtype != self.dtype:
            buffer = self.scratchpad[slot] = np.empty(size, dtype=self.dtype)
        return buffer[:size].reshape(shape)

    def grad_buffer(self, name: str, shape) -> np.ndarray | None:
        """The gradient array of a previous pass, to be overwritten in place."""
        old = self.grads.get(name)
        return old if old is not None and old.shape == tuple(shape) else None

    def multiply(self, a, b) -> np.ndarray:
        """Element-wise product, counting one product per output element."""
        out = np.multiply(a, b)
        self._count(out.size)
        return out

    def einsum(self, subscripts: str, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Two-operand einsum, counting one product per point of the index space."""
        inputs = subscripts.replace(" ", "").split("->")[0].split(",")
        sizes: dict[str, int] = {}
        for letters, operand in zip(inputs, (a, b)):
            sizes.update(zip(letters, operand.shape))
        self._count(prod(sizes.values()))
        return np.einsum(subscripts, a, b, optimize=True)

    def count_zero_products(self, n: int) -> None:
        """Record products (already counted) whose data operand was a padded zero."""
        self.zero_products += int(n)

    def zeros_like_params(self) -> None:
        for name, value in self.params.items():
            self.grads.setdefault(name, np.zeros_like(value))
