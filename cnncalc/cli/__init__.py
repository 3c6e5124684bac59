"""The command line: thin commands (parse → analyse → render → print).

Only this package prints or exits. Every CnncalcError becomes one message on
stderr and its exit code (2 for unusable input); a bug becomes a one-line
"internal error" (exit 3), never a traceback.

Start-up is kept small: ``cnncalc --version`` imports nothing but this file,
``cnncalc --help`` lists the commands from :data:`COMMANDS` without importing
them or click (:mod:`cnncalc.cli.usage`), and a command imports its own
module only. The click group itself lives in :mod:`cnncalc.cli.group` and is
reached as ``cnncalc.cli.cli``.
"""

from __future__ import annotations

import sys

from .. import __version__

EXIT_INTERNAL = 3

# BEGIN COMMAND TABLE (tests/test_cli_startup.py prints the lines to add for a new command)
#: Command name → (module in cnncalc.cli, short help, first paragraph of its help).
#: ``cnncalc --help`` is formatted from this table (cnncalc.cli.usage).
COMMANDS: dict[str, tuple[str, str | None, str]] = {
    "analyze": ("analyze", None, "Shapes, parameters, MACs, receptive fields and memory of every layer of SPEC."),
    "check": ("check", None, "Check SPECS against their budgets; exit 1 when any limit is exceeded."),
    "compare": ("homework", None, "Two designs side by side: receptive field, parameters, multiplications and memory, with exact ratios A / B."),
    "conv": ("homework", None, "One convolution layer: output size, parameters, multiplications, receptive field."),
    "diff": ("diff", None, "Compare OLD and NEW side by side: added, removed and changed layers, totals with deltas."),
    "export": ("exportcmd", None, "Write SPEC as PyTorch code or as an ONNX model."),
    "import": ("importcmd", None, "Write the spec of MODEL: an ONNX file, torch:PACKAGE.MODULE:FACTORY, or path/model.py:FACTORY."),
    "grade": ("homework", None, "Check the answers in SPEC (expect: per layer, expect_total:) and print a score."),
    "layers": ("layers", "The layer reference: fields, defaults and formulas of each type.", "Every layer type (or NAME, an alias works too): fields, defaults and the formulas for output shape, parameters, multiplications and receptive field."),
    "pool": ("homework", None, "One pooling layer: output size, parameters (0), multiplications (0), receptive field."),
    "run": ("homework", None, "Compute a small example with explicit numbers and print every feature map."),
    "schema": ("schema", None, "Print the JSON Schema of the spec format (for editors: validation and completion)."),
    "solve": ("homework", None, "Solve O = ⌊(I + 2P − F′)/S⌋ + 1 (F′ = d·(F − 1) + 1) for the unknowns, listing every solution."),
    "tconv": ("homework", None, "One transposed convolution (\"deconvolution\"), PyTorch's ConvTranspose rule: O = S·(I − 1) + d·(F − 1) + 1 − 2P + output_padding."),
    "verify": ("verify", None, "Run SPEC forward and backward with a numpy executor and check the analysis."),
    "zoo": ("zoo", "The bundled specs; `zoo show NAME` prints one.", "The architectures bundled with cnncalc: input size, parameters, multiplications."),
}
# END COMMAND TABLE


def register_commands() -> None:
    """Import every command module (each adds its commands to ``cli``)."""
    from ..lazy import import_submodule

    for module in sorted({module for module, _, _ in COMMANDS.values()}):
        import_submodule(__name__, module)


