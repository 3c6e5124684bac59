"""cnncalc compare: one 5×5 against two 3×3 — same receptive field, 25/18 the parameters."""

from fractions import Fraction
from pathlib import Path

from conftest import CliRunner

from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.homework.compare import compare

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "homework"


def test_one_5x5_vs_two_3x3():
    a = analyze_file(EXAMPLES / "one_5x5.yaml")
    b = analyze_file(EXAMPLES / "two_3x3.yaml")
    assert a.totals.params_trainable * 18 == b.totals.params_trainable * 25
    rows = {r.quantity.split(" (")[0]: r for r in compare(a, b)}
    assert rows["receptive field"].a == rows["receptive field"].b == "5×5"
    assert rows["receptive field"].ratio == "1 (same)"
    assert rows["parameters"].ratio.startswith("25/18")
    assert (rows["layers with weights"].a, rows["layers with weights"].b) == ("1", "2")  # relu is no layer
    assert Fraction(a.totals.multiplications, b.totals.multiplications) == Fraction(25, 18)


def test_cli_compare_prints_ratios():
    out = CliRunner().invoke(cli, ["compare", str(EXAMPLES / "one_5x5.yaml"), str(EXAMPLES / "two_3x3.yaml")])
    assert out.exit_code == 0, out.output
    assert "25/18 ≈ 1.389" in out.output and "102,400" in out.output and "73,728" in out.output


def test_every_example_analyses():
    """The worked examples are ordinary specs too (values:/weights: are registered keys)."""
    for path in sorted(EXAMPLES.glob("*.yaml")):
        result = CliRunner().invoke(cli, ["analyze", str(path)])
        assert result.exit_code == 0, (path, result.output)


def test_homework_keys_are_known_to_a_bare_analyze_process():
    """`cnncalc analyze` imports only its own command module: the keys must still be registered."""
    import subprocess
    import sys

    for name in ("conv_4x5.yaml", "backprop_3x3.yaml"):
        for fmt in ("table", "json"):
            proc = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(EXAMPLES / name), "--format", fmt],
                                  capture_output=True, text=True, timeout=60)
            assert proc.returncode == 0, proc.stderr
