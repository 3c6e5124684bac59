"""``cnncalc run`` for a layer type without a step-by-step handler: its executor kernel.

A new layer type is one module in ``cnncalc/layers/`` plus its numpy kernel in
``cnncalc/executor/kernels/``; a dedicated handler in :mod:`.steps` (the
working, exact) is welcome but optional. Without one, the layer still runs:
its kernel computes the forward pass and, with ``--backward``, the input and
parameter gradients in float64 (as ``cnncalc verify`` runs it: training mode,
random draws from seed 0), on the example's numbers. Every value is rounded to
6 decimals and marked ≈, as the irrational values of the dedicated handlers are.

Parameters come from ``weights:`` (the kernel's ``weight``) and ``biases:``
(its ``bias``), read row by row, or are the kernel's seeded draw rounded to
two decimals, printed. There is no matrix form (``--matrix`` is refused).

numpy is imported here, inside the step, only when such a layer is run.
"""

from __future__ import annotations

from math import prod

from ..errors import SpecError
from .steps import MATRIX_LIMIT, Done, _ctx, _dims, rounded, show

#: The spec key that sets each kernel parameter.
PARAM_KEYS = {"weight": "weights", "bias": "biases"}
DRAWN_DECIMALS = 2
NOTE = ("shown without its step-by-step working (cnncalc run has no dedicated handler for this layer type): "
        "computed by its executor kernel in float64, training mode as in cnncalc verify, values rounded "
        "to 6 decimals (≈)")


def _as_array(t, shape):
    """A [C][H][W] tensor of exact numbers as a float64 array (1, *shape) (the analysed sample shape)."""
    import numpy as np

    from . import taps as T

    return np.array([float(v) for v in T.flatten(t)], dtype=np.float64).reshape((1, *shape))


def _as_tensor(a, shape) -> list:
    """A (1, *shape) array as a [C][H][W] tensor of rounded values ([C] is (C, 1, 1), [C, L] is (C, 1, L))."""
    c, h, w = (*shape, 1, 1) if len(shape) == 1 else (shape[0], 1, shape[1]) if len(shape) == 2 else shape
    flat = [rounded(float(v)) for v in a.reshape(-1)]
    return [[flat[(ch * h + i) * w:(ch * h + i + 1) * w] for i in range(h)] for ch in range(c)]


def _show_array(block, title, a, notation):
    """A parameter (or its gradient) of any rank: a row, a grid, or one grid per leading index."""
    import numpy as np

    if a.size > MATRIX_LIMIT:
        block.text(f"{title}: {_dims(a.shape)}, too large to print ({a.size:,} values)")
        return
    vals = np.vectorize(lambda v: rounded(float(v)), otypes=[object])(a) if a.size else a
    if a.ndim <= 1:
        row = [vals.item()] if a.ndim == 0 else list(vals)
        block.grid(title, [row], [""], [notation.index(k) for k in range(len(row))])
    elif a.ndim == 2:
        block.grid(title, [list(r) for r in vals])
    else:
        for lead in np.ndindex(*a.shape[:-2]):
            at = ",".join(notation.index(k) for k in lead)
            block.grid(f"{title}[{at}]", [list(r) for r in vals[lead]])


def _given(node, name, shape):
    """The values of parameter ``name`` from the spec (its key, read row by row), or None."""
    import numpy as np

    from .worked import parse_tensor

    key = PARAM_KEYS.get(name)
    if key is None or key not in node.extra:
        return None
    loc = node.loc_of(key)
    raw = node.extra[key]
    t, s = parse_tensor(raw if isinstance(raw, list) else [raw], loc, key)
    flat = list(_deep_flatten(t))
    if len(flat) != prod(shape):
        raise SpecError(f"'{key}' has {len(flat)} numbers, but this layer's {name} is {_dims(shape)} "
                        f"({prod(shape)} numbers, read row by row)", loc=loc, field=key, **_ctx(node))
    return np.array([float(v) for v in flat], dtype=np.float64).reshape(shape)


def _deep_flatten(t):
    for v in t:
        if isinstance(v, list):
            yield from _deep_flatten(v)
        else:
            yield v


