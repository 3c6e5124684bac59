"""``cnncalc verify``: run the network for real and check every analysed number.

Per layer: output shape; parameter and buffer sizes (and gradient shapes);
multiplications counted from the kernels' operands (conv, dense and every
kernel that sets ``counts_multiplications``), with products on padded zeros
reported apart; bytes kept for backward against ``saved_for_backward``; and,
with ``gradcheck``, a float64 directional-derivative (dot-product) test of the
input and parameter gradients against central finite differences, one layer
at a time (memory bounded by :func:`gradcheck_bytes`).
"""

from __future__ import annotations

import time
from math import prod

import numpy as np

from ..analysis import DTYPE_BYTES
from ..layers.base import INDEX_BYTES
from ..records import field, record
from .kernel import kernel_for
from .network import Network

#: Largest relative error the float64 gradient check accepts.
GRAD_TOLERANCE = 1e-5


@record(frozen=False)
class Check:
    """A measured value beside the analysed one."""

    measured: object
    analysed: object
    ok: bool


@record(frozen=False)
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


@record(frozen=False)
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
    """Memory a verify run needs at its peak: the run itself (parameters and
    gradients, everything kept for backward, the largest layer's working set —
    input, output and their gradients — and the shared scratch buffers), or,
    with ``gradcheck`` and if larger, the gradient check after it (see
    :func:`gradcheck_bytes`)."""
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
        need = max(need, gradcheck_bytes(analysis)[0])
    return need


#: Elements of a random direction drawn at a time (4 MiB in float32).
DIRECTION_CHUNK = 1 << 20
#: Directions over arrays up to this many elements are drawn once and kept (32 MiB).
KEEP_DIRECTION = 1 << 23


def gradcheck_bytes(analysis) -> tuple[int, str | None]:
    """Peak memory of :func:`gradient_check` and the layer where it is reached.

    The check holds one layer at a time in float64: its parameters and their
    gradients, its random inputs, the output cotangent, two outputs, the
    input gradients, its scratch workspace (twice), and a few direction chunks;
    plus the max-pool kernels a later max_unpool reads."""
    peak, where = 0, None
    pools = 0
    unpooled = {getattr(r.node.layer, "pool", None) for r in analysis.layers}
    b = analysis.batch
    for r in analysis.layers:
        cls = kernel_for(r.node.layer)
        work = cls.workspace(r.node.layer, r.input_shapes, r.output_shape) if cls else 0
        inputs = sum(prod(s) for s in r.input_shapes)
        output = prod(r.output_shape)
        # directions: float32 kept for arrays up to KEEP_DIRECTION elements (input and every
        # parameter), or one chunk drawn at a time; one float64 chunk buffer per direction
        targets = inputs * b + r.params.trainable
        arrays = len(r.input_shapes) + 4  # inputs and at most four parameter arrays
        directions = 4 * min(targets, KEEP_DIRECTION * arrays) + 8 * min(targets, DIRECTION_CHUNK * arrays)
        need = 8 * (2 * r.params.total + b * (2 * inputs + 3 * output + 2 * work)) + directions + pools
        if need > peak:
            peak, where = need, r.name
        if r.name in unpooled:
            pools += 8 * b * (inputs + output)
    return peak, where


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
        # free the run's arrays before the check (one float64 layer at a time): the kernels
        # refer to each other (peers), a cycle that only the cyclic collector frees
        for kernel in net.kernels.values():
            kernel.peers = {}
        del net
        k = None
        import gc

        gc.collect()
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
    """Directional-derivative (dot-product) test of every layer in float64,
    one layer at a time, in memory bounded by :func:`gradcheck_bytes`.

    For each layer, on random inputs x and a random output cotangent u, one
    backward pass gives every gradient; then for the input and each parameter
    t, along a random direction v, the analytic ⟨∂⟨u, f⟩/∂t, v⟩ is compared
    with the numeric (⟨u, f(t + εv)⟩ − ⟨u, f(t − εv)⟩)/2ε from two extra
    forward passes. v is never stored: it is drawn chunk by chunk from its own
    seed each time it is needed (for the dot product, +εv, −2εv and +εv back),
    so nothing beyond the layer's own arrays is copied. The reported error is
    the smallest over up to GRAD_DRAWS draws of (x, u, v) (see GRAD_DRAWS);
    differences below the rounding noise of the finite difference,
    64·ε_mach·|⟨u, f⟩|/ε, count as 0. Returns layer → {target: relative error}.
    """
    rng = np.random.default_rng(seed + 1)
    params_rng = np.random.default_rng(seed)
    unpooled = {getattr(r.node.layer, "pool", None) for r in analysis.layers}
    peers: dict = {}  # kernels a later layer reads (a max_unpool's max_pool)
    scratchpad: dict = {}
    results = {}
    for r in analysis.layers:
        k = kernel_for(r.node.layer)(r.node.layer, r.input_shapes, r.output_shape, batch=analysis.batch,
                                     dtype=np.float64, rng=params_rng)
        k.peers, k.scratchpad = peers, scratchpad
        errors: dict[str, float] = {}
        for _ in range(GRAD_DRAWS):
            for name, error in _check_layer_once(k, r, analysis.batch, rng, eps).items():
                errors[name] = min(error, errors.get(name, error))
            if all(e <= GRAD_TOLERANCE for e in errors.values()):
                break
        results[r.name] = errors
        if r.name in unpooled:
            peers[r.name] = k
        del k
        if progress:
            progress()
    return results


