"""Time ``cnncalc analyze`` on the shipped graph specs as whole processes.

Prints, per spec, the best of a few runs (wall time, seconds) and the ratio
to VGG-16 (a 38-layer chain) measured in the same run, plus the in-process
time of load + analyse alone. The issue's target: each graph well under a
second as a process.

    python benchmarks/bench_graphs.py [--runs 5]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPECS = ["vgg16", "resnet18", "resnet50", "mobilenet_v2", "densenet121", "googlenet", "squeezenet1_0"]


def process_time(spec: str, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(ROOT / "specs" / f"{spec}.yaml"),
                        "--format", "json"], check=True, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - start)
    return best


def library_time(spec: str, runs: int) -> tuple[float, int]:
    from cnncalc import analyze_file

    best, nodes = float("inf"), 0
    for _ in range(runs):
        start = time.perf_counter()
        result = analyze_file(ROOT / "specs" / f"{spec}.yaml")
        best = min(best, time.perf_counter() - start)
        nodes = len(result.layers)
    return best, nodes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    reference = process_time("vgg16", args.runs)
    print(f"{'spec':<15}{'nodes':>7}{'process s':>11}{'× vgg16':>9}{'analyse s':>11}")
    for spec in SPECS:
        wall = reference if spec == "vgg16" else process_time(spec, args.runs)
        lib, nodes = library_time(spec, args.runs)
        print(f"{spec:<15}{nodes:>7}{wall:>11.3f}{wall / reference:>9.2f}{lib:>11.4f}")


if __name__ == "__main__":
    main()
