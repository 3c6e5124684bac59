"""cnncalc grade: right, wrong, rounded and reshaped answers; bad answer keys."""

import pytest
from conftest import CliRunner

from cnncalc import analyze, loads_spec
from cnncalc.cli import cli, main
from cnncalc.errors import SpecError
from cnncalc.homework.grade import grade, parse_number
from conftest import SPECS

ISSUE_EXAMPLE = """\
input: [3, 28, 28]
layers:
  - conv: {out_channels: 20, kernel_size: 5, stride: 2, padding: 2}
    expect: {output: [20, 14, 14], params: 1520, macs: 294000, receptive_field: 5}
expect_total: {params: 1520}
"""


def status(*args):
    with pytest.raises(SystemExit) as info:
        main(list(map(str, args)))
    return info.value.code


def graded(text):
    return grade(analyze(loads_spec(text, "hw.yaml")))


def test_issue_example_is_all_right(spec_file, capsys):
    g = graded(ISSUE_EXAMPLE)
    assert (g.right, g.total) == (5, 5)
    assert status("grade", spec_file(ISSUE_EXAMPLE)) == 0
    out = capsys.readouterr().out
    assert out.count("✓") == 5 and "Score: 5/5 (100%)" in out


def test_wrong_answer_shows_correct_value_and_work(spec_file, capsys):
    text = ISSUE_EXAMPLE.replace("macs: 294000", "macs: 290000").replace("params: 1520}", "params: 1510}")
    g = graded(text)
    wrong = [m for m in g.marks if not m.ok]
    assert [(m.where, m.key) for m in wrong] == [("conv1", "macs"), ("total", "params")]
    assert status("grade", spec_file(text)) == 1
    out = capsys.readouterr().out
    assert "✗ conv1 macs" in out and "correct: 294,000" in out
    assert "20 · (14·14) · (3·5·5) = 20 · 196 · 75 = 294,000" in out
    assert "correct: 1,520 with bias, 1,500 without bias (the lectures' count)" in out
    assert "Score: 3/5 (60%)" in out
    assert "hw.yaml" not in out  # locations are of the real file
    assert "spec.yaml:4:" in out


def test_channels_last_shape_and_rf_forms_are_accepted_and_said():
    g = graded(ISSUE_EXAMPLE.replace("output: [20, 14, 14]", 'output: "14x14x20"')
               .replace("receptive_field: 5", 'receptive_field: "5x5"'))
    assert g.all_right
    shape = next(m for m in g.marks if m.key == "output")
    assert "channels last" in shape.how


def test_wrong_shape_is_wrong():
    g = graded(ISSUE_EXAMPLE.replace("output: [20, 14, 14]", 'output: "13x13x20"'))
    assert not g.all_right


def test_rounded_published_vgg16_totals(spec_file):
    text = (SPECS / "vgg16.yaml").read_text() + "\nexpect_total: {params: 138M, macs: 15.5G, flops: 30.94G}\n"
    g = graded(text)
    assert g.all_right, [(m.key, m.answer, m.correct) for m in g.marks]
    assert all("rounded" in m.how for m in g.marks)
    # rounding, not anything close: 15.4G is wrong for 15.47G, 139M is wrong for 138.36M
    bad = (SPECS / "vgg16.yaml").read_text() + "\nexpect_total: {params: 139M, macs: 15.4G}\n"
    assert graded(bad).right == 0


@pytest.mark.parametrize(
    "text,value,tol",
    [(1520, 1520, 0), ("1,520", 1520, 0), ("138M", 138_000_000, 500_000), ("15.5G", 15_500_000_000, 50_000_000),
     ("1.52e3", 1520, 5), (12.5, 12.5, 0.05)],
)
def test_parse_number(text, value, tol):
    from fractions import Fraction

    got, got_tol, _ = parse_number(text, "x", None)
    assert got == Fraction(str(value)) and got_tol == Fraction(str(tol))


def test_unknown_expect_key_names_file_line_and_layer(spec_file, capsys):
    path = spec_file(ISSUE_EXAMPLE.replace("macs: 294000", "macz: 294000"))
    assert status("grade", path) == 2
    err = capsys.readouterr().err
    assert "spec.yaml:4:" in err and "conv1" in err and "unknown answer key 'macz'" in err and "did you mean 'macs'" in err
    assert "Traceback" not in err


def test_unknown_total_key_and_bad_value(spec_file, capsys):
    assert status("grade", spec_file(ISSUE_EXAMPLE.replace("expect_total: {params", "expect_total: {paramz"))) == 2
    assert "unknown answer key 'paramz'" in capsys.readouterr().err
    assert status("grade", spec_file(ISSUE_EXAMPLE.replace("params: 1520,", "params: lots,"))) == 2
    err = capsys.readouterr().err
    assert "spec.yaml:4:" in err and "expected a number" in err


