"""Every report offers the same machine formats (json, csv, markdown; junit and
github where there is a pass or fail), listed in one place: cnncalc.render.FORMATS."""

import csv
import io
import json

import pytest
from conftest import SPECS, CliRunner

from cnncalc.cli import cli
from cnncalc.render import FORMATS, Format


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_every_report_has_json_csv_and_markdown():
    for command, formats in FORMATS.items():
        assert {Format.JSON, Format.CSV, Format.MARKDOWN} <= set(formats), command
    assert {Format.JUNIT, Format.GITHUB} <= set(FORMATS["check"]) and Format.JUNIT in FORMATS["verify"]


@pytest.fixture
def budgeted(tmp_path):
    spec = tmp_path / "net.yaml"
    spec.write_text((SPECS / "lenet5.yaml").read_text() + "budget:\n  params: 60k\n  batch: 2\n  receptive_field: {min: 9}\n")
    return spec


COMMANDS = {
    "analyze": lambda spec: ["analyze", spec],
    "check": lambda spec: ["check", spec],
    "diff": lambda spec: ["diff", SPECS / "lenet5.yaml", spec],
    "zoo": lambda spec: ["zoo"],
    "verify": lambda spec: ["verify", SPECS / "lenet5.yaml"],
    "grade": lambda spec: ["grade", SPECS.parent / "examples" / "homework" / "grade_lecture6.yaml"],
    "compare": lambda spec: ["compare", SPECS.parent / "examples" / "homework" / "one_5x5.yaml",
                             SPECS.parent / "examples" / "homework" / "two_3x3.yaml"],
}


@pytest.mark.parametrize("command", sorted(FORMATS))
def test_each_listed_format_of_each_command_renders(command, budgeted):
    for fmt in FORMATS[command]:
        result = run(*COMMANDS[command](budgeted), "--format", fmt.value)
        assert result.exit_code in (0, 1), (command, fmt, result.output)
        text = result.stdout
        assert text.strip(), (command, fmt)
        if fmt is Format.JSON:
            json.loads(text)
        elif fmt is Format.CSV:
            rows = list(csv.reader(io.StringIO(text)))
            assert len(rows) >= 2 and all(len(r) == len(rows[0]) for r in rows), (command, rows[:3])
        elif fmt is Format.MARKDOWN:
            assert "|:--" in text or "|--:" in text or "|:-:" in text


def test_check_csv_and_markdown_carry_the_numbers(budgeted):
    rows = list(csv.DictReader(io.StringIO(run("check", budgeted, "--format", "csv").stdout)))
    params = next(r for r in rows if r["quantity"] == "params")
    assert params["measured"] == "61706" and params["limit"] == "60000" and params["passed"] == "false"
    rf = next(r for r in rows if r["quantity"] == "receptive_field")
    assert rf["layer"] == "max_pool2" and rf["measured"] == "16"
    md = run("check", budgeted, "--format", "markdown").stdout
    assert "❌ | params ≤ 60k" in md and "max_pool2" in md and "some limits are exceeded" in md


def test_diff_csv_pairs_layers_and_totals(budgeted):
    grown = budgeted.parent / "grown.yaml"
    grown.write_text((SPECS / "lenet5.yaml").read_text().replace("out_channels: 6,", "out_channels: 9,"))
    rows = list(csv.DictReader(io.StringIO(run("diff", SPECS / "lenet5.yaml", grown, "--format", "csv").stdout)))
    conv1 = next(r for r in rows if r["old_name"] == "conv1")
    assert (conv1["status"], conv1["old_params"], conv1["new_params"], conv1["delta_params"]) == ("changed", "156", "234", "78")
    total = next(r for r in rows if r["status"] == "TOTAL" and r["old_name"] == "params")
    assert (total["old_params"], total["new_params"]) == ("61706", "62984")


def test_an_unlisted_format_is_refused():
    result = run("diff", SPECS / "lenet5.yaml", SPECS / "lenet5.yaml", "--format", "junit")
    assert result.exit_code == 2 and "junit" in result.output


def test_verify_json_has_every_measured_number_beside_the_analysed_one():
    data = json.loads(run("verify", SPECS / "lenet5.yaml", "--format", "json").stdout)
    assert data["schema"] == "cnncalc.verify/1" and data["ok"] and len(data["layers"]) == 12
    conv1 = data["layers"][0]
    assert conv1["multiplications_per_sample"] == {"measured": 117600, "analysed": 117600, "ok": True}
    assert conv1["output_shape"]["measured"] == [6, 28, 28]


def test_grade_json_and_junit_carry_each_answer():
    path = SPECS.parent / "examples" / "homework" / "grade_lecture6.yaml"
    data = json.loads(run("grade", path, "--format", "json").stdout)
    assert data["score"] == {"right": 7, "total": 8} and not data["all_right"]
    wrong = [m for m in data["marks"] if not m["ok"]]
    assert len(wrong) == 1 and wrong[0]["location"]["line"]
    junit = run("grade", path, "--format", "junit").stdout
    assert 'tests="8" failures="1"' in junit and "WrongAnswer" in junit