def __getattr__(name):
    if name in ("cli", "_LazyGroup"):
        from . import group

        return getattr(group, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main(argv=None) -> None:
    """The ``cnncalc`` console script (``argv`` None: ``sys.argv``), or the
    command line ``argv`` run in this process."""
    if argv is not None:
        _main(list(argv))
        return
    # The process is cnncalc itself: no cyclic collection while it imports and
    # reads (short-lived objects, few cycles; commands that make many turn it back
    # on), and none when it exits: the interpreter's last collection would walk
    # every object of every module only to find nothing (gc.freeze moves them out
    # of its reach; VGG-16's analysis ~3 ms sooner).
    import gc

    gc.disable()
    try:
        _main(sys.argv[1:], gc_paused=True)
    finally:
        gc.freeze()


def _main(args: list[str], gc_paused: bool = False) -> None:
    if args == ["--version"]:  # the same line click's version option prints, without importing click
        sys.stdout.write(f"cnncalc, version {__version__}\n")
        sys.stdout.flush()
        sys.exit(0)
    from .console import degrade_to_ascii

    degrade_to_ascii()
    try:
        from ..env import check_environment

        check_environment()
        if args in (["--help"], ["-h"]):  # what click's group prints (its format_help is this text)
            from .usage import top_level_help

            sys.stdout.write(top_level_help())
            sys.stdout.flush()
            sys.exit(0)
        from .fast import plan

        fast = plan(args)  # `cnncalc analyze SPEC` with plain options: no click
        if fast is not None:
            status = fast()
            if gc_paused:
                _end_process(status if isinstance(status, int) else 0)
        else:
            if gc_paused:
                import gc

                gc.enable()  # (the click commands that want it off turn it off themselves)
            from .group import cli

            status = cli.main(args=args, prog_name="cnncalc", standalone_mode=False)
    except Exception as exc:
        _fail(exc)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(status if isinstance(status, int) else 0)


def _end_process(status: int) -> None:
    """End the cnncalc process now, after the fast path's analysis: its output
    flushed, skipping the interpreter's teardown (freeing every object of every
    module one by one, about 1.5 ms of VGG-16's 30 ms). Only here, where cnncalc
    alone ran and wrote nothing but stdout and stderr; and not when anything
    asked to run at exit (coverage, a site hook): then the normal exit. A
    flush that fails (a closed pipe) also takes the normal way, which handles it."""
    import atexit

    registered = getattr(atexit, "_ncallbacks", None)
    if registered is None or registered():
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed pipe or stream
        return
    import os

    os._exit(status)


def _fail(exc: Exception) -> None:
    """Exit for an exception: a usage error as click words it, a CnncalcError
    as one line with its exit code, a bug as one "internal error" line."""
    from ..errors import EXIT_BAD_INPUT, CnncalcError
    from .console import error_console

    click = sys.modules.get("click")  # only click raises click's exceptions
    if click is not None and isinstance(exc, click.exceptions.Abort):
        error_console().print("Aborted.")
        sys.exit(130)
    if click is not None and isinstance(exc, click.ClickException):
        exc.show()
        sys.exit(exc.exit_code)
    if isinstance(exc, CnncalcError):
        from ..render.escape import rich_markup

        error_console().print(f"[bold red]error:[/] {rich_markup(exc)}", highlight=False)
        if getattr(exc, "excerpt", None):  # the spec's line with a caret under the column (controls shown as ?)
            from rich.markup import escape

            error_console().print(escape(exc.excerpt), highlight=False, soft_wrap=False, overflow="ignore",
                                  crop=False)
        sys.exit(exc.exit_code)
    if isinstance(exc, BrokenPipeError):
        sys.stderr.close()
        sys.exit(0)
    if isinstance(exc, MemoryError):
        error_console().print("[bold red]error:[/] out of memory (the address-space limit, ulimit -v, or the "
                              "machine's memory); try a smaller input or --batch", highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    if isinstance(exc, RecursionError):
        error_console().print("[bold red]error:[/] the spec nests too deeply to process", highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    from ..render.escape import rich_markup  # a bug: say so in one line, no traceback

    error_console().print(
        f"[bold red]internal error:[/] {rich_markup(type(exc).__name__)}: {rich_markup(exc)} "
        "(this is a bug in cnncalc; please report it with the spec that caused it)",
        highlight=False,
    )
    sys.exit(EXIT_INTERNAL)
