"""What ``cnncalc analyze`` imports (a count of modules, not a timing): no
numpy, no rich when stdout is a pipe, only the layer families the spec uses,
and no executor, homework, budget, CI (check) or other commands' code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Only what the run adds to what the interpreter had loaded before it: an
# editable install's finder, for one, imports pathlib and re into every start.
_REPORT = """
import atexit, os, sys
_before = set(sys.modules)
def _report():
    with open(os.environ["CNNCALC_TEST_MODULES"], "w") as out:
        out.write("\\n".join(sorted(set(sys.modules) - _before)))
atexit.register(_report)
sys.argv = ["cnncalc", *sys.argv[1:]]
from cnncalc.cli import main
main()
"""


def modules_of(tmp_path, *args) -> set[str]:
    """The modules loaded by the end of a ``cnncalc`` process run with ``args``,
    stdout a pipe."""
    listing = tmp_path / "modules.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "COLUMNS")}
    env.update(PYTHONPATH=str(ROOT), CNNCALC_TEST_MODULES=str(listing))
    proc = subprocess.run([sys.executable, "-c", _REPORT, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return set(listing.read_text().split())


def families(modules: set[str]) -> set[str]:
    from cnncalc.layers.catalog import HELPER_MODULES

    return {m.split(".")[2] for m in modules if m.startswith("cnncalc.layers.")} - set(HELPER_MODULES)


FORBIDDEN_PREFIXES = (
    "numpy", "rich", "torch", "onnx", "cnncalc.executor", "cnncalc.homework", "cnncalc.budget", "cnncalc.checking",
    "cnncalc.compare", "cnncalc.render.check", "cnncalc.cli.check",
    "cnncalc.cli.verify", "cnncalc.cli.homework", "cnncalc.cli.diff", "cnncalc.cli.zoo", "cnncalc.cli.schema",
    "cnncalc.cli.layers", "cnncalc.schema", "cnncalc.reference", "importlib.metadata",
    # the standard library's costly helpers: records replace dataclasses (which imports inspect, ast, dis),
    # collections' namedtuple replaces typing's
    "dataclasses", "inspect", "typing", "ast",
    # a spec in plain YAML is read by cnncalc.yamlfast (PyYAML only for the rest)
    "yaml",
)


#: Exact fractions (with decimal and numbers) and regular expressions, in the
#: table: receptive-field centres are carried doubled, so only a network that
#: upsamples (or has a fractional stride, or uneven adaptive pooling) builds a
#: Fraction. No enum either: the vocabularies (conventions, formats, columns,
#: optimizers) are cnncalc.choices. (JSON shows the half-pixel centres as
#: fractions, and the json and csv modules import re, which imports enum.)
TABLE_WITHOUT_UPSAMPLING = ("fractions", "decimal", "re", "enum")

#: The table's drawing code, needed by the table format only.
TABLE_ONLY = ("cnncalc.render.table", "cnncalc.render.fasttable", "cnncalc.render.bars")


def forbidden(modules: set[str], fmt: str = "table", upsamples: bool = False) -> list[str]:
    prefixes = FORBIDDEN_PREFIXES + (() if fmt == "table" else TABLE_ONLY)
    if fmt == "table" and not upsamples:
        prefixes += TABLE_WITHOUT_UPSAMPLING
    return sorted(m for m in modules if any(m == p or m.startswith(p + ".") for p in prefixes))


@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_analyze_vgg16_imports_only_what_it_uses(tmp_path, fmt):
    loaded = modules_of(tmp_path, "analyze", "specs/vgg16.yaml", "--format", fmt)
    assert forbidden(loaded, fmt) == []
    assert "click" not in loaded  # a plain command line runs without click (cnncalc.cli.fast)
    assert families(loaded) == {"conv", "pooling", "activation", "dense"}
    # no blocks in the spec: no block code; nothing read as a number: no number parser
    assert not {"cnncalc.blocks", "cnncalc.expr", "cnncalc.numbers"} & loaded


def test_a_spec_without_activations_does_not_load_them(tmp_path):
    spec = tmp_path / "pool.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - max_pool: {kernel_size: 2}\n  - flatten\n")
    loaded = modules_of(tmp_path, "analyze", str(spec), "--format", "json")
    assert forbidden(loaded, "json") == []
    assert families(loaded) == {"pooling", "dense"}


def test_a_budget_section_is_read_without_budget_code(tmp_path):
    spec = tmp_path / "budgeted.yaml"
    spec.write_text("input: [3, 8, 8]\nbudget: {params: 1M}\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3}\n")
    loaded = modules_of(tmp_path, "analyze", str(spec))
    assert forbidden(loaded) == []
    assert families(loaded) == {"conv"}


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_version_and_help_import_no_command_code(tmp_path, args):
    loaded = modules_of(tmp_path, *args)
    assert forbidden(loaded, "none") == []
    if args == ["--version"]:
        assert "click" not in loaded
    assert families(loaded) == set()


@pytest.mark.parametrize("spec", ["specs/resnet50.yaml", "specs/inception_v3.yaml", "specs/unet.yaml"])
def test_shipped_specs_are_read_without_pyyaml(tmp_path, spec):
    if not (ROOT / spec).is_file():
        pytest.skip(f"{spec} is not in this checkout")
    loaded = modules_of(tmp_path, "analyze", spec, "--format", "json")
    assert forbidden(loaded, "json") == []


@pytest.mark.parametrize("spec", ["specs/resnet50.yaml", "specs/inception_v3.yaml", "specs/unet.yaml"])
def test_only_a_network_that_upsamples_needs_fractions(tmp_path, spec):
    loaded = modules_of(tmp_path, "analyze", spec)
    upsamples = spec == "specs/unet.yaml"  # transposed convolutions: jumps of 1/2
    assert forbidden(loaded, upsamples=upsamples) == []
    assert ("fractions" in loaded) == upsamples


def test_a_spec_outside_the_plain_subset_still_reads_through_pyyaml(tmp_path):
    spec = tmp_path / "anchors.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv: &c {out_channels: 4, kernel_size: 3}\n  - conv: *c\n")
    loaded = modules_of(tmp_path, "analyze", str(spec), "--format", "json")
    assert "yaml" in loaded


def test_the_spec_loader_lists_every_section_and_entry_key_other_features_own():
    from cnncalc import spec

    sections, entry_keys = set(spec.SECTIONS), set(spec.EXTRA_ENTRY_KEYS)
    import cnncalc.budget  # noqa: F401  (these modules add their keys: they must already be listed)
    import cnncalc.homework.keys  # noqa: F401

    assert spec.SECTIONS == sections, f"add {sorted(spec.SECTIONS - sections)} to SECTIONS in cnncalc/spec/load.py"
    assert spec.EXTRA_ENTRY_KEYS == entry_keys, (
        f"add {sorted(spec.EXTRA_ENTRY_KEYS - entry_keys)} to EXTRA_ENTRY_KEYS in cnncalc/spec/expand.py")


def test_import_cnncalc_is_light_and_its_names_still_work():
    code = ("import sys, cnncalc; light = sorted(m for m in sys.modules if m.startswith('cnncalc.')); "
            "from cnncalc import analyze, load_spec, SpecError; import cnncalc as c; "
            "r = analyze(load_spec('specs/vgg16.yaml')); print(light, r.totals.params_trainable, c.Convention.__name__)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "138357544", "Convention"]
