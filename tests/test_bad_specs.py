"""The catalogue of malformed specs (tests/bad_specs/, see its README): every
case through the command line, exit 2, one message on stderr with the file,
the line and the expected words, nothing on stdout, never a traceback.

All cases run in this process through ``cnncalc.cli.main`` (fast); a sample
also runs as real ``cnncalc analyze`` subprocesses.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from cnncalc.cli import main

BAD = Path(__file__).resolve().parent / "bad_specs"


def _special_cases() -> dict[str, tuple[int | None, str]]:
    rows = {}
    for line in (BAD / "README.md").read_text(encoding="utf-8").splitlines():
        m = re.fullmatch(r"\|\s*([\w.]+)\s*\|\s*(\d+|-)\s*\|\s*(.+?)\s*\|", line)
        if m and m.group(1) != "file":
            rows[m.group(1)] = (None if m.group(2) == "-" else int(m.group(2)), m.group(3))
    return rows


def _cases() -> dict[str, tuple[int | None, str]]:
    special = _special_cases()
    cases = dict(special)
    for path in sorted(BAD.glob("*.yaml")):
        if path.name in special:
            continue
        head = path.read_text(encoding="utf-8").splitlines()[:2]
        expect = re.fullmatch(r"# expect: (.+)", head[0]) if head else None
        line = re.fullmatch(r"# line: (\d+)", head[1]) if len(head) > 1 else None
        assert expect and line, f"{path.name}: first two lines must be '# expect: ...' and '# line: N'"
        cases[path.name] = (int(line.group(1)), expect.group(1))
    return cases


CASES = _cases()


def check(name: str, status: int, out: str, err: str) -> None:
    line, expect = CASES[name]
    path = str(BAD / name)
    where = f"{path}:{line}:" if line is not None else f"{path}:"
    assert status == 2, f"exit {status} for {name}: {err}"
    assert out == "", f"stdout not empty for {name}: {out!r}"
    assert "Traceback" not in err and "internal error" not in err, err
    assert err.startswith("error: "), err
    first, *rest = err.rstrip("\n").splitlines()
    # one message; YAML slips add the spec's line(s) and a caret under the column
    assert all(re.fullmatch(r"  +\d* \| .*", line) for line in rest), f"more than one message for {name}: {err!r}"
    if rest:
        assert rest[-1].rstrip().endswith("^") and f"  {line} | " in "\n".join(rest) or "opened on line" in first, err
    assert where in err, f"{name}: expected {where!r} in {err!r}"
    assert expect in err, f"{name}: expected {expect!r} in {err!r}"


def test_catalogue_is_large_enough():
    assert len(CASES) >= 40
    assert not (BAD / "does_not_exist.yaml").exists()
    assert (BAD / "directory.yaml").is_dir()
    assert (BAD / "empty.yaml").stat().st_size == 0


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_spec_in_process(name, monkeypatch):
    monkeypatch.setenv("COLUMNS", "10000")  # one line, however long the message
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as info:
        main(["analyze", str(BAD / name)])
    check(name, info.value.code, out.getvalue(), err.getvalue())


#: A sample that also runs as real processes: files that are not text, a
#: missing file, a directory, YAML-level and layer-level errors, a limit.
SUBPROCESS_SAMPLE = [
    "does_not_exist.yaml", "directory.yaml", "binary.yaml", "latin1.yaml", "latin1_after_bom.yaml",
    "python_object_tag.yaml", "alias_bomb.yaml", "kernel_larger_than_input.yaml",
]


@pytest.mark.parametrize("name", SUBPROCESS_SAMPLE)
def test_bad_spec_as_subprocess(name):
    script = shutil.which("cnncalc", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "cnncalc"]
    proc = subprocess.run(
        [*command, "analyze", str(BAD / name)], capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "10000", "NO_COLOR": "1"},
    )
    check(name, proc.returncode, proc.stdout, proc.stderr)
