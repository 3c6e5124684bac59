"""The README's CI recipes work as written: the budget example parses, the GitHub
Actions workflow is valid YAML whose cnncalc commands succeed, and the shipped
pre-commit hook runs."""

import glob
import re
import shlex

import click
import pytest
import yaml
from conftest import CliRunner

from cnncalc import loads_spec
from cnncalc.budget import budget_of_graph
from cnncalc.cli import main
from conftest import ROOT, SPECS

README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README[README.index("## Budgets in CI"):]
SECTION = SECTION[: SECTION.index("\n## ", 5)]
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", SECTION, re.S)


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def _entry(argv):
    main(list(argv))


def run(argv):
    return CliRunner().invoke(_entry, [str(a) for a in argv])


def test_readme_budget_example_parses_with_every_key():
    budget_yaml = next(text for lang, text in BLOCKS if lang == "yaml" and text.startswith("budget:"))
    graph = loads_spec(budget_yaml + "input: [3, 32, 32]\nlayers:\n  - relu\n")
    budget = budget_of_graph(graph)
    assert len(budget.limits) == 6 and budget.batch == 32 and budget.dtype == "float16"
    assert budget.optimizer == "adam" and len(budget.increases) == 4


def test_readme_workflow_is_valid_and_its_commands_run(tmp_path, monkeypatch):
    workflow = yaml.safe_load(next(text for lang, text in BLOCKS if lang == "yaml" and "jobs:" in text))
    steps = workflow["jobs"]["budget"]["steps"]
    commands = [line.strip() for step in steps for line in step.get("run", "").splitlines()
                if line.strip().startswith("cnncalc ")]
    assert len(commands) == 4
    # the repository as the workflow sees it: specs/ and the target branch's copy of the model
    assert "github.com/OWNER" not in README and "pip install ." in SECTION
    (tmp_path / "specs").mkdir()
    for path in glob.glob(str(SPECS / "*.yaml")):
        (tmp_path / "specs" / path.split("/")[-1]).write_text(open(path).read())
    (tmp_path / "base.yaml").write_text((SPECS / "resnet50.yaml").read_text())
    monkeypatch.chdir(tmp_path)
    for command in commands:
        argv = shlex.split(command.replace("/tmp/base.yaml", "base.yaml"))[1:]
        expanded = [a for arg in argv for a in (sorted(glob.glob(arg)) if "*" in arg else [arg])]
        result = run(expanded)
        assert result.exit_code == 0, (command, result.output)
    assert (tmp_path / "cnncalc.xml").read_text().startswith("<?xml")
    assert "No layer changed." in (tmp_path / "cnncalc-diff.md").read_text()


def test_shipped_pre_commit_hook_runs(tmp_path):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "cnncalc-check" and hook["language"] == "python"
    argv = shlex.split(hook["entry"])
    assert argv[0] == "cnncalc"
    over = tmp_path / "over.yaml"
    over.write_text("input: [1, 8, 8]\nbudget:\n  params: 10\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3}\n")
    files = sorted(glob.glob(str(SPECS / "*.yaml")))
    assert run([*argv[1:], *files]).exit_code == 0  # unbudgeted specs pass
    failed = run([*argv[1:], *files, over])
    assert failed.exit_code == 1 and "params ≤ 10" in failed.output
