"""The exit-status table of the README, held true: 0 success, 1 a check
failed, 2 unusable input or usage error, 3 a bug (one line, no traceback)."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout

import pytest

from cnncalc.cli import main
from conftest import ROOT, SPECS


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as info:
        main([str(a) for a in argv])
    return info.value.code, out.getvalue(), err.getvalue()


def test_readme_table_lists_the_codes():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| (\d+) \| (.+?) \|$", text, re.M))
    assert {"0", "1", "2", "3"} <= set(table)
    assert "success" in table["0"] and "check failed" in table["1"]
    assert "unusable input" in table["2"] and "internal error" in table["3"]


def test_success_is_0():
    assert run("analyze", SPECS / "lenet5.yaml", "--format", "json")[0] == 0


def test_a_failed_check_is_1(tmp_path):
    spec = tmp_path / "over.yaml"
    spec.write_text((SPECS / "lenet5.yaml").read_text() + "budget:\n  params: 1000\n")
    code, out, err = run("check", spec)
    assert code == 1, out + err


@pytest.mark.parametrize(
    "argv",
    [
        ["analyse", "x.yaml"],  # unknown command
        ["analyze"],  # missing argument
        ["analyze", SPECS / "lenet5.yaml", "--frmat", "json"],  # unknown option
        ["analyze", SPECS / "lenet5.yaml", "--batch", "0"],
        ["analyze", SPECS / "lenet5.yaml", "--input", "3,a,32"],
        ["analyze", SPECS / "lenet5.yaml", "--dtype", "float8"],
        ["analyze", SPECS / "lenet5.yaml", "--input", "1,2,2"],  # too small for LeNet's 5×5 kernels
        ["analyze", SPECS / "lenet5.yaml", "-o", "/nonexistent-dir/out.json", "--format", "json"],
        ["analyze", SPECS / "lenet5.yaml", "-o", ROOT / "tests", "--format", "json"],  # a directory
    ],
)
def test_usage_errors_are_2(argv):
    code, out, err = run(*argv)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and err.strip(), err


def test_a_bug_is_3_in_one_line(monkeypatch):
    import cnncalc.analysis

    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(cnncalc.analysis, "analyze", broken)
    code, out, err = run("analyze", SPECS / "lenet5.yaml")
    assert code == 3
    assert err.startswith("internal error: ZeroDivisionError: simulated bug") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
