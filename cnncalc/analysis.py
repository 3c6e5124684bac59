"""The analysis: a pure pass over the graph, no data touched.

``analyze(graph)`` visits nodes in topological order and records, for each,
the input and output shapes, parameters, multiplications (and MACs/FLOPs under
the chosen convention), receptive field per input axis, and memory; then the
totals. Layer code raises FieldError; here it gains the node's file, line,
index and name.
"""

from __future__ import annotations

from math import prod

from .conventions import DEFAULT, Convention, rule
from .errors import FieldError, SpecError
from .graph import INPUT, Graph, Node
from .layers.base import WHOLE, Params
from .receptive import AxisRF, terms
from .records import Record, field, record
from .shapes import order_warning
from .units import DTYPE_BYTES  # noqa: F401  (imported from here by other modules)


@record
class LayerResult(Record):
    node: Node
    input_shapes: tuple[tuple[int, ...], ...]
    output_shape: tuple[int, ...]
    params: Params
    multiplications: int  # the lectures' count, whatever the convention
    macs: int  # under the analysis convention
    flops: int  # under the analysis convention
    rf: tuple[AxisRF, ...]  # one per spatial axis of the network input
    activation_bytes: int  # output × batch × dtype size
    param_bytes: int  # (trainable + buffers) × dtype size

    @property
    def name(self) -> str:
        return self.node.name

    @property
    def type_name(self) -> str:
        return self.node.type_name


@record
class Totals(Record):
    params_trainable: int
    params_buffers: int
    multiplications: int
    macs: int
    flops: int
    activation_bytes: int  # sum of every layer's output (all kept, as in training)
    input_bytes: int
    param_bytes: int

    @property
    def params(self) -> int:
        return self.params_trainable


@record(frozen=False, repr=False)
class Analysis:
    graph: Graph
    input_shape: tuple[int, ...]
    batch: int
    dtype: str
    convention: Convention
    layers: list[LayerResult]
    totals: Totals
    warnings: list[tuple[str, str]] = field(default_factory=list)
    optimizer: str = "sgd"  # for the training-memory estimate

    @property
    def training_memory(self):
        """Parameters, gradients, optimizer state and activations kept for
        backward (a :class:`cnncalc.training.TrainingMemory`, bytes)."""
        if getattr(self, "_training_memory", None) is None:
            from .training import training_memory

            self._training_memory = training_memory(self, self.optimizer)
        return self._training_memory

    @property
    def output_names(self) -> list[str]:
        return self.graph.outputs()

    @property
    def output_rf(self) -> tuple[AxisRF, ...]:
        """Receptive field at the (first) network output."""
        by_name = {r.name: r for r in self.layers}
        return by_name[self.output_names[0]].rf if self.layers else ()

    def __getitem__(self, name: str) -> LayerResult:
        for r in self.layers:
            if r.name == name:
                return r
        raise KeyError(name)

    # -- rendering, as the command line does (renderers imported on use) --

    def to_dict(self) -> dict:
        """The JSON report (``cnncalc analyze --format json``) as Python data."""
        from .render.jsonout import to_dict

        return to_dict(self)

    def to_json(self) -> str:
        """The JSON report, text identical to ``cnncalc analyze --format json``."""
        from .render.jsonout import render

        return render(self)

    def summary(self, *, exact: bool = False, depth: int | None = None, file=None) -> None:
        """Print the table with its totals and conventions, as ``cnncalc analyze``
        does (to ``file``, default stdout), like ``torchinfo.summary``."""
        from .render.fasttable import print_analysis_table

        print_analysis_table(self, exact=exact, depth=depth, stream=file)

    def __str__(self) -> str:
        import io

        buffer = io.StringIO()
        self.summary(file=buffer)
        return buffer.getvalue()

    def __repr__(self) -> str:
        name = self.graph.name or self.graph.file or "network"
        return (f"<Analysis {name}: {len(self.layers)} layers, input {'×'.join(map(str, self.input_shape))}, "
                f"{self.totals.params_trainable:,} parameters, {self.totals.macs:,} MACs ({self.convention.value}), "
                f"batch {self.batch}, {self.dtype}; print() it for the table>")

    def _repr_html_(self) -> str:
        """An HTML table for Jupyter (every text escaped)."""
        from .render.notebook import render

        return render(self)


def _fail(exc: FieldError, node: Node) -> SpecError:
    return SpecError(
        exc.message,
        loc=node.loc_of(exc.field),
        layer_index=node.index,
        layer_name=node.name,
        layer_type=node.type_name,
        field=exc.field,
    )


