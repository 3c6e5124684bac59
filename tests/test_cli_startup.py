"""The start-up shortcuts of the command line give the same answers as
click with every command loaded: the command table behind ``--help`` and
lazy loading, and the ``--version`` line printed without click."""

from __future__ import annotations

import os
import sys

import click
import pytest

from cnncalc import __version__
from cnncalc.cli import COMMANDS, cli, main, register_commands
from conftest import ROOT, CliRunner


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def _entry(name: str, cmd: click.Command) -> str:
    module = cmd.callback.__module__.rsplit(".", 1)[1] if cmd.callback else "?"
    short = None if cmd.short_help is None else " ".join(cmd.short_help.split())
    return f"    {name!r}: ({module!r}, {short!r}, {_first_paragraph(cmd.help)!r}),"


def test_every_command_module_is_in_the_table():
    from pathlib import Path

    import cnncalc.cli

    folder = Path(cnncalc.cli.__file__).parent
    defining = {p.stem for p in folder.glob("*.py") if "@cli.command" in p.read_text(encoding="utf-8")
                or "@cli.group" in p.read_text(encoding="utf-8")}
    listed = {module for module, _, _ in COMMANDS.values()}
    assert defining - listed == set(), (
        f"cnncalc/cli/{sorted(defining - listed)[0]}.py defines commands that COMMANDS in cnncalc/cli/__init__.py "
        "does not list; the next test prints the entries to add once the module is imported")


def test_the_command_table_matches_the_commands():
    from cnncalc.lazy import import_submodule

    for module in sorted({p.stem for p in __import__("pathlib").Path(cli.callback.__code__.co_filename).parent.glob("*.py")}):
        if module not in ("__init__", "group"):
            import_submodule("cnncalc.cli", module)
    register_commands()
    real = dict(cli._commands)
    wanted = {name: _entry(name, cmd) for name, cmd in real.items()}
    have = {
        name: f"    {name!r}: ({module!r}, {None if short is None else ' '.join(short.split())!r}, "
              f"{' '.join(text.split())!r}),"
        for name, (module, short, text) in COMMANDS.items()
    }
    if wanted != have:
        fix = [line for name, line in sorted(wanted.items()) if have.get(name) != line]
        stale = sorted(set(have) - set(wanted))
        raise AssertionError(
            "COMMANDS in cnncalc/cli/__init__.py does not match the commands. Put these entries in it "
            "(quotes as you like):\n" + "\n".join(fix) + (f"\nand remove: {stale}" if stale else "")
        )


@pytest.mark.parametrize("width", [60, 80, 100, 200])
def test_help_is_laid_out_as_click_lays_out_a_group(width):
    """cnncalc.cli.usage formats ``--help`` itself; on a click whose short
    help follows the sentence rule (8.2 and newer) it is exactly what click's
    own Group.format_help prints from the loaded commands."""
    from cnncalc.cli.usage import top_level_help

    if not hasattr(click.utils, "_make_default_short_help"):
        pytest.skip("an older click shortens command help by another rule")
    register_commands()
    ctx = click.Context(cli, info_name="cnncalc", terminal_width=width, max_content_width=100,
                        help_option_names=["-h", "--help"])  # as the group's context_settings
    formatter = ctx.make_formatter()
    click.Group.format_help(cli, ctx, formatter)
    assert top_level_help(formatter.width) == formatter.getvalue()


def test_help_at_80_columns():
    from cnncalc.cli.usage import top_level_help

    text = top_level_help(78)
    assert text.splitlines()[:4] == [
        "Usage: cnncalc [OPTIONS] COMMAND [ARGS]...", "",
        "  Exact shapes, parameters, multiplications, receptive fields and memory of", "  CNNs described in YAML.",
    ]
    assert "  analyze  Shapes, parameters, MACs, receptive fields and memory of every...\n" in text
    assert "  layers   The layer reference: fields, defaults and formulas of each type.\n" in text
    assert max(map(len, text.splitlines())) <= 78


