"""Option types and helpers shared by the commands."""

from __future__ import annotations

import errno
import os

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


#: A batch size: 1 to 10^18 (the 10^18 rule for every size), so no memory
#: figure grows past what Python prints.
BATCH = click.IntRange(min=1, max=10**18)

input_option = click.option("--input", "input_shape", type=SHAPE, default=None,
                            help="Override the spec's input shape: 3,224,224 (C,H,W, channels first) or 224x224x3 (H×W×C, channels last).")
batch_option = click.option("--batch", type=BATCH, default=1, show_default=True,
                            help="Batch size for memory figures.")
dtype_option = click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default="float32", show_default=True,
                            help="Element type for memory figures.")
convention_option = click.option("--convention", type=enum_choice(Convention), default=Convention.MULTIPLICATIONS.value,
                                 show_default=True, help="How MACs and FLOPs are counted (see README).")


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: read by setting, and put it back at once
    os.umask(mask)
    return mask


def write_atomic(path: str, text: str, *, reading=()) -> None:
    """Write the report ``-o`` names: a whole file or nothing.

    * A path that is one of the files being read (``reading``) is refused:
      the report must not overwrite the spec or baseline it reports on.
    * A symlink is written through (its target is replaced, the link stays).
    * A FIFO, a character device (``/dev/null``, ``/dev/stdout``) or a socket
      is written to, never replaced (as root, replacing ``/dev/null`` with a
      regular file would break every later program on the machine).
    * Otherwise a temporary file in the same directory is renamed into place,
      with the mode the file had, or 0666 less the umask for a new file
      (0644 under the usual umask 022), as any shell redirection would give.
    """
    import stat

    target = os.path.realpath(path)  # through every symlink, to what would be written
    for source in reading:
        try:
            same = os.path.samefile(source, target) if os.path.exists(target) else False
        except OSError:
            same = False
        if same:
            raise UsageError(f"-o {path} names {source}, a file this command reads; "
                             "choose another output file")
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise UsageError(f"cannot write {path}: it is a directory")
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_special(path, target, text, st)
        return
    directory = os.path.dirname(target) or "."
    import tempfile
    try:
        fd, tmp = tempfile.mkstemp(prefix=".cnncalc-", dir=directory)
    except OSError as exc:  # no such directory, no permission, read-only file system
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    try:
        os.chmod(tmp, stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):  # disk full, target is a directory, ...
            raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


#: How long ``-o FIFO`` waits for a reader to open the other end (a reader
#: started just after cnncalc, as in ``cnncalc ... -o pipe & cat pipe``).
FIFO_WAIT = 1.0


def _write_special(path: str, target: str, text: str, st) -> None:
    """Write into a FIFO, a device or a socket in place (never replace it)."""
    import stat

    if stat.S_ISSOCK(st.st_mode):
        raise UsageError(f"cannot write {path}: it is a socket")
    import time

    flags = os.O_WRONLY | (os.O_NONBLOCK if stat.S_ISFIFO(st.st_mode) else 0)
    deadline = time.monotonic() + FIFO_WAIT
    while True:
        try:
            fd = os.open(target, flags)
            break
        except OSError as exc:
            if exc.errno != errno.ENXIO:
                raise UsageError(f"cannot write {path}: {exc.strerror}") from None
            if time.monotonic() > deadline:  # a FIFO nobody reads: a blocking open would wait forever
                raise UsageError(f"cannot write {path}: it is a FIFO and no process opened it for reading "
                                 f"within {FIFO_WAIT:g} s") from None
            time.sleep(0.01)
    try:
        if stat.S_ISFIFO(st.st_mode):
            os.set_blocking(fd, True)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


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
        from .console import note

        note(f"spec: {resolved.describe()}")
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
