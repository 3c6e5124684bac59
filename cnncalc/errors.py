"""The one error hierarchy of cnncalc.

The core raises these; only the CLI prints them and turns them into exit codes
(0 success, 1 a check failed, 2 unusable input or usage error).
"""

from __future__ import annotations

from collections import namedtuple

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_BAD_INPUT = 2


class Loc(namedtuple("Loc", ("file", "line", "col"), defaults=(None, None, None))):
    """Where something stands in a spec file (``file``, 1-based ``line`` and
    ``col``, each may be None).

    A named tuple (immutable, and cheap to make: the YAML reader makes one
    for every value of a spec); collections' rather than typing's, which
    would import typing at start-up."""

    __slots__ = ()

    def __str__(self) -> str:
        parts = [self.file or "<spec>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


class CnncalcError(Exception):
    """Base class of every error cnncalc raises on purpose."""

    exit_code = EXIT_BAD_INPUT


class SpecError(CnncalcError):
    """A spec that cannot be used, with everything needed to find the fault.

    ``str(err)`` is the single line the CLI prints, e.g.::

        specs/net.yaml:12:5: layer 3 'conv2' (conv), field 'kernel_size': kernel 9 is larger ...
    """

    def __init__(
        self,
        message: str,
        *,
        loc: Loc | None = None,
        layer_index: int | None = None,
        layer_name: str | None = None,
        layer_type: str | None = None,
        field: str | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.loc = loc or Loc()
        self.layer_index = layer_index
        self.layer_name = layer_name
        self.layer_type = layer_type
        self.field = field

    @property
    def file(self) -> str | None:
        return self.loc.file

    @property
    def line(self) -> int | None:
        return self.loc.line

    def with_context(self, **kw) -> "SpecError":
        """A copy with missing context filled in (existing values win)."""
        fields = {
            "loc": self.loc,
            "layer_index": self.layer_index,
            "layer_name": self.layer_name,
            "layer_type": self.layer_type,
            "field": self.field,
        }
        for key, value in kw.items():
            if key == "loc" and value is not None:
                old = self.loc
                fields["loc"] = Loc(
                    old.file or value.file,
                    old.line if old.line is not None else value.line,
                    old.col if old.line is not None else value.col,
                )
            elif fields.get(key) is None:
                fields[key] = value
        err = SpecError(self.message, **fields)
        return err

    def __str__(self) -> str:
        where = str(self.loc)
        what = []
        if self.layer_index is not None or self.layer_name is not None:
            layer = "layer"
            if self.layer_index is not None:
                layer += f" {self.layer_index}"
            if self.layer_name is not None:
                layer += f" '{self.layer_name}'"
            if self.layer_type is not None:
                layer += f" ({self.layer_type})"
            what.append(layer)
        if self.field is not None:
            what.append(f"field '{self.field}'")
        prefix = f"{where}: " + (", ".join(what) + ": " if what else "")
        return prefix + self.message


class FieldError(CnncalcError):
    """Raised by layer code, which knows the field but not the location.

    The analysis turns it into a :class:`SpecError` with the node's location.
    """

    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class UsageError(CnncalcError):
    """A bad command-line value (not a spec problem)."""


#: "Did you mean" compares short names only, among at most this many: the
#: comparison is quadratic in the lengths, and a spec may hold 50,000 names or
#: a name hundreds of kilobytes long.
SUGGEST_MAX_LENGTH = 64
SUGGEST_MAX_CHOICES = 2000


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''.

    Bounded work: no suggestion for a word longer than SUGGEST_MAX_LENGTH;
    only choices of a comparable length (a ratio of 0.6 needs one) and at
    most SUGGEST_MAX_CHOICES of them are compared."""
    import difflib

    word = str(word)
    n = len(word)
    if not 0 < n <= SUGGEST_MAX_LENGTH:
        return ""
    near = []
    for choice in choices:
        text = str(choice)
        if len(text) <= SUGGEST_MAX_LENGTH and 3 * n <= 7 * len(text) and 3 * len(text) <= 7 * n:
            near.append(text)
            if len(near) >= SUGGEST_MAX_CHOICES:
                break
    close = difflib.get_close_matches(word, near, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


__all__ = [
    "EXIT_OK",
    "EXIT_CHECK_FAILED",
    "EXIT_BAD_INPUT",
    "Loc",
    "CnncalcError",
    "SpecError",
    "FieldError",
    "UsageError",
    "did_you_mean",
]
