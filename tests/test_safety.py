"""Safe loading: no code runs from a spec, no network, no writes but the
output file the user named, and that one written whole or not at all."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from cnncalc import SpecError, loads_spec
from conftest import ROOT, SPECS

PACKAGE = ROOT / "cnncalc"


def _calls(tree):
    """(name, line) of every call: ``f(...)`` gives f, ``m.f(...)`` gives m.f."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                yield func.id, node.lineno
            elif isinstance(func, ast.Attribute):
                base = func.value.id if isinstance(func.value, ast.Name) else "?"
                yield f"{base}.{func.attr}", node.lineno


def test_no_eval_exec_or_unsafe_yaml_in_the_package():
    """Parsed, not grepped for words: a docstring saying "never eval" is fine."""
    banned = {
        "eval", "exec", "compile", "__import__", "builtins.eval", "builtins.exec", "importlib.import_module",
        "yaml.load", "yaml.unsafe_load", "yaml.full_load", "yaml.load_all", "yaml.unsafe_load_all", "os.system",
        "os.popen", "pickle.loads", "marshal.loads",
    }
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for name, line in _calls(tree):
            if name == "__import__" and path == PACKAGE / "lazy.py":
                continue  # the one lazy import of cnncalc's own modules, by names from static tables
            if name == "exec" and path == PACKAGE / "records.py":
                continue  # a record's __init__, built from the field names of the package's own classes (checked identifiers)
            if name in banned:
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}(...)")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and node.attr in ("Loader", "FullLoader", "UnsafeLoader", "load"):
                if isinstance(node.value, ast.Name) and node.value.id == "yaml":
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: yaml.{node.attr}")
    assert not found, "unsafe calls:\n" + "\n".join(found)


def test_no_network_modules_in_the_package():
    banned = {"socket", "urllib", "http", "requests", "ftplib", "smtplib", "ssl", "subprocess", "pickle", "marshal"}
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                if name.split(".")[0] in banned:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: import {name}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object:os.system [echo]",
        "!!python/object/apply:os.system ['echo pwned']",
        "!!python/name:os.system",
        "!!binary aGVsbG8=",
        "!custom 3",
        "!!set {a, b}",
        "!!omap [{a: 1}]",
        "!!timestamp 2020-01-01",
    ],
)
def test_yaml_tags_other_than_plain_values_are_errors(value):
    with pytest.raises(SpecError, match="not allowed") as info:
        loads_spec(f"name: {value}\ninput: [1, 4]\nlayers: [relu]\n", "t.yaml")
    assert info.value.line == 1


def test_analyze_opens_no_socket_and_writes_only_the_named_file(tmp_path, monkeypatch):
    import socket

    from cnncalc.cli import cli
    from conftest import CliRunner

    def refuse(*args, **kwargs):
        raise AssertionError("cnncalc tried to open a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.chdir(tmp_path)
    spec = SPECS / "vgg16.yaml"
    for fmt in ("json", "csv", "markdown", "table"):
        result = CliRunner().invoke(cli, ["analyze", str(spec), "--format", fmt, "-o", f"out.{fmt}"])
        assert result.exit_code == 0, result.output
    assert sorted(os.listdir(tmp_path)) == ["out.csv", "out.json", "out.markdown", "out.table"]
    assert "138357544" in (tmp_path / "out.json").read_text()


def test_output_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    """A failure while writing leaves the previous file untouched and no temporary file."""
    from cnncalc.cli import options

    target = tmp_path / "report.json"
    target.write_text("previous report\n")

    class Boom(Exception):
        pass

    real_fdopen = os.fdopen

    def failing_fdopen(fd, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)

        class Half:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                handle.close()
                return False

            def write(self, text):
                handle.write(text[: len(text) // 2])
                raise Boom("disk full")

        return Half()

    monkeypatch.setattr(options.os, "fdopen", failing_fdopen)
    with pytest.raises(Boom):
        options.write_atomic(str(target), "x" * 1000)
    assert target.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json"]


def test_a_bad_spec_writes_nothing(tmp_path, monkeypatch):
    from cnncalc.cli import main

    monkeypatch.chdir(tmp_path)
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4}\n")
    with pytest.raises(SystemExit) as info:
        main(["analyze", str(bad), "--format", "json", "-o", "out.json"])
    assert info.value.code == 2
    assert sorted(p.name for p in Path(tmp_path).iterdir()) == ["bad.yaml"]
