"""One-layer calculators: every padding mode a spec accepts (causal too), the lectures'
no-bias parameter count beside PyTorch's, and the fractional receptive field explained."""

import pytest

from cnncalc.cli import main
from cnncalc.homework.calc import conv, pool, tconv


def run(*args):
    with pytest.raises(SystemExit) as info:
        main(list(map(str, args)))
    return info.value.code


def test_causal_padding_in_the_calculators(capsys):
    # A 1D signal of 10, kernel 3: causal padding puts F − 1 = 2 zeros before it, none after → 10 outputs
    calc = conv("10", "3", padding="causal")
    assert calc.output_shape == (1, 10)
    # dilation 2: F′ = 5, four zeros before
    assert conv("10", "3", padding="causal", dilation="2").output_shape == (1, 10)
    # stride 2: ⌊(10 + 2 − 3)/2⌋ + 1 = 5
    assert conv("10", "3", stride="2", padding="causal").output_shape == (1, 5)
    assert pool("10", "2", stride="1", padding="causal").output_shape == (1, 10)
    assert run("conv", "--input", "10", "--kernel", "3", "--padding", "causal", "--explain") == 0
    out = capsys.readouterr().out
    assert "⌊(10 + 2 + 0 − 3) / 1⌋ + 1" in out and "no peeking into the future" in out
    assert run("conv", "--input", "5x5", "--kernel", "3", "--padding", "causal") == 2
    assert "'causal' padding is for 1D inputs" in capsys.readouterr().err


@pytest.mark.parametrize("mode,out", [("same", 28), ("valid", 24), ("full", 32)])
def test_every_other_mode(mode, out):
    assert conv("28x28x3", "5", padding=mode).output_shape == (1, out, out)


def test_no_bias_count_beside_pytorchs(capsys):
    assert run("conv", "--input", "28x28x3", "--kernel", "5", "--stride", "2", "--padding", "2",
               "--filters", "20") == 0
    assert "1,520  (1,500 weights + 20 biases; the lectures count the weights: 1,500)" in capsys.readouterr().out
    assert run("conv", "--input", "28x28x3", "--kernel", "5", "--filters", "20", "--no-bias") == 0
    assert "weights + " not in capsys.readouterr().out.split("Counting")[0]


def test_fractional_receptive_field_is_explained(capsys):
    # transposed convolution, kernel 2, stride 2: r = 1 + (2 − 1)·1/2 = 3/2, j = 1/2
    assert tconv("2x2", "2", stride="2").value("receptive field") == pytest.approx(1.5)
    assert run("tconv", "--input", "2x2", "--kernel", "2", "--stride", "2") == 0
    out = capsys.readouterr().out
    assert "receptive field  3/2×3/2" in out
    assert "a step of less than one input pixel" in out
    assert run("tconv", "--input", "2x2", "--kernel", "2", "--stride", "2", "--explain") == 0
    assert capsys.readouterr().out.count("a step of less than one input pixel") == 1  # H and W grouped


def test_fractional_field_after_upsampling_in_analyze_explain(spec_file, capsys):
    path = spec_file("input: [1, 8, 8]\nlayers:\n  - upsample: {scale_factor: 2}\n"
                     "  - conv: {out_channels: 1, kernel_size: 3, padding: 1}\n")
    assert run("analyze", path, "--explain") == 0
    out = capsys.readouterr().out
    assert "r = 1 + (3 − 1)·1/2 = 2,   j = 1/2·1 = 1/2" in out
    assert out.count("a step of less than one input pixel") == 2  # the upsample and the conv


def test_fractional_stride_fields_explained(capsys):
    from conftest import ROOT

    assert run("analyze", ROOT / "examples" / "homework" / "fractional_stride.yaml", "--explain") == 0
    out = capsys.readouterr().out
    assert "j = 1/2 means neighbouring outputs are 1/2 of an input pixel apart" in out  # S = 1/2
    assert "j = 3/2 means neighbouring outputs are 3/2 input pixels apart — not a whole number" in out  # S = 3/2


def test_fractional_stride_in_the_calculator(capsys):
    # S = 1/2 on a 2×2 input, kernel 2, padding 1: uSample → 3×3, ⌊(3 + 2 − 2)/1⌋ + 1 = 4 (note 002's
    # "increase the size of the feature map"); S = 3/2 on 4×4, kernel 3, padding 1: 7 → ⌊(7 + 2 − 3)/3⌋ + 1 = 3
    assert conv("2x2", "2", stride="1/2", padding="1").output_shape == (1, 4, 4)
    assert conv("4x4", "3", stride="3/2", padding="1").output_shape == (1, 3, 3)
    assert run("conv", "--input", "2x2", "--kernel", "2", "--stride", "1/2", "--padding", "1", "--explain") == 0
    out = capsys.readouterr().out
    assert "(2 − 1)·2 + 1 = 3" in out and "r = 1 + (2 − 1)·1 / 2 = 3/2,   j = 1·1 / 2 = 1/2" in out
    assert run("conv", "--input", "4x4", "--kernel", "3", "--stride", "0/2") == 2
    assert "every stride must be a positive integer or a fraction" in capsys.readouterr().err


def test_fractional_stride_explain_agrees_with_the_analysis(spec_file):
    from cnncalc import analyze, loads_spec
    from cnncalc.homework.explain import explain_analysis, per_axis_values

    result = analyze(loads_spec("input: [2, 5, 7]\nlayers:\n  - conv: {out_channels: 3, kernel_size: [3, 2], "
                                "stride: ['1/2', '3/2'], padding: [1, 0]}\n"))
    (r, steps), = explain_analysis(result)
    assert next(s.value for s in steps if s.quantity == "output shape") == r.output_shape
    assert per_axis_values(steps, "receptive field", 2) == tuple(a.size for a in r.rf)
    assert next(s.value for s in steps if s.quantity == "parameters") == r.params.trainable
    assert next(s.value for s in steps if s.quantity == "multiplications") == r.multiplications
