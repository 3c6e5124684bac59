"""The commonest command line without click: ``cnncalc analyze SPEC`` with
plain options, for start-up time (importing click costs about as much as the
whole of VGG-16's analysis).

:func:`plan` accepts a command line only when every word is one of a few plain
forms that click would read the same way (an existing spec file; ``--format``,
``--dtype``, ``--convention`` with one of their exact values; ``--batch``,
``--depth`` with plain digits; ``--exact``), each option at most once; a
bundled spec's name (``vgg16``) is announced on stderr as click's path does.
Anything else — ``--input``, ``-o``, ``--chart``, ``--help``, a misspelt
option, a bad value — returns None and click runs the command as always, with
its own parsing and messages. tests/test_cli_startup.py checks that both paths
print the same bytes.
"""

from __future__ import annotations

import os
import sys

_CHOICES = {
    "--format": ("table", "json", "csv", "markdown"),  # render.Format
    "--dtype": None,  # units.DTYPE_BYTES, filled when needed
    "--convention": None,  # conventions.Convention
}
_COUNTS = {"--batch": 1, "--depth": 0}  # option → smallest value (click.IntRange(min=...))
_FLAGS = ("--exact",)


def _choices(option: str) -> tuple:
    if option == "--dtype":
        from ..units import DTYPE_BYTES

        return tuple(DTYPE_BYTES)
    if option == "--convention":
        from ..conventions import Convention

        return tuple(c.value for c in Convention)
    return _CHOICES[option]


def plan(args: list[str]):
    """A function running ``cnncalc analyze`` for ``args``, or None."""
    if len(args) < 2 or args[0] != "analyze":
        return None
    spec = bundled = None
    values: dict[str, object] = {}
    words = iter(args[1:])
    for word in words:
        if not word.startswith("-"):
            if spec is not None:
                return None
            if os.path.exists(word):
                if not os.path.isfile(word):
                    return None
                spec = word
            else:  # a bundled spec's name, announced on stderr as click's path does (options.resolve_spec)
                from ..bundled import bundled_file

                spec = bundled_file(word)
                if spec is None:
                    return None
                bundled = spec
            continue
        option, eq, value = word.partition("=")
        if option in values:
            return None
        if option in _FLAGS:
            if eq:
                return None
            values[option] = True
            continue
        if option not in _CHOICES and option not in _COUNTS:
            return None
        if not eq:
            value = next(words, None)
            if value is None:
                return None
        if option in _COUNTS:
            if not (value.isascii() and value.isdigit() and len(value) <= 18) or int(value) < _COUNTS[option]:
                return None
            values[option] = int(value)
        else:
            if value not in _choices(option):
                return None
            values[option] = value
    if spec is None:
        return None
    options = {
        "fmt": values.get("--format", "table"),
        "batch": values.get("--batch", 1),
        "dtype": values.get("--dtype", "float32"),
        "convention": values.get("--convention"),
        "exact": bool(values.get("--exact", False)),
        "depth": values.get("--depth"),
    }

    def go() -> int:
        if bundled is not None:  # as options.resolve_spec says it on click's path
            from ..bundled import Resolved
            from .console import note

            note(f"spec: {Resolved(bundled, True).describe()}")
        return run(spec, **options)

    return go


def run(spec: str, *, fmt: str, batch: int, dtype: str, convention, exact: bool, depth) -> int:
    """What the click command does for these options (see cli/analyze.py)."""
    import gc

    from ..analysis import analyze
    from ..render import Format
    from ..spec import load_spec

    enabled = gc.isenabled()
    gc.disable()  # as the click command does (_without_cyclic_gc)
    try:
        if convention is None:
            from ..conventions import Convention

            convention = Convention.MULTIPLICATIONS.value
        result = analyze(load_spec(spec, None), batch=batch, dtype=dtype, convention=convention, optimizer="sgd")
        fmt = Format(fmt)
        if fmt is Format.TABLE:
            from ..render.fasttable import print_analysis_table

            print_analysis_table(result, exact=exact, depth=depth)
            return 0
        from .output import render_text

        echo(render_text(result, fmt, exact=exact, depth=depth))
        return 0
    finally:
        if enabled:
            gc.enable()


def echo(text: str) -> None:
    """``click.echo(text, nl=False)`` on stdout: ANSI escapes stripped when
    stdout is not a terminal (only then is click imported)."""
    out = sys.stdout
    if "\x1b" in text and not out.isatty():
        from click._compat import strip_ansi

        text = strip_ansi(text)
    out.write(text)
    out.flush()
