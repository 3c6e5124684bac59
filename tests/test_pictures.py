"""Pictures in the terminal: share bars in the table, --chart, --rf.

Golden files in tests/golden/ pin the charts at a fixed width; after an
intended change regenerate them with
    CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_pictures.py
and review the diff.
"""

import io
import os
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import CliRunner

from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.render.bars import Chart, bar, chart_lines, percent, rf_lines, share_cell
from conftest import SPECS

GOLDEN = Path(__file__).parent / "golden"
WIDTH = 100


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CNNCALC_UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing {path}: run CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_pictures.py"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} differs from the golden file; if the change is intended run "
        "CNNCALC_UPDATE_GOLDEN=1 pytest tests/test_pictures.py and review the diff"
    )


@pytest.fixture(scope="module")
def vgg16():
    return analyze_file(SPECS / "vgg16.yaml")


@pytest.fixture(scope="module")
def lenet5():
    return analyze_file(SPECS / "lenet5.yaml")


def test_bar_arithmetic_is_exact():
    assert bar(1, 1, 4) == "████"
    assert bar(1, 2, 4) == "██  "
    assert bar(1, 16, 4) == "▎   "  # 1/16 of 4 cells = 2 eighths
    assert bar(1, 10**9, 4) == "▏   "  # non-zero never vanishes
    assert bar(0, 5, 4) == "    "
    assert bar(3, 4, 4, unicode=False) == "### "
    assert bar(1, 100, 4, unicode=False) == ".   "
    assert bar(Fraction(212, 224), 1, 8) == "███████▋"  # 7.57 cells → 61 eighths
    assert percent(102_764_544, 138_357_544) == "74.3%"
    assert percent(1, 10**6) == "<0.1%" and percent(0, 5) == "0%"
    assert share_cell(0, 10, width=8, unicode=True) == ""
    assert share_cell(1, 2, width=8, unicode=False) == "50.0%"


def test_chart_params_golden(vgg16):
    lines = chart_lines(vgg16, Chart.PARAMS, width=WIDTH)
    check_golden("vgg16_chart_params.txt", "\n".join(lines) + "\n")
    dense1 = next(line for line in lines if line.startswith("dense1 "))
    conv13 = next(line for line in lines if line.startswith("conv13 "))
    # the 102.8M-parameter first dense layer jumps out: 74.3% of the bar width
    assert dense1.count("█") > 10 * conv13.count("█") and "74.3%" in dense1
    assert max(len(line) for line in lines) <= WIDTH


def test_chart_macs_ascii_golden(vgg16):
    lines = chart_lines(vgg16, Chart.MACS, width=WIDTH, unicode=False)
    check_golden("vgg16_chart_macs_ascii.txt", "\n".join(lines) + "\n")
    assert all(ord(ch) < 128 or ch in "×…" for line in lines for ch in line)


def test_chart_memory_golden(lenet5):
    lines = chart_lines(lenet5, Chart.MEMORY, width=80)
    check_golden("lenet5_chart_memory.txt", "\n".join(lines) + "\n")
    assert "total 58.60 KiB (60,008 bytes)" in lines[0]


def test_rf_view_golden(vgg16):
    lines = rf_lines(vgg16, width=WIDTH)
    check_golden("vgg16_rf.txt", "\n".join(lines) + "\n")
    pool5 = next(line for line in lines if line.startswith("max_pool5 "))
    assert "212×212" in pool5 and "32×32" in pool5 and "31/2×31/2" in pool5  # Araujo et al.'s VGG-16 numbers


def test_rf_view_marks_fields_larger_than_the_input(spec_file):
    from cnncalc import load_spec
    from cnncalc.analysis import analyze

    path = spec_file("input: [1, 8, 8]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 5, padding: 2}\n"
                     "  - conv: {out_channels: 1, kernel_size: 5, padding: 2}\n")
    lines = rf_lines(analyze(load_spec(path)), width=60, unicode=False)
    assert lines[2].split()[2] == "5×5" and not lines[2].endswith("+")
    assert lines[3].split()[2] == "9×9" and lines[3].endswith("+")


def test_cli_pictures_are_plain_text_off_a_terminal(vgg16):
    runner = CliRunner(env={"COLUMNS": ""})
    out = runner.invoke(cli, ["analyze", str(SPECS / "vgg16.yaml"), "--chart", "params"])
    assert out.exit_code == 0, out.output
    assert out.stdout == "\n".join(chart_lines(vgg16, Chart.PARAMS, width=WIDTH, unicode=False)) + "\n"
    assert "\x1b[" not in out.stdout and "█" not in out.stdout
    rf = runner.invoke(cli, ["analyze", str(SPECS / "vgg16.yaml"), "--rf"]).stdout
    assert rf.splitlines()[0].startswith("Receptive field per layer: vgg16")


def test_pictures_stay_out_of_machine_formats():
    for fmt in ("json", "csv", "markdown"):
        result = CliRunner().invoke(cli, ["analyze", str(SPECS / "lenet5.yaml"), "--format", fmt, "--chart", "macs"])
        assert result.exit_code == 2 and "cannot be combined with --format" in result.output
        plain = CliRunner().invoke(cli, ["analyze", str(SPECS / "lenet5.yaml"), "--format", fmt]).stdout
        assert "█" not in plain and "78.0%" not in plain and "share" not in plain  # no share column either


def test_chart_to_a_file_is_ascii(tmp_path):
    out = tmp_path / "chart.txt"
    result = CliRunner().invoke(cli, ["analyze", str(SPECS / "lenet5.yaml"), "--chart", "params", "-o", str(out)])
    assert result.exit_code == 0
    text = out.read_text(encoding="utf-8")
    assert "#" in text and "█" not in text and "61,706" in text


def _table(analysis, *, terminal: bool, width: int = 200) -> str:
    from rich.console import Console

    from cnncalc.render.table import print_table

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=terminal, color_system=None, highlight=False)
    print_table(analysis, console)
    return buffer.getvalue()


def test_table_share_columns(vgg16):
    fancy = _table(vgg16, terminal=True)
    dense1 = next(line for line in fancy.splitlines() if " dense1 " in line)
    assert "██████" in dense1 and "74.3%" in dense1 and "0.7%" in dense1
    conv2 = next(line for line in fancy.splitlines() if " conv2 " in line)
    assert "12.0%" in conv2
    plain = _table(vgg16, terminal=False)
    assert "█" not in plain and "▏" not in plain
    assert "74.3%" in next(line for line in plain.splitlines() if " dense1 " in line)


def test_narrow_terminal_gets_bars_without_percentages(vgg16):
    narrow = _table(vgg16, terminal=True, width=110)
    dense1 = next(line for line in narrow.splitlines() if " dense1 " in line)
    assert "████" in dense1 and "74.3%" not in dense1
    assert " dense1 " in dense1  # the layer names still fit
