"""Inputs too large to keep in the repository, written at test time, and the
file-system set-ups some cases need (a FIFO, a device node, a symlink).

A case names them in its header: ``# generate: NAME OUTFILE ARGS...`` writes
OUTFILE into the case's temporary directory (its working directory, ``{tmp}``);
``# setup: NAME ARGS...`` prepares that directory and may return a check run
after the command (a device must still be a device, a symlink a symlink).
"""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

LENET = Path(__file__).resolve().parents[2] / "specs" / "lenet5.yaml"


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


# -- generators: large hostile files ------------------------------------------------

def scalars(path: Path, count: str) -> None:
    """One flow list of COUNT scalars under a harmless spec."""
    n = int(count)
    _write(path, "input: [1, 4]\nlayers: [relu]\nx_junk: [" + ",".join(["0"] * n) + "]\n")


def per_axis(path: Path, field: str, count: str) -> None:
    """``FIELD: [1, 1, ...]`` COUNT times on a convolution."""
    items = ", ".join(["1"] * int(count))
    _write(path, f"input: [1, 8, 8]\nlayers:\n  - conv: {{out_channels: 1, kernel_size: 1, {field}: [{items}]}}\n")


def fan_out(path: Path, count: str) -> None:
    """COUNT layers all reading the input (and nothing reading them)."""
    rows = "".join(f"  - relu: {{}}\n    inputs: inp\n" for _ in range(int(count)))
    _write(path, "input: [1, 4]\nlayers:\n  - relu:\n    name: inp\n" + rows)


def fan_in(path: Path, count: str) -> None:
    """One merge with COUNT inputs."""
    n = int(count)
    rows = "".join(f"  - relu:\n    name: r{i}\n    inputs: inp\n" for i in range(n))
    names = ", ".join(f"r{i}" for i in range(n))
    _write(path, f"input: [1, 4]\nlayers:\n  - relu:\n    name: inp\n{rows}  - add: {{}}\n    inputs: [{names}]\n")


def when_chain(path: Path, count: str) -> None:
    """COUNT skipped entries whose inputs resolve through each other."""
    n = int(count)
    rows = "".join(f"  - relu:\n    name: s{i}\n    when: false\n    inputs: s{i - 1}\n" for i in range(1, n))
    _write(path, "input: [1, 4]\nlayers:\n  - relu:\n    name: s0\n" + rows + f"  - relu:\n    inputs: s{n - 1}\n")


def long_name(path: Path, length: str, kind: str = "inputs") -> None:
    """A reference to a missing name LENGTH characters long among many long names."""
    n = int(length)
    names = "".join(f"  - relu:\n    name: {'n' * 2000}{i}\n" for i in range(200))
    if kind == "type":
        _write(path, f"input: [1, 4]\nlayers:\n  - {'c' * n}: {{}}\n")
    else:
        _write(path, f"input: [1, 4]\nlayers:\n{names}  - relu:\n    inputs: {'n' * n}x\n")


def many_names(path: Path, count: str) -> None:
    """COUNT named layers, then a reference to a misspelt one (did-you-mean over all)."""
    n = int(count)
    rows = "".join(f"  - relu:\n    name: layer_{i:06d}_{'q' * 40}\n" for i in range(n))
    _write(path, f"input: [1, 4]\nlayers:\n{rows}  - relu:\n    inputs: layer_00000_{'q' * 40}\n")


def baseline(path: Path, kind: str, size: str = "0") -> None:
    """A saved analysis of LeNet-5 (real layers), then made hostile by KIND."""
    n = int(size)
    data = _lenet_json()
    if kind == "layers":
        layer = data["layers"][0]
        data["layers"] = [dict(layer, index=i, name=f"l{i}") for i in range(n)]
    elif kind == "bigint":
        data["totals"]["params"]["trainable"] = 424242424242
    elif kind == "bigint_layer":
        data["layers"][0]["macs"] = 424242424242
    elif kind == "bigbatch":
        data["batch"] = 424242424242
    elif kind == "deep":
        data["name"] = json.loads("[" * n + "]" * n) if n < 100_000 else None
    text = json.dumps(data).replace("424242424242", "9" * n)  # an integer too long for int()
    if kind == "infinity":
        text = _first_macs(text, "Infinity")
    elif kind == "nan":
        text = _first_macs(text, "NaN")
    elif kind == "float":
        text = _first_macs(text, "1e308")
    elif kind == "deep":
        text = text.replace('"name": null', '"name": ' + "[" * n + "]" * n, 1)
    _write(path, text)