def test_a_spec_without_answers_is_refused(spec_file, capsys):
    assert status("grade", SPECS / "lenet5.yaml") == 2
    assert "no answers to grade" in capsys.readouterr().err


def test_expect_does_not_disturb_analyze(spec_file):
    result = CliRunner().invoke(cli, ["analyze", str(spec_file(ISSUE_EXAMPLE))])
    assert result.exit_code == 0, result.output
    assert "1,520" in result.output or "1.520K" in result.output or "1.52K" in result.output


def test_shipped_grading_example_has_one_wrong_answer(capsys):
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "examples" / "homework" / "grade_lecture6.yaml"
    assert status("grade", path) == 1
    out = capsys.readouterr().out
    assert "Score: 7/8" in out and "r = 5 + (2 − 1)·2 = 7" in out


LECTURE6 = """\
input: [3, 28, 28]
layers:
  - conv: {out_channels: 20, kernel_size: 5, stride: 2, padding: 2}
    expect: {params: 1500, macs: 294000}
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
    inputs: input
    expect: {params: 36, macs: 87808}
expect_total: {params: 1608, layers: 2}
"""


def test_the_lectures_no_bias_counts_are_right_and_said(spec_file, capsys):
    # 5·5·3·20 = 1,500 (lecture 6; PyTorch 1,520); "4 kernels 3×3: 3·3·4 = 36" counts one input channel —
    # here the input has 3, so 3·3·3·4 = 108 is the weight count and 36 is wrong
    g = graded(LECTURE6)
    by = {(m.where, m.key): m for m in g.marks}
    assert by[("conv1", "params")].ok
    assert by[("conv1", "params")].how == "correct without bias (the lectures' count); with bias: 1,520"
    assert not by[("conv2", "params")].ok
    assert by[("conv2", "params")].correct == "112 with bias, 108 without bias (the lectures' count)"
    # 20·14·14 bias additions on top of 294,000 multiplications
    assert by[("conv1", "macs")].ok and by[("conv1", "macs")].how == "exact"
    assert by[("conv2", "macs")].ok  # 4·28·28·27 = 84,672 + 4·28·28 = 3,136 bias additions
    assert by[("total", "params")].ok  # 1,500 + 108 without biases
    assert status("grade", spec_file(LECTURE6)) == 1
    out = capsys.readouterr().out
    assert "✓ conv1 params" in out and "(correct without bias (the lectures' count); with bias: 1,520)" in out
    assert "✓ total layers" in out and "layers with weights (the lectures' count" in out


def test_multiplications_with_bias_additions(spec_file):
    text = ISSUE_EXAMPLE.replace("macs: 294000", "macs: 297920")  # + 20·14·14 = 3,920 bias additions
    m = next(m for m in graded(text).marks if m.key == "macs")
    assert m.ok and m.how == ("correct with the 3,920 bias additions counted too; multiplications only "
                              "(the lectures' count): 294,000")


@pytest.mark.parametrize("mode,ok1500,ok1520", [("either", True, True), ("with", False, True),
                                                ("without", True, False)])
def test_grading_key_and_option_choose_the_reference(spec_file, capsys, mode, ok1500, ok1520):
    for answer, ok in ((1500, ok1500), (1520, ok1520)):
        text = ISSUE_EXAMPLE.replace("params: 1520, ", f"params: {answer}, ")
        keyed = text + f"grading: {{bias: {mode}}}\n"
        m = next(m for m in graded(keyed).marks if m.key == "params" and m.where == "conv1")
        assert m.ok is ok, (mode, answer, m)
        status("grade", spec_file(text), "--bias", mode)
        out = capsys.readouterr().out
        assert ("✓ conv1 params" in out) is ok
    assert status("grade", spec_file(ISSUE_EXAMPLE + "grading: {bias: sometimes}\n")) == 2
    assert "grading.bias must be one of either, with, without" in capsys.readouterr().err


def test_vgg16_has_16_layers_with_weights(spec_file, capsys):
    vgg = (SPECS / "vgg16.yaml").read_text()
    for answer, mode, ok in ((16, "either", True), (40, "either", True), (16, "all", False),
                             (40, "weights", False), (13, "either", False)):
        path = spec_file(vgg + f"expect_total: {{layers: {answer}}}\n")
        assert status("grade", path, "--layers", mode) == (0 if ok else 1)
        out = capsys.readouterr().out
        if answer == 16 and ok:
            assert "layers with weights (the lectures' count; VGG-16 has 16): 16" in out
        if not ok:
            assert "correct: " in out
