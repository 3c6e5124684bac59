"""The command line as a user meets it."""

import json
import subprocess
import sys

import pytest
from conftest import CliRunner

from cnncalc.cli import cli
from conftest import SPECS


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_analyze_table_shows_totals_and_convention():
    result = run("analyze", SPECS / "vgg16.yaml")
    assert result.exit_code == 0, result.output
    assert "138,357,544" in result.output
    assert "15,470,264,320" in result.output
    assert "Convention" in result.output
    assert "138.4M" in result.output and "15.47G" in result.output


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg11", "vgg16", "vgg16_bn"])
def test_every_shipped_spec_analyses(name):
    assert run("analyze", SPECS / f"{name}.yaml").exit_code == 0


def test_json_is_exact_and_versioned():
    result = run("analyze", SPECS / "vgg16.yaml", "--format", "json")
    data = json.loads(result.output)
    assert data["schema"] == "cnncalc.analysis/1"
    assert data["totals"]["params"]["trainable"] == 138_357_544
    assert data["totals"]["multiplications"] == 15_470_264_320
    assert data["convention"]["name"] == "multiplications"
    assert data["layers"][0]["output_shape"] == [64, 224, 224]
    assert data["layers"][0]["receptive_field"][0] == {
        "size": 3, "jump": 1, "start": 0, "padding": 1, "whole_input": False
    }


def test_csv_and_markdown():
    csv_out = run("analyze", SPECS / "lenet5.yaml", "--format", "csv").output
    assert csv_out.splitlines()[0].startswith("index,name,type")
    assert "TOTAL" in csv_out.splitlines()[-1] and "61706" in csv_out.splitlines()[-1]
    md = run("analyze", SPECS / "lenet5.yaml", "--format", "markdown").output
    assert "| # | Layer |" in md and "61,706" in md and "Convention" in md


def test_input_override_batch_and_dtype():
    data = json.loads(run("analyze", SPECS / "vgg16.yaml", "--input", "64x64x3", "--batch", "8",
                          "--dtype", "float16", "--format", "json").stdout)
    assert data["input"] == [3, 64, 64]  # x is channels last (H×W×C), as in the lectures
    assert data["layers"][0]["memory"]["activation_bytes"] == 64 * 64 * 64 * 8 * 2
    # the adaptive pool makes the head independent of the input size
    assert data["totals"]["params"]["trainable"] == 138_357_544


def test_output_file_written(tmp_path):
    out = tmp_path / "report.json"
    assert run("analyze", SPECS / "lenet5.yaml", "--format", "json", "-o", out).exit_code == 0
    assert json.loads(out.read_text())["totals"]["params"]["trainable"] == 61706


def test_schema_is_json():
    data = json.loads(run("schema").output)
    assert data["title"].startswith("cnncalc")
    assert "conv" in data["properties"]["defaults"]["properties"]


def test_error_exits_2_without_traceback(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: 8, kernal_size: 3}\n")
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(bad)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{bad}:3:" in proc.stderr
    assert "did you mean 'kernel_size'" in proc.stderr
    assert proc.stdout == ""


def test_analysis_path_does_not_import_numpy():
    code = (
        "import sys; from cnncalc.cli import main\n"
        "sys.argv=['cnncalc','analyze',sys.argv[1],'--format','json']\n"
        "import io, contextlib\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "assert 'numpy' not in sys.modules, 'numpy was imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(SPECS / "vgg16.yaml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