_LENET_JSON = None


def _first_macs(text: str, value: str) -> str:
    import re

    return re.sub(r'"macs": \d+', f'"macs": {value}', text, count=1)


def _lenet_json() -> dict:
    global _LENET_JSON
    if _LENET_JSON is None:
        _LENET_JSON = json.loads((Path(__file__).resolve().parent / "lenet5.analysis.json").read_text())
    return json.loads(json.dumps(_LENET_JSON))


def big_text(path: Path, megabytes: str) -> None:
    """A sparse file of MEGABYTES MB."""
    with open(path, "wb") as handle:
        handle.truncate(int(megabytes) * 1024 * 1024)


def alternating(path: Path, count: str, period: str) -> None:
    """COUNT layers, a convolution every PERIOD-th and ReLUs between."""
    n, k = int(count), int(period)
    rows = "".join("  - conv: {out_channels: 4, kernel_size: 1}\n" if i % k == 0 else "  - relu\n" for i in range(n))
    _write(path, "input: [4, 8]\nlayers:\n" + rows)


GENERATORS = {
    "alternating": alternating,
    "scalars": scalars, "per_axis": per_axis, "fan_out": fan_out, "fan_in": fan_in, "when_chain": when_chain,
    "long_name": long_name, "many_names": many_names, "baseline": baseline, "big_text": big_text,
}


# -- set-ups: special files ----------------------------------------------------------

def fifo(tmp: Path, name: str, mode: str = "read") -> callable:
    """A FIFO; with mode ``read`` a thread drains whatever is written to it."""
    path = tmp / name
    os.mkfifo(path)
    if mode != "read":
        return _still(path, stat.S_ISFIFO, "FIFO")
    got = []

    def drain():
        fd = os.open(path, os.O_RDONLY)  # blocks until a writer opens it
        while os.read(fd, 65536):
            pass
        os.close(fd)

    def unblock():  # if nobody opened it for writing, open it once so drain ends
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            os.close(fd)
        except OSError:
            pass

    thread = threading.Thread(target=drain, daemon=True)
    thread.start()
    check = _still(path, stat.S_ISFIFO, "FIFO")

    def done():
        unblock()
        thread.join(2)
        return check()

    return done


def chardev(tmp: Path, name: str) -> callable:
    """A copy of /dev/null (a character device) when we may make device nodes
    (root, as CI containers often are); otherwise a symlink to /dev/null."""
    path = tmp / name
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        return _still(path, stat.S_ISCHR, "character device")
    except (PermissionError, OSError):
        os.symlink("/dev/null", path)
        return _still(path, stat.S_ISLNK, "symlink", follow=False)


def symlink(tmp: Path, name: str, target: str) -> callable:
    """NAME → TARGET (TARGET relative to the temporary directory)."""
    path = tmp / name
    os.symlink(target, path)
    return _still(path, stat.S_ISLNK, "symlink", follow=False)


def copy(tmp: Path, source: str, name: str) -> None:
    """A copy of SOURCE (relative to the repository root) named NAME."""
    root = Path(__file__).resolve().parents[2]
    (tmp / name).write_bytes((root / source).read_bytes())


def text(tmp: Path, name: str, *words: str) -> None:
    """A small file holding WORDS (its directory made as needed)."""
    (tmp / name).parent.mkdir(parents=True, exist_ok=True)
    (tmp / name).write_text(" ".join(words) + "\n")


def _still(path: Path, test, what: str, follow: bool = True):
    def check():
        st = os.stat(path) if follow else os.lstat(path)
        return None if test(st.st_mode) else f"{path.name} is no longer a {what}"

    return check


SETUPS = {"fifo": fifo, "chardev": chardev, "symlink": symlink, "copy": copy, "text": text}
