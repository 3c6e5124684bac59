"""The layer reference is read off the layer classes: it covers every
registered type, and the README's copy of it is current."""

import subprocess
import sys

import pytest
from conftest import CliRunner

from cnncalc.cli import cli
from cnncalc.layers import ALIASES, REGISTRY
from cnncalc.layers.base import Layer
from cnncalc.layers.fields import layer_fields
from cnncalc.reference import QUANTITIES, UNDOCUMENTED, layer_docs, markdown, update_readme
from conftest import ROOT


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_readme_layer_table_is_current():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert update_readme(text) == text, (
        "README.md's layer table is stale: run `python scripts/update_readme_layers.py` and commit README.md"
    )


def test_layers_lists_every_registered_type_with_fields_and_aliases():
    result = run("layers")
    assert result.exit_code == 0, result.output
    titles = [line.split()[0] for line in result.output.splitlines() if line and not line.startswith(" ")]
    assert sorted(titles) == sorted(REGISTRY)
    for name, cls in REGISTRY.items():
        for f in layer_fields(cls):
            assert f"    {f.name} " in result.output, (name, f.name)
    for alias in ALIASES:
        assert alias in result.output
    brief = run("layers", "--brief").output.splitlines()
    assert sorted(line.split()[0] for line in brief) == sorted(REGISTRY)
    md = markdown()
    for name in REGISTRY:
        assert f"| `{name}`" in md


@pytest.mark.parametrize("cls", sorted(REGISTRY.values(), key=lambda c: c.type_name), ids=lambda c: c.type_name)
def test_every_layer_documents_what_it_computes(cls):
    """A layer that computes a quantity itself must state the formula it uses."""
    assert cls.summary, f"{cls.type_name}: set `summary`"
    for key, _, method in QUANTITIES:
        if getattr(cls, method) is not getattr(Layer, method):
            assert cls.formulas.get(key), f"{cls.type_name} overrides {method}() but has no formulas[{key!r}]"
    doc = next(d for d in layer_docs() if d.type_name == cls.type_name)
    assert UNDOCUMENTED not in doc.formulas.values()


def test_one_type_by_name_or_alias():
    conv = run("layers", "conv")
    assert conv.exit_code == 0
    assert conv.output == run("layers", "conv2d").output == run("layers", "Conv2D").output
    assert "C_out · (C_in / groups) · ∏k · ∏o" in conv.output  # the formula the analysis uses
    assert "stride        default 1" in conv.output and "out_channels  required" in conv.output
    assert "aliases: conv1d, conv2d, conv3d" in conv.output
    pool = run("layers", "max_pool").output
    assert "stride" in pool and "default null" in pool  # stride defaults to the kernel size
    add = run("layers", "add").output
    assert "inputs: 2 or more" in add


def test_unknown_type_is_a_clear_error():
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "layers", "cnv"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "unknown layer type 'cnv' (did you mean 'conv'?)" in proc.stderr


def test_markdown_escapes_pipes_and_matches_one_row_per_type():
    md = run("layers", "--format", "markdown").output
    rows = [line for line in md.splitlines() if line.startswith("| `")]
    assert len(rows) == len(REGISTRY)
    header_cells = md.splitlines()[0].count(" | ")
    for row in rows:  # no unescaped | inside a cell
        assert row.replace("\\|", "").count(" | ") == header_cells, row
