"""Every command shown in the README and in every ``--help`` runs as written in a
fresh clone: a copy of the repository's files (tracked and new, nothing generated),
commands run in order from its root, exit status 0 or 1 (1 is a documented outcome
of check, grade and verify: "a check failed"), never 2 (unusable input) or 3.

Skipped, and only these: lines that install from the network (``pip install``;
the README's ``pytest`` is chained to one) — the one class of command that needs
a network; and, where torch or onnx is not installed, the lines that need them
(``cnncalc import``, ``cnncalc export --to onnx``) and the lines that read a file
one of those would have written (tests/test_roundtrip.py runs them all where
torch and onnx are). Completion set-up lines for zsh and fish run the command that prints
the script (bash cannot source another shell's script); bash's is evaluated.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from conftest import ROOT, CliRunner

from cnncalc.cli import cli, main

README = (ROOT / "README.md").read_text(encoding="utf-8")
NETWORK = ("pip install",)


def readme_commands() -> list[str]:
    """cnncalc lines of the fenced bash blocks and of '$ ' transcripts, then the inline
    code spans that are commands (not a bare command name, not a synopsis with
    placeholders such as NAME, '…' or '<TAB>')."""
    out = []
    for lang, body in re.findall(r"```(\w*)\n(.*?)```", README, re.S):
        for line in body.splitlines():
            line = line.strip()
            if lang != "bash":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if re.match(r"(cnncalc|pip|pytest|eval|_CNNCALC)\b", line):
                out.append(line)
    for span in re.findall(r"`(cnncalc [^`]*)`", README):
        span = " ".join(span.split())
        words = span.split()
        if len(words) <= 2 and not span.startswith("cnncalc zoo"):
            continue  # a command's name in a sentence
        if "…" in span or "<" in span or re.search(r"\b[A-Z]{2,}\b", span):
            continue  # a synopsis
        out.append(span)
    return out


def help_commands() -> list[tuple[str, str]]:
    """(command, example) for every example line of every --help."""
    out = []

    def visit(group_ctx, command, path):
        with click.Context(command, info_name=path[-1], parent=group_ctx) as ctx:
            text = command.get_help(ctx)
            for line in text.splitlines():
                line = line.strip()
                if line.startswith("cnncalc ") and not line.startswith("cnncalc analyze [OPTIONS]"):
                    out.append((" ".join(path), line))
            if isinstance(command, click.Group):
                for name in command.list_commands(ctx):
                    visit(ctx, command.get_command(ctx, name), [*path, name])

    visit(None, cli, ["cnncalc"])
    return out


@pytest.fixture(scope="module")
def clone(tmp_path_factory):
    """The repository's files as a fresh clone has them (git's tracked and untracked,
    not ignored, files), with a `cnncalc` on PATH that runs this checkout's code."""
    dest = tmp_path_factory.mktemp("clone")
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                                cwd=ROOT, capture_output=True, check=True, timeout=60).stdout.decode().split("\0")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("git is needed to tell the repository's files from generated ones")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    bin_dir = tmp_path_factory.mktemp("bin")
    wrapper = bin_dir / "cnncalc"
    wrapper.write_text(f'#!/bin/sh\nPYTHONPATH="{dest}" exec "{sys.executable}" -m cnncalc "$@"\n')
    wrapper.chmod(0o755)
    return dest, bin_dir


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def _entry(argv):
    main(list(argv))


