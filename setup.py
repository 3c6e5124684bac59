"""Package discovery that pyproject.toml cannot express on its own.

The bundled architecture zoo is the repository's ``specs/`` folder, installed
as the data-only subpackage ``cnncalc.zoo`` (see ``package-dir`` and
``package-data`` in pyproject.toml), so ``specs/`` stays the single source.
Everything else is found as before: every package under ``cnncalc``.
"""

from setuptools import find_namespace_packages, setup

setup(packages=[*find_namespace_packages(include=["cnncalc", "cnncalc.*"]), "cnncalc.zoo"])
