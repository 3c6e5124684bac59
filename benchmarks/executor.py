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
throughput, peak ≤ 1.25 × estimate.
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


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nets", nargs="+", default=["vgg16", "resnet50"])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    matmul = MatmulReference()
    for _ in range(3):
        matmul.sample()
    print(f"threads: {threads} · load average {os.getloadavg()[0]:.1f}")
    print(f"{'net':10} {'numpy s':>8} {'torch s':>8} {'ratio':>6} {'GFLOP/s':>8} {'of matmul':>9} "
          f"{'peak':>9} {'estimate':>9} {'peak/est':>8}")
    for name in args.nets:
        ours, theirs, products, peak, estimate = bench(name, args.repeat, threads, not args.no_torch, matmul)
        gflops = 2 * products / ours / 1e9
        peak_gflops = matmul.best
        ratio = f"{ours / theirs:6.2f}" if theirs else "     —"
        torch_s = f"{theirs:8.3f}" if theirs else "       —"
        print(f"{name:10} {ours:8.3f} {torch_s} {ratio} {gflops:8.1f} {gflops / peak_gflops:9.0%} "
              f"{peak / 2**20:7.0f}Mi {estimate / 2**20:7.0f}Mi {peak / estimate:8.2f}")
    print(f"numpy 4096×4096 float32 matmul: {matmul.best:.1f} GFLOP/s (best of the run, timed between passes)")
    print("ratio = numpy executor time / torch time (same threads, alternating passes, best of each); GFLOP/s "
          "from the products the kernels counted in forward and backward (the network input's gradient is "
          "not computed, as in torch); of matmul = that over the matmul's best; peak = tracemalloc peak of "
          "one numpy pass with parameters and gradients; estimate = analyze's training memory (sgd).")


if __name__ == "__main__":
    main()
