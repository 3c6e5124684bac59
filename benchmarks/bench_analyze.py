"""Wall-clock benchmark of ``cnncalc analyze`` as a whole process.

Run:  python benchmarks/bench_analyze.py [--repeat 7] [--sizes 1000,5000,10000,20000]

It times, as separate processes, with stdout a pipe (not a terminal):

* references measured in the same run: ``python -c pass`` (interpreter start)
  and ``python -c "import rich.table"`` (the table library alone);
* ``cnncalc analyze specs/vgg16.yaml`` (target: < 150 ms wall);
* a generated spec of 10,000 explicit layer entries, in every output format
  (target: < 1 s), and 1k/5k/10k/20k layers to show the cost is linear.

Each figure is the median of ``--repeat`` runs, printed with its ratio to the
references, so that a slower or busier machine shows in the references too.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("table", "json", "csv", "markdown")


def cnncalc_command() -> list[str]:
    """The installed console script beside this interpreter, else ``-m cnncalc``."""
    script = Path(sys.executable).with_name("cnncalc")
    if script.exists():
        return [str(script)]
    found = shutil.which("cnncalc")
    return [found] if found else [sys.executable, "-m", "cnncalc"]


#: the child's environment: no forced width or colour, and bytecode caching on
#: (an installed cnncalc has its .pyc files; PYTHONDONTWRITEBYTECODE would make
#: every run recompile every module)
ENV = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "FORCE_COLOR", "PYTHONDONTWRITEBYTECODE")}
CPU: dict[tuple, float] = {}  # argv -> median CPU seconds (user + system) of the child


def wall(argv: list[str], repeat: int) -> float:
    """Median wall time in seconds of running ``argv`` to completion (after
    one unmeasured warm-up run); the median CPU time goes to ``CPU``."""
    times, cpus = [], []
    for i in range(repeat + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode()}")
        if i:
            times.append(elapsed)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    CPU[tuple(argv)] = statistics.median(cpus)
    return statistics.median(times)


def cpu(argv: list[str]) -> str:
    return f"cpu {CPU[tuple(argv)] * 1000:6.1f} ms"


def generated_spec(n_layers: int) -> str:
    """A plain chain of ``n_layers`` explicit entries (no repeat: the YAML
    holds every entry), cycling through conv / batch norm / ReLU / pooling
    that keep the shape, so any depth is valid."""
    cycle = [
        "  - conv: {out_channels: 16, kernel_size: 3, padding: same}",
        "  - batch_norm",
        "  - relu",
        "  - conv: {out_channels: 16, kernel_size: [1, 3], padding: [0, 1], bias: false}",
        "  - max_pool: {kernel_size: 3, stride: 1, padding: 1}",
    ]
    lines = [f"name: chain{n_layers}", "input: [16, 32, 32]", "layers:"]
    lines += [cycle[i % len(cycle)] for i in range(n_layers)]
    return "\n".join(lines) + "\n"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (median is reported)")
    parser.add_argument("--sizes", default="1000,5000,10000,20000", help="layer counts for the linearity check")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    cmd = cnncalc_command()
    print(f"python {sys.version.split()[0]} · {os.cpu_count()} cores · {args.repeat} runs per figure, median")
    print(f"cnncalc command: {' '.join(cmd)}\n")

    print(f"load average {os.getloadavg()[0]:.1f} (wall times on a busy machine grow; CPU times much less)\n")

    py_pass = [sys.executable, "-c", "pass"]
    py_rich = [sys.executable, "-c", "import rich.table"]
    python_start = wall(py_pass, args.repeat)
    rich_import = wall(py_rich, args.repeat)
    print("references")
    print(f"  python -c pass                      {ms(python_start)}   {cpu(py_pass)}")
    print(f"  python -c 'import rich.table'       {ms(rich_import)}   {cpu(py_rich)}")

    vgg_cmd = [*cmd, "analyze", str(ROOT / "specs" / "vgg16.yaml")]
    vgg = wall(vgg_cmd, args.repeat)
    print("\ncnncalc analyze specs/vgg16.yaml (table, stdout a pipe)")
    print(
        f"  {ms(vgg)}   {cpu(vgg_cmd)}   = {vgg / python_start:4.1f}× python start, "
        f"{vgg / rich_import:4.1f}× rich import   target < 150 ms: {'met' if vgg < 0.150 else 'MISSED'}"
    )
    for fmt in ("json", "csv", "markdown"):
        argv = [*vgg_cmd, "--format", fmt]
        t = wall(argv, args.repeat)
        print(f"  --format {fmt:<9} {ms(t)}   {cpu(argv)}")

    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in sorted({*sizes, 10_000}):
            paths[n] = Path(tmp) / f"chain{n}.yaml"
            paths[n].write_text(generated_spec(n))

        print("\n10,000 explicit layers, every format (target < 1 s)")
        for fmt in FORMATS:
            argv = [*cmd, "analyze", str(paths[10_000]), "--format", fmt]
            t = wall(argv, args.repeat)
            print(f"  --format {fmt:<9} {ms(t)}   {cpu(argv)}   {t / python_start:5.1f}× python start   "
                  f"{'met' if t < 1.0 else 'MISSED'}")

        print("\nlinearity (table format): CPU time, and the extra CPU time per extra layer from one size to the next")
        previous = None
        for n in sizes:
            argv = [*cmd, "analyze", str(paths[n])]
            t = wall(argv, max(3, args.repeat // 2))
            now = CPU[tuple(argv)]
            marginal = "" if previous is None else f"   {(now - previous[1]) / (n - previous[0]) * 1e6:6.1f} µs/layer from {previous[0]:,}"
            print(f"  {n:>6,} layers {ms(t)}   {cpu(argv)}{marginal}")
            previous = (n, now)
        print("  (linear: the same µs/layer between every pair of sizes; quadratic: it doubles with the size)")

if __name__ == "__main__":
    main()
