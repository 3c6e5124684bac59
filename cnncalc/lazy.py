"""The one place cnncalc imports a module by name (tests/test_safety.py
allows it here and nowhere else).

Start-up stays small by importing a layer family, a command or a public name's
module only when it is first used. The module names come from cnncalc's own
static tables (:data:`cnncalc.layers.catalog.LAYER_TYPES`,
:data:`cnncalc.cli.COMMANDS`, ``cnncalc._EXPORTS``), never from a spec: a spec's
type name is only ever a key into those tables.
"""

from __future__ import annotations

import importlib


def import_submodule(package: str, module: str):
    """Import ``package.module``, a module of cnncalc itself."""
    if not (package == "cnncalc" or package.startswith("cnncalc.")) or not module.isidentifier():
        raise ValueError(f"not a cnncalc module: {package}.{module}")
    return importlib.import_module(f"{package}.{module}")


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

    @property
    def pattern(self) -> str:
        return self._source
