"""Kernels, one module per layer family; importing a module registers its kernels."""

from . import activation, conv, dense, merge, normalization, pooling, rearrange, reduce, resample  # noqa: F401  (registration)
