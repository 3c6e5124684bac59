"""The bundled architecture zoo: the specs that ship inside the package.

In the repository the zoo is the ``specs/`` folder, the single source. An
installed cnncalc (wheel or ``pip install .``) carries the same files as the
data-only subpackage ``cnncalc.zoo`` (setup.py / pyproject.toml map it onto
``specs/``). An editable install or a plain checkout reads ``specs/`` itself.

A spec argument is resolved as a path first and, only when no such file
exists, as the name of a bundled spec with or without ``.yaml``.
"""

from __future__ import annotations

import os

from .errors import CnncalcError, did_you_mean
from .records import record

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from pathlib import Path

SUFFIXES = (".yaml", ".yml")
#: the package's folder (strings and os.path here: ``cnncalc analyze vgg16`` does not import pathlib)
_PACKAGE = os.path.dirname(os.path.realpath(__file__))


class SpecNotFound(CnncalcError):
    """A spec argument that is neither a file nor a bundled spec (exit 2)."""


def zoo_folder() -> str | None:
    """The folder holding the bundled specs, or None when there is none."""
    installed = os.path.join(_PACKAGE, "zoo")  # wheel / non-editable install
    if os.path.isdir(installed):
        return installed
    root = os.path.dirname(_PACKAGE)
    checkout = os.path.join(root, "specs")  # source checkout / editable install
    if os.path.isdir(checkout) and os.path.isfile(os.path.join(root, "pyproject.toml")):
        return checkout
    return None


def zoo_dir() -> Path | None:
    """:func:`zoo_folder` as a Path."""
    from pathlib import Path

    folder = zoo_folder()
    return None if folder is None else Path(folder)


def bundled_names() -> list[str]:
    """Names of the bundled specs (file names without ``.yaml``), sorted."""
    folder = zoo_dir()
    if folder is None:
        return []
    return sorted(p.stem for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())


def _strip_suffix(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def bundled_file(name: str) -> str | None:
    """The file of the bundled spec ``name`` (``vgg16`` or ``vgg16.yaml``), or None."""
    if not name or "/" in name or os.sep in name or name in (".", ".."):
        return None
    folder = zoo_folder()
    if folder is None:
        return None
    stem = _strip_suffix(name)
    for suffix in SUFFIXES:
        path = os.path.join(folder, f"{stem}{suffix}")
        if os.path.isfile(path):
            return path
    return None


def bundled_path(name: str) -> Path | None:
    """:func:`bundled_file` as a Path."""
    from pathlib import Path

    path = bundled_file(name)
    return None if path is None else Path(path)


@record
class Resolved:
    """Which file a spec argument named, and whether it came from the zoo."""

    path: str
    bundled: bool

    def describe(self) -> str:
        return f"{self.path} (bundled spec)" if self.bundled else self.path


def resolve(argument: str) -> Resolved:
    """A path if it exists, else a bundled spec name; SpecNotFound otherwise."""
    text = str(argument)
    if os.path.exists(text):
        return Resolved(text, False)
    path = bundled_file(text)
    if path is not None:
        return Resolved(path, True)
    names = bundled_names()
    hint = did_you_mean(_strip_suffix(os.path.basename(text)), names)
    listing = ", ".join(names) if names else "none are installed"
    raise SpecNotFound(
        f"{text}: no such file, and no bundled spec of that name{hint}; "
        f"bundled specs: {listing} (`cnncalc zoo` lists them)"
    )
