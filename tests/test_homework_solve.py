"""cnncalc solve: every unknown, no solution, several solutions, the direct questions."""

from fractions import Fraction

import pytest
from conftest import CliRunner

from cnncalc.cli import cli
from cnncalc.errors import UsageError
from cnncalc.homework.solve import Bounds, same_padding, solve_window, stack_for_field


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def values(result, name):
    return [s.values[name] for s in result.solutions]


def brute(i, k, s, p, d=1):
    keff = d * (k - 1) + 1
    return (i + 2 * p - keff) // s + 1 if i + 2 * p >= keff else None


def test_padding_that_keeps_28():
    r = solve_window({"input": 28, "output": 28, "kernel": 5, "stride": 1, "dilation": 1})
    assert values(r, "padding") == [2]
    assert r.solutions[0].exact
    assert "⌊(28 + 2·2 − 5) / 1⌋ + 1" in r.solutions[0].check


def test_cli_padding_example():
    out = run("solve", "--input", 28, "--output", 28, "--kernel", 5, "--stride", 1)
    assert out.exit_code == 0, out.output
    assert "P = 2" in out.output and "1 solution" in out.output


def test_no_solution_exits_1():
    # stride 1 cannot grow 28 to 40 with P < F′ (at most 28 + 2·(F′−1) − F′ + 1 = 28 + F′ − 1 ≤ 38)
    r = solve_window({"input": 28, "output": 40, "kernel": 11, "stride": 1, "dilation": 1})
    assert r.total == 0
    from cnncalc.cli import main

    with pytest.raises(SystemExit) as info:
        main(["solve", "--input", "28", "--output", "40", "--kernel", "11", "--stride", "1"])
    assert info.value.code == 1
    assert "no solution" in run("solve", "--input", 28, "--output", 40, "--kernel", 11, "--stride", 1).output


def test_several_solutions_kernel_and_padding():
    r = solve_window({"input": 28, "output": 14, "stride": 2, "dilation": 1}, bounds=Bounds(max_kernel=7))
    got = sorted((s.values["kernel"], s.values["padding"]) for s in r.solutions)
    assert got == [(1, 0), (2, 0), (3, 1), (4, 1), (5, 2), (6, 2), (7, 3)]
    exact = sorted((s.values["kernel"], s.values["padding"]) for s in r.solutions if s.exact)
    assert exact == [(2, 0), (4, 1), (6, 2)]
    only = solve_window({"input": 28, "output": 14, "stride": 2, "dilation": 1}, exact_only=True,
                        bounds=Bounds(max_kernel=7))
    assert only.total == 3


def test_unknown_input_has_stride_many_candidates():
    r = solve_window({"output": 14, "kernel": 5, "stride": 2, "padding": 2, "dilation": 1})
    assert values(r, "input") == [27, 28]


def test_unknown_dilation():
    r = solve_window({"input": 32, "output": 28, "kernel": 3, "stride": 1, "padding": 0})
    assert values(r, "dilation") == [2]


@pytest.mark.parametrize("unknown", ["input", "output", "kernel", "stride", "padding", "dilation"])
def test_every_solution_checks_and_none_is_missed(unknown):
    truth = {"input": 23, "output": 0, "kernel": 3, "stride": 2, "padding": 1, "dilation": 2}
    truth["output"] = brute(23, 3, 2, 1, 2)
    known = {k: v for k, v in truth.items() if k != unknown}
    r = solve_window(known)
    assert truth[unknown] in values(r, unknown)
    for s in r.solutions:
        v = s.values
        assert brute(v["input"], v["kernel"], v["stride"], v["padding"], v["dilation"]) == v["output"]
        assert v["padding"] < v["dilation"] * (v["kernel"] - 1) + 1
    # completeness within the bounds, by brute force
    ranges = {"input": range(1, 80), "output": [truth["output"]], "kernel": range(1, 12), "stride": range(1, 9),
              "padding": range(0, 40), "dilation": range(1, 9)}
    expected = set()
    for x in ranges[unknown]:
        v = dict(known, **{unknown: x})
        if unknown == "output":
            v["output"] = brute(v["input"], v["kernel"], v["stride"], v["padding"], v["dilation"])
        if v["padding"] >= v["dilation"] * (v["kernel"] - 1) + 1:
            continue
        if brute(v["input"], v["kernel"], v["stride"], v["padding"], v["dilation"]) == v["output"]:
            expected.add(x)
    assert set(values(r, unknown)) == expected


def test_input_and_output_both_unknown_is_refused():
    with pytest.raises(UsageError):
        solve_window({"kernel": 3, "stride": 1, "padding": 1, "dilation": 1})


def test_same_padding_odd_and_even():
    assert same_padding(5).value == 2
    assert same_padding(3, dilation=2).value == 2
    assert same_padding(4).value == (1, 2)


def test_three_3x3_layers_give_7x7_and_25_18_for_5x5():
    layers, params = stack_for_field(7, 3)
    assert layers.value == 3 and params.value == Fraction(49, 27)
    layers, params = stack_for_field(5, 3, channels=64)
    assert layers.value == 2 and params.value == Fraction(25, 18)
    assert any("102,400" in line for line in params.lines) and any("73,728" in line for line in params.lines)
    layers, _ = stack_for_field(6, 3)
    assert layers.value == 3  # 5/2 layers is not whole: 3 layers reach 7


def test_cli_direct_questions():
    out = run("solve", "--field", 7, "--kernel", 3)
    assert out.exit_code == 0 and "n = 3 layers" in out.output
    out = run("solve", "--same", "--kernel", 5)
    assert "P = 4 / 2 = 2" in out.output