class _NoPeers(dict):
    """The generic step runs one kernel alone: a kernel that reads another layer's kernel (max_unpool
    its pool's switches) needs a dedicated handler, and says so instead of a KeyError."""

    def __init__(self, node):
        super().__init__()
        self.node = node

    def __missing__(self, name):
        raise SpecError(f"cnncalc run computes '{self.node.type_name}' layers through their executor kernel alone, "
                        f"but this kernel reads the state of layer '{name}'; it needs a step-by-step handler in "
                        "cnncalc/homework/steps.py", loc=self.node.loc, **_ctx(self.node))


def step(node, xs, env, src):
    """Forward through the layer's executor kernel; the backward beside it."""
    import numpy as np

    from ..executor.kernel import kernel_for
    from .worked import Block

    layer = node.layer
    kernel_cls = kernel_for(layer)
    if kernel_cls is None:
        raise SpecError(f"cnncalc run cannot compute '{node.type_name}' layers: no step-by-step handler and no "
                        "executor kernel; cnncalc analyze gives its shapes and counts", loc=node.loc, **_ctx(node))
    if env.matrix:
        raise SpecError(f"--matrix: cnncalc run shows '{node.type_name}' layers without their step-by-step working "
                        "(through their executor kernel), so it has no matrix form for them; the matrix form is "
                        "for the linear layers listed in `cnncalc run --help`; run without --matrix",
                        loc=node.loc, **_ctx(node))
    result = env.results[node.name]
    in_shapes = [tuple(s) for s in result.input_shapes]
    out_shape = tuple(result.output_shape)
    if any(len(s) > 3 for s in (*in_shapes, out_shape)):
        raise SpecError(f"cnncalc run computes [C], [C, L] and [C, H, W] tensors; this layer's shapes are "
                        f"{', '.join(_dims(s) for s in (*in_shapes, out_shape))}", loc=node.loc, **_ctx(node))
    kernel = kernel_cls(layer, in_shapes, out_shape, batch=1, dtype=np.float64, rng=np.random.default_rng(0))
    kernel.peers = _NoPeers(node)
    for key in set(node.extra) & set(PARAM_KEYS.values()):
        if not any(PARAM_KEYS.get(name) == key for name in kernel.params):
            raise SpecError(f"'{key}' is given, but this layer has no parameter "
                            f"{[n for n, k in PARAM_KEYS.items() if k == key][0]!r} "
                            f"(its parameters: {', '.join(kernel.params) or 'none'})",
                            loc=node.loc_of(key), field=key, **_ctx(node))
    given = {}
    for name, p in kernel.params.items():
        values = _given(node, name, p.shape)
        given[name] = values is not None
        p[...] = values if values is not None else np.round(p, DRAWN_DECIMALS)  # in place: the kernel holds it
    b = Block(f"{node.index}. {node.name}: {node.type_name}: {src if isinstance(src, str) else ', '.join(src)} "
              f"{' + '.join(_dims(s) for s in in_shapes)} → {_dims(out_shape)}")
    b.text(NOTE)
    if layer.summary:
        b.text(layer.summary)
    names = [src] if isinstance(src, str) else list(src)
    for name, x, shape in zip(names, xs, in_shapes):
        show(b, f"input {name}", x, shape, env)
    for name, p in kernel.params.items():
        key = PARAM_KEYS.get(name)
        if given[name]:
            how = f"from '{key}:'"
        else:
            how = (f"not given ('{key}:' sets it): " if key else "") + \
                f"the kernel's seeded draw rounded to {DRAWN_DECIMALS} decimals"
        b.text(f"{name} ({_dims(p.shape)}): {how}")
        _show_array(b, name, p, env.notation)
    kernel.phase = "forward"
    arrays = [_as_array(x, shape) for x, shape in zip(xs, in_shapes)]
    y = _as_tensor(kernel.forward(*arrays), out_shape)
    show(b, node.name + " (≈)", y, out_shape, env)

    def backward(dy, block):
        kernel.phase = "backward"
        kernel.needs_input_grad = (True,) * len(in_shapes)
        dxs = kernel.backward(_as_array(dy, out_shape))
        block.text("δ(input) and the parameters' gradients by the layer's executor kernel (float64, rounded to 6 "
                   "decimals, ≈)")
        for name, g in kernel.grads.items():
            _show_array(block, f"δ{name} (≈)", np.asarray(g), env.notation)
        return [_as_tensor(np.zeros((1, *shape)) if dx is None else dx, shape) for dx, shape in zip(dxs, in_shapes)]

    return Done(y, b, backward, approx=True)
