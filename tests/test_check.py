"""``cnncalc check``: budgets, units, several specs, JUnit, GitHub annotations, baselines.

The small network used throughout is worked out by hand (input 1×8×8, float32, batch 1):

    conv 4@3×3, no padding → 4×6×6: params 4·9 + 4 = 40, MACs 4·1·9·36 = 1,296, output 144 values
    flatten               → 144
    dense 10              → 10:     params 144·10 + 10 = 1,450, MACs 1,440
    totals: params 1,490; MACs 2,736; activations (144 + 144 + 10)·4 B = 1,192 B;
    training memory (sgd) = weights 5,960 + gradients 5,960 + kept activations: with cnncalc.training
    (issue 5: each kept tensor once) the conv keeps its input (256 B) and the dense its input, the
    flattened conv output (576 B): 12,752 B; without it, the input and every output: 256 + 1,192 → 13,368 B;
    receptive field at the output: the whole input (8); largest layer: dense1.
"""

import json
import xml.etree.ElementTree as ET

import click
import pytest
from conftest import CliRunner

from cnncalc import SpecError, loads_spec
from cnncalc.budget import Quantity, parse_budget, parse_percent_or_amount
from cnncalc.checking import _estimator, check_graph
from cnncalc.cli import main
from conftest import SPECS

KEPT = 256 + 576 if _estimator() is not None else 256 + 1192
TRAINING = 5960 + 5960 + KEPT

LAYERS = """\
layers:
  - conv: {out_channels: 4, kernel_size: 3}
  - flatten
  - dense: {out_features: 10}
"""


def net(budget: str = "", name: str = "tiny") -> str:
    """The hand-worked network with an optional budget section (line 3 onwards)."""
    head = f"name: {name}\ninput: [1, 8, 8]\n"
    return head + (f"budget:\n{budget}" if budget else "") + LAYERS


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def _entry(argv):
    main(list(argv))


def run(*args):
    """The command line exactly as a user runs it (errors and exit codes from cnncalc.cli.main)."""
    return CliRunner().invoke(_entry, list(map(str, args)))


def checks_of(text, **kw):
    return check_graph(loads_spec(text, "t.yaml"), **kw).checks


# -- units ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "quantity,text,value",
    [
        (Quantity.PARAMS, 1490, 1490),
        (Quantity.PARAMS, "25M", 25_000_000),
        (Quantity.PARAMS, "1.5K", 1500),
        (Quantity.MACS, "4.2G", 4_200_000_000),
        (Quantity.MACS, "2T", 2 * 10**12),
        (Quantity.MACS, "15_470_264_320", 15_470_264_320),
        (Quantity.ACTIVATION_MEMORY, "120MiB", 120 * 2**20),
        (Quantity.ACTIVATION_MEMORY, "1KiB", 1024),
        (Quantity.TRAINING_MEMORY, "6GiB", 6 * 2**30),
        (Quantity.TRAINING_MEMORY, 4096, 4096),
        (Quantity.TRAINING_MEMORY, "1.5 GB", 1_500_000_000),
    ],
)
def test_units_parse(quantity, text, value):
    assert quantity.parse(text) == value


@pytest.mark.parametrize(
    "quantity,text,fragment",
    [
        (Quantity.PARAMS, "25Mi", "K, M, G, T"),
        (Quantity.PARAMS, "25MB", "looks like a byte size"),
        (Quantity.PARAMS, "1.5", "not a whole number"),
        (Quantity.PARAMS, "-5", "such as"),
        (Quantity.PARAMS, True, "expected a count"),
        (Quantity.MACS, "4.2 gigaflops", "such as"),
        (Quantity.ACTIVATION_MEMORY, "120M", "KiB, MiB, GiB"),
        (Quantity.ACTIVATION_MEMORY, "120 mebibytes", "KiB, MiB, GiB"),
        (Quantity.ACTIVATION_MEMORY, "0.5B", "whole number of bytes"),
        (Quantity.RECEPTIVE_FIELD, "200px", "input pixels"),
    ],
)
def test_bad_units_are_refused_with_the_allowed_forms(quantity, text, fragment):
    with pytest.raises(ValueError, match=fragment):
        quantity.parse(text)


def test_bad_unit_in_a_budget_points_at_its_line():
    with pytest.raises(SpecError) as info:
        checks_of(net("  params: 25M\n  activation_memory: 120 mebibytes\n"))
    err = info.value
    assert (err.line, err.field) == (5, "budget.activation_memory")
    assert "MiB" in str(err) and "t.yaml:5:" in str(err)


