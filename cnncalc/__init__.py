"""cnncalc: exact shapes, parameters, multiplications, receptive fields and
memory of convolutional networks described in YAML.

Library use::

    import cnncalc
    graph = cnncalc.load_spec("specs/vgg16.yaml")
    result = cnncalc.analyze(graph, batch=1, dtype="float32")
    result.totals.params_trainable      # 138357544
    result["conv1"].output_shape        # (64, 224, 224)

The analysis never imports numpy; only the executor does.
"""

from . import budget as _budget  # noqa: F401  (registers the 'budget:' spec section)
from .homework import keys as _homework_keys  # noqa: F401  (registers expect:, expect_total:, values:, weights:, ...)
from .analysis import Analysis, LayerResult, Totals, analyze, analyze_file
from .conventions import Convention
from .errors import CnncalcError, FieldError, Loc, SpecError
from .graph import Graph, Node
from .spec import load_spec, loads_spec

__version__ = "0.1.0"

__all__ = [
    "Analysis", "LayerResult", "Totals", "analyze", "analyze_file", "Convention", "CnncalcError",
    "FieldError", "Loc", "SpecError", "Graph", "Node", "load_spec", "loads_spec", "__version__",
]
