"""Figures that cannot be misread: every memory figure states its batch and
dtype, a growth limit is shown in one definition, a receptive-field limit names
the layer it is measured at, 'parameters' means trainable, and one unit
vocabulary (k/M/G for counts, KiB/MiB/GiB for bytes)."""

import json

import pytest
from conftest import SPECS, CliRunner

from cnncalc import loads_spec
from cnncalc.checking import check_graph
from cnncalc.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


GAP = "input: [3, 32, 32]\nbudget:\n  receptive_field: {min: %s}\nlayers:\n" \
      "  - conv: {out_channels: 8, kernel_size: 3}\n    name: c1\n  - conv: {out_channels: 8, kernel_size: 3}\n" \
      "    name: c2\n  - global_avg_pool\n  - dense: {out_features: 10}\n"


def test_receptive_field_limit_is_measured_at_the_last_spatial_layer_not_the_whole_input():
    (c,) = check_graph(loads_spec(GAP % 9, "t.yaml")).checks
    assert c.subject == "c2" and c.measured == 5 and not c.passed  # global pooling no longer passes it
    assert "at c2 (the last layer with a spatial field)" in c.note
    (c,) = check_graph(loads_spec(GAP % 5, "t.yaml")).checks
    assert c.passed


def test_receptive_field_limit_at_a_named_layer():
    text = GAP.replace("{min: %s}", "{min: 3, at: c1}")
    (c,) = check_graph(loads_spec(text, "t.yaml")).checks
    assert c.subject == "c1" and c.measured == 3 and c.passed and "named by receptive_field.at" in c.note
    from cnncalc import SpecError

    with pytest.raises(SpecError, match="receptive_field.at: no layer named 'c3'"):
        check_graph(loads_spec(text.replace("at: c1", "at: c3"), "t.yaml"))


def test_memory_figures_state_batch_and_dtype_and_growth_is_one_definition(tmp_path):
    base = tmp_path / "base.json"
    assert run("analyze", SPECS / "lenet5.yaml", "--format", "json", "-o", base).exit_code == 0
    grown = tmp_path / "grown.yaml"
    grown.write_text((SPECS / "lenet5.yaml").read_text().replace("out_channels: 6,", "out_channels: 9,"))
    budget = tmp_path / "b.yaml"
    budget.write_text("budget:\n  activation_memory: 100KiB\n  batch: 4\n  max_increase: 2%\n")
    table = run("check", grown, "--budget", budget, "--baseline", base).stdout
    row = next(line for line in table.splitlines() if "activation memory ≤" in line)
    assert "batch 4, float32" in row
    row = next(line for line in table.splitlines() if "macs increase" in line)
    # growth +42.93% over the baseline; allowed +2%; so 40.93 points over — no second percentage
    assert "+42.93% over baseline" in row and "40.93 points over" in row and "(baseline +2%)" in row
    row = next(line for line in table.splitlines() if "activation memory increase" in line)
    assert "batch 1, float32" in row  # compared at the baseline's batch, and says so
    data = json.loads(run("check", grown, "--budget", budget, "--baseline", base, "--format", "json").stdout)
    checks = {c["check"]: c for c in data["specs"][0]["checks"]}
    assert checks["activation memory ≤ 100KiB"]["batch"] == 4
    macs = checks["macs increase ≤ 2%"]
    assert macs["growth_percent"] == pytest.approx(42.93, abs=0.01) and macs["allowed_growth_percent"] == 2


def test_parameters_mean_trainable_and_buffers_are_labelled():
    table = run("analyze", SPECS / "resnet18.yaml").stdout
    assert "128 +128 buf" in table and "Kb" not in table and "+128b" not in table
    memory = next(line for line in table.splitlines() if line.startswith("Memory: activations"))
    # 11,689,512 trainable × 4 B = 44.59 MiB; 9,600 buffers × 4 B = 37.50 KiB
    assert "parameters 44.59 MiB · buffers 37.50 KiB" in memory and "(batch 1, float32)" in memory


def test_counts_use_lowercase_k_and_bytes_binary_units():
    table = run("analyze", SPECS / "lenet5.yaml").stdout
    assert "117.6k" in table and "117.6K" not in table
    assert "KiB" in table and " KB" not in table and " kB" not in table


def test_json_says_params_bytes_trainable_and_buffer_bytes_apart():
    data = json.loads(run("analyze", SPECS / "resnet18.yaml", "--format", "json").stdout)
    memory = data["totals"]["memory"]
    assert memory["params_bytes"] == 11_689_512 * 4 and memory["buffer_bytes"] == 9_600 * 4
    assert memory["param_bytes"] == memory["params_bytes"] + memory["buffer_bytes"]
    assert memory["training"]["params_bytes"] == memory["params_bytes"]


def test_csv_memory_columns_state_their_batch_and_dtype():
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run("analyze", SPECS / "lenet5.yaml", "--batch", "8", "--dtype", "float16",
                                                "--format", "csv").stdout)))
    assert all(r["batch"] == "8" and r["dtype"] == "float16" for r in rows)
    rows = list(csv.DictReader(io.StringIO(run("diff", SPECS / "vgg11.yaml", SPECS / "vgg16.yaml", "--format", "csv").stdout)))
    assert all(r["old_memory_at"] == r["new_memory_at"] == "batch 1, float32" for r in rows)
