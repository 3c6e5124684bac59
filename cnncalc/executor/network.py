"""Run a whole analysed graph forward and backward with the kernels."""

from __future__ import annotations

import weakref
from typing import Callable

import numpy as np

from ..errors import CnncalcError
from ..graph import INPUT
from .kernel import Kernel, kernel_for


class UnsupportedLayer(CnncalcError):
    """A layer type without a kernel (exit 2)."""


def root(a: np.ndarray) -> np.ndarray:
    """The array that owns a view's memory."""
    while isinstance(a.base, np.ndarray):
        a = a.base
    return a


class Network:
    """Kernels for every node of ``analysis`` with parameters drawn from ``seed``.

    The loss is a random linear function of the outputs, Σ_out ⟨R_out, y_out⟩,
    so every path gets a gradient.
    """

    def __init__(self, analysis, *, dtype="float32", seed: int = 0):
        self.analysis = analysis
        self.graph = analysis.graph
        self.batch = analysis.batch
        self.dtype = np.dtype(dtype)
        self.rng = np.random.default_rng(seed)
        missing = sorted({r.type_name for r in analysis.layers if kernel_for(r.node.layer) is None})
        if missing:
            raise UnsupportedLayer(f"the executor has no kernel for layer type(s): {', '.join(missing)}")
        self.kernels: dict[str, Kernel] = {
            r.name: kernel_for(r.node.layer)(
                r.node.layer, r.input_shapes, r.output_shape, batch=self.batch, dtype=self.dtype, rng=self.rng
            )
            for r in analysis.layers
        }
        scratchpad: dict = {}
        for kernel in self.kernels.values():
            kernel.peers = self.kernels  # kernels that reuse another's state (max_unpool)
            kernel.scratchpad = scratchpad
        self.outputs = self.graph.outputs()
        self.shapes: dict[str, tuple] = {}  # array shapes (batch first) seen in the last forward
        consumers = self.graph.consumers()

        def private(src: str) -> bool:  # a new array that only this one node reads
            return (src != INPUT and src not in self.outputs and len(consumers[src]) == 1
                    and self.kernels[src].output_is_private)

        #: kernel → the input it may write its output over (see forward): a ReLU's or an
        #: add's input that is the private output (batch norm, add, conv, dense) of another
        self.in_place: dict[Kernel, int] = {}
        for node in self.graph.nodes:
            if node.type_name in ("relu", "add"):
                index = next((i for i, src in enumerate(node.inputs) if private(src)), None)
                if index is not None:
                    self.in_place[self.kernels[node.name]] = index

    def random_input(self) -> np.ndarray:
        return self.rng.standard_normal((self.batch, *self.analysis.input_shape)).astype(self.dtype)

    def loss_weights(self) -> dict[str, np.ndarray]:
        shapes = {r.name: r.output_shape for r in self.analysis.layers}
        return {name: self.rng.standard_normal((self.batch, *shapes[name])).astype(self.dtype) for name in self.outputs}

    def forward(self, x: np.ndarray, on_layer: Callable | None = None) -> dict[str, np.ndarray]:
        """Outputs by name; intermediate arrays are dropped once consumed
        (what the kernels saved stays alive). Without ``on_layer``, a ReLU or
        an add that is the only user of a kernel's private output writes over
        it; with it, every layer's output stays as the callback saw it."""
        for kernel, index in self.in_place.items():
            kernel.overwrite_input = index if on_layer is None else None
        remaining = {name: len(users) for name, users in self.graph.consumers().items()}
        values = {INPUT: x}
        for node in self.graph.nodes:
            kernel = self.kernels[node.name]
            kernel.phase = "forward"
            y = kernel.forward(*(values[src] for src in node.inputs))
            values[node.name] = y
            self.shapes[node.name] = tuple(y.shape)
            for src in node.inputs:
                remaining[src] -= 1
                if remaining[src] == 0 and src not in self.outputs:
                    del values[src]
            if on_layer:
                on_layer(node, y)
        return {name: values[name] for name in self.outputs}

    def backward(self, cotangents: dict[str, np.ndarray], on_layer: Callable | None = None, release=True,
                 input_grad=True):
        """Gradient of ⟨cotangents, outputs⟩ for the input (``None`` with
        ``input_grad=False``: a training step needs only the parameters'
        gradients, and the first layer then skips its input gradient);
        parameter gradients land in each kernel's ``grads``. Without
        ``on_layer``, a ReLU writes its input's gradient over its dy, and two
        gradients of one array are summed into one of them, when no other
        array shares that memory (a caller's cotangent, another pending
        gradient, anything a kernel keeps); with it, every dy stays as the
        callback sees it."""
        grads = dict(cotangents)
        # memory that must not be written: the caller's arrays and what the kernels keep
        # (weak references, so that released arrays are freed and their ids may be reused)
        protected = {id(r): weakref.ref(r) for r in map(root, (
            *cotangents.values(), *(a for kernel in self.kernels.values() for a in kernel.saved.values())))}

        def writable(a: np.ndarray, others=(), pending: str | None = None) -> bool:
            """Whether a's memory is a's alone: not protected, not shared with a
            pending gradient (but the one of ``pending``) or with ``others``."""
            if on_layer is not None:
                return False
            base = root(a)
            kept = protected.get(id(base))
            return (kept is None or kept() is not base) and all(
                root(g) is not base for name, g in grads.items() if name != pending) and all(
                root(o) is not base for o in others)

        for node in reversed(self.graph.nodes):
            kernel = self.kernels[node.name]
            kernel.phase = "backward"
            dy = grads.pop(node.name)
            if node.type_name == "relu":
                kernel.overwrite_dy = writable(dy)
            kernel.needs_input_grad = tuple(input_grad or src != INPUT for src in node.inputs)
            dxs = kernel.backward(dy)
            kernel.needs_input_grad = (True,) * len(node.inputs)
            if release:
                kernel.release()
            for i, (src, dx) in enumerate(zip(node.inputs, dxs)):
                if dx is None or (src == INPUT and not input_grad):
                    continue
                if src not in grads:
                    grads[src] = dx
                    continue
                others = [d for j, d in enumerate(dxs) if j != i and d is not None]
                if writable(dx, others):  # (grads[src] is pending: dx shares nothing with it)
                    grads[src] = np.add(dx, grads[src], out=dx)
                elif writable(grads[src], [*others, dx], pending=src):
                    grads[src] += dx
                else:
                    grads[src] = grads[src] + dx
            if on_layer:
                on_layer(node, dy)
        return grads.get(INPUT) if input_grad else None

    def held_bytes(self) -> int:
        """Bytes of every array kept for backward, each memory block once."""
        roots = {}
        for kernel in self.kernels.values():
            for a in kernel.saved.values():
                r = root(a)
                roots[id(r)] = r.nbytes
        return sum(roots.values())