def test_bad_unit_on_the_command_line_exits_2(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net())
    result = run("check", spec, "--max-params", "30 million")
    assert result.exit_code == 2
    assert "--max-params" in result.output and "K, M, G, T" in result.output


def test_percentages_and_absolute_increases():
    assert parse_percent_or_amount(Quantity.PARAMS, "2%").allowed(1000) == 1020
    assert parse_percent_or_amount(Quantity.PARAMS, "0.5 %").allowed(1000) == 1005
    assert parse_percent_or_amount(Quantity.PARAMS, "1K").allowed(1000) == 2000
    assert parse_percent_or_amount(Quantity.ACTIVATION_MEMORY, "1KiB").allowed(0) == 1024
    with pytest.raises(ValueError, match="percentage"):
        parse_percent_or_amount(Quantity.PARAMS, "two%")
    with pytest.raises(ValueError, match="KiB"):
        parse_percent_or_amount(Quantity.ACTIVATION_MEMORY, "16M")


# -- every limit kind, passing exactly at the limit and failing one unit below ---------------

MEASURED = [
    # (budget entry with {v}, measured, quantity label, layer)
    ("  params: {v}\n", 1490, "params", None),
    ("  macs: {v}\n", 2736, "macs", None),
    ("  activation_memory: {v}\n", 1192, "activation_memory", None),
    ("  training_memory: {v}\n", TRAINING, "training_memory", None),
    ("  layer:\n    params: {v}\n", 1450, "params", "dense1"),
    ("  layer:\n    macs: {v}\n", 1440, "macs", "dense1"),
    ("  layer:\n    activation_memory: {v}\n", 576, "activation_memory", "conv1"),
]


@pytest.mark.parametrize("entry,measured,quantity,layer", MEASURED)
def test_every_limit_kind_passes_at_the_limit_and_fails_above(entry, measured, quantity, layer):
    (ok,) = checks_of(net(entry.format(v=measured)))
    assert (ok.passed, ok.measured, ok.limit, ok.quantity.value, ok.subject) == (True, measured, measured, quantity, layer)
    assert ok.margin == 0
    bad, *more = checks_of(net(entry.format(v=measured - 1)))  # (flatten1 ties conv1's output bytes)
    assert not bad.passed and bad.measured == measured and bad.subject == layer
    assert bad.margin < 0 and all(not c.passed for c in more)


def test_layer_limit_reports_every_offending_layer_at_its_line():
    checks = checks_of(net("  layer:\n    macs: 1000\n"))
    assert [(c.subject, c.measured, c.loc.line, c.passed) for c in checks] == [
        ("conv1", 1296, 7, False), ("dense1", 1440, 9, False),
    ]


def test_memory_is_measured_at_the_budget_batch_and_dtype():
    (check,) = checks_of(net("  activation_memory: 10KiB\n  batch: 8\n  dtype: float16\n"))
    assert check.measured == 1192 // 4 * 2 * 8
    (train,) = checks_of(net("  training_memory: 1MiB\n  optimizer: adam\n"))
    assert train.measured == 5960 + 5960 * 3 + KEPT


def test_receptive_field_min_and_max():
    fully_conv = "input: [1, 16, 16]\nbudget:\n  receptive_field: {min: 5, max: 5}\nlayers:\n" \
                 "  - conv: {out_channels: 2, kernel_size: 3}\n  - conv: {out_channels: 2, kernel_size: 3}\n"
    checks = checks_of(fully_conv)
    assert [(c.bound, c.measured, c.passed) for c in checks] == [("max", 5, True), ("min", 5, True)]
    checks = checks_of(fully_conv.replace("{min: 5, max: 5}", "{min: 6, max: 4}"))
    assert [(c.bound, c.passed, c.loc.line) for c in checks] == [("max", False, 3), ("min", False, 3)]
    (single,) = checks_of(fully_conv.replace("{min: 5, max: 5}", "7"))
    assert (single.bound, single.limit, single.passed) == ("min", 7, False)


