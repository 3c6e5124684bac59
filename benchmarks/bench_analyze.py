"""``cnncalc analyze`` as a whole process, every target of issue 20 with its
ratio to references measured in the same run.

Run:  python benchmarks/bench_analyze.py [--repeat 7] [--reference-runs 3] [--quick]

Every command runs as a separate process with stdout a pipe (not a
terminal); each figure is the median of ``--repeat`` runs after one unmeasured
warm-up, wall time and the child's CPU time (user + system) side by side. The
machine is shared, so the references are measured in the same run, between
the targets, and every target is printed as a ratio to them. A target and its
references run in alternation (pass, import re, VGG-16, torchinfo, pass, …), so
a drift of the machine's speed touches both alike:

* ``python -c pass`` (the interpreter's own start, the floor of any Python CLI)
  and a Python process running ``torchinfo.summary`` on the same VGG-16 built
  in plain torch (skipped when torch or torchinfo is not installed);
* ``cnncalc analyze specs/vgg16.yaml``: ≥ 50× faster than torchinfo (wall
  time, as a user waits for it), ≤ 3× python (CPU time: a start of a few
  milliseconds is at the mercy of the scheduler on a busy machine, its CPU
  time much less);
* ``cnncalc --help`` and ``cnncalc --version``: ≤ 2× python (CPU time);
* the same with no bytecode cache (every module compiled from source, as on
  a first run from a source checkout): printed, with its ratio;
* generated chains of 10,000 layers in every format (≤ 0.5 s CPU) and of
  50,000 (≤ 2.5 s CPU), and the CPU cost per layer from 1,000 to 50,000
  layers, flat within ±15% (per layer: the CPU time above that of the same
  command on the five-layer spec of one cycle of the chain, divided by the
  extra layers). Specs of
  20,000 layers and more exceed the default safety limits on file size, YAML
  values and layers (README, "Limits"); those runs raise the three limits.

The last lines list every target as met or MISSED with the run's load average.
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
    """The installed console script beside this interpreter, else the
    entry point run the way the console script runs it (``cnncalc.cli:main``)."""
    script = Path(sys.executable).with_name("cnncalc")
    if script.exists():
        return [str(script)]
    found = shutil.which("cnncalc")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from cnncalc.cli import main; sys.exit(main())"]


#: the child's environment: no forced width or colour, bytecode caching on
#: (an installed cnncalc has its .pyc files; PYTHONDONTWRITEBYTECODE would make
#: every run recompile every module), and cnncalc importable from this checkout
ENV = {k: v for k, v in os.environ.items()
       if k not in ("COLUMNS", "FORCE_COLOR", "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
ENV["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
#: a 50,000-layer chain is 2.2 MB, ~320,000 YAML values and 50,000 layers, over
#: the default safety limits (2 MiB, 250,000 values, 25,000 layers; README
#: "Limits"): those runs raise the three limits
BIG_ENV = {**ENV, "CNNCALC_MAX_SPEC_BYTES": str(16 * 2**20), "CNNCALC_MAX_YAML_NODES": str(2_000_000),
           "CNNCALC_MAX_LAYERS": str(100_000)}


class Timing:
    def __init__(self, wall: float, cpu: float):
        self.wall, self.cpu = wall, cpu

    def __str__(self) -> str:
        return f"{self.wall * 1000:8.1f} ms wall  {self.cpu * 1000:8.1f} ms cpu"


def run_once(argv: list[str], env: dict | None = None, cold: bool = False) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv``. ``cold``: with an empty
    bytecode cache of its own."""
    child_env = dict(env or ENV)
    scratch = None
    if cold:
        scratch = tempfile.mkdtemp(prefix="cnncalc-pyc-")
        child_env.update(PYTHONPYCACHEPREFIX=scratch, PYTHONDONTWRITEBYTECODE="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=child_env, cwd=ROOT)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if scratch:
        shutil.rmtree(scratch, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr.decode()[-2000:]}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def measure(argv: list[str], repeat: int, env: dict | None = None, cold: bool = False) -> Timing:
    """Median wall and CPU time of running ``argv`` (after one unmeasured
    run). ``cold``: every run with an empty bytecode cache of its own."""
    return measure_together((argv, repeat), env=env, cold=cold)[0]


def measure_together(*commands: tuple[list[str], int], env: dict | None = None, cold: bool = False) -> list[Timing]:
    """Each ``(argv, repeat)``'s median, the commands run in alternation (one
    unmeasured round first): the shared machine's speed drifts within minutes,
    and a drift then touches a target and its reference alike, so their ratio
    holds where figures taken a minute apart would not."""
    samples: list[tuple[list[float], list[float]]] = [([], []) for _ in commands]
    for i in range(max(repeat for _, repeat in commands) + 1):
        for (argv, repeat), (walls, cpus) in zip(commands, samples):
            if i > repeat:
                continue
            wall, cpu = run_once(argv, env, cold)
            if i:
                walls.append(wall)
                cpus.append(cpu)
    return [Timing(statistics.median(walls), statistics.median(cpus)) for walls, cpus in samples]


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


TORCHINFO_VGG16 = """
import sys
sys.path.insert(0, {tests!r})
import torchinfo
from torch_nets import vgg
torchinfo.summary(vgg("vgg16"), input_size=(1, 3, 224, 224), device="cpu", verbose=1)
"""


def have(*modules: str) -> bool:
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in modules)


