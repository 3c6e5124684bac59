"""Every command of the README's homework section runs as written (from the repository root)."""

import os
import shlex

import pytest
from conftest import ROOT

from cnncalc.cli import main


def homework_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Homework mode", 1)[1].split("\n## ", 1)[0]
    commands = []
    for block in section.split("```")[1::2]:
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("$ "):
                line = line[2:]
            if line.startswith("cnncalc "):
                commands.append(line.split("  #")[0].strip())
    return commands


def test_the_section_has_the_lectures_examples():
    joined = "\n".join(homework_commands())
    for name in ("downsample_3x3", "upsample_2x2", "fractional_stride", "unpool_2x2", "max_unpool", "global_pool",
                 "kmax_pool", "l2_pool", "grade_no_bias", "--padding causal"):
        assert name in joined


@pytest.mark.parametrize("command", homework_commands())
def test_readme_homework_command_runs(command, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    args = shlex.split(command)[1:]
    with pytest.raises(SystemExit) as info:
        main(args)
    expected = 1 if ("--bias with" in command or "grade_lecture6" in command) else 0
    assert info.value.code == expected, capsys.readouterr()
    assert os.getcwd() == str(ROOT)
