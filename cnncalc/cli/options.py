"""Option types and helpers shared by the commands."""

from __future__ import annotations

import os
import re

import click

from ..analysis import DTYPE_BYTES
from ..conventions import Convention
from ..errors import UsageError


class ShapeParam(click.ParamType):
    """``3,224,224`` or ``3x224x224``: one sample, channels first."""

    name = "SHAPE"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        parts = [p for p in re.split(r"[,x×\s]+", str(value).strip().strip("[]()")) if p]
        try:
            shape = tuple(int(p) for p in parts)
        except ValueError:
            self.fail(f"{value!r} is not a shape like 3,224,224 (channels first)", param, ctx)
        if not shape or any(n < 1 for n in shape) or len(shape) > 4:
            self.fail(f"{value!r} must be 1 to 4 positive sizes, channels first, e.g. 3,224,224", param, ctx)
        return shape


SHAPE = ShapeParam()


def enum_choice(enum_cls):
    return click.Choice([e.value for e in enum_cls], case_sensitive=False)


input_option = click.option("--input", "input_shape", type=SHAPE, default=None,
                            help="Override the spec's input shape, channels first: 3,224,224.")
batch_option = click.option("--batch", type=click.IntRange(min=1), default=1, show_default=True,
                            help="Batch size for memory figures.")
dtype_option = click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default="float32", show_default=True,
                            help="Element type for memory figures.")
convention_option = click.option("--convention", type=enum_choice(Convention), default=Convention.MULTIPLICATIONS.value,
                                 show_default=True, help="How MACs and FLOPs are counted (see README).")


def write_atomic(path: str, text: str) -> None:
    """Write a whole file or nothing: a temporary file renamed into place."""
    import tempfile

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
    if os.path.exists(str(argument)):  # what bundled.resolve answers first, without importing it (pathlib)
        return str(argument)
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
