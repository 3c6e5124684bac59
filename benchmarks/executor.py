"""Speed and memory of the numpy executor against torch, in the same run.

    python benchmarks/executor.py                 # VGG-16 and ResNet-50, batch 1, 224×224, float32
    python benchmarks/executor.py --repeat 5 --nets resnet50

For each network: one forward+backward pass (best of --repeat) with cnncalc's
executor and with torch (same thread count, torch.nn.functional with the same
weights; the two alternate pass by pass), the ratio, the GFLOP/s achieved
(2 × the products the kernels counted, forward and backward), that as a
fraction of numpy's own 4096×4096 float32 matmul throughput (timed between
the passes, the best of the run), and the peak memory of the numpy
pass (tracemalloc, which numpy reports its buffers to) against cnncalc's
training-memory estimate. Targets (issue 5): ratio ≤ 1.0, ≥ 50% of matmul
throughput, peak ≤ 1.25 × estimate; issue 20: ResNet-50 ≥ 65% of matmul and
≤ 0.8× torch. The header names the BLAS, its OpenBLAS core type and threads.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from cnncalc import analyze_file  # noqa: E402
from cnncalc.executor.network import Network  # noqa: E402


class MatmulReference:
    """numpy's own n×n float32 matmul, timed between the passes of the
    networks too, so that its best throughput is measured under the same
    conditions; every fraction is taken of the best over the whole run."""

    def __init__(self, n: int = 4096):
        rng = np.random.default_rng(0)
        self.n = n
        self.a = rng.standard_normal((n, n), dtype=np.float32)
        self.b = rng.standard_normal((n, n), dtype=np.float32)
        self.a @ self.b
        self.best = 0.0

    def sample(self) -> float:
        self.best = max(self.best, 2 * self.n**3 / _time(lambda: self.a @ self.b) / 1e9)
        return self.best


def blas_info() -> str:
    """The BLAS numpy calls: library, OpenBLAS core type and thread count (from
    threadpoolctl when installed, else from the library itself through ctypes),
    and the environment variables that change them. OPENBLAS_CORETYPE picks
    the kernels (a wrong one can halve sgemm), OPENBLAS_L2_SIZE their blocking."""
    env = ", ".join(f"{k}={os.environ[k]}" for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                                                     "OMP_NUM_THREADS") if k in os.environ) or "none set"
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        threadpool_info = None
    if threadpool_info is not None:
        for pool in threadpool_info():
            if pool.get("internal_api") == "openblas":
                return (f"BLAS: {Path(pool['filepath']).name} {pool.get('version')} · core {pool.get('architecture')} "
                        f"· {pool['num_threads']} threads (threadpoolctl) · env: {env}")
    import ctypes

    try:
        with open("/proc/self/maps") as maps:
            paths = sorted({line.split()[-1] for line in maps if "openblas" in line.lower() and "/" in line})
    except OSError:
        paths = []
    for path in paths:
        lib = ctypes.CDLL(path)
        found = {}
        for what, names in (("core", ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                                     "openblas_get_corename64_", "openblas_get_corename")),
                            ("threads", ("scipy_openblas_get_num_threads64_", "scipy_openblas_get_num_threads",
                                         "openblas_get_num_threads64_", "openblas_get_num_threads"))):
            for name in names:
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p if what == "core" else ctypes.c_int
                    value = fn()
                    found[what] = value.decode() if isinstance(value, bytes) else value
                    break
        if found:
            return (f"BLAS: {Path(path).name} · core {found.get('core', '?')} · {found.get('threads', '?')} threads "
                    f"(read from the library) · env: {env}")
    return f"BLAS: not OpenBLAS or not found ({np.__version__}) · env: {env}"


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def numpy_step(net, x, cot):
    net.forward(x)
    net.backward(cot, input_grad=False)  # a training step: torch's input has no requires_grad either


def bench(name: str, repeat: int, threads: int, with_torch: bool, matmul: MatmulReference):
    analysis = analyze_file(ROOT / "specs" / f"{name}.yaml", batch=1, dtype="float32")
    net = Network(analysis, dtype="float32", seed=0)
    x = net.random_input()
    cot = net.loss_weights()
    for k in net.kernels.values():
        k.products = {"forward": 0, "backward": 0}
    numpy_step(net, x, cot)  # warm-up; also counts the products of one pass
    products = sum(sum(k.products.values()) for k in net.kernels.values())

    torch_step = None
    if with_torch:
        try:
            import torch
            from torch_executor import TorchRun
        except ImportError:
            pass
        else:
            torch.set_num_threads(threads)
            run = TorchRun(net, dtype=torch.float32)
            xt = torch.tensor(x)
            cots = {n: torch.tensor(c) for n, c in cot.items()}

            def torch_step():
                outs = run.forward(xt)
                sum((outs[n] * c).sum() for n, c in cots.items()).backward()

            torch_step()
    # interleaved, so a burst of load on this shared machine slows both sides alike
    ours, theirs = [], []
    for _ in range(repeat):
        ours.append(_time(lambda: numpy_step(net, x, cot)))
        if torch_step:
            theirs.append(_time(torch_step))
        matmul.sample()
    ours, theirs = min(ours), (min(theirs) if theirs else None)
    torch_step = run = None
    gc.collect()

    # peak memory of one numpy pass, parameters and gradients included
    del net
    gc.collect()
    tracemalloc.start()
    net = Network(analysis, dtype="float32", seed=0)
    numpy_step(net, x, cot)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    estimate = analysis.training_memory.total
    return ours, theirs, products, peak, estimate


def breakdown(name: str, repeat: int) -> None:
    """Where a numpy training step's time goes: per layer type and phase, the
    time in the kernels and, of it, in the BLAS products (Kernel.matmul and
    matmul_nt, which every convolution and dense kernel calls). The least of
    ``repeat`` passes per entry; the wrappers add a few µs per call."""
    from cnncalc.executor.kernel import Kernel

    analysis = analyze_file(ROOT / "specs" / f"{name}.yaml", batch=1, dtype="float32")
    net = Network(analysis, dtype="float32", seed=0)
    x, cot = net.random_input(), net.loss_weights()
    numpy_step(net, x, cot)
    spent: dict[tuple, float] = {}
    blas: dict[tuple, float] = {}
    where = [None]
    depth = [0]

    def timed(fn, key_of):
        def run(*args, **kwargs):
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                key = key_of()
                spent[key] = spent.get(key, 0.0) + time.perf_counter() - start
        return run

    originals = {m: getattr(Kernel, m) for m in ("matmul", "matmul_nt")}
    for method, fn in originals.items():
        def product(self, *args, _fn=fn, **kwargs):
            depth[0] += 1  # matmul_nt may call matmul: time the outer call only
            start = time.perf_counter()
            try:
                return _fn(self, *args, **kwargs)
            finally:
                depth[0] -= 1
                if not depth[0]:
                    blas[where[0]] = blas.get(where[0], 0.0) + time.perf_counter() - start
        setattr(Kernel, method, product)
    try:
        for node_name, kernel in net.kernels.items():
            type_name = analysis.graph[node_name].type_name
            for phase in ("forward", "backward"):
                def key_of(t=type_name, p=phase):
                    return (t, p)

                def enter(fn, t=type_name, p=phase):
                    def run(*args, **kwargs):
                        where[0] = (t, p)
                        return fn(*args, **kwargs)
                    return run
                setattr(kernel, phase, timed(enter(getattr(kernel, phase)), key_of))
        runs_spent, runs_blas, totals = [], [], []
        for _ in range(repeat):
            spent.clear()
            blas.clear()
            totals.append(_time(lambda: numpy_step(net, x, cot)))
            runs_spent.append(dict(spent))
            runs_blas.append(dict(blas))
    finally:
        for method, fn in originals.items():
            setattr(Kernel, method, fn)
    best = min(range(repeat), key=lambda i: totals[i])
    spent, blas, total = runs_spent[best], runs_blas[best], totals[best]
    print(f"\nwhere {name}'s step goes (the fastest of {repeat} passes, {total * 1000:.0f} ms):")
    print(f"  {'layer type':<14} {'phase':<9} {'ms':>7} {'of which BLAS':>14} {'share':>6}")
    for key in sorted(spent, key=spent.get, reverse=True):
        print(f"  {key[0]:<14} {key[1]:<9} {spent[key] * 1000:7.1f} {blas.get(key, 0.0) * 1000:14.1f} "
              f"{spent[key] / total:6.0%}")
    in_blas = sum(blas.values())
    print(f"  BLAS products {in_blas * 1000:.0f} ms ({in_blas / total:.0%}); the rest of the kernels "
          f"{(sum(spent.values()) - in_blas) * 1000:.0f} ms; outside the kernels {(total - sum(spent.values())) * 1000:.0f} ms")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nets", nargs="+", default=["vgg16", "resnet50"])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--breakdown", action="store_true", help="also print where each network's step goes")
    args = parser.parse_args(argv)
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    matmul = MatmulReference()
    for _ in range(3):
        matmul.sample()
    print(f"threads: {threads} · load average {os.getloadavg()[0]:.1f} · numpy {np.__version__}")
    print(blas_info())
    print(f"{'net':10} {'numpy s':>8} {'torch s':>8} {'ratio':>6} {'GFLOP/s':>8} {'of matmul':>9} "
          f"{'peak':>9} {'estimate':>9} {'peak/est':>8}")
    targets = []
    for name in args.nets:
        ours, theirs, products, peak, estimate = bench(name, args.repeat, threads, not args.no_torch, matmul)
        gflops = 2 * products / ours / 1e9
        peak_gflops = matmul.best
        ratio = f"{ours / theirs:6.2f}" if theirs else "     —"
        torch_s = f"{theirs:8.3f}" if theirs else "       —"
        print(f"{name:10} {ours:8.3f} {torch_s} {ratio} {gflops:8.1f} {gflops / peak_gflops:9.0%} "
              f"{peak / 2**20:7.0f}Mi {estimate / 2**20:7.0f}Mi {peak / estimate:8.2f}")
        targets.append((name, ours / theirs if theirs else None, gflops / peak_gflops, peak / estimate))
    print(f"numpy 4096×4096 float32 matmul: {matmul.best:.1f} GFLOP/s (best of the run, timed between passes)")
    print("ratio = numpy executor time / torch time (same threads, alternating passes, best of each); GFLOP/s "
          "from the products the kernels counted in forward and backward (the network input's gradient is "
          "not computed, as in torch); of matmul = that over the matmul's best; peak = tracemalloc peak of "
          "one numpy pass with parameters and gradients; estimate = analyze's training memory (sgd).")
    if args.breakdown:
        for name in args.nets:
            breakdown(name, args.repeat)
    def verdict(ok):
        return "met" if ok else "MISSED"

    for name, ratio, share, memory in targets:  # issue 5's targets, every network
        print(f"target {name} ≤ 1.0× torch: " + (f"{ratio:.2f}× {verdict(ratio <= 1.0)}" if ratio else "torch absent")
              + f"; ≥ 50% of matmul: {share:.0%} {verdict(share >= 0.50)}"
              + f"; peak ≤ 1.25× estimate: {memory:.2f}× {verdict(memory <= 1.25)}")
    for name, ratio, share, _ in targets:  # issue 20's targets are ResNet-50's
        if name != "resnet50":
            continue
        print(f"target ResNet-50 ≥ 65% of matmul: {share:.0%} {verdict(share >= 0.65)}; "
              f"≤ 0.8× torch: " + (f"{ratio:.2f}× {verdict(ratio <= 0.8)}" if ratio else "torch absent"))


if __name__ == "__main__":
    main()
