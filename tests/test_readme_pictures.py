"""The README's pictures section holds true: its commands run as written and
its Mermaid diff is what `cnncalc diff` prints today."""

from __future__ import annotations

import re
import shlex

from conftest import ROOT, CliRunner

from cnncalc.cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Pictures to look at"):]
SECTION = SECTION[: SECTION.index("\n## ", 5)]


def test_commands_run_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    block = re.search(r"```console\n(.*?)```", SECTION, re.S).group(1)
    commands = [line.split("  #")[0].strip() for line in block.splitlines() if line.startswith("cnncalc ")]
    assert len(commands) == 7
    for command in commands:
        argv = shlex.split(command)[1:]
        if "-o" in argv:
            k = argv.index("-o") + 1
            argv[k] = str(tmp_path / argv[k])
        result = CliRunner().invoke(cli, argv)
        assert result.exit_code in ((0, 1) if argv[0] == "check" else (0,)), (command, result.output)
        if "-o" in argv:
            assert (tmp_path / argv[argv.index("-o") + 1]).stat().st_size > 1000


def test_mermaid_diff_is_current(monkeypatch):
    monkeypatch.chdir(ROOT)
    shown = SECTION[SECTION.index("**examples/diff/small_v1.yaml"):]
    shown = shown[: shown.index("```\n", shown.index("```mermaid")) + 4]
    result = CliRunner().invoke(cli, ["diff", "examples/diff/small_v1.yaml", "examples/diff/small_v2.yaml",
                                      "--format", "mermaid"])
    assert result.stdout == shown


def test_pictures_exist():
    for name in re.findall(r'src="(docs/img/[^"]+)"', SECTION):
        data = (ROOT / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 200_000, name


def test_analyze_help_examples_run(tmp_path, monkeypatch):
    import shutil
    import subprocess

    from cnncalc.cli.analyze import analyze

    monkeypatch.chdir(tmp_path)
    (tmp_path / "specs").symlink_to(ROOT / "specs")
    examples = [line.strip() for line in analyze.help.splitlines() if line.strip().startswith("cnncalc ")]
    assert len(examples) >= 6
    for example in examples:
        command, _, pipe = example.partition(" | ")
        result = CliRunner().invoke(cli, shlex.split(command)[1:])
        assert result.exit_code == 0, (example, result.output)
        if pipe and shutil.which(pipe.split()[0]):
            done = subprocess.run(shlex.split(pipe), input=result.stdout, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, (example, done.stderr)
