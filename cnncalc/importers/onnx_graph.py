"""Walk an ONNX graph once and turn it into cnncalc layers.

Every ONNX value the walk has seen is one of: a constant (an initializer, a
``Constant`` node, or a small shape computation folded with numpy), a weight
known by its shape only (a model exported without its parameters), or a
tensor of the network, which stands for the output of one spec node (or of
the network input) with its cnncalc shape (no batch axis). Each operation
type has one converter in :mod:`.onnx_ops`; an operation without one is
collected, and the import stops listing every such operation by count and
node names, unless ``unknown="identity"`` turns them into pass-throughs.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from math import prod

import numpy as np

from ..errors import CnncalcError
from ..records import field, record
from .names import module_of_weight, printable, scope_of


class ImportError_(CnncalcError):
    """An ONNX model or PyTorch module that cannot become a spec."""


class Unsupported(Exception):
    """Raised by a converter: this node (with these attributes) has no cnncalc layer."""

    def __init__(self, why: str = ""):
        super().__init__(why)
        self.why = why


@record(frozen=False)
class Tensor:
    """A tensor of the network: the spec node that produces it and its shape
    without the batch axis. ``view`` marks a reshaped alias (a [C] gate seen
    as [C, 1, 1]) whose ONNX shape is not the spec node's shape."""

    source: str
    shape: tuple
    view: bool = False
    #: the ONNX tensor holds the channels last ([N, *spatial, C]; ConvNeXt's
    #: Permute → LayerNorm → Linear); ``shape`` stays channels first
    channels_last: bool = False
    #: a reshape cnncalc follows only as part of a known pattern (channel
    #: shuffle, pixel unshuffle, group norm): the ONNX shape and the steps so far
    pending: tuple | None = None
    #: part of x·½·(1 + erf(x/√2)), GELU as exporters before ONNX opset 20 write it:
    #: (steps done, the tensor x)
    partial: tuple | None = None


@record(frozen=False)
class NewLayer:
    key: str  # a unique id until names are assigned
    type_name: str
    fields: dict
    inputs: list  # keys of other NewLayers, or "input"
    scope: str  # module name from the exporter's scopes or weight names
    op: str
    onnx_names: list
    outputs: list  # ONNX value names this layer produces
    weights: dict = field(default_factory=dict)  # ONNX name -> elements (trainable)
    buffers: dict = field(default_factory=dict)  # ONNX name -> elements (running statistics)
    comment: str = ""
    from_weight: bool = False  # the scope is a parameter's module name (exact)
    name: str = ""
    node: object = None  # the ONNX node that made it
    channels_last: bool = False  # its ONNX output holds the channels last


ATTR_TYPES = None


