"""Peak memory of `cnncalc verify --gradcheck` against its printed estimate.

    python benchmarks/verify_memory.py                 # VGG-16 at 32×32 (the issue's case)
    python benchmarks/verify_memory.py lenet5 1,32,32

Runs the command in a fresh process and reports its peak resident set size
(getrusage of the child), the estimate the command printed, and the time.
Measured on the 2-core development machine: VGG-16 at 32×32, estimate 1.727 GiB,
peak RSS 1.66 GiB, 21.9 s; with the former float64 copy of the network it peaked
at 6.86 GiB (20.3 s).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> None:
    spec = argv[0] if argv else "vgg16"
    shape = argv[1] if len(argv) > 1 else "3,32,32"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "verify", spec, "--input", shape, "--gradcheck", "-q"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    estimate = re.search(r"estimated peak ([^(]+) \(at layer '([^']+)'\)", proc.stderr)
    print(f"verify {spec} --input {shape} --gradcheck: exit {proc.returncode}, {seconds:.1f} s")
    print(f"  printed estimate: {estimate.group(1).strip() + ' at ' + estimate.group(2) if estimate else 'none'}")
    print(f"  peak RSS: {peak / 2**30:.2f} GiB ({peak:,} bytes)")


if __name__ == "__main__":
    main(sys.argv[1:])
