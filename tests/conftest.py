"""Shared test helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run (CI must not flake on a
# lucky draw, and no local example database may change what runs). Exploration
# happens in the long fuzz mode (CNNCALC_FUZZ_EXAMPLES), which randomises, or
# with HYPOTHESIS_PROFILE=explore.
settings.register_profile("cnncalc", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "cnncalc"))

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


@pytest.fixture
def spec_file(tmp_path):
    """Write YAML text to a file and return its path."""

    def write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


def analyze_text(text: str, **kw):
    from cnncalc import analyze, loads_spec

    return analyze(loads_spec(text), **kw)



class _BothStreams:
    """A click 8.0/8.1 result whose ``output`` holds stdout and stderr, as
    click 8.2's does (tests look for error messages in ``output``)."""

    def __init__(self, result):
        self._result = result

    def __getattr__(self, name):
        return getattr(self._result, name)

    @property
    def output(self):
        return self._result.stdout + self._result.stderr


def CliRunner(**kw):
    """click's test runner with stdout and stderr apart on every supported click.

    click 8.2 separates them always (and dropped ``mix_stderr``); click 8.0
    and 8.1 mix them into ``stdout`` unless told not to, so a test reading
    ``result.stdout`` would see the warnings too."""
    import inspect

    from click.testing import CliRunner as _Runner

    if "mix_stderr" not in inspect.signature(_Runner.__init__).parameters:
        return _Runner(**kw)

    class _Separate(_Runner):
        def invoke(self, *args, **kwargs):
            return _BothStreams(super().invoke(*args, **kwargs))

    kw.setdefault("mix_stderr", False)
    return _Separate(**kw)