class _Direction:
    """A random direction v over one array, applied in place chunk by chunk.

    v is float32 (uniform on [−1, 1)), so float64 arithmetic with it is exact
    up to the usual rounding. A small array's direction is drawn once and kept;
    a large one's (more than KEEP_DIRECTION elements: VGG's first dense layer
    has 103M) is drawn again, chunk by chunk from its own seed, whenever it is
    needed. Arithmetic runs through one float64 buffer of DIRECTION_CHUNK
    elements, so the check never holds a copy of a large array."""

    def __init__(self, array: np.ndarray, seed: tuple):
        self.flat = array.reshape(-1)
        if not np.shares_memory(self.flat, array):  # pragma: no cover - parameters and inputs are contiguous
            raise ValueError("gradient check needs contiguous arrays")
        self.seed = seed
        self.buffer = np.empty(min(self.flat.size, DIRECTION_CHUNK), dtype=np.float64)
        self.kept = self._draw(self.flat.size, 0) if self.flat.size <= KEEP_DIRECTION else None

    def _draw(self, n: int, i: int) -> np.ndarray:
        # uniform on [−1, 1): any random direction serves, and uniform draws are ~10× cheaper than normal ones
        v = np.random.default_rng((*self.seed, i)).random(n, dtype=np.float32)
        v *= 2
        v -= 1
        return v

    def chunks(self):
        """(start, stop, v[start:stop] in float64, in the shared buffer)."""
        for i, start in enumerate(range(0, self.flat.size, DIRECTION_CHUNK)):
            stop = min(self.flat.size, start + DIRECTION_CHUNK)
            v = self.kept[start:stop] if self.kept is not None else self._draw(stop - start, i)
            out = self.buffer[: stop - start]
            np.copyto(out, v)
            yield start, stop, out

    def dot(self, grad: np.ndarray) -> float:
        """⟨grad, v⟩; a gradient that is a transposed view is read chunk by chunk, never copied whole."""
        flat = grad.reshape(-1) if grad.flags.c_contiguous else grad.flat
        return float(sum(np.dot(flat[a:b], v) for a, b, v in self.chunks()))

    def move(self, scale: float) -> None:
        """array += scale · v."""
        for a, b, v in self.chunks():
            v *= scale
            self.flat[a:b] += v


def _check_layer_once(k, r, batch: int, rng, eps: float) -> dict[str, float]:
    """One draw of the dot-product test for one layer's kernel ``k``."""
    xs = [rng.standard_normal((batch, *s)) for s in r.input_shapes]
    u = rng.standard_normal((batch, *r.output_shape))
    draw = int(rng.integers(2**63))

    def value():
        k.phase = "forward"
        return float(np.vdot(u, k.forward(*xs)))

    k.forward(*xs)
    k.phase = "backward"
    dxs = k.backward(u)
    inputs = [f"input{i}" if len(xs) > 1 else "input" for i in range(len(xs))]
    targets = {name: x for name, x, dx in zip(inputs, xs, dxs) if dx is not None}
    targets.update(k.params)
    grads = dict(zip(inputs, dxs))
    grads.update(k.grads)
    # every analytic value now, before a forward pass may reuse a gradient's buffer
    directions = {name: _Direction(array, (draw, i)) for i, (name, array) in enumerate(targets.items())
                  if grads.get(name) is not None}
    analytic = {name: d.dot(grads[name]) for name, d in directions.items()}
    del dxs, grads
    k.release()
    k.forward(*xs)  # leave its state as on these inputs (max_unpool reads its pool's)
    errors = {}
    for name, direction in directions.items():
        direction.move(eps)
        plus = value()
        direction.move(-2 * eps)
        minus = value()
        direction.move(eps)
        noise = 64 * np.finfo(np.float64).eps * max(abs(plus), abs(minus)) / eps
        errors[name] = relative_error(analytic[name], (plus - minus) / (2 * eps), noise)
    k.forward(*xs)
    return errors


__all__ = ["Check", "LayerReport", "VerifyReport", "verify", "gradient_check", "GRAD_DRAWS", "estimate_bytes",
           "gradcheck_bytes", "INDEX_BYTES"]
