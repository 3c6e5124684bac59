"""The command line: thin commands (parse → analyse → render → print).

Only this package prints or exits. Every CnncalcError becomes one message on
stderr and its exit code (2 for unusable input); a bug becomes a one-line
"internal error" (exit 3), never a traceback.
"""

from __future__ import annotations

import sys

import click

from ..errors import EXIT_BAD_INPUT, CnncalcError

EXIT_INTERNAL = 3


class _LazyGroup(click.Group):
    """A group that imports only the module of the command being run.

    ``cnncalc analyze`` must start fast, so running it imports
    ``cnncalc/cli/analyze.py`` alone. Any other command, and anything that
    looks at the whole set (``--help``, completion, ``cli.commands``), imports
    every command module through :func:`_register_commands`, the one list of them.
    """

    @property
    def commands(self):
        _register_commands()
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
        if cmd_name == "analyze" and cmd_name not in self._commands:
            from . import analyze  # noqa: F401  (the main job: keep its start-up small)
        if cmd_name in self._commands:
            return self._commands[cmd_name]
        return self.commands.get(cmd_name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cnncalc")
def cli():
    """Exact shapes, parameters, multiplications, receptive fields and memory of CNNs described in YAML.

    Exit status: 0 success, 1 a check failed, 2 unusable input or usage error.
    """


def _register_commands():
    from . import analyze, homework, schema, verify  # noqa: F401  (each module adds its command to `cli`)
    from . import layers, zoo  # noqa: F401
    from . import check, diff  # noqa: F401
    from . import exportcmd, importcmd  # noqa: F401


def main(argv=None) -> None:
    from .console import degrade_to_ascii, error_console

    degrade_to_ascii()
    try:
        from ..env import check_environment

        check_environment()
        status = cli.main(args=argv, prog_name="cnncalc", standalone_mode=False)
    except click.exceptions.Abort:
        error_console().print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CnncalcError as exc:
        from ..render.escape import rich_markup

        error_console().print(f"[bold red]error:[/] {rich_markup(exc)}", highlight=False)
        if getattr(exc, "excerpt", None):  # the spec's line with a caret under the column (controls shown as ?)
            from rich.markup import escape

            error_console().print(escape(exc.excerpt), highlight=False, soft_wrap=False, overflow="ignore",
                                  crop=False)
        sys.exit(exc.exit_code)
    except BrokenPipeError:
        sys.stderr.close()
        sys.exit(0)
    except KeyboardInterrupt:
        sys.exit(130)
    except MemoryError:
        error_console().print("[bold red]error:[/] out of memory (the address-space limit, ulimit -v, or the "
                              "machine's memory); try a smaller input or --batch", highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    except RecursionError:
        error_console().print("[bold red]error:[/] the spec nests too deeply to process", highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    except Exception as exc:  # a bug: say so in one line, no traceback
        from ..render.escape import rich_markup

        error_console().print(
            f"[bold red]internal error:[/] {rich_markup(type(exc).__name__)}: {rich_markup(exc)} "
            "(this is a bug in cnncalc; please report it with the spec that caused it)",
            highlight=False,
        )
        sys.exit(EXIT_INTERNAL)
    sys.exit(status if isinstance(status, int) else 0)
