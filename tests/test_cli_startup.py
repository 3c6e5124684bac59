"""The start-up shortcuts of the command line give the same answers as
click with every command loaded: the command table behind ``--help`` and
lazy loading, and the ``--version`` line printed without click."""

from __future__ import annotations

import click
import pytest

from cnncalc import __version__
from cnncalc.cli import COMMANDS, cli, main, register_commands
from conftest import CliRunner


def _first_paragraph(text: str | None) -> str:
    return " ".join((text or "").split("\n\n")[0].split())


def _entry(name: str, cmd: click.Command) -> str:
    module = cmd.callback.__module__.rsplit(".", 1)[1] if cmd.callback else "?"
    short = None if cmd.short_help is None else " ".join(cmd.short_help.split())
    return f"    {name!r}: ({module!r}, {short!r}, {_first_paragraph(cmd.help)!r}),"


def test_the_command_table_matches_the_commands():
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
def test_help_lists_the_commands_as_click_would(width):
    register_commands()
    ctx = click.Context(cli, info_name="cnncalc", terminal_width=width, max_content_width=100)
    from_table = click.HelpFormatter(width=ctx.terminal_width, max_width=ctx.max_content_width)
    cli.format_commands(ctx, from_table)
    from_commands = click.HelpFormatter(width=ctx.terminal_width, max_width=ctx.max_content_width)
    click.Group.format_commands(cli, ctx, from_commands)
    assert from_table.getvalue() == from_commands.getvalue()
    assert "analyze" in from_table.getvalue()


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