def test_budget_file_overrides_the_spec_and_flags_override_both(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net("  params: 1000\n  macs: 1000\n"))
    budget = tmp_path / "budget.yaml"
    budget.write_text("budget:\n  params: 2K\n")
    data = json.loads(run("check", spec, "--budget", budget, "--max-macs", "3K", "--format", "json").stdout)
    checks = {c["quantity"]: c for c in data["specs"][0]["checks"]}
    assert (checks["params"]["limit"], checks["params"]["source"], checks["params"]["passed"]) == (2000, "budget file", True)
    assert checks["params"]["location"]["file"] == str(budget) and checks["params"]["location"]["line"] == 2
    assert (checks["macs"]["limit"], checks["macs"]["source"], checks["macs"]["passed"]) == (3000, "--max-macs", True)
    assert data["status"] == 0


@pytest.mark.parametrize(
    "budget,line,fragment",
    [
        ("  parms: 25M\n", 4, "did you mean 'params'"),
        ("  layer:\n    flops: 1M\n", 5, "allowed: params, macs, activation_memory"),
        ("  dtype: float17\n", 4, "did you mean 'float16'"),
        ("  batch: 0\n", 4, "≥ 1"),
        ("  receptive_field: {least: 3}\n", 4, "allowed: min, max"),
        ("  optimizer: adamw\n", 4, "did you mean 'adam'"),
        ("  max_increase: lots\n", 4, "percentage"),
    ],
)
def test_budget_errors_name_the_line(budget, line, fragment):
    with pytest.raises(SpecError) as info:
        checks_of(net(budget))
    assert info.value.line == line and fragment in str(info.value)


def test_analyze_accepts_a_spec_with_a_budget(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net("  params: 25M\n"))
    assert run("analyze", spec).exit_code == 0
    assert parse_budget(None).limits == {}


def test_nothing_to_check_is_unusable_input(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net())
    result = run("check", spec)
    assert result.exit_code == 2 and "nothing to check" in result.output


# -- several specs, summary, formats -------------------------------------------------------


