"""The click group ``cnncalc`` and its lazy loading of commands (see
:data:`cnncalc.cli.COMMANDS`); :func:`cnncalc.cli.main` runs it."""

from __future__ import annotations

import click

from .. import __version__
from . import COMMANDS, register_commands
from .usage import DESCRIPTION, MAX_WIDTH, top_level_help


class _LazyGroup(click.Group):
    """A group that imports only the module of the command being run.

    ``cnncalc analyze`` must start fast, so running it imports
    ``cnncalc/cli/analyze.py`` alone, and ``cnncalc --help`` lists the
    commands from :data:`cnncalc.cli.COMMANDS` without importing any.
    Anything that looks at the whole set of command objects (completion,
    ``cli.commands``) imports every command module through
    :func:`cnncalc.cli.register_commands`.
    """

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
        if cmd_name not in self._commands and cmd_name in COMMANDS:
            from ..lazy import import_submodule

            import_submodule(__package__, COMMANDS[cmd_name][0])
        if cmd_name in self._commands:
            return self._commands[cmd_name]
        return self.commands.get(cmd_name)

    def format_help(self, ctx, formatter):
        """``cnncalc --help``: the text of :func:`cnncalc.cli.usage.top_level_help`, which
        :func:`cnncalc.cli.main` prints without click; no command module imported."""
        formatter.write(top_level_help(formatter.width))


@click.group(cls=_LazyGroup, help="\n\n".join(DESCRIPTION),
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": MAX_WIDTH})
@click.version_option(__version__, prog_name="cnncalc")
def cli():
    pass

