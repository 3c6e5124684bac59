"""Layer types, one module per family, registered by their YAML names."""

from . import activation, conv, dense, local, merge, normalization, padding, pooling, rearrange, reduce, resample, transposed  # noqa: F401  (registration)
from .base import ALIASES, REGISTRY, WHOLE, Layer, Params, canonical_type, register

__all__ = ["ALIASES", "REGISTRY", "WHOLE", "Layer", "Params", "canonical_type", "register"]