class Report:
    def __init__(self):
        self.targets: list[tuple[str, str, bool]] = []

    def target(self, what: str, detail: str, met: bool) -> str:
        self.targets.append((what, detail, met))
        return f"{detail}   {'met' if met else 'MISSED'}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7, help="runs per figure (the median is reported)")
    parser.add_argument("--reference-runs", type=int, default=3, help="runs of the (slow) torchinfo reference")
    parser.add_argument("--sizes", default="1000,5000,10000,20000,50000", help="layer counts for the per-layer cost")
    parser.add_argument("--quick", action="store_true", help="fewer runs and sizes (a smoke test of the script)")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.reference_runs, args.sizes = 2, 1, "1000,10000"
    sizes = sorted({int(s) for s in args.sizes.split(",")})
    big = max(sizes)
    cmd = cnncalc_command()
    report = Report()
    load_start = os.getloadavg()
    print(f"python {sys.version.split()[0]} · {os.cpu_count()} cores · load average {load_start[0]:.2f} "
          f"{load_start[1]:.2f} {load_start[2]:.2f} · {args.repeat} runs per figure, median")
    print(f"cnncalc command: {' '.join(cmd)}\n")

    py_pass = [sys.executable, "-c", "pass"]
    vgg_cmd = [*cmd, "analyze", "specs/vgg16.yaml"]
    # VGG-16 and its references in alternation: python -c pass, import re, cnncalc (and torchinfo) in turn
    together = [(py_pass, args.repeat), ([sys.executable, "-c", "import re"], args.repeat), (vgg_cmd, args.repeat)]
    with_torchinfo = have("torch", "torchinfo")
    if with_torchinfo:
        together.append(([sys.executable, "-c", TORCHINFO_VGG16.format(tests=str(ROOT / "tests"))],
                          args.reference_runs))
    python, launcher, vgg, *rest = measure_together(*together)
    torchinfo = rest[0] if rest else None
    print("references (each run in turn with cnncalc's: python -c pass, import re, VGG-16, torchinfo)")
    print(f"  python -c pass                         {python}")
    print(f"  python -c 'import re'                  {launcher}   (what pip's console-script wrapper "
          "imports before cnncalc)")
    if torchinfo is not None:
        print(f"  torchinfo.summary(VGG-16), a process   {torchinfo}   ({args.reference_runs} runs)")
    else:
        print("  torchinfo.summary(VGG-16): torch or torchinfo not installed, skipped")
    print("\ncnncalc analyze specs/vgg16.yaml (table, stdout a pipe)")
    print(f"  {vgg}")
    if torchinfo is not None:
        ratio = torchinfo.wall / vgg.wall
        print("  " + report.target("VGG-16 ≥ 50× faster than torchinfo",
                                   f"torchinfo / cnncalc = {ratio:5.1f}× wall ({torchinfo.cpu / vgg.cpu:.1f}× cpu)   "
                                   "target ≥ 50×", ratio >= 50))
    ratio = vgg.cpu / python.cpu
    print("  " + report.target("VGG-16 ≤ 3× python -c pass",
                               f"cnncalc / python = {ratio:5.1f}× cpu ({vgg.wall / python.wall:.1f}× wall)   target ≤ 3×",
                               ratio <= 3))
    for fmt in FORMATS[1:]:
        print(f"  --format {fmt:<9} {measure([*vgg_cmd, '--format', fmt], args.repeat)}")

    print("\ncnncalc --help and --version (each run in turn with python -c pass)")
    help_t, version_t, python_again = measure_together(([*cmd, "--help"], args.repeat),
                                                       ([*cmd, "--version"], args.repeat), (py_pass, args.repeat))
    print(f"  python -c pass {python_again}")
    for flag, t in (("--help", help_t), ("--version", version_t)):
        ratio = t.cpu / python_again.cpu
        print(f"  {flag:<10} {t}   " + report.target(f"{flag} ≤ 2× python -c pass",
                                                       f"{ratio:4.1f}× python (cpu)   target ≤ 2×", ratio <= 2))

    print("\nno bytecode cache (every module compiled from source in every run; python -c pass likewise)")
    cold_python, cold_vgg = measure_together((py_pass, args.repeat), (vgg_cmd, args.repeat), cold=True)
    print(f"  python -c pass                         {cold_python}")
    print(f"  cnncalc analyze specs/vgg16.yaml       {cold_vgg}   {cold_vgg.cpu / cold_python.cpu:4.1f}× python (cpu)"
          + (f", torchinfo / cnncalc {torchinfo.wall / cold_vgg.wall:5.1f}×" if torchinfo is not None else ""))
    for flag in ("--help", "--version"):
        t = measure([*cmd, flag], args.repeat, cold=True)
        print(f"  cnncalc {flag:<10}                     {t}   {t.cpu / cold_python.cpu:4.1f}× python (cpu)")

    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for n in sorted({5, *sizes, 10_000}):
            paths[n] = Path(tmp) / f"chain{n}.yaml"
            paths[n].write_text(generated_spec(n))

        print("\n10,000 explicit layers, every format (target ≤ 0.5 s cpu)")
        for fmt in FORMATS:
            t = measure([*cmd, "analyze", str(paths[10_000]), "--format", fmt], args.repeat)
            print(f"  --format {fmt:<9} {t}   " + report.target(
                f"10,000 layers as {fmt} ≤ 0.5 s", f"{t.cpu / 0.5:4.2f}× the target", t.cpu <= 0.5))

        print(f"\n{big:,} explicit layers, every format (target ≤ {big / 20_000:.1f} s cpu)" if big != 50_000
              else "\n50,000 explicit layers, every format (target ≤ 2.5 s cpu)")
        limit = big / 20_000
        big_runs = max(1, min(3, args.repeat))
        for fmt in FORMATS:
            t = measure([*cmd, "analyze", str(paths[big]), "--format", fmt], big_runs, env=BIG_ENV)
            print(f"  --format {fmt:<9} {t}   " + report.target(
                f"{big:,} layers as {fmt} ≤ {limit:.1f} s", f"{t.cpu / limit:4.2f}× the target", t.cpu <= limit))

        print("\ncpu per layer: (cpu of n layers − cpu of the 5-layer spec of one cycle) / (n − 5), per format; "
              "target flat within ±15%")
        runs = max(1, min(3, args.repeat))
        for fmt in FORMATS:
            # the baseline has every layer type of the chain, so the import of each family is not counted per layer;
            # small sizes get more runs: a few ms of noise is several µs per layer at 1,000 layers
            base = measure([*cmd, "analyze", str(paths[5]), "--format", fmt], 3 * args.repeat, env=BIG_ENV).cpu
            per = {}
            for n in sizes:
                repeat = runs if n >= 20_000 else args.repeat if n >= 10_000 else 3 * args.repeat
                t = measure([*cmd, "analyze", str(paths[n]), "--format", fmt], repeat, env=BIG_ENV)
                per[n] = (t.cpu - base) / (n - 5)
            middle = statistics.median(per.values())
            spread = max(abs(v / middle - 1) for v in per.values())
            cells = "  ".join(f"{n // 1000}k {v * 1e6:5.1f}" for n, v in per.items())
            print(f"  {fmt:<9} µs/layer  {cells}   " + report.target(
                f"per-layer cost flat ({fmt})", f"±{spread * 100:.0f}% of the median", spread <= 0.15))

    load_end = os.getloadavg()
    met = sum(m for _, _, m in report.targets)
    print(f"\nsummary: {met} of {len(report.targets)} targets met; load average at the end {load_end[0]:.2f} "
          f"{load_end[1]:.2f} {load_end[2]:.2f}")
    for what, detail, ok in report.targets:
        print(f"  {'met   ' if ok else 'MISSED'}  {what}: {detail}")


if __name__ == "__main__":
    main()
