"""cnncalc: exact shapes, parameters, multiplications, receptive fields and
memory of convolutional networks described in YAML.

Library use::

    import cnncalc
    graph = cnncalc.load_spec("specs/vgg16.yaml")
    result = cnncalc.analyze(graph, batch=1, dtype="float32")
    result.totals.params_trainable      # 138357544
    result["conv1"].output_shape        # (64, 224, 224)

The analysis never imports numpy; only the executor does. ``import cnncalc``
itself imports nothing else: each name below is loaded from its module the
first time it is used (module ``__getattr__``), so the command line starts fast.
"""

__version__ = "0.1.0"

#: Public name → the module that defines it.
_EXPORTS = {
    "Analysis": "analysis", "LayerResult": "analysis", "Totals": "analysis", "analyze": "analysis",
    "analyze_file": "analysis", "Convention": "conventions", "CnncalcError": "errors", "FieldError": "errors",
    "Loc": "errors", "SpecError": "errors", "Graph": "graph", "Node": "graph", "load_spec": "spec",
    "loads_spec": "spec",
}

__all__ = [*_EXPORTS, "__version__"]


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'cnncalc' has no attribute {name!r}")
    from .lazy import import_submodule

    value = getattr(import_submodule(__name__, module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})
