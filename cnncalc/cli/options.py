"""Option types and helpers shared by the commands."""

from __future__ import annotations

import os
import tempfile

import click

from ..analysis import DTYPE_BYTES
from ..conventions import Convention
from ..errors import UsageError


class ShapeParam(click.ParamType):
    """A shape under cnncalc's one notation (:mod:`cnncalc.shapes`): commas are
    channels first (``3,224,224``, as in a spec), ``x`` is channels last
    (``224x224x3``, as in the lectures). The value is channels first; what
    was understood is said on stderr, with a warning when the shape looks
    written in the other order."""

    name = "SHAPE"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        from ..shapes import ShapeSyntaxError, order_warning, parse_shape

        option = f"--{param.name.replace('_shape', '')}" if param is not None and param.name else "shape"
        try:
            typed = parse_shape(value, what=option)
        except ShapeSyntaxError as exc:
            self.fail(str(exc), param, ctx)
        click.echo(f"{option}: {typed.describe()}", err=True)  # click, not rich: analyze starts without rich
        if typed.channels_last:
            warning = order_warning(typed.shape, channels_last_typed=True, what=f"{option} ")
            if warning:
                click.echo(f"warning: {warning}", err=True)
        return typed.shape


SHAPE = ShapeParam()


def format_option(command: str, detail: str = ""):
    """``--format`` of a report command: the formats :data:`cnncalc.render.FORMATS` lists for it
    (``detail``: what some of them are, for the help)."""
    from ..render import FORMATS

    choices = [f.value for f in FORMATS[command]]
    return click.option("--format", "fmt", type=click.Choice(choices, case_sensitive=False), default=choices[0],
                        show_default=True, help="Output format: " + ", ".join(choices) + (f" ({detail})." if detail else "."))


def enum_choice(enum_cls):
    return click.Choice([e.value for e in enum_cls], case_sensitive=False)


input_option = click.option("--input", "input_shape", type=SHAPE, default=None,
                            help="Override the spec's input shape: 3,224,224 (C,H,W, channels first) or 224x224x3 (H×W×C, channels last).")
batch_option = click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                            help="Batch size for memory figures.")
dtype_option = click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default="float32", show_default=True,
                            help="Element type for memory figures.")
convention_option = click.option("--convention", type=enum_choice(Convention), default=Convention.MULTIPLICATIONS.value,
                                 show_default=True, help="How MACs and FLOPs are counted (see README).")


def write_atomic(path: str, text: str) -> None:
    """Write a whole file or nothing: a temporary file renamed into place."""
    directory = os.path.dirname(os.path.abspath(path)) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cnncalc-", dir=directory)
    except OSError as exc:  # no such directory, no permission, read-only file system
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):  # disk full, target is a directory, ...
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


def resolve_spec(argument: str) -> str:
    """The spec file a command-line argument names: a path if it exists, else
    a bundled spec (``vgg16`` or ``vgg16.yaml``). A bundled spec is announced
    on stderr with its full path, so the output says which file was used and
    stdout stays clean for json/csv. Unknown names raise SpecNotFound (exit 2)."""
    from ..bundled import resolve

    resolved = resolve(argument)
    if resolved.bundled:
        from .console import error_console

        error_console().print(f"[dim]spec: {resolved.describe()}[/]", highlight=False, markup=True)
    return resolved.path


def complete_spec(ctx, param, incomplete: str):
    """Shell completion for a spec argument: bundled spec names, then files."""
    from click.shell_completion import CompletionItem

    from ..bundled import bundled_names

    items = [CompletionItem(incomplete, type="file")]  # the shell completes paths too
    if "/" not in incomplete and os.sep not in incomplete:
        items += [CompletionItem(name, help="bundled spec") for name in bundled_names() if name.startswith(incomplete)]
    return items


#: The SPEC argument of every command that reads a spec (path or bundled name).
spec_argument = click.argument("spec", shell_complete=complete_spec)


def load_graph(path, input_shape=None):
    """Load a spec for a command that does not show the analysis warnings
    (check, verify, diff, grade, compare): a shape that looks written channels
    last (``input: [224, 224, 3]``) is said on stderr."""
    from ..shapes import order_warning
    from ..spec import load_spec

    graph = load_spec(path, input_shape)
    warning = order_warning(graph.input_shape)
    if warning:
        where = f"{graph.input_loc}: " if input_shape is None and graph.input_loc else ""
        click.echo(f"warning: {where}input {warning}", err=True)
    return graph
