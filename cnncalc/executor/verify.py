"""``cnncalc verify``: run the network for real and check every analysed number.

Per layer: output shape; parameter and buffer sizes (and gradient shapes);
multiplications counted from the kernels' operands (conv, dense and every
kernel that sets ``counts_multiplications``), with products on padded zeros
reported apart; bytes kept for backward against ``saved_for_backward``; and,
with ``gradcheck``, a float64 dot-product test of the input and parameter
gradients against central finite differences.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from math import prod

import numpy as np

from ..analysis import DTYPE_BYTES
from ..layers.base import INDEX_BYTES
from .kernel import kernel_for
from .network import Network

#: Largest relative error the float64 gradient check accepts.
GRAD_TOLERANCE = 1e-5


@dataclass
class Check:
    """A measured value beside the analysed one."""

    measured: object
    analysed: object
    ok: bool


@dataclass
class LayerReport:
    index: int
    name: str
    type_name: str
    shape: Check
    params: Check  # (trainable, buffers)
    grads_ok: bool
    mults: Check | None  # None when the layer's multiplications are not checked
    measured_mults: int  # per sample, whatever the layer
    zero_products: int  # per sample, products on padded zeros (included in mults)
    saved: Check  # bytes kept for backward
    grad_error: float | None = None
    grad_detail: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        checks = [self.shape.ok, self.params.ok, self.grads_ok, self.saved.ok]
        if self.mults is not None:
            checks.append(self.mults.ok)
        if self.grad_error is not None:
            checks.append(self.grad_error <= GRAD_TOLERANCE)
        return all(checks)


@dataclass
class VerifyReport:
    layers: list[LayerReport]
    held: Check  # activation bytes kept for backward, each array once
    seconds: float
    dtype: str
    batch: int
    seed: int
    gradcheck: bool

    @property
    def ok(self) -> bool:
        return self.held.ok and all(r.ok for r in self.layers)

    @property
    def failures(self) -> list[str]:
        return [r.name for r in self.layers if not r.ok] + ([] if self.held.ok else ["(total kept for backward)"])


def estimate_bytes(analysis, gradcheck: bool = False) -> int:
    """Memory a verify run needs: parameters and gradients, everything kept
    for backward, the largest layer's working set (input, output and their
    gradients), and the shared scratch buffers (columns and their gradients,
    as large as the largest layer's); with ``gradcheck`` also the float64 copy
    of the parameters and gradients."""
    tm = analysis.training_memory
    size = DTYPE_BYTES[analysis.dtype]
    largest = work = 0
    for r in analysis.layers:
        cls = kernel_for(r.node.layer)
        if cls:
            work = max(work, cls.workspace(r.node.layer, r.input_shapes, r.output_shape))
        largest = max(largest, 2 * sum(prod(s) for s in r.input_shapes) + 2 * prod(r.output_shape))
    need = tm.params + tm.buffers + tm.gradients + tm.activations + (largest + 2 * work) * analysis.batch * size
    if gradcheck:
        need += (tm.params + tm.buffers + tm.gradients) * 8 // size
    return need


def verify(analysis, *, seed: int = 0, gradcheck: bool = False, progress=None) -> VerifyReport:
    """Run ``analysis``'s network forward and backward in its dtype and check
    every number (see module doc). ``progress(step, total)`` is called as layers run."""
    start = time.perf_counter()
    dtype = analysis.dtype
    net = Network(analysis, dtype=dtype, seed=seed)
    n_layers = len(analysis.layers)
    steps = 2 * n_layers + (n_layers if gradcheck else 0)
    done = [0]

    def tick(*_):
        done[0] += 1
        if progress:
            progress(done[0], steps)

    outputs = net.forward(net.random_input(), on_layer=tick)
    memory = analysis.training_memory
    held = net.held_bytes()
    saved_bytes = {name: sum(a.nbytes for a in k.saved.values()) for name, k in net.kernels.items()}
    cot = net.loss_weights()
    del outputs
    net.backward(cot, on_layer=tick, input_grad=False)  # the checks need the parameters' gradients only

    reports = []
    for r in analysis.layers:
        k = net.kernels[r.name]
        b = analysis.batch
        measured_shape = net.shapes[r.name]
        trainable = sum(a.size for a in k.params.values())
        buffers = sum(a.size for a in k.buffers.values())
        grads_ok = set(k.grads) == set(k.params) and all(
            k.grads[n].shape == p.shape for n, p in k.params.items()
        )
        fwd = k.products["forward"]
        mults_ps = fwd // b if fwd % b == 0 else fwd / b
        mults = Check(mults_ps, r.multiplications, mults_ps == r.multiplications) if k.counts_multiplications else None
        reports.append(
            LayerReport(
                index=r.node.index,
                name=r.name,
                type_name=r.type_name,
                shape=Check(measured_shape[1:], r.output_shape, measured_shape == (b, *r.output_shape)),
                params=Check((trainable, buffers), (r.params.trainable, r.params.buffers),
                             (trainable, buffers) == (r.params.trainable, r.params.buffers)),
                grads_ok=grads_ok,
                mults=mults,
                measured_mults=int(mults_ps),
                zero_products=k.zero_products // b,
                saved=Check(saved_bytes[r.name], memory.layers[r.name].bytes,
                            saved_bytes[r.name] == memory.layers[r.name].bytes),
            )
        )
    if gradcheck:
        del net  # its arrays make room for the float64 copy
        errors = gradient_check(analysis, seed=seed, progress=tick)
        for rep in reports:
            rep.grad_detail = errors[rep.name]
            rep.grad_error = max(errors[rep.name].values(), default=0.0)
    return VerifyReport(
        layers=reports,
        held=Check(held, memory.activations, held == memory.activations),
        seconds=time.perf_counter() - start,
        dtype=dtype,
        batch=analysis.batch,
        seed=seed,
        gradcheck=gradcheck,
    )


def relative_error(a: float, b: float, noise: float = 0.0) -> float:
    """|a − b| relative to the larger of the two; a difference within
    ``noise`` (the rounding error of the finite difference) counts as 0."""
    diff = abs(a - b)
    if diff <= noise:
        return 0.0
    scale = max(abs(a), abs(b))
    return 0.0 if scale < 1e-12 else diff / scale


#: Independent random draws a gradient check may use per layer and target. A
#: finite difference that straddles a kink (ReLU at 0, a tie in max pooling)
#: is wrong by O(1) on one draw; a real gradient bug is wrong on every draw.
GRAD_DRAWS = 3


def gradient_check(analysis, *, seed: int = 0, eps: float = 1e-6, progress=None) -> dict[str, dict[str, float]]:
    """Dot-product (VJP) test of every layer in float64.

    For each layer, on random inputs x and a random output cotangent u: for
    the input and each parameter t with a random direction v,
    analytic ⟨∂⟨u, f⟩/∂t, v⟩ against numeric (⟨u, f(t + εv)⟩ − ⟨u, f(t − εv)⟩)/2ε.
    The reported error is the smallest over up to GRAD_DRAWS draws of (x, u, v)
    (see GRAD_DRAWS); differences below the rounding noise of the finite
    difference, 64·ε_mach·|⟨u, f⟩|/ε, count as 0.
    Returns layer → {target: relative error}.
    """
    rng = np.random.default_rng(seed + 1)
    net = Network(analysis, dtype="float64", seed=seed)
    results = {}
    for r in analysis.layers:
        k = net.kernels[r.name]
        errors: dict[str, float] = {}
        for _ in range(GRAD_DRAWS):
            for name, error in _check_layer_once(k, r, analysis.batch, rng, eps).items():
                errors[name] = min(error, errors.get(name, error))
            if all(e <= GRAD_TOLERANCE for e in errors.values()):
                break
        results[r.name] = errors
        if progress:
            progress()
    return results


def _check_layer_once(k, r, batch: int, rng, eps: float) -> dict[str, float]:
    """One draw of the dot-product test for one layer's kernel ``k``."""
    xs = [rng.standard_normal((batch, *s)) for s in r.input_shapes]
    u = rng.standard_normal((batch, *r.output_shape))

    def value():
        k.phase = "forward"
        return float(np.vdot(u, k.forward(*xs)))

    k.forward(*xs)
    k.phase = "backward"
    dxs = k.backward(u)
    k.forward(*xs)  # leave its state as on these inputs (max_unpool reads its pool's)
    grads = {f"input{i}" if len(xs) > 1 else "input": dx for i, dx in enumerate(dxs)}
    grads.update({name: g.copy() for name, g in k.grads.items()})
    targets = {name: xs[i] for i, name in enumerate(n for n in grads if n.startswith("input"))}
    targets.update(k.params)
    errors = {}
    for name, array in targets.items():
        if grads.get(name) is None:
            continue
        v = rng.standard_normal(array.shape)
        analytic = float(np.vdot(grads[name], v))
        original = array.copy()
        array += eps * v
        plus = value()
        array[...] = original - eps * v
        minus = value()
        array[...] = original
        noise = 64 * np.finfo(np.float64).eps * max(abs(plus), abs(minus)) / eps
        errors[name] = relative_error(analytic, (plus - minus) / (2 * eps), noise)
    return errors


__all__ = ["Check", "LayerReport", "VerifyReport", "verify", "gradient_check", "GRAD_DRAWS", "estimate_bytes", "INDEX_BYTES"]
