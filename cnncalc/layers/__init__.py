"""Layer types, one module per family, registered by their YAML names.

Importing this package imports no layer family: :data:`REGISTRY` imports the
module of a type the first time the type is looked up (see
:mod:`cnncalc.layers.catalog`), so a spec loads only the families it uses.
"""

from .base import ALIASES, REGISTRY, WHOLE, Layer, Params, canonical_type, load_all, register

__all__ = ["ALIASES", "REGISTRY", "WHOLE", "Layer", "Params", "canonical_type", "load_all", "register"]
