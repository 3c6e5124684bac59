"""The analyze table fits the terminal: at 80, 100 and 160 columns it keeps
the most useful columns and abbreviates, never wrapping a row; --columns
chooses explicitly; the inputs column shows residual wiring.

Golden files (tests/golden/*_table_*.txt) pin the fitted tables; after an
intended change regenerate them with
    CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_table_fit.py
and review the diff.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import SPECS, CliRunner, analyze_text

from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.render.fasttable import _width, print_analysis_table
from cnncalc.render.table import Column, is_chain, parse_columns

GOLDEN = Path(__file__).parent / "golden"
SHIPPED = sorted(p.stem for p in SPECS.glob("*.yaml"))


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}: run CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_table_fit.py"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is intended run "
        "CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_table_fit.py and review the diff"
    )


def table(analysis, width, **kw) -> str:
    out = io.StringIO()
    print_analysis_table(analysis, stream=out, width=width, **kw)
    return out.getvalue()


@pytest.fixture(scope="module")
def resnet18():
    return analyze_file(SPECS / "resnet18.yaml")


@pytest.mark.parametrize("width", [80, 100, 160])
def test_resnet18_golden(resnet18, width):
    check_golden(f"resnet18_table_{width}.txt", table(resnet18, width))


@pytest.mark.parametrize("width", [80, 100, 160])
def test_googlenet_golden(width):
    check_golden(f"googlenet_table_{width}.txt", table(analyze_file(SPECS / "googlenet.yaml"), width, depth=1))


def test_lenet5_golden_80():
    check_golden("lenet5_table_80.txt", table(analyze_file(SPECS / "lenet5.yaml"), 80))


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("width", [80, 100])
def test_no_line_longer_than_the_terminal(name, width):
    text = table(analyze_file(SPECS / f"{name}.yaml"), width)
    long = [line for line in text.splitlines() if _width(line) > width]
    assert not long, long[:3]
    assert "Total" in text and "Convention" in text


def test_long_title_and_names_shortened():
    name = "a_network_with_a_name_much_longer_than_any_terminal_is_wide_" * 3
    analysis = analyze_text(f"name: {name}\ninput: [3, 8, 8]\nlayers:\n  - conv: {{out_channels: 4, kernel_size: 3}}\n"
                            f"    name: {name}conv\n")
    text = table(analysis, 80)
    assert max(_width(line) for line in text.splitlines()) <= 80
    assert "…" in text.splitlines()[0]


def test_rows_are_never_wrapped(resnet18):
    """One table line per layer and group row, however narrow."""
    from cnncalc.hierarchy import rows

    for width in (60, 80, 100, 160, None):
        lines = table(resnet18, width).splitlines()
        body = [line for line in lines if line.startswith("│")]
        assert len(body) == len(rows(resnet18)) + 1  # + the totals row


def test_narrow_table_keeps_the_useful_columns(resnet18):
    head = table(resnet18, 80).splitlines()[2]
    for header in ("#", "Layer", "Inputs", "Output", "Params", "MACs"):
        assert f" {header} " in head
    assert "Kept" not in head and "Memory" not in head
    wide = table(resnet18, 160).splitlines()[2]
    for header in ("Type", "RF", "Memory", "Kept", "Params %", "MACs %"):
        assert header in wide


def test_inputs_column_shows_the_shortcut(resnet18):
    text = table(resnet18, None)
    add = next(line for line in text.splitlines() if " layer1.0.add1 " in line)
    assert "bn2, maxpool" in add  # the residual add reads bn2 and the block input
    down = next(line for line in text.splitlines() if " layer2.0.downsample.0 " in line)
    assert "layer1.1.relu2" in down
    narrow = table(resnet18, 80)
    add = next(line for line in narrow.splitlines() if " add1 " in line)
    assert "#9, #4" in add  # row numbers when names do not fit
    assert "#n: row n" in narrow


def test_inputs_column_hidden_for_a_chain():
    vgg = analyze_file(SPECS / "vgg16.yaml")
    assert is_chain(vgg)
    assert "Inputs" not in table(vgg, None)
    assert "Inputs" in table(vgg, None, columns=parse_columns("name,inputs,params"))
    assert not is_chain(analyze_file(SPECS / "resnet18.yaml"))


def test_explicit_columns_in_order(resnet18):
    text = table(resnet18, None, columns=parse_columns("name, macs,rf"))
    head = text.splitlines()[2]
    assert [h.strip() for h in head.strip("┃").split("┃")] == ["Layer", "MACs", "RF"]
    # an explicit choice is abbreviated but never loses a column
    narrow = table(resnet18, 40, columns=parse_columns("name,type,output,params,macs,rf"))
    assert narrow.splitlines()[2].count("┃") == 7


def test_parse_columns_errors():
    with pytest.raises(ValueError, match=r"unknown column 'parms' \(did you mean 'params'\?\); valid columns: index"):
        parse_columns("name,parms")
    assert parse_columns("params") == (Column.NAME, Column.PARAMS)  # the name is always there
    assert parse_columns("#,macs%") == (Column.INDEX, Column.NAME, Column.MACS_SHARE)


def test_cli_columns_option():
    runner = CliRunner()
    ok = runner.invoke(cli, ["analyze", str(SPECS / "lenet5.yaml"), "--columns", "name,params"])
    assert ok.exit_code == 0, ok.output
    assert "┃ Layer " in ok.stdout and "MACs" not in ok.stdout.splitlines()[2]
    bad = runner.invoke(cli, ["analyze", str(SPECS / "lenet5.yaml"), "--columns", "name,flops"])
    assert bad.exit_code == 2
    assert "unknown column 'flops'" in bad.output and "valid columns: index, name, type, inputs" in bad.output
    mixed = runner.invoke(cli, ["analyze", str(SPECS / "lenet5.yaml"), "--columns", "name", "--format", "json"])
    assert mixed.exit_code == 2 and "--columns" in mixed.output


def test_hostile_names_stay_text():
    analysis = analyze_text(
        "input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3}\n    name: '[bold]x'\n"
        "  - relu:\n    name: y\n    inputs: ['[bold]x']\n"
    )
    text = table(analysis, 60, columns=parse_columns("name,inputs"))
    assert "[bold]x" in text


def _run(*args, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "cnncalc", "analyze", *args], capture_output=True, text=True,
                          env=full)


def test_done_when_resnet50_at_80_columns():
    out = _run(str(SPECS / "resnet50.yaml"), COLUMNS="80")
    assert out.returncode == 0, out.stderr
    assert max(len(line) for line in out.stdout.splitlines()) <= 80
    assert "25,557,032" in out.stdout


def test_analyze_does_not_import_rich_when_fitting():
    code = ("import sys, runpy; sys.argv = ['cnncalc', 'analyze', %r]; "
            "import cnncalc.cli as c\ntry: c.main()\nexcept SystemExit: pass\n"
            "assert 'rich' not in sys.modules, 'rich imported'" % str(SPECS / "resnet50.yaml"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "COLUMNS": "80"})
    assert out.returncode == 0, out.stderr


def test_control_characters_in_names_are_shown_not_sent():
    analysis = analyze_text(
        'name: "net\\x1b]0;owned\\x07"\ninput: [3, 8, 8]\nlayers:\n'
        '  - conv: {out_channels: 4, kernel_size: 3}\n    name: "a\\nb\\x1b[31mc\\u2028d"\n'
        '  - relu:\n    inputs: ["a\\nb\\x1b[31mc\\u2028d"]\n    name: r\n'
        '  - add:\n    inputs: [r, "a\\nb\\x1b[31mc\\u2028d"]\n'
    )
    for width in (None, 80):
        text = table(analysis, width, columns=parse_columns("name,inputs,output"))
        assert "\x1b" not in text and "\x07" not in text and "\u2028" not in text
        assert "a\\nb\\x1b[31mc\\u2028d" in text and "net\\x1b]0;owned\\x07" in text
        rows = [line for line in text.splitlines() if line.startswith("│")]
        assert len(rows) == 3 + 1
