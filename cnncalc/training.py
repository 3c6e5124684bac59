"""Training-memory estimate: what a training step holds at its peak of kept
state, from each layer's ``saved_for_backward`` (no data touched, no numpy).

* parameters, their gradients, and optimizer state (SGD none, momentum one
  array, Adam two arrays per trainable parameter), plus buffers;
* activations kept for the backward pass: every tensor some layer keeps
  (its input, its output) counted **once** however many layers keep it — a
  ReLU's output is also the next convolution's input — and views (flatten,
  identity) share their input's storage; plus each layer's private arrays
  (argmax indices int64, dropout masks bool, batch-norm statistics).

``cnncalc verify`` checks the activation figure against the bytes the numpy
executor really holds, exactly.
"""

from __future__ import annotations

from math import prod

from .choices import Choice
from .layers.base import INDEX_BYTES, MASK_BYTES, Saved
from .records import Record, field, record
from .units import DTYPE_BYTES


class Optimizer(Choice):
    SGD = "sgd"
    MOMENTUM = "momentum"
    ADAM = "adam"


#: State arrays per trainable parameter.
OPTIMIZER_STATE = {Optimizer.SGD: 0, Optimizer.MOMENTUM: 1, Optimizer.ADAM: 2}


@record
class LayerMemory(Record):
    saved: Saved
    bytes: int  # everything this layer keeps (tensors it shares with others included)


@record
class TrainingMemory(Record):
    optimizer: str
    params: int  # trainable parameter bytes
    buffers: int  # non-trainable buffer bytes (batch-norm running statistics)
    gradients: int
    optimizer_state: int
    activations: int  # kept for backward, each tensor once
    layers: dict[str, LayerMemory] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.params + self.buffers + self.gradients + self.optimizer_state + self.activations


def storage_of(graph, name: str) -> str:
    """The node whose output array really holds ``name``'s data (views resolve to their source)."""
    from .graph import INPUT

    while name != INPUT and graph[name].layer.output_is_view:
        name = graph[name].inputs[0]
    return name


def training_memory(analysis, optimizer: str | Optimizer = Optimizer.SGD) -> TrainingMemory:
    from .graph import INPUT

    optimizer = Optimizer(optimizer)
    size = DTYPE_BYTES[analysis.dtype]
    batch = analysis.batch
    graph = analysis.graph
    shapes = {INPUT: tuple(analysis.input_shape)}
    shapes.update({r.name: r.output_shape for r in analysis.layers})

    tensor = {name: prod(shape) * batch * size for name, shape in shapes.items()}  # bytes of each output
    views = {r.name for r in analysis.layers if r.node.layer.output_is_view}

    kept: set[str] = set()
    private = 0
    layers = {}
    memo: dict = {}  # (layer, input shapes, output shape) → (Saved, private bytes): layers answer pure questions
    for r in analysis.layers:
        node = r.node
        try:
            key = (node.layer, r.input_shapes, r.output_shape)
            found = memo.get(key)
        except TypeError:  # a field value that cannot be hashed: just ask
            key = found = None
        if found is None:
            saved = node.layer.saved_for_backward(r.input_shapes, r.output_shape)
            own = (saved.values * size + saved.indices * INDEX_BYTES + saved.masks * MASK_BYTES) * batch
            found = (saved, own + saved.shared * size)
            if key is not None:
                memo[key] = found
        saved, own = found
        names = [node.inputs[i] for i in saved.inputs]
        if saved.output:
            names.append(node.name)
        layers[node.name] = LayerMemory(saved, own + sum([tensor[n] for n in names]))
        for n in names:
            kept.add(storage_of(graph, n) if n in views else n)
        private += own
    activations = private + sum([tensor[n] for n in kept])
    t = analysis.totals
    params = t.params_trainable * size
    return TrainingMemory(
        optimizer=optimizer.value,
        params=params,
        buffers=t.params_buffers * size,
        gradients=params,
        optimizer_state=OPTIMIZER_STATE[optimizer] * params,
        activations=activations,
        layers=layers,
    )
