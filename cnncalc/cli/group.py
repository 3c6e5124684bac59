"""The click group ``cnncalc`` and its lazy loading of commands (see
:data:`cnncalc.cli.COMMANDS`); :func:`cnncalc.cli.main` runs it."""

from __future__ import annotations

import click

from .. import __version__
from . import COMMANDS, register_commands


class _LazyGroup(click.Group):
    """A group that imports only the module of the command being run.

    ``cnncalc analyze`` must start fast, so running it imports
    ``cnncalc/cli/analyze.py`` alone, and ``cnncalc --help`` lists the
    commands from :data:`cnncalc.cli.COMMANDS` without importing any.
    Anything that looks at the whole set of command objects (completion,
    ``cli.commands``) imports every command module through
    :func:`cnncalc.cli.register_commands`.
    """

    _listing = False  # True while --help formats the command list from the table

    @property
    def commands(self):
        register_commands()
        return self._commands

    @commands.setter
    def commands(self, value):
        self._commands = value

    def add_command(self, cmd, name=None):
        name = name or cmd.name
        if name is None:
            raise TypeError("Command has no name.")
        self._commands[name] = cmd  # not through the property: this runs while modules import

    def get_command(self, ctx, cmd_name):
        if self._listing and cmd_name in COMMANDS:
            module, short_help, help_text = COMMANDS[cmd_name]
            return click.Command(cmd_name, help=help_text, short_help=short_help)
        if cmd_name not in self._commands and cmd_name in COMMANDS:
            from ..lazy import import_submodule

            import_submodule(__package__, COMMANDS[cmd_name][0])
        if cmd_name in self._commands:
            return self._commands[cmd_name]
        return self.commands.get(cmd_name)

    def list_commands(self, ctx):
        if self._listing:
            return sorted(COMMANDS)
        return super().list_commands(ctx)

    def format_commands(self, ctx, formatter):
        """The command list of ``--help``, from the table: no command module imported."""
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="cnncalc")
def cli():
    """Exact shapes, parameters, multiplications, receptive fields and memory of CNNs described in YAML.

    Exit status: 0 success, 1 a check failed, 2 unusable input or usage error.
    """

