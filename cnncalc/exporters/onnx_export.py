"""``cnncalc export --to onnx``: the PyTorch module of :mod:`.pytorch`, exported
with ``torch.onnx.export`` (the TorchScript exporter: fast, no onnxscript).

Two things make the file round-trip through ``cnncalc import``: dropout is
kept as an ONNX ``Dropout`` node (an identity at inference, as in the spec)
instead of being dropped, and every node is renamed after the full name of
its module (``/layer1/0/conv1/Conv``: one scope component per name atom),
because torch names a node after the last atoms of its module's name only
(``/relu1_3/Relu`` for ``layer2.0.relu1`` called from the flat ``Net``).
``cnncalc import`` of a PyTorch model uses the same export.
"""

from __future__ import annotations

import importlib.util
import io
import os
import sys
import tempfile
from collections import Counter

from ..importers.names import unqualified
from .pytorch import ExportError, export_pytorch

OPSET = 20


def load_module(source: str, name: str = "cnncalc_exported"):
    """Run generated PyTorch source as a module (written to a temporary file)."""
    fd, path = tempfile.mkstemp(suffix=".py", prefix="cnncalc_export_")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(source)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    finally:
        os.unlink(path)


def build(analysis, *, weights: bool = True, source=None):
    """The exported ``Net`` built in eval mode: random weights, or (weights
    False) zero-filled storage without initialisation, which is fast."""
    import torch

    module = load_module(export_pytorch(analysis, source))
    if weights:
        return module.Net().eval()
    with torch.device("meta"):
        net = module.Net()
    net = net.to_empty(device="cpu")
    with torch.no_grad():
        for tensor in (*net.parameters(), *net.buffers()):
            tensor.zero_()
    return net.eval()


def _dropout_symbolic(g, x, p, train):
    import torch
    from torch.onnx import symbolic_helper

    ratio = symbolic_helper._maybe_get_const(p, "f")
    return g.op("Dropout", x, g.op("Constant", value_t=torch.tensor(float(ratio), dtype=torch.float32)))


def to_onnx_bytes(net, input_shape, *, weights: bool = True, opset: int = OPSET) -> bytes:
    """``torch.onnx.export`` of a module, dropout kept as Dropout nodes and
    every node renamed after the full name of the module that made it (see
    :func:`scope_names`)."""
    import warnings

    import onnx
    import torch

    buffer = io.BytesIO()
    torch.onnx.register_custom_op_symbolic("aten::dropout", _dropout_symbolic, opset)
    scopes, handles = scope_names(net)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                net, (torch.zeros(1, *input_shape),), buffer, dynamo=False, opset_version=opset,
                do_constant_folding=False, input_names=["input"], export_params=weights,
                dynamic_axes={"input": {0: "batch"}},
            )
    finally:
        torch.onnx.unregister_custom_op_symbolic("aten::dropout", opset)
        for handle in handles:
            handle.remove()
    model = onnx.load_from_string(buffer.getvalue())
    rename_nodes(model, scopes)
    return model.SerializeToString()


def scope_names(net):
    """Hooks that record, for the last forward pass, which module each of the
    exporter's scope paths stands for: ``/layer1/layer1.0/relu_1`` →
    ``layer1.0.relu`` (second call). The exporter names a module by the last
    atoms of its name (see :mod:`cnncalc.importers.names`) and numbers repeats
    under one caller, so a module called from far up (the flat ``Net`` of
    ``--to pytorch``) or twice would lose its name."""
    names = {module: name for name, module in net.named_modules()}
    state = {"stack": [], "counts": {}, "calls": Counter()}
    scopes: dict[str, str] = {}

    def before(module, args):
        name = names.get(module)
        if name is None:
            return
        if not name:  # the root: a new forward pass
            scopes.clear()
            state["stack"], state["counts"], state["calls"] = [()], {}, Counter()
            return
        parent = state["stack"][-1] if state["stack"] else ()
        short = unqualified(name)
        seen = state["counts"].setdefault(parent, Counter())
        component = short if seen[short] == 0 else f"{short}_{seen[short]}"
        seen[short] += 1
        path = (*parent, component)
        calls = state["calls"][name]
        state["calls"][name] += 1
        scopes["/" + "/".join(path)] = name if calls == 0 else f"{name}_{calls}"
        state["stack"].append(path)

    def after(module, args, output):
        if names.get(module) and state["stack"]:
            state["stack"].pop()

    handles = []
    for module in names:
        handles.append(module.register_forward_pre_hook(before))
        handles.append(module.register_forward_hook(after))
    return scopes, handles


def rename_nodes(model, scopes) -> None:
    """``/layer1/layer1.0/relu_1/Relu`` → ``/layer1/0/relu_1/Relu``: one scope
    component per atom of the module's full name."""
    for node in model.graph.node:
        scope, sep, op = node.name.rpartition("/")
        full = scopes.get(scope)
        if sep and full is not None:
            node.name = "/" + "/".join(full.split(".")) + "/" + op


def _keep_nested_concats(analysis, net) -> None:
    """torch's exporter (its CombineConcats pass) folds a concatenation whose
    only reader is another concatenation along the same ``dim`` into it, and
    the inner node (Inception-v3's ``branch3x3``) would not come back. Writing
    the inner one's axis counted from the end (``-3`` for channels, the same
    axis) makes the two dims differ, so both nodes stay."""
    readers: dict[str, list] = {}
    for r in analysis.layers:
        for name in r.node.inputs:
            readers.setdefault(name, []).append(r)
    modules = dict(net.named_modules())
    for r in analysis.layers:
        below = readers.get(r.name, ())
        if r.type_name != "concat" or not below or any(b.type_name != "concat" for b in below):
            continue
        module = modules.get(r.name)
        if module is not None and hasattr(module, "dim") and module.dim >= 0:
            module.dim = module.dim - len(r.output_shape) - 1  # forward adds 1 for the batch axis


def export_onnx(analysis, path: str, *, weights: bool = True, source=None, opset: int = OPSET) -> None:
    try:
        import onnx
        import torch  # noqa: F401
    except ImportError as exc:
        raise ExportError(f"exporting to ONNX needs torch and onnx installed ({exc})") from None
    if sys.getrecursionlimit() < 10_000:
        sys.setrecursionlimit(10_000)  # torch's tracer recurses per module on deep specs
    net = build(analysis, weights=weights, source=source)
    _keep_nested_concats(analysis, net)
    try:
        data = to_onnx_bytes(net, analysis.input_shape, weights=weights, opset=opset)
    except Exception as exc:  # torch's exporter refuses some operations (Unfold, uneven adaptive max pooling, ...)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        first = first.split("  [Caused by")[0]
        raise ExportError(
            f"torch.onnx.export cannot write this network: {first[:300]} "
            "(`--to pytorch` writes every layer type)") from None
    model = onnx.load_from_string(data)
    model.producer_name = "cnncalc"
    data = model.SerializeToString()
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
