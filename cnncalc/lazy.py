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
