"""Kernels, one module per layer family; importing a module registers its kernels."""

from . import activation, conv, dense, normalization, pooling  # noqa: F401  (registration)