#: The 10^18 rule of the spec's fields holds for everything derived from them
#: too: every output size, and every receptive-field size, jump, start and
#: denominator. Beyond it no network is meant, and the exact numbers would
#: grow without bound through a chain of layers (10^18 upsampling twice).
MAX_DERIVED = 10**18


def _check_derived(shape, rf) -> None:
    for axis, n in enumerate(shape):
        if n > MAX_DERIVED:
            raise FieldError("output", f"output size {_magnitude(n)} along axis {axis} is beyond 10^18, the largest "
                             "size cnncalc computes with")
    for axis, a in enumerate(rf, 1):
        for what, (numerator, denominator) in (("size", terms(a.size)), ("jump", terms(a.jump)),
                                               ("start", a.start_terms())):
            if -MAX_DERIVED <= numerator <= MAX_DERIVED and denominator <= MAX_DERIVED:
                continue
            big = numerator if abs(numerator) > MAX_DERIVED else denominator
            raise FieldError("output", f"the receptive field's {what} along spatial axis {axis} needs a number of "
                             f"{_magnitude(big)}, beyond 10^18, the largest cnncalc computes with")


def _magnitude(n: int) -> str:
    digits = len(str(abs(n))) if abs(n) < 10**4000 else abs(n).bit_length() * 3 // 10
    return f"about 10^{digits - 1}"


def _merge_rf(node: Node, fields: list[tuple[AxisRF, ...]], warnings) -> tuple[AxisRF, ...]:
    """Where paths meet, keep per axis the field of the largest size and
    warn when the paths are not aligned (different jump or centre)."""
    if len(fields) == 1:
        return fields[0]
    out = []
    for axis, candidates in enumerate(zip(*fields)):
        best = max(candidates, key=lambda rf: rf.size)
        if any(c.whole for c in candidates):
            best = best.marked_whole()
        spatial = [c for c in candidates if not c.whole]
        if len({(c.jump, c.twice_start) for c in spatial}) > 1:
            detail = ", ".join(
                f"{src}: jump {c.jump}, start {c.start}" for src, c in zip(node.inputs, candidates) if not c.whole
            )
            warnings.append((node.name, f"receptive fields of the inputs are not aligned on axis {axis} ({detail})"))
        out.append(best)
    return tuple(out)


def _unused_warnings(graph: Graph) -> list[tuple[str, str]]:
    """Nodes whose output nobody uses, apart from the last node (the network
    output): usually a forgotten ``inputs:`` reference."""
    if not graph.nodes:
        return []
    last = graph.nodes[-1].name
    return [
        (name, f"{graph[name].loc}: the output of '{name}' is not used by any layer "
               f"(only the last layer, '{last}', is the network output)")
        for name in graph.outputs()
        if name != last
    ]


def _step_rf(step, rf_in: tuple[AxisRF, ...], extents) -> tuple[AxisRF, ...]:
    """The receptive field after a layer whose ``rf(xs)`` answered ``step``."""
    if step is None:
        return rf_in
    if step == WHOLE or len(step) != len(rf_in):
        return tuple(rf.whole_input(n) for rf, n in zip(rf_in, extents))
    # an axis step may itself be WHOLE (e.g. K-max pooling along one axis)
    return tuple(rf.whole_input(n) if s == WHOLE else rf.then(s) for rf, s, n in zip(rf_in, step, extents))


def _answers(layer, xs, count) -> tuple:
    """What a layer says about input shapes ``xs``: output shape, parameters,
    multiplications, MACs and FLOPs under the convention, receptive-field step."""
    y = tuple(layer.out_shape(xs))
    mults = layer.macs(xs, y)
    macs, flops = count(layer, xs, y, mults)
    return y, layer.params(xs), mults, macs, flops, layer.rf(xs)


def graph_of(spec, input_shape=None) -> Graph:
    """The graph a library caller means by ``spec``: a Graph as it is; a dict
    (the spec as Python data); YAML text (a string with a line break); a path
    or the name of a bundled spec (``"vgg16"``), as on the command line.
    ``input_shape`` overrides the spec's input: a tuple (channels first) or
    text under the one shape notation (``"3,64,64"`` or ``"64x64x3"``)."""
    from collections.abc import Mapping
    from os import PathLike

    if isinstance(input_shape, str):
        from .errors import UsageError
        from .shapes import ShapeSyntaxError, parse_shape

        try:
            input_shape = parse_shape(input_shape, what="input_shape").shape
        except ShapeSyntaxError as exc:
            raise UsageError(str(exc)) from None
    if isinstance(spec, Graph):
        if input_shape is not None:
            raise TypeError("input_shape applies to a spec, not to an already loaded Graph")
        return spec
    from .spec import load_spec, loads_spec

    if isinstance(spec, Mapping):
        return loads_spec(spec, input_shape=input_shape)
    if isinstance(spec, str) and "\n" in spec:
        return loads_spec(spec, input_shape=input_shape)
    if isinstance(spec, (str, PathLike)):
        from .bundled import resolve

        return load_spec(resolve(str(spec)).path, input_shape)
    raise TypeError(f"analyze() takes a Graph, a spec dict, YAML text, a path or a bundled spec name, "
                    f"not {type(spec).__name__}")


