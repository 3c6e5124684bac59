"""The work shown by --explain: lecture examples, non-exact divisions, and
agreement with the analysis on every shipped spec."""

import pytest
from conftest import CliRunner

from cnncalc.cli import cli, main
from cnncalc.homework import calc
from cnncalc.homework.explain import explain_analysis, per_axis_values, step_value
from conftest import SPECS


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def run_main(*args, capsys=None):
    with pytest.raises(SystemExit) as exit_info:
        main(list(map(str, args)))
    return exit_info.value.code


def test_lecture_6_example_28x28x3_k5_s2_p2_20_filters():
    """Scribe notes, lecture 6: ((28 − 5 + 2·2)/2) + 1 = 14, output 14×14×20."""
    c = calc.conv("28x28x3", "5", "2", "2", filters=20)
    assert c.output_shape == (20, 14, 14)
    assert c.value("parameters") == 5 * 5 * 3 * 20 + 20 == 1520
    assert c.value("multiplications") == 20 * 14 * 14 * 3 * 5 * 5 == 294_000
    assert per_axis_values(c.steps, "receptive field", 2) == (5, 5)
    result = run("conv", "--input", "28x28x3", "--kernel", 5, "--stride", 2, "--padding", 2, "--filters", 20,
                 "--explain")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "O = ⌊(I + 2P − F) / S⌋ + 1" in out
    assert "⌊(28 + 2·2 − 5) / 2⌋ + 1 = ⌊27 / 2⌋ + 1 = 13 + 1 = 14" in out
    assert "F·F·D_in·D_out + D_out" in out and "5·5·3·20 + 20 = 1,500 + 20 = 1,520" in out
    assert "= 294,000" in out
    assert "14×14×20" in out
    # (28 + 4 − 5) / 2 = 13.5: said plainly
    assert "13.5 is not a whole number" in out and "14.5" in out


def test_exact_division_has_no_warning():
    c = calc.conv("32x32x3", "5", "1", "0", filters=6)
    assert c.output_shape == (6, 28, 28)
    assert not [n for s in c.steps for n in s.notes if "not a whole number" in n]


def test_lecture_4x5_input_2x2_kernel_strides_1_and_2():
    """Chapter 4: ⌊(4 − 2)/1⌋ + 1 = 3 rows, ⌊(5 − 2)/1⌋ + 1 = 4 columns; stride 2 gives 2×2."""
    s1 = calc.conv("4x5", "2", "1", "0")
    assert s1.output_shape == (1, 3, 4)
    s2 = calc.conv("4x5", "2", "2", "0")
    assert s2.output_shape == (1, 2, 2)
    notes = [n for s in s2.steps if s.quantity == "output size (W)" for n in s.notes]
    assert notes and "3 / 2 = 1.5 is not a whole number" in notes[0]
    pool = calc.pool("4x5", "2", "1")
    assert pool.output_shape == (1, 3, 4)
    assert pool.value("parameters") == 0 and pool.value("multiplications") == 0


def test_pool_stride_defaults_to_kernel_and_ceil_mode():
    assert calc.pool("28x28x6", "2").output_shape == (6, 14, 14)
    # PyTorch: 5 → ceil((5 − 2)/2) + 1 = 3 with ceil_mode
    assert calc.pool("5x5", "2", ceil_mode=True).output_shape == (1, 3, 3)
    assert calc.pool("5x5", "2").output_shape == (1, 2, 2)


def test_dilation_uses_the_effective_kernel():
    c = calc.conv("7x7", "3", dilation="2")
    assert c.output_shape == (1, 3, 3)
    assert step_value(c.steps, "effective kernel") == 5
    assert per_axis_values(c.steps, "receptive field", 2) == (5, 5)


@pytest.mark.parametrize(
    "i,k,s,p,op,o",
    [(2, 3, 1, 0, 0, 4), (2, 3, 2, 0, 0, 5), (3, 3, 2, 1, 0, 5), (3, 3, 2, 1, 1, 6), (4, 4, 2, 1, 0, 8)],
)
def test_transposed_convolution_pytorch_rule(i, k, s, p, op, o):
    c = calc.tconv(f"{i}x{i}", str(k), str(s), str(p), str(op))
    assert c.output_shape == (1, o, o)
    assert c.value("multiplications") == i * i * k * k


