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
from pathlib import Path

from .errors import CnncalcError, did_you_mean
from .records import record

SUFFIXES = (".yaml", ".yml")
_PACKAGE = Path(__file__).resolve().parent


class SpecNotFound(CnncalcError):
    """A spec argument that is neither a file nor a bundled spec (exit 2)."""


def zoo_dir() -> Path | None:
    """The folder holding the bundled specs, or None when there is none."""
    installed = _PACKAGE / "zoo"  # wheel / non-editable install
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / "specs"  # source checkout / editable install
    if checkout.is_dir() and (_PACKAGE.parent / "pyproject.toml").is_file():
        return checkout
    return None


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


def bundled_path(name: str) -> Path | None:
    """The file of the bundled spec ``name`` (``vgg16`` or ``vgg16.yaml``), or None."""
    folder = zoo_dir()
    if folder is None or not name or "/" in name or os.sep in name:
        return None
    stem = _strip_suffix(name)
    for suffix in SUFFIXES:
        path = folder / f"{stem}{suffix}"
        if path.is_file():
            return path
    return None


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
    path = bundled_path(text)
    if path is not None:
        return Resolved(str(path), True)
    names = bundled_names()
    hint = did_you_mean(_strip_suffix(os.path.basename(text)), names)
    listing = ", ".join(names) if names else "none are installed"
    raise SpecNotFound(
        f"{text}: no such file, and no bundled spec of that name{hint}; "
        f"bundled specs: {listing} (`cnncalc zoo` lists them)"
    )
