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