def test_tconv_cli_and_bad_output_padding():
    result = run("tconv", "--input", "2x2", "--kernel", 3, "--stride", 1, "--padding", 0, "--explain")
    assert result.exit_code == 0, result.output
    assert "1·(2 − 1) + 1·(3 − 1) + 1 − 2·0 + 0" in result.output and "= 4" in result.output
    assert run_main("tconv", "--input", "2x2", "--kernel", 3, "--stride", 2, "--output-padding", 2) == 2


def test_kernel_larger_than_input_is_a_usage_error(capsys):
    assert run_main("conv", "--input", "5", "--kernel", 7) == 2  # a lone number: 1D, one channel
    err = capsys.readouterr().err
    assert "⌊(5 + 2·0 − 7) / 1⌋ + 1" in err and "Traceback" not in err


def test_bad_input_text_is_a_usage_error(capsys):
    assert run_main("conv", "--input", "28xx", "--kernel", 3) in (0, 2)
    assert run_main("conv", "--input", "abc", "--kernel", 3) == 2
    assert "is not a shape; write it channels first with commas" in capsys.readouterr().err


MIXED = """\
input: [3, 33, 31]
layers:
  - conv: {out_channels: 8, kernel_size: [3, 5], stride: 2, padding: [[1, 2], 0], dilation: [1, 2]}
  - max_pool: {kernel_size: 3, stride: 2, ceil_mode: true}
  - avg_pool: {kernel_size: 2, stride: 1, padding: 1}
  - conv_transpose: {out_channels: 4, kernel_size: 4, stride: 2, padding: 1}
  - conv_transpose: {out_channels: 2, kernel_size: 3, stride: 3, output_padding: 1, groups: 2}
  - conv: {out_channels: 4, kernel_size: 3, padding: same, groups: 2, bias: false}
  - conv: {out_channels: 4, kernel_size: 3, stride: 1/2}
  - flatten
  - dense: {out_features: 10}
"""


def _agreement_cases():
    return sorted(p.stem for p in SPECS.glob("*.yaml")) + ["mixed"]


@pytest.mark.parametrize("name", _agreement_cases())
def test_explain_agrees_with_the_analysis(name):
    import cnncalc

    if name == "mixed":
        result = cnncalc.analyze(cnncalc.loads_spec(MIXED))
    else:
        result = cnncalc.analyze_file(SPECS / f"{name}.yaml")
    for r, steps in explain_analysis(result):
        assert step_value(steps, "output shape") in (r.output_shape, tuple(r.output_shape)), r.name
        assert (step_value(steps, "parameters") or 0) == r.params.trainable, r.name
        assert (step_value(steps, "multiplications") or 0) == r.multiplications, r.name
        nd = len(result.input_shape) - 1
        rf = per_axis_values(steps, "receptive field", nd)
        if all(v is not None for v in rf):
            assert rf == tuple(a.size for a in r.rf), r.name


def test_analyze_explain_prints_table_then_work():
    result = run("analyze", SPECS / "lenet5.yaml", "--explain")
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.index("61,706") < out.index("The work, layer by layer")
    assert "⌊(32 + 2·0 − 5) / 1⌋ + 1 = ⌊27 / 1⌋ + 1 = 27 + 1 = 28" in out
    assert "400·120 + 120 = 48,120" in out
    assert "r = 5 + (2 − 1)·1 = 6,   j = 1·2 = 2" in out


def test_analyze_explain_refuses_machine_formats_and_writes_with_table(tmp_path):
    assert run("analyze", SPECS / "lenet5.yaml", "--explain", "--format", "json").exit_code == 2
    out = tmp_path / "report.txt"
    result = run("analyze", SPECS / "lenet5.yaml", "--explain", "-o", out)
    assert result.exit_code == 0, result.output
    assert "The work, layer by layer" in out.read_text(encoding="utf-8")
