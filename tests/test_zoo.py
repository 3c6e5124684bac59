"""The bundled zoo: spec names resolve to the files of specs/, `cnncalc zoo`
lists them with the totals `cnncalc analyze` prints, completion offers them."""

import json
import os
import subprocess
import sys

import pytest
from conftest import CliRunner

from cnncalc.bundled import bundled_names, bundled_path, resolve, zoo_dir
from cnncalc.cli import cli
from conftest import ROOT, SPECS

SPEC_NAMES = sorted(p.stem for p in SPECS.glob("*.yaml"))


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


def test_the_zoo_is_specs_folder():
    # in a checkout (editable install) the zoo *is* specs/: no second copy
    assert zoo_dir().resolve() == SPECS.resolve()
    assert bundled_names() == SPEC_NAMES
    assert not (ROOT / "cnncalc" / "zoo").exists()


@pytest.mark.parametrize("argument", ["vgg16", "vgg16.yaml"])
def test_name_resolves_to_bundled_spec(argument, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    resolved = resolve(argument)
    assert resolved.bundled and resolved.path == str(SPECS / "vgg16.yaml")
    result = run("analyze", argument, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["spec"] == str(SPECS / "vgg16.yaml")  # the output says which file was used
    assert data["totals"]["params"]["trainable"] == 138_357_544
    assert f"spec: {SPECS / 'vgg16.yaml'} (bundled spec)" in result.stderr


def test_a_path_wins_over_a_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vgg16.yaml").write_text("input: [8]\nlayers:\n  - dense: {out_features: 2}\n")
    resolved = resolve("vgg16.yaml")
    assert resolved == type(resolved)("vgg16.yaml", False)
    data = json.loads(run("analyze", "vgg16.yaml", "--format", "json").stdout)
    assert data["totals"]["params"]["trainable"] == 8 * 2 + 2
    # a bare name that is not a file still means the bundled spec
    assert resolve("vgg16").bundled


def test_unknown_name_is_one_clear_error(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", "vgg61.yaml"], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "vgg61.yaml: no such file, and no bundled spec of that name (did you mean 'vgg16'?)" in proc.stderr
    # a path with a folder is never taken for a bundled name
    assert bundled_path("specs/vgg16") is None and bundled_path("") is None


def test_zoo_lists_every_bundled_spec_with_the_totals_of_analyze():
    result = run("zoo", "--format", "json")
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in json.loads(result.stdout)["specs"]}
    assert sorted(rows) == SPEC_NAMES
    for name in SPEC_NAMES:
        analysed = json.loads(run("analyze", SPECS / f"{name}.yaml", "--format", "json").stdout)
        row = rows[name]
        assert row["params"] == analysed["totals"]["params"]["trainable"], name
        assert row["multiplications"] == analysed["totals"]["multiplications"], name
        assert row["input"] == analysed["input"], name
        assert row["description"], f"{name}.yaml needs a one-line description:"
    assert rows["vgg16"]["multiplications"] == 15_470_264_320


def test_zoo_table_shows_names_inputs_totals_and_descriptions():
    text = run("zoo", "--exact").stdout
    for name in SPEC_NAMES:
        assert name in text
    assert "3×224×224" in text and "138,357,544" in text and "15,470,264,320" in text
    assert "VGG-16 (configuration D)" in text
    human = run("zoo").stdout
    assert "138.4M" in human and "15.47G" in human and "61.71k" in human


def test_zoo_show_prints_the_yaml():
    result = run("zoo", "show", "vgg16")
    assert result.exit_code == 0
    assert result.stdout == (SPECS / "vgg16.yaml").read_text(encoding="utf-8")
    assert run("zoo", "show", "lenet5.yaml").stdout == (SPECS / "lenet5.yaml").read_text(encoding="utf-8")
    bad = run("zoo", "show", "lenet")
    assert bad.exit_code != 0


def _complete(words: str, env_extra=None):
    env = dict(os.environ, _CNNCALC_COMPLETE="bash_complete", COMP_WORDS=words,
               COMP_CWORD=str(len(words.split()) - (0 if words.endswith(" ") else 1)))
    proc = subprocess.run([sys.executable, "-c", "from cnncalc.cli import main; main()"], env=env,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return [tuple(line.split(",", 1)) for line in proc.stdout.splitlines()]


def test_shell_completion_of_commands_options_and_spec_names():
    commands = {value for kind, value in _complete("cnncalc ")}
    assert {"analyze", "zoo", "schema"} <= commands
    options = {value for kind, value in _complete("cnncalc analyze --for")}
    assert options == {"--format"}
    items = _complete("cnncalc analyze vgg")
    assert ("plain", "vgg16") in items and ("plain", "vgg11") in items and ("plain", "vgg16_bn") in items
    assert ("file", "vgg") in items  # files complete as well
    assert ("plain", "lenet5") in _complete("cnncalc zoo show le")


def test_every_spec_argument_completes_bundled_names():
    import click

    def commands(group, prefix=""):
        for name, cmd in group.commands.items():
            yield f"{prefix}{name}", cmd
            if isinstance(cmd, click.Group):
                yield from commands(cmd, f"{prefix}{name} ")

    found = []
    for name, cmd in commands(cli):
        for param in cmd.params:
            if isinstance(param, click.Argument) and param.name in ("spec", "specs"):
                found.append(name)
                assert param._custom_shell_complete is not None, (
                    f"`cnncalc {name}`: give its SPEC argument shell_complete=complete_spec "
                    "(cnncalc.cli.options), or use options.spec_argument"
                )
    assert "analyze" in found
    assert ("plain", "resnet18") in _complete("cnncalc verify res") or "verify" not in cli.commands


def test_zoo_descriptions_are_one_line():
    from cnncalc.cli.zoo import one_line

    assert one_line("DenseNet-121 (Huang et al. 2017) as torchvision builds it: every dense layer ...\n") == (
        "DenseNet-121 (Huang et al. 2017) as torchvision builds it")
    assert one_line("LeNet-5 as built today; 61,706 parameters.") == "LeNet-5 as built today"
    assert one_line("A net. Another sentence.") == "A net"
    assert len(one_line("x" * 300)) == 100
    for row in json.loads(run("zoo", "--format", "json").stdout)["specs"]:
        assert "\n" not in row["description"] and len(row["description"]) <= 100
