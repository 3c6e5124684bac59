"""The layer catalog (which module defines each type) matches what the
layer modules register, and looking a type up imports its module only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cnncalc.layers import catalog

ROOT = Path(__file__).resolve().parent.parent


def test_catalog_lists_every_registered_type():
    generated = catalog.generate()
    written = Path(catalog.__file__).read_text(encoding="utf-8")
    if generated not in written:
        have = set(written.splitlines())
        missing = [line for line in generated.splitlines() if line not in have]
        raise AssertionError(
            "cnncalc/layers/catalog.py is out of date with the layer modules. Run\n"
            "    python -m cnncalc.layers.catalog --write\n"
            "or put these lines in its generated table (and remove any stale ones):\n    "
            + "\n    ".join(missing)
        )


def test_activation_names_from_the_catalog_match_the_classes():
    from cnncalc.layers.activation import activation_names as from_classes
    from cnncalc.layers.base import activation_names

    assert activation_names() == from_classes()


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sorted(sys.modules)))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return set(out.stdout.split())


def test_a_lookup_imports_only_the_module_of_that_type():
    loaded = _modules_after("from cnncalc.layers import REGISTRY; REGISTRY['max_pool']")
    families = {m.rsplit(".", 1)[1] for m in loaded if m.startswith("cnncalc.layers.")} - set(catalog.HELPER_MODULES)
    assert families == {"pooling"}


def test_an_alias_resolves_through_the_catalog():
    from cnncalc.layers.base import ALIASES, REGISTRY, canonical_type

    assert canonical_type("conv2d") == "conv"
    assert REGISTRY["conv"].type_name == "conv"
    assert ALIASES["fc"] == "dense"
    assert canonical_type("no_such_layer") is None
    assert "conv" in REGISTRY and "no_such_layer" not in REGISTRY


def test_iterating_the_registry_lists_every_module():
    from cnncalc.layers import REGISTRY

    modules = {cls.__module__.rsplit(".", 1)[1] for cls in REGISTRY.values()}
    assert modules == set(catalog.layer_modules())
