"""``cnncalc export --to onnx``: the PyTorch module of :mod:`.pytorch`, exported
with ``torch.onnx.export`` (the TorchScript exporter: fast, no onnxscript).

Two things make the file round-trip through ``cnncalc import``: dropout is
kept as an ONNX ``Dropout`` node (an identity at inference, as in the spec)
instead of being dropped, and every node is renamed after its spec node
(``/layer1/0/conv1/Conv``: one scope component per name atom), because the
module calls of the generated ``Net`` are flat and torch would otherwise
name a node after the last atom of its module only (``/relu1_3/Relu``).
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
    """``torch.onnx.export`` of a module, dropout kept as Dropout nodes."""
    import warnings

    import torch

    buffer = io.BytesIO()
    torch.onnx.register_custom_op_symbolic("aten::dropout", _dropout_symbolic, opset)
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
    return buffer.getvalue()


def rename_nodes(model, step_names) -> None:
    """Name every node after the spec node whose module made it. torch's
    exporter names a directly-called module by the last atom of its name,
    numbering repeats (``relu1``, ``relu1_1``, …) in call order."""
    seen: Counter = Counter()
    by_scope = {}
    for name in step_names:
        short = unqualified(name)
        n = seen[short]
        seen[short] += 1
        by_scope[short if n == 0 else f"{short}_{n}"] = name
    for node in model.graph.node:
        if not node.name.startswith("/"):
            continue
        parts = node.name.split("/")
        full = by_scope.get(parts[1])
        if full is not None and len(parts) > 2:
            node.name = "/" + "/".join(full.split(".")) + "/" + "/".join(parts[2:])


def export_onnx(analysis, path: str, *, weights: bool = True, source=None, opset: int = OPSET) -> None:
    try:
        import onnx
        import torch  # noqa: F401
    except ImportError as exc:
        raise ExportError(f"exporting to ONNX needs torch and onnx installed ({exc})") from None
    if sys.getrecursionlimit() < 10_000:
        sys.setrecursionlimit(10_000)  # torch's tracer recurses per module on deep specs
    net = build(analysis, weights=weights, source=source)
    model = onnx.load_from_string(to_onnx_bytes(net, analysis.input_shape, weights=weights, opset=opset))
    rename_nodes(model, [r.name for r in analysis.layers])
    model.producer_name = "cnncalc"
    data = model.SerializeToString()
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