def attributes(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class Walk:
    def __init__(self, model, input_shape=None, unknown: str = "error", module_names=None):
        import onnx
        from onnx import numpy_helper, shape_inference

        self.onnx = onnx
        self.module_names = module_names
        graph = model.graph
        inits = {t.name: t for t in graph.initializer}
        self.consts: dict[str, np.ndarray] = {n: numpy_helper.to_array(t) for n, t in inits.items()}
        self.weight_shapes: dict[str, tuple] = {n: tuple(t.dims) for n, t in inits.items()}
        data_inputs = [i for i in graph.input if i.name not in inits]
        if not data_inputs:
            raise ImportError_("the ONNX graph has no input")
        first = data_inputs[0]
        dims = [d.dim_value if d.HasField("dim_value") else None for d in first.type.tensor_type.shape.dim]
        if len(dims) < 2:
            raise ImportError_(f"the ONNX input '{printable(first.name)}' has shape {dims}; cnncalc needs (batch, C, ...)")
        if input_shape is not None:
            if len(input_shape) != len(dims) - 1:
                raise ImportError_(
                    f"--input has {len(input_shape)} axes but the ONNX input '{printable(first.name)}' has {len(dims) - 1} "
                    "(channels first, without the batch axis)")
            if any(d is not None and d != s for d, s in zip(dims[1:], input_shape)):
                raise ImportError_(f"--input {list(input_shape)} contradicts the ONNX input shape {dims}")
            dims = [1, *input_shape]
        if any(d is None for d in dims[1:]):
            raise ImportError_(
                f"the ONNX input '{printable(first.name)}' has dynamic axes {['?' if d is None else d for d in dims]}; "
                "give the size with --input C,H,W")
        self.input_shape = tuple(dims[1:])
        # extra inputs: parameters of a model exported without them (known by shape only)
        for extra in data_inputs[1:]:
            shape = tuple(d.dim_value for d in extra.type.tensor_type.shape.dim)
            self.weight_shapes[extra.name] = shape
        self.model = self._fix_input(model, first.name, dims)
        self.shapes: dict[str, tuple] = {}
        inferred = self._infer(self.model)
        self.graph = inferred.graph
        self.folded: set[str] = set()  # outputs of the nodes folded into constants
        self.values: dict[str, Tensor] = {first.name: Tensor("input", self.input_shape)}
        self.layers: list[NewLayer] = []
        self.by_key: dict[str, NewLayer] = {}
        self.producer: dict[str, NewLayer] = {}
        self.consumers: dict[str, list] = defaultdict(list)
        for node in self.graph.node:
            for name in node.input:
                if name:
                    self.consumers[name].append(node)
        self.unknown = unknown
        self.origin: dict[str, str] = {}  # a view of a parameter -> the parameter's name
        self.folded_pads: dict = {}  # Pad output -> (its input, sides, node names) once folded into convolutions
        self.unsupported: dict[str, list[str]] = defaultdict(list)
        self.reasons: dict[str, str] = {}
        self.warnings: list[str] = []
        self.output_names = [o.name for o in graph.output]

    def _infer(self, model):
        from onnx import shape_inference

        try:
            inferred = shape_inference.infer_shapes(model, data_prop=True)
        except Exception as exc:  # onnx raises its own error types
            raise ImportError_(f"ONNX shape inference failed: {exc}") from None
        for vi in (*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input):
            t = vi.type.tensor_type
            if t.HasField("shape"):
                shape = tuple(d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim)
                if None not in shape or vi.name not in self.shapes:
                    self.shapes[vi.name] = shape
        return inferred

    def infer_again(self):
        """ONNX shape inference once more, with every folded shape computation
        given as a constant: it then knows shapes it could not follow through
        Shape → Gather → Concat → Pad chains (the self-check compares them all)."""
        from onnx import numpy_helper

        if not self.folded:
            return
        model = self.onnx.ModelProto()
        model.CopyFrom(self.model)
        kept = [n for n in model.graph.node if not (n.output and n.output[0] in self.folded)]
        needed = {i for n in kept for i in n.input} & self.folded
        del model.graph.node[:]
        model.graph.node.extend(kept)
        for name in sorted(needed):
            model.graph.initializer.append(numpy_helper.from_array(np.asarray(self.consts[name]), name))
        self._infer(model)

    def _fix_input(self, model, name, dims):
        """A copy of the model whose input has batch 1 and the given sizes, with
        any shapes the producer recorded dropped, so inference fills static ones."""
        model = self.onnx.ModelProto.FromString(model.SerializeToString())
        del model.graph.value_info[:]
        for o in model.graph.output:
            o.type.tensor_type.ClearField("shape")
        for i in model.graph.input:
            if i.name == name:
                for d, v in zip(i.type.tensor_type.shape.dim, [1, *dims[1:]]):
                    d.dim_value = v
        return model

    # -- what converters use ------------------------------------------------
    def is_const(self, name: str) -> bool:
        return name in self.consts

    def const(self, name: str) -> np.ndarray:
        if name not in self.consts:
            raise Unsupported(f"input '{printable(name)}' is not a constant")
        return self.consts[name]

    def is_weight(self, name: str) -> bool:
        return name in self.weight_shapes or name in self.consts

    def weight_shape(self, name: str) -> tuple:
        if name in self.weight_shapes:
            return self.weight_shapes[name]
        if name in self.consts:
            return tuple(self.consts[name].shape)
        raise Unsupported(f"weight '{printable(name)}' is not a constant")

    def tensor(self, name: str) -> Tensor:
        if name not in self.values:
            raise Unsupported(f"input '{printable(name)}' is not a tensor of the network")
        return self.values[name]

    def onnx_shape(self, name: str) -> tuple | None:
        shape = self.shapes.get(name)
        if shape is None or any(d is None for d in shape):
            return None
        return shape

    def sole_consumer(self, value: str) -> bool:
        """One operation reads the values (a Shape that reads only the size does not count)."""
        readers = [n for n in self.consumers.get(value, ()) if n.op_type != "Shape"]
        return len(readers) == 1 and value not in self.output_names

    def alias(self, output: str, tensor: Tensor):
        self.values[output] = tensor

    def emit(self, node, type_name: str, fields: dict, inputs: list, *, output_shape=None, weights=(), buffers=(),
             comment="", outputs=None, channels_last=False) -> NewLayer:
        srcs = [t.source for t in inputs]
        scope, from_weight = self._scope(node, weights)
        layer = NewLayer(f"#{len(self.layers)}", type_name, fields, srcs, printable(scope), node.op_type,
                         [printable(node.name)],
                         list(node.output[:1] if outputs is None else outputs),
                         {self.origin.get(w, w): prod(self.weight_shape(w)) for w in weights},
                         {self.origin.get(b, b): prod(self.weight_shape(b)) for b in buffers}, comment, from_weight)
        layer.node = node
        self.layers.append(layer)
        self.by_key[layer.key] = layer
        shape = output_shape
        if shape is None:
            shape = self._cnncalc_shape(layer, inputs)
        layer.channels_last = channels_last
        for out in layer.outputs:
            self.values[out] = Tensor(layer.key, shape, channels_last=channels_last)
            self.producer[out] = layer
        return layer

    def _cnncalc_shape(self, layer, inputs):
        """The layer's output shape as cnncalc computes it (the ONNX shapes are
        compared with these afterwards)."""
        from ..errors import FieldError
        from ..layers import REGISTRY
        from ..layers.fields import layer_fields

        if any(t.shape is None for t in inputs):
            return None
        cls = REGISTRY[layer.type_name]
        try:
            kinds = {f.name: f.metadata["kind"] for f in layer_fields(cls)}
            built = cls(**{k: kinds[k].parse(k, v) for k, v in layer.fields.items()})
            return tuple(built.out_shape(tuple(t.shape for t in inputs)))
        except FieldError as exc:
            raise Unsupported(f"as {layer.type_name}: {exc.message}") from None

    def _scope(self, node, weights) -> tuple[str, bool]:
        for w in weights:
            module = module_of_weight(self.origin.get(w, w))
            if module:
                return module, True
        found = scope_of(node.name)
        if found is not None:
            return found[0], False
        return "", False

    # -- the walk -------------------------------------------------------------
    def run(self):
        from .onnx_ops import CONVERTERS, fold

        for node in self.graph.node:
            if fold(self, node):
                self.folded.update(o for o in node.output if o in self.consts)
                continue
            if any(i in self.values and self.values[i].shape is None for i in node.input):
                for out in node.output:  # downstream of an unsupported operation: nothing to convert
                    self.values[out] = Tensor(self.values[next(i for i in node.input if i in self.values)].source, None)
                continue
            converter = CONVERTERS.get(node.op_type)
            try:
                if converter is None:
                    raise Unsupported("")
                self._check_layouts(node, converter)
                converter(self, node)
            except Unsupported as exc:
                self._unsupported(node, exc.why)
            except (KeyError, IndexError, ValueError, TypeError, ZeroDivisionError, OverflowError) as exc:
                # a node without the attributes or inputs its operation needs: a malformed file
                self._unsupported(node, f"malformed node ({type(exc).__name__}: {printable(exc)})")
        if self.unsupported and self.unknown != "identity":
            lines = []
            for op, names in sorted(self.unsupported.items(), key=lambda kv: (-len(kv[1]), kv[0])):
                shown = ", ".join(repr(n) for n in names[:8]) + (f", … ({len(names) - 8} more)" if len(names) > 8 else "")
                why = f" ({self.reasons[op]})" if self.reasons.get(op) else ""
                lines.append(f"  {op} ×{len(names)}{why}: {shown}")
            total = sum(len(v) for v in self.unsupported.values())
            raise ImportError_(
                f"{total} operation{'s' if total != 1 else ''} cannot be expressed in cnncalc:\n" + "\n".join(lines)
                + "\nuse --unknown identity to import them as zero-cost pass-throughs (marked in the spec)")
        outputs = [o for o in self.output_names if o in self.values]
        if not outputs:
            raise ImportError_("no output of the ONNX graph is reached from its input")
        return self

    def _check_layouts(self, node, converter):
        """Only converters that know about them see a channels-last tensor or a
        reshape in the middle of a pattern."""
        for name in node.input:
            t = self.values.get(name)
            if t is None:
                continue
            if t.pending is not None and not getattr(converter, "follows_reshapes", False):
                raise Unsupported(f"a reshape to {list(t.pending[0])} that is not a channel shuffle, pixel unshuffle "
                                  "or group norm")
            if t.channels_last and not getattr(converter, "channels_last", False):
                raise Unsupported("an operation on a channels-last tensor")
            if t.partial is not None and not getattr(converter, "partial", False):
                raise Unsupported("part of x·½·(1 + erf(x/√2)) used elsewhere")

    def _unsupported(self, node, why: str):
        label = printable(node.name) or f"{node.op_type} #{len(self.unsupported[node.op_type]) + 1}"
        self.unsupported[printable(node.op_type)].append(label)
        if why and printable(node.op_type) not in self.reasons:
            self.reasons[printable(node.op_type)] = why
        if self.unknown != "identity":
            for out in node.output:  # keep walking to list every unsupported operation
                data = [self.values[i] for i in node.input if i in self.values]
                if data:  # go on with the ONNX shape, so that later unsupported operations are listed too
                    full = self.onnx_shape(out)
                    self.values[out] = Tensor(data[0].source, tuple(full[1:]) if full else None)
            return
        data = [self.values[i] for i in node.input if i in self.values]
        if not data:
            return
        reason = f": {why}" if why else ""
        comment = (f"unsupported ONNX {printable(node.op_type)} '{printable(node.name)}'{reason}; "
                   "imported as a zero-cost pass-through")
        self.warnings.append(comment)
        self.emit(node, "identity", {}, [data[0]], output_shape=data[0].shape, comment=comment,
                  outputs=node.output[:1])

    # -- naming ------------------------------------------------------------------
    def assign_names(self):
        """Spec names: a layer that is its module's only layer takes the module's
        name; several layers in one module (a block's own Add) get the module
        name plus the operation, numbered when repeated."""
        by_scope: dict[str, list[NewLayer]] = defaultdict(list)
        for layer in self.layers:
            by_scope[layer.scope].append(layer)
        used: set[str] = set()
        prefixes = set()  # every module that holds other modules' layers
        for layer in self.layers:
            atoms = layer.scope.split(".")
            prefixes.update(".".join(atoms[:i]) for i in range(1, len(atoms)))
        for layer in self.layers:
            group = by_scope[layer.scope]
            if layer.scope and len(group) == 1 and (layer.from_weight or layer.scope not in prefixes):
                base = layer.scope
            else:
                op = layer.type_name
                base = f"{layer.scope}.{op}" if layer.scope else op
            name, n = base, 1
            while name in used or name == "input":
                name = f"{base}_{n}"
                n += 1
            used.add(name)
            layer.name = name
        key_to_name = {layer.key: layer.name for layer in self.layers}
        key_to_name["input"] = "input"

        def resolve(key):  # "#7.1": piece 1 of the split "#7"
            base, _, piece = key.partition(".")
            return key_to_name[base] + (f".{piece}" if piece else "")

        for layer in self.layers:
            layer.inputs = [resolve(k) for k in layer.inputs]
        self._resolve = resolve

    def network_outputs(self) -> list[str]:
        return [self._resolve(self.values[o].source) for o in self.output_names if o in self.values]

    def counts(self) -> tuple[int, int]:
        """Trainable parameters and buffers as the ONNX weights the layers use
        (each weight tensor once)."""
        weights: dict[str, int] = {}
        buffers: dict[str, int] = {}
        for layer in self.layers:
            weights.update(layer.weights)
            buffers.update(layer.buffers)
        return sum(weights.values()), sum(buffers.values())


def op_counts(graph) -> Counter:
    return Counter(n.op_type for n in graph.node)