@pytest.fixture
def three_specs(tmp_path):
    ok = tmp_path / "ok.yaml"
    ok.write_text(net("  params: 2K\n", name="ok"))
    over = tmp_path / "over.yaml"
    over.write_text(net("  params: 1K\n  layer:\n    params: 1K\n", name="over"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("input: [1, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernal_size: 3}\n")
    return ok, over, broken


def test_several_specs_mixed_results_and_exit_status(three_specs):
    ok, over, broken = three_specs
    result = run("check", ok, over)
    assert result.exit_code == 1, result.output
    summary = result.output[result.output.index("Summary"):]
    assert "PASS" in summary and "FAIL" in summary
    assert "headroom" in result.output and "over" in result.output
    assert run("check", ok).exit_code == 0
    assert run("check", ok, over, broken).exit_code == 2
    data = json.loads(run("check", ok, over, broken, "--format", "json").stdout)
    assert [s["result"] for s in data["specs"]] == ["pass", "fail", "error"]
    assert data["specs"][2]["error"]["location"]["line"] == 3
    assert data["status"] == 2


def test_junit_parses_back(three_specs, tmp_path):
    ok, over, broken = three_specs
    out = tmp_path / "report.xml"
    result = run("check", ok, over, broken, "--format", "junit", "-o", out)
    assert result.exit_code == 2
    root = ET.parse(out).getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("4", "2", "1")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert suites[str(ok)].get("failures") == "0"
    failures = suites[str(over)].findall("testcase/failure")
    assert len(failures) == 2
    assert "measured 1,490" in failures[0].get("message") and "limit 1,000" in failures[0].get("message")
    assert "49.0% over" in failures[0].get("message")
    layer_case = [c for c in suites[str(over)].findall("testcase") if "dense1" in c.get("name")][0]
    assert layer_case.get("line") == "10"
    assert suites[str(broken)].find("testcase/error").get("message").startswith(f"{broken}:3:")


def test_github_annotations_point_at_the_budget_entry_and_the_layer(three_specs):
    _, over, _ = three_specs
    result = run("check", over, "--format", "github")
    assert result.exit_code == 1
    errors = [line for line in result.output.splitlines() if line.startswith("::error")]
    assert len(errors) == 2
    # budget entry `params: 1K` is on line 4; the offending layer (dense, 1,450 params) on line 10
    assert errors[0].startswith(f"::error file={over},line=4,")
    assert "params ≤ 1K fails: measured 1,490" in errors[0]
    assert errors[1].startswith(f"::error file={over},line=10,")
    assert "dense1" in errors[1]
    assert "%25" in errors[0]  # '%' is escaped as GitHub requires


def test_github_annotation_for_a_flag_points_at_the_largest_layer(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net())
    result = run("check", spec, "--max-macs", "2K", "--format", "github")
    assert result.exit_code == 1
    assert result.output.startswith(f"::error file={spec},line=6,")  # dense: 1,440 of the 2,736 MACs
    assert "--max-macs" in result.output


def test_shipped_vgg16_against_published_limits():
    result = run("check", SPECS / "vgg16.yaml", "--max-params", "138357544", "--max-macs", "15.47G", "--format", "json")
    data = json.loads(result.stdout)
    checks = {c["quantity"]: c for c in data["specs"][0]["checks"]}
    assert checks["params"]["passed"] and checks["params"]["margin_percent"] == 0
    assert not checks["macs"]["passed"] and checks["macs"]["measured"] == 15_470_264_320
    assert result.exit_code == 1


# -- baselines ---------------------------------------------------------------------------------


@pytest.fixture
def baseline(tmp_path):
    spec = tmp_path / "model.yaml"
    spec.write_text(net())
    out = tmp_path / "main.json"
    assert run("analyze", spec, "--format", "json", "-o", out).exit_code == 0
    return spec, out


def test_baseline_increase_fails_and_names_the_changed_layer(baseline):
    spec, saved = baseline
    spec.write_text(net().replace("out_features: 10", "out_features: 11"))  # dense +145 params: +9.7%
    result = run("check", spec, "--baseline", saved, "--max-increase", "2%", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)["specs"][0]
    checks = {c["quantity"]: c for c in report["checks"]}
    assert checks["params"]["baseline"] == 1490 and checks["params"]["measured"] == 1635
    assert checks["params"]["limit"] == 1490 + 29 and not checks["params"]["passed"]
    assert checks["params"]["location"]["line"] == 6  # the dense layer that grew
    (changed,) = report["changed_layers"]
    assert changed["current"]["name"] == "dense1" and changed["delta"]["params"] == 145
    assert "out_features 10 → 11" in changed["changes"]
    # an absolute allowance per quantity
    ok = run("check", spec, "--baseline", saved, "--max-increase", "params=200", "--max-increase", "macs=200",
             "--max-increase", "activation_memory=4", "--max-increase", "training_memory=2KiB")
    assert ok.exit_code == 0, ok.output
    assert "dense1" in ok.output and "out_features 10 → 11" in ok.output


def test_baseline_decrease_passes(baseline):
    spec, saved = baseline
    spec.write_text(net().replace("out_channels: 4", "out_channels: 2"))
    result = run("check", spec, "--baseline", saved, "--format", "json")
    assert result.exit_code == 0, result.output
    checks = json.loads(result.stdout)["specs"][0]["checks"]
    assert all(c["passed"] and c["measured"] < c["baseline"] for c in checks)


def test_baseline_unchanged_passes_with_zero_default_allowance(baseline):
    spec, saved = baseline
    result = run("check", spec, "--baseline", saved)
    assert result.exit_code == 0 and "no layer changed" in result.output


def test_baseline_budget_section_and_bad_baseline(baseline, tmp_path):
    spec, saved = baseline
    spec.write_text(net("  max_increase: {params: 10%}\n").replace("out_features: 10", "out_features: 11"))
    assert run("check", spec, "--baseline", saved).exit_code == 1  # macs may not grow at all
    spec.write_text(net("  max_increase: 10%\n").replace("out_features: 10", "out_features: 11"))
    assert run("check", spec, "--baseline", saved).exit_code == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    result = run("check", spec, "--baseline", bad)
    assert result.exit_code == 2 and "cnncalc analyze SPEC --format json" in result.output


def test_baselines_are_matched_to_specs_by_path(baseline, tmp_path):
    spec, saved = baseline
    other = tmp_path / "other.yaml"
    other.write_text(net(name="other"))
    result = run("check", spec, other, "--baseline", saved, "--format", "json")
    data = json.loads(result.stdout)
    assert [s["result"] for s in data["specs"]] == ["pass", "error"]
    assert "no baseline matches" in data["specs"][1]["error"]["message"]


def test_skip_unbudgeted_passes_over_specs_without_limits(three_specs, tmp_path):
    ok, _, _ = three_specs
    plain = tmp_path / "plain.yaml"
    plain.write_text(net())
    assert run("check", ok, plain).exit_code == 2
    result = run("check", ok, plain, "--skip-unbudgeted", "--format", "json")
    assert result.exit_code == 0
    assert [s["result"] for s in json.loads(result.stdout)["specs"]] == ["pass", "skip"]
    root = ET.fromstring(run("check", ok, plain, "--skip-unbudgeted", "--format", "junit").stdout)
    assert root.find("testsuite[@name='%s']/testcase/skipped" % plain) is not None


def test_budget_section_is_in_the_json_schema():
    import re

    schema = json.loads(run("schema").stdout)
    budget = schema["properties"]["budget"]
    assert budget["additionalProperties"] is False
    assert set(budget["properties"]) >= {"params", "macs", "activation_memory", "training_memory", "layer",
                                          "receptive_field", "batch", "dtype", "max_increase"}
    size = budget["properties"]["activation_memory"]["oneOf"][1]["pattern"]
    count = budget["properties"]["params"]["oneOf"][1]["pattern"]
    assert re.match(size, "120MiB") and not re.match(size, "120M")
    assert re.match(count, "4.2G") and not re.match(count, "25MB")


def test_baseline_training_memory_growth_and_an_old_baseline_without_it(baseline, tmp_path):
    spec, saved = baseline
    data = json.loads(saved.read_text())
    assert data["totals"]["memory"]["training_bytes"] == TRAINING
    spec.write_text(net().replace("out_features: 10", "out_features: 11"))
    report = json.loads(run("check", spec, "--baseline", saved, "--max-increase", "params=10%",
                            "--max-increase", "macs=10%", "--max-increase", "activation_memory=1%",
                            "--format", "json").stdout)["specs"][0]
    training = next(c for c in report["checks"] if c["quantity"] == "training_memory")
    # dense 144→11: 145 more weights, each stored and with a gradient (float32): +1,160 B; 1 more output: +4 B
    # is not kept (nothing keeps the network output), so training memory grows by 1,160 B
    assert (training["baseline"], training["measured"]) == (TRAINING, TRAINING + 1160)
    assert not training["passed"] and training["limit"] == TRAINING  # default: no growth allowed
    del data["totals"]["memory"]["training_bytes"], data["totals"]["memory"]["training_optimizer"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    report = json.loads(run("check", spec, "--baseline", old, "--max-increase", "10%", "--format", "json").stdout)
    (spec_report,) = report["specs"]
    assert "training_memory" not in {c["quantity"] for c in spec_report["checks"]}
    assert any("records no training memory" in note for note in spec_report["notes"])


def test_budget_file_errors_point_into_the_budget_file(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net())
    budget = tmp_path / "budget.yaml"
    budget.write_text("# edge device\nbudget:\n  params: 1M\n  macs: 4.2 gflops\n")
    result = run("check", spec, "--budget", budget)
    assert result.exit_code == 2 and f"{budget}:4:" in result.output and "budget.macs" in result.output
    result = run("check", spec, "--budget", tmp_path / "missing.yaml")
    assert result.exit_code == 2 and "no such file" in result.output
    bare = tmp_path / "bare.yaml"
    bare.write_text("params: 1K\nlayer: {macs: 1500}\n")  # the mapping itself, without 'budget:'
    data = json.loads(run("check", spec, "--budget", bare, "--format", "json").stdout)
    assert [(c["quantity"], c["passed"]) for c in data["specs"][0]["checks"]] == [
        ("params", False), ("macs", True),
    ]


def test_max_increase_needs_a_baseline(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net("  params: 2K\n"))
    result = run("check", spec, "--max-increase", "2%")
    assert result.exit_code == 2 and "--baseline" in result.output
    result = run("check", spec, "--max-increase", "flops=2%")
    assert result.exit_code == 2 and "unknown quantity 'flops'" in result.output


def test_receptive_field_limit_needs_spatial_axes():
    with pytest.raises(SpecError, match="spatial axes") as info:
        checks_of("input: [16]\nbudget:\n  receptive_field: {min: 3}\nlayers:\n  - dense: {out_features: 4}\n")
    assert info.value.line == 3


def test_branching_network_checks_and_diffs_with_itself():
    resnet = SPECS / "resnet18.yaml"
    if not resnet.exists():
        pytest.skip("resnet18 spec not shipped")
    result = run("check", resnet, "--max-params", "11689512", "--max-layer-params", "2.3M", "--format", "json")
    data = json.loads(result.stdout)
    checks = data["specs"][0]["checks"]
    assert checks[0]["measured"] == 11_689_512 and checks[0]["passed"]  # torchvision's published count
    # the three 3×3 512→512 convs of the last stage (no bias): 2,359,296 parameters each
    offenders = [c for c in checks if not c["passed"]]
    assert result.exit_code == 1 and [c["measured"] for c in offenders] == [2_359_296] * 3
    assert len({c["location"]["line"] for c in offenders}) >= 1
    diff = run("diff", resnet, resnet, "--format", "json")
    assert json.loads(diff.stdout)["summary"]["added"] == 0


def test_table_exact_values_and_output_file(tmp_path):
    spec = tmp_path / "n.yaml"
    spec.write_text(net("  training_memory: 1MiB\n"))
    result = run("check", spec, "--exact", "--max-macs", "3K")
    assert result.exit_code == 0
    assert f"{TRAINING:,} B" in result.output and "2,736" in result.output and "8.8% headroom" in result.output
    out = tmp_path / "report.txt"
    assert run("check", spec, "-o", out).exit_code == 0
    assert "Summary" in out.read_text() and "training memory = " in out.read_text()


def test_github_annotation_escaping():
    from cnncalc.errors import Loc
    from cnncalc.render.check import annotation

    line = annotation("error", "50% over\nsecond line", Loc("dir,a:b/n.yaml", 7, 3), "t: x")
    assert line == "::error file=dir%2Ca%3Ab/n.yaml,line=7,col=3,title=t%3A x::50%25 over%0Asecond line"


@pytest.mark.parametrize(
    "budget,line,fragment",
    [
        ("  params: -3\n", 4, "≥ 0"),
        ("  dtype: [1]\n", 4, "unknown dtype"),
        ("  max_increase: 1.5%\n", 4, "needs a baseline"),
    ],
)
def test_more_budget_errors(budget, line, fragment):
    with pytest.raises(SpecError) as info:
        checks_of(net(budget))
    assert info.value.line == line and fragment in str(info.value)


def test_any_budget_value_gives_a_result_or_a_spec_error():
    """Whatever a budget holds, check_graph returns checks or raises SpecError (never another exception)."""
    import yaml
    from hypothesis import given, settings, strategies as st

    from cnncalc.budget import BUDGET_KEYS

    scalars = st.one_of(
        st.none(), st.booleans(), st.integers(-10, 10**13), st.floats(allow_nan=True),
        st.text(max_size=8), st.sampled_from(["25M", "4.2G", "120MiB", "2%", "1.5KiB", "7", "sgd", "float16"]),
    )
    values = st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["min", "max", "params", "macs", "flops"]), inner, max_size=3),
    ), max_leaves=6)
    budgets = st.dictionaries(st.sampled_from([*BUDGET_KEYS, "flops"]), values, max_size=4)

    @settings(max_examples=60, deadline=None)
    @given(budgets)
    def run_one(budget):
        text = yaml.safe_dump({"input": [1, 8, 8], "budget": budget,
                               "layers": [{"conv": {"out_channels": 4, "kernel_size": 3}}]})
        try:
            check_graph(loads_spec(text, "h.yaml"))
        except SpecError:
            pass

    run_one()


def _check_table(*args, columns=80):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "COLUMNS": str(columns), "PYTHONPATH": str(ROOT)}
    env.pop("FORCE_COLOR", None)
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "check", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT)
    assert proc.returncode in (0, 1), proc.stderr
    return proc.stdout


def test_the_check_table_fits_80_columns_and_never_cuts_a_layer_name():
    out = _check_table("specs/resnet50.yaml")
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "…" not in out
    assert "layer4.2." in out and "relu3" in out  # wrapped, not cut
    header = next(line for line in out.splitlines() if "Check" in line)
    assert "Source" not in header and "every limit from: spec" in " ".join(out.split())


def test_the_source_and_layer_columns_appear_when_they_say_something():
    mixed = _check_table("specs/resnet50.yaml", "--max-params", "30M", columns=160)
    header = next(line for line in mixed.splitlines() if "Check" in line)
    assert "Source" in header and "Layer" in header and "--max-params" in mixed
    totals_only = _check_table("specs/vgg16.yaml", "--max-params", "200M", columns=160)
    header = next(line for line in totals_only.splitlines() if "Check" in line)
    assert "Layer" not in header and "Source" not in header