def _run_shell(line: str, clone_dir: Path, bin_dir: Path) -> tuple[int, str]:
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "120"}
    for shell in ("zsh", "fish"):  # another shell's completion script: print it, do not source it
        if f"{shell}_source" in line:
            line = f"_CNNCALC_COMPLETE={shell}_source cnncalc | grep -q cnncalc"
    proc = subprocess.run(["bash", "-c", f"set -e -o pipefail; {line}"], cwd=clone_dir, env=env,
                          capture_output=True, text=True, timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


_RAN: dict = {}  # a line shown both in the README and in a --help runs once


def run_line(line: str, clone_dir: Path, bin_dir: Path, monkeypatch) -> list[tuple[str, int, str]]:
    """Run one example line as a shell would: '&&' chains, globs, '> file'; anything
    else shell-like (pipes, eval, variables) through bash with the wrapper on PATH."""
    key = (" ".join(shlex.split(line, comments=True)), str(clone_dir))
    if key not in _RAN:
        _RAN[key] = _run_line(line, clone_dir, bin_dir, monkeypatch)
    return _RAN[key]


def _extras_missing() -> bool:
    import importlib.util

    return importlib.util.find_spec("torch") is None or importlib.util.find_spec("onnx") is None


_NOT_WRITTEN: set = set()  # files a skipped line would have written


def _needs_missing_extra(line: str) -> bool:
    """A line that needs torch/onnx (import, export --to onnx), or reads what one wrote, without them."""
    if not _extras_missing():
        return False
    argv = shlex.split(line, comments=True)
    needs = argv[:2] == ["cnncalc", "import"] or (argv[:2] == ["cnncalc", "export"] and "onnx" in argv)
    if needs or any(arg in _NOT_WRITTEN for arg in argv):
        _NOT_WRITTEN.update(argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg in ("-o", "--output"))
        return True
    return False


def _run_line(line: str, clone_dir: Path, bin_dir: Path, monkeypatch) -> list[tuple[str, int, str]]:
    if _needs_missing_extra(line):
        return []
    if any(tok in line for tok in ("|", "$(", "eval ", "_CNNCALC_COMPLETE")):
        status, output = _run_shell(line, clone_dir, bin_dir)
        return [(line, status, output)]
    monkeypatch.chdir(clone_dir)
    results = []
    for part in re.split(r"\s*&&\s*", line):
        part = part.strip()
        if part.startswith(NETWORK) or part.startswith("pytest"):
            continue
        argv = shlex.split(part, comments=True)
        target = None
        if ">" in argv:
            at = argv.index(">")
            argv, target = argv[:at], argv[at + 1]
        argv = [a for arg in argv for a in (sorted(glob.glob(arg)) or [arg] if any(c in arg for c in "*?[") else [arg])]
        assert argv[0] == "cnncalc", part
        result = CliRunner().invoke(_entry, argv[1:])
        if target is not None:
            Path(target).write_text(result.stdout, encoding="utf-8")
        results.append((part, result.exit_code, result.output))
    return results


README_COMMANDS = [c for c in readme_commands() if not c.startswith(NETWORK + ("pytest",))
                   or "&& cnncalc" in c]


def test_the_readme_shows_commands_and_every_help_has_examples():
    assert len(README_COMMANDS) >= 40
    commands_with_examples = {command for command, _ in help_commands()}
    for name in ("analyze", "check", "diff", "verify", "zoo", "layers", "conv", "pool", "tconv", "solve", "compare"):
        assert f"cnncalc {name}" in commands_with_examples, name


def _failures(results) -> list[str]:
    return [f"{line!r} exited {status}:\n{output[-1500:]}" for line, status, output in results
            if status not in (0, 1) or "Traceback" in output or "internal error" in output]


def test_every_readme_command_runs_as_written(clone, monkeypatch):
    clone_dir, bin_dir = clone
    failures = [f for line in README_COMMANDS for f in _failures(run_line(line, clone_dir, bin_dir, monkeypatch))]
    assert not failures, "\n\n".join(failures)


def test_every_help_example_runs_as_written(clone, monkeypatch):
    clone_dir, bin_dir = clone
    failures = [f for _, line in help_commands() for f in _failures(run_line(line, clone_dir, bin_dir, monkeypatch))]
    assert not failures, "\n\n".join(failures)


def test_the_shipped_pre_commit_configuration_runs_from_a_clone(clone):
    import yaml

    clone_dir, _ = clone
    (repo,) = yaml.safe_load((clone_dir / ".pre-commit-config.yaml").read_text())["repos"]
    (hook,) = repo["hooks"]
    assert repo["repo"] == "local" and hook["language"] == "system"
    specs = sorted(p for p in glob.glob(str(clone_dir / "specs" / "*")) if re.search(hook["files"], os.path.relpath(p, clone_dir)))
    assert len(specs) >= 10
    argv = shlex.split(hook["entry"])
    assert argv[:3] == ["python", "-m", "cnncalc"]
    proc = subprocess.run([sys.executable, *argv[1:], *specs], cwd=clone_dir, capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": ""})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "resnet50" in proc.stdout and "PASS" in proc.stdout  # the budgeted spec was checked
