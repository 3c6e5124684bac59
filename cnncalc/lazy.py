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
    Fraction)`` is true of exactly those. Only upsampling, fractional strides
    and uneven adaptive pooling build one, so most analyses never import
    ``fractions``, and with it ``decimal``, ``numbers`` and ``re`` (about 4 ms
    of every start, a tenth of ``cnncalc analyze``'s whole run)."""

    __slots__ = ()


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

    def match(self, *args):
        return self._get().match(*args)

    def fullmatch(self, *args):
        return self._get().fullmatch(*args)

    def search(self, *args):
        return self._get().search(*args)

    def sub(self, *args):
        return self._get().sub(*args)

    def findall(self, *args):
        return self._get().findall(*args)

    def split(self, *args):
        return self._get().split(*args)

    @property
    def pattern(self) -> str:
        return self._source