def analyze(
    graph,
    *,
    batch: int = 1,
    dtype: str = "float32",
    convention: Convention | str = DEFAULT,
    optimizer: str = "sgd",
    input_shape=None,
) -> Analysis:
    """Compute every number for every node of ``graph``: a Graph, or anything
    :func:`graph_of` reads (a spec dict, YAML text, a path, a bundled name)."""
    graph = graph_of(graph, input_shape)
    if dtype not in DTYPE_BYTES:
        raise ValueError(f"unknown dtype {dtype!r}; allowed: {', '.join(DTYPE_BYTES)}")
    if batch < 1:
        raise ValueError("batch must be ≥ 1")
    convention = Convention(convention)
    count = rule(convention).count
    size = DTYPE_BYTES[dtype]
    extents = graph.input_shape[1:]
    shapes: dict[str, tuple] = {INPUT: tuple(graph.input_shape)}
    fields: dict[str, tuple[AxisRF, ...]] = {INPUT: tuple(AxisRF() for _ in extents)}
    results = []
    known: dict[str, LayerResult] = {}  # nodes analysed so far, for layers that refer to others
    warnings: list[tuple[str, str]] = []
    memo: dict = {}  # (layer, input shapes) → _answers(...)
    order = order_warning(graph.input_shape)
    if order is not None:
        warnings.append((INPUT, order))
    t_train = t_buf = t_mult = t_macs = t_flops = t_act = t_pbytes = 0
    for node in graph.nodes:
        layer = node.layer
        xs = tuple(shapes[src] for src in node.inputs)
        if not layer.min_inputs <= len(xs) <= layer.max_inputs:
            if layer.min_inputs == layer.max_inputs:
                want = f"{layer.min_inputs} input{'s' if layer.min_inputs > 1 else ''}"
            elif layer.max_inputs >= 1000:
                want = f"at least {layer.min_inputs} inputs"
            else:
                want = f"{layer.min_inputs} to {layer.max_inputs} inputs"
            raise _fail(FieldError("inputs", f"{node.type_name} takes {want}, got {len(xs)}"), node)
        try:
            layer = layer.bind(known)
            # Layers answer pure questions about their input shapes, and real
            # networks repeat the same layer on the same shapes (and a
            # 10,000-layer chain five of them): ask each pair once.
            try:
                key = (layer, xs)
                answers = memo.get(key)
            except TypeError:  # a field value that cannot be hashed: just ask
                key = answers = None
            if answers is None:
                answers = _answers(layer, xs, count)
                if key is not None:
                    memo[key] = answers
            y, params, mults, macs, flops, step = answers
            rf = _step_rf(step, _merge_rf(node, [fields[s] for s in node.inputs], warnings), extents)
            _check_derived(y, rf)
        except FieldError as exc:
            if hasattr(exc, "named"):  # a merge names each input beside its shape
                exc = exc.named(node.inputs)
            raise _fail(exc, node) from None
        shapes[node.name] = y
        fields[node.name] = rf
        act = prod(y) * batch * size
        pbytes = params.total * size
        results.append(LayerResult(node, xs, y, params, mults, macs, flops, rf, act, pbytes))
        known[node.name] = results[-1]
        t_train += params.trainable
        t_buf += params.buffers
        t_mult += mults
        t_macs += macs
        t_flops += flops
        t_act += act
        t_pbytes += pbytes
    warnings.extend(_unused_warnings(graph))
    totals = Totals(
        params_trainable=t_train,
        params_buffers=t_buf,
        multiplications=t_mult,
        macs=t_macs,
        flops=t_flops,
        activation_bytes=t_act,
        input_bytes=prod(graph.input_shape) * batch * size,
        param_bytes=t_pbytes,
    )
    return Analysis(
        graph, tuple(graph.input_shape), batch, dtype, convention, results, totals, warnings, optimizer=str(optimizer)
    )


def analyze_file(path, *, input_shape=None, **kw) -> Analysis:
    """Load a spec file and analyse it (``analyze(path)`` does the same)."""
    from .spec import load_spec

    return analyze(load_spec(path, input_shape), **kw)