@pytest.mark.parametrize("columns", ["80", "60", "150", "0", "x"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_without_click_prints_clicks_text(capsys, monkeypatch, columns, flag):
    """Not CliRunner, which forces a width of 80: click measures the terminal
    as cnncalc.cli.usage does (COLUMNS, else the terminal, else 80)."""
    monkeypatch.setenv("COLUMNS", columns)
    with pytest.raises(SystemExit) as stop:
        cli.main([flag], prog_name="cnncalc")
    assert stop.value.code == 0
    via_click = capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        main([flag])
    assert stop.value.code == 0
    assert capsys.readouterr().out == via_click
    assert via_click.startswith("Usage: cnncalc [OPTIONS] COMMAND [ARGS]...\n")


def test_version_without_click_prints_clicks_line(capsys):
    via_click = CliRunner().invoke(cli, ["--version"])
    assert via_click.exit_code == 0
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out == via_click.output == f"cnncalc, version {__version__}\n"


def test_the_version_is_the_packages():
    from pathlib import Path

    pyproject = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text(encoding="utf-8")
    assert f'version = "{__version__}"' in pyproject


# -- the click-free path of `cnncalc analyze` ---------------------------------------

from cnncalc.cli.fast import plan  # noqa: E402

SAME_AS_CLICK = [
    ["analyze", "specs/vgg16.yaml"],
    ["analyze", "specs/resnet18.yaml", "--format", "json"],
    ["analyze", "--format=csv", "specs/lenet5.yaml"],
    ["analyze", "specs/resnet18.yaml", "--format", "markdown", "--depth", "1"],
    ["analyze", "specs/resnet18.yaml", "--depth=0", "--exact"],
    ["analyze", "specs/mobilenet_v2.yaml", "--batch", "32", "--dtype", "float16", "--format", "json"],
    ["analyze", "specs/vgg16.yaml", "--convention", "fvcore", "--format", "csv"],
]


@pytest.mark.parametrize("args", SAME_AS_CLICK, ids=" ".join)
def test_plain_analyze_runs_without_click_and_prints_the_same(args, capsys):
    fast = plan(args)
    assert fast is not None
    assert fast() == 0
    out = capsys.readouterr().out
    via_click = CliRunner().invoke(cli, args)
    assert via_click.exit_code == 0, via_click.output
    assert out == via_click.output


@pytest.mark.parametrize("name", ["vgg16", "resnet18.yaml"])
def test_a_bundled_name_runs_without_click_and_is_announced_the_same_way(name):
    import subprocess
    import sys

    runs = []
    for extra in ([], ["--optimizer", "sgd"]):  # --optimizer (its default): click's path
        code = "import sys; from cnncalc.cli import main; main(); sys.exit(0)"
        proc = subprocess.run([sys.executable, "-c", code, "analyze", name, "--format", "csv", *extra],
                              capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        runs.append((proc.returncode, proc.stdout, proc.stderr))
    assert plan(["analyze", name]) is not None
    assert runs[0] == runs[1]
    code, out, err = runs[0]
    assert code == 0 and out.startswith("index,name,type")
    assert err.startswith("spec: ") and err.rstrip().endswith(f"{name.removesuffix('.yaml')}.yaml (bundled spec)")


def test_a_bad_spec_fails_the_same_way_on_both_paths(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 0, kernel_size: 3}\n")
    runs = []
    for extra in ([], ["--optimizer", "sgd"]):  # --optimizer (its default): click's path
        proc = subprocess.run([sys.executable, "-c", "from cnncalc.cli import main; main()", "analyze", str(bad), *extra],
                              capture_output=True, text=True)
        runs.append((proc.returncode, proc.stdout, proc.stderr))
    assert runs[0] == runs[1]
    assert runs[0][0] == 2 and "out_channels" in runs[0][2]


@pytest.mark.parametrize("args", [
    ["analyze"],
    ["analyze", "no_such_spec"],  # neither a file nor a bundled name: click's path says so
    ["analyze", ".."],
    ["analyze", "specs/vgg16.yaml", "--format", "JSON"],  # click accepts any case
    ["analyze", "specs/vgg16.yaml", "--format"],
    ["analyze", "specs/vgg16.yaml", "--batch", "0"],
    ["analyze", "specs/vgg16.yaml", "--batch", "+2"],
    ["analyze", "specs/vgg16.yaml", "--batch", "1_000"],
    ["analyze", "specs/vgg16.yaml", "--exact=1"],
    ["analyze", "specs/vgg16.yaml", "--exact", "--exact"],
    ["analyze", "specs/vgg16.yaml", "--format", "json", "--format", "csv"],
    ["analyze", "specs/vgg16.yaml", "specs/lenet5.yaml"],
    ["analyze", "specs/vgg16.yaml", "-o", "out.json"],
    ["analyze", "specs/vgg16.yaml", "--input", "3,32,32"],
    ["analyze", "specs/vgg16.yaml", "--chart", "params"],
    ["analyze", "specs/vgg16.yaml", "--explain"],
    ["analyze", "specs/vgg16.yaml", "--help"],
    ["analyze", "specs/vgg16.yaml", "--"],
    ["analyze", "specs/vgg16.yaml", "--formt", "json"],
    ["analyze", "specs"],  # a directory
    ["check", "specs/vgg16.yaml"],
])
def test_anything_else_goes_to_click(args):
    assert plan(args) is None


_EARLY_END = """
import os, sys
real_exit = os._exit
def _exit(status):
    sys.stderr.write(f"ended early with {status}\\n")
    sys.stderr.flush()
    real_exit(status)
os._exit = _exit
if os.environ.get("REGISTER_AT_EXIT"):
    import atexit
    atexit.register(lambda: open(os.environ["REGISTER_AT_EXIT"], "w").write("ran"))
sys.argv = ["cnncalc", *sys.argv[1:]]
from cnncalc.cli import main
main()
"""


def _cnncalc_process(*args, **env):
    import subprocess

    return subprocess.run([sys.executable, "-c", _EARLY_END, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT), **env})


def test_the_fast_path_ends_the_process_early_with_its_output_whole(capsys):
    """After a plain analyze the process skips the interpreter's teardown,
    having flushed everything: the output is the in-process output, whole."""
    import subprocess

    registered = subprocess.run([sys.executable, "-c", "import atexit; print(atexit._ncallbacks())"],
                                capture_output=True, text=True).stdout.strip()
    if registered != "0":
        pytest.skip(f"this Python registers {registered} handler(s) at exit by itself (a .pth file): normal exit")
    with pytest.raises(SystemExit):
        main(["analyze", "specs/vgg16.yaml", "--format", "csv"])
    expected = capsys.readouterr().out
    proc = _cnncalc_process("analyze", "specs/vgg16.yaml", "--format", "csv")
    assert proc.returncode == 0
    assert proc.stdout == expected
    assert proc.stderr == "ended early with 0\n"


def test_a_handler_registered_at_exit_still_runs(tmp_path):
    """Anything registered to run at exit (coverage, a site hook) gets the normal exit."""
    marker = tmp_path / "ran.txt"
    proc = _cnncalc_process("analyze", "specs/vgg16.yaml", "--format", "csv", REGISTER_AT_EXIT=str(marker))
    assert proc.returncode == 0 and proc.stdout.startswith("index,name,type")
    assert "ended early" not in proc.stderr
    assert marker.read_text() == "ran"


@pytest.mark.parametrize("args", [["analyze", "specs/vgg16.yaml", "--format", "JSON"], ["--version"]])
def test_only_the_fast_path_ends_early(args):
    proc = _cnncalc_process(*args)
    assert proc.returncode == 0 and proc.stdout
    assert "ended early" not in proc.stderr


def test_a_bad_spec_on_the_fast_path_still_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 0, kernel_size: 3}\n")
    proc = _cnncalc_process("analyze", str(bad))
    assert proc.returncode == 2 and "out_channels" in proc.stderr and proc.stdout == ""
