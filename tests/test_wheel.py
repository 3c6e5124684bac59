"""A wheel built from the repository works outside it: the bundled zoo ships
inside the package, so `cnncalc analyze vgg16.yaml` runs from any directory.

The wheel is installed into a fresh virtual environment with --no-deps and
--no-index (nothing is downloaded); the runtime dependencies are borrowed
from the environment running the tests by a .pth path entry, which comes
after the fresh site-packages, so the wheel's own cnncalc is the one used.
Skip with `pytest -m "not wheel"`.
"""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from conftest import ROOT, SPECS

pytestmark = pytest.mark.wheel

RUNTIME_MODULES = ("click", "rich", "yaml", "numpy", "markdown_it", "mdurl", "pygments")


def _can_build_without_isolation() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    version = tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())
    if version >= (70, 1):
        return True  # bdist_wheel is built in
    return version >= (64, 0) and importlib.util.find_spec("wheel") is not None


def _build_wheel(tmp: Path) -> Path:
    """Build from a copy of the tracked sources, so the checkout stays clean."""
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", "dist")
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name if src.exists() else _mkdir(src) / name)
    for name in ("cnncalc", "specs"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    dist = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(dist)]
    if _can_build_without_isolation():
        cmd.append("--no-build-isolation")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (wheel,) = dist.glob("cnncalc-*.whl")
    return wheel


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def _site_packages(env_dir: Path) -> Path:
    out = subprocess.run([str(_bin(env_dir, "python")), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True)
    return Path(out.stdout.strip())


def _bin(env_dir: Path, name: str) -> Path:
    return env_dir / ("Scripts" if os.name == "nt" else "bin") / name


def test_wheel_installed_outside_the_repository_runs_the_zoo(tmp_path):
    wheel = _build_wheel(tmp_path)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = _bin(env_dir, "python")
    install = ["install", "-q", "--no-deps", "--no-index", str(wheel)]
    # this environment's pip installs into the fresh one (pip >= 22.3: --python); else bootstrap pip there
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), *install], capture_output=True,
                          text=True)
    if proc.returncode != 0:
        subprocess.run([str(python), "-m", "ensurepip", "-q"], capture_output=True, check=True)
        proc = subprocess.run([str(python), "-m", "pip", *install], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    site = _site_packages(env_dir)
    dep_dirs = sorted({str(Path(importlib.util.find_spec(m).origin).parent.parent)
                       for m in RUNTIME_MODULES if importlib.util.find_spec(m)})
    (site / "_cnncalc_test_deps.pth").write_text("\n".join(dep_dirs) + "\n")

    elsewhere = _mkdir(tmp_path / "elsewhere")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["COLUMNS"] = "200"

    def cnncalc(*args):
        return subprocess.run([str(_bin(env_dir, "cnncalc")), *args], capture_output=True, text=True,
                              cwd=elsewhere, env=env)

    where = subprocess.run([str(python), "-c", "import cnncalc; print(cnncalc.__file__)"], capture_output=True,
                           text=True, cwd=elsewhere, env=env)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stdout + where.stderr

    installed = site / "cnncalc" / "zoo" / "vgg16.yaml"
    assert installed.read_text(encoding="utf-8") == (SPECS / "vgg16.yaml").read_text(encoding="utf-8")

    table = cnncalc("analyze", "vgg16.yaml")
    assert table.returncode == 0, table.stderr
    assert "138,357,544" in table.stdout and "15,470,264,320" in table.stdout
    assert f"spec: {installed} (bundled spec)" in table.stderr

    listing = cnncalc("zoo", "--format", "json")
    assert listing.returncode == 0, listing.stderr
    rows = {r["name"]: r for r in json.loads(listing.stdout)["specs"]}
    assert sorted(rows) == sorted(p.stem for p in SPECS.glob("*.yaml"))
    assert rows["vgg16"]["params"] == 138_357_544
    plain = cnncalc("zoo")
    assert plain.returncode == 0 and "vgg16_bn" in plain.stdout and "138.4M" in plain.stdout
