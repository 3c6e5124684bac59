"""``cnncalc import``: existing models (ONNX files, PyTorch modules) as specs.

:mod:`.onnx_graph` walks an ONNX graph once and asks the registry of small
per-operation converters in :mod:`.onnx_ops`; :mod:`.yaml_writer` writes the
readable spec; :mod:`.torch_model` builds a PyTorch model and hands it to the
ONNX path through ``torch.onnx.export``. onnx and torch are imported inside
these modules only, never at cnncalc start-up.
"""
