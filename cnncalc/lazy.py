"""The one place cnncalc imports a module by name (tests/test_safety.py
allows it here and nowhere else).

Start-up stays small by importing a layer family, a command or a public name's
module only when it is first used. The module names come from cnncalc's own
static tables (:data:`cnncalc.layers.catalog.LAYER_TYPES`,
:data:`cnncalc.cli.COMMANDS`, ``cnncalc._EXPORTS``), never from a spec: a spec's
type name is only ever a key into those tables.
"""

from __future__ import annotations

import sys


def import_submodule(package: str, module: str):
    """Import ``package.module``, a module of cnncalc itself.

    The built-in ``__import__``, not :func:`importlib.import_module`: the
    ``importlib`` package imports ``warnings``, which no analysis needs."""
    if not (package == "cnncalc" or package.startswith("cnncalc.")) or not module.isidentifier():
        raise ValueError(f"not a cnncalc module: {package}.{module}")
    name = f"{package}.{module}"
    __import__(name)
    return sys.modules[name]


class _FractionType(type):
    """What makes :class:`Fraction` stand for :class:`fractions.Fraction`."""

    def __instancecheck__(cls, value) -> bool:
        # No Fraction can exist before the module is imported, by anyone.
        module = sys.modules.get("fractions")
        return module is not None and isinstance(value, module.Fraction)

    def __subclasscheck__(cls, other) -> bool:
        module = sys.modules.get("fractions")
        return module is not None and issubclass(other, module.Fraction)

    def __call__(cls, *args):
        from fractions import Fraction

        return Fraction(*args)


class Fraction(metaclass=_FractionType):
    """:class:`fractions.Fraction`, imported when the first one is built.

    ``Fraction(3, 2)`` returns a real ``fractions.Fraction``; ``isinstance(x,
    Fraction)`` is true of exactly those. Only upsampling, fractional strides,
    uneven adaptive pooling and a half-pixel centre shown in JSON build one, so
    most analyses never import ``fractions``, and with it ``decimal``,
    ``numbers`` and ``re`` (about 3 ms of every start)."""

    __slots__ = ()


_PATTERN_METHODS = frozenset({"match", "fullmatch", "search", "sub", "findall", "split"})


class Pattern:
    """A regular expression compiled on its first use, not at import: the
    escaping and YAML modules hold a dozen that most runs never apply, and
    compiling one with wide character classes costs a few hundred µs of
    ``cnncalc analyze``'s start. Has the methods of ``re.Pattern`` it is used with."""

    __slots__ = ("_source", "_flags", "_compiled")

    def __init__(self, source: str, flags: int = 0):
        self._source, self._flags, self._compiled = source, flags, None

    def _get(self):
        if self._compiled is None:
            import re

            self._compiled = re.compile(self._source, self._flags)
        return self._compiled

    def __getattr__(self, name: str):
        """``match``, ``fullmatch``, ``search``, ``sub``, ``findall`` and
        ``split``: the compiled pattern's own, compiled on this first use."""
        if name not in _PATTERN_METHODS:
            raise AttributeError(name)
        return getattr(self._get(), name)

    @property
    def pattern(self) -> str:
        return self._source
