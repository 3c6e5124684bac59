"""``cnncalc import torch:PACKAGE.MODULE:FACTORY`` or ``model.py:FACTORY``:
build a PyTorch model and import it through ``torch.onnx.export``.

The model is the user's code, run because the command line names it (never
because a spec says so). It is exported in eval mode without its weights
(fast, small), dropout kept as Dropout nodes, and imported by the ONNX path;
the self-check compares the spec's parameters with ``sum(p.numel())``.
"""

from __future__ import annotations

import importlib.util
import os
import sys

from .onnx_graph import ImportError_


def parse_target(target: str) -> tuple[str, str, bool]:
    """(module or file, factory name, is_file) of ``torch:pkg.mod:factory``
    or ``path/model.py:factory``."""
    body = target[len("torch:"):] if target.startswith("torch:") else target
    where, sep, factory = body.rpartition(":")
    if not sep or not where or not factory.isidentifier():
        raise ImportError_(
            f"{target!r} does not name a model: write torch:PACKAGE.MODULE:FACTORY or path/model.py:FACTORY")
    return where, factory, where.endswith(".py")


def build_model(target: str):
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ImportError_("importing a PyTorch model needs torch (install it yourself; cnncalc does not depend on it)") \
            from None
    where, factory, is_file = parse_target(target)
    if is_file:
        if not os.path.isfile(where):
            raise ImportError_(f"{where}: no such file")
        # a private module name per file, so two files called model.py never meet in sys.modules
        private = "cnncalc_model_" + "".join(c if c.isalnum() else "_" for c in os.path.abspath(where))
        spec = importlib.util.spec_from_file_location(private, where)
    else:
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.append(os.getcwd())  # as `python -m` would: modules of the current directory
        try:
            spec = importlib.util.find_spec(where)
        except (ImportError, ValueError) as exc:
            raise ImportError_(f"cannot find module {where!r}: {exc}") from None
        if spec is None:
            raise ImportError_(f"cannot find module {where!r} (is it on PYTHONPATH?)")
    module = importlib.util.module_from_spec(spec)
    if is_file:
        sys.modules[spec.name] = module  # this run's copy (its classes may look their module up)
    else:
        sys.modules.setdefault(spec.name, module)
    try:
        spec.loader.exec_module(module)
    except Exception as exc:  # the user's code failed: say where, not a traceback
        raise ImportError_(f"running {where} failed: {type(exc).__name__}: {exc}") from None
    fn = getattr(module, factory, None)
    if not callable(fn):
        raise ImportError_(f"{where} has no callable {factory!r}")
    try:
        model = fn()
    except Exception as exc:
        raise ImportError_(f"{factory}() failed: {type(exc).__name__}: {exc}") from None
    import torch

    if not isinstance(model, torch.nn.Module):
        raise ImportError_(f"{factory}() returned {type(model).__name__}, not a torch.nn.Module")
    return model


def import_torch(target: str, input_shape, *, unknown: str = "error", name: str | None = None, model=None):
    """Build (or take) the model, export it to ONNX in memory, import that."""
    try:
        import onnx
        import torch
    except ImportError as exc:
        raise ImportError_(f"importing a PyTorch model needs torch and onnx installed ({exc}); "
                           "pip install 'cnncalc[onnx]' and torch") from None

    from ..exporters.onnx_export import to_onnx_bytes
    from .onnx_import import import_model

    if input_shape is None:
        raise ImportError_("a PyTorch model has no input shape of its own: give one with --input C,H,W")
    if model is None:
        model = build_model(target)
    model = model.eval()
    params = sum(p.numel() for p in model.parameters())
    if sys.getrecursionlimit() < 10_000:
        sys.setrecursionlimit(10_000)
    try:
        data = to_onnx_bytes(model, input_shape, weights=False)
    except Exception as exc:  # torch's exporter: data-dependent control flow, unsupported aten ops, ...
        raise ImportError_(f"torch.onnx.export could not trace the model: {type(exc).__name__}: {exc}") from None
    default = parse_target(target)[1] if target else "model"
    return import_model(onnx.load_from_string(data), source=target or "a PyTorch model", name=name or default,
                        input_shape=input_shape,
                        unknown=unknown, model_params=params, params_from="sum of p.numel() over model.parameters()")
