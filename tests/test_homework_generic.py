"""cnncalc run for every layer type: the dedicated step-by-step handlers, and the generic step
through a layer's executor kernel for a type that has none (a new layer is one module plus its
kernel; its homework handler is optional). The generic step is checked against every dedicated
handler (exact numbers), and a throwaway layer type registered only here runs in analyze,
verify and run."""

import json

import numpy as np
import pytest
import yaml

from cnncalc import records
from cnncalc.analysis import analyze
from cnncalc.cli import main
from cnncalc.executor.kernel import KERNELS, Kernel, kernel_for
from cnncalc.homework import steps, worked
from cnncalc.homework.generic import NOTE
from cnncalc.homework.worked import load_and_run
from cnncalc.layers.base import REGISTRY, Layer, Params, numel
from cnncalc.layers.fields import record
from cnncalc.spec import parse_spec
from cnncalc.yamlio import load_file

X2 = ("values:\n  - [[1, -2, 3, 0.5], [2, 4, -1, 1.5], [0, 3, 2.5, -3], [1.25, -0.5, 5, 2]]\n"
      "  - [[-1, 0.25, 2, 1], [3, -2.5, 0.75, 4], [1.5, 2, -1, 0], [6, 1, -0.25, 3.5]]\n")
X4 = ("values:\n" + "".join(f"  - [[{c + 1}, {-c}, 2], [0.5, {c}, -1], [3, 1, {c - 2}]]\n" for c in range(4)))
X222 = "values:\n  - [[1, -2], [3, 0.5]]\n  - [[-1, 2], [0.25, 4]]\n"
X33 = "values: [[1, 2, 3], [4, -5, 6], [7, 8, -9]]\n"
BRANCHES = "  - relu: {}\n    name: a\n  - sigmoid: {}\n    name: b\n    inputs: input\n"

#: A small example per layer type that needs fields or numbers (the last layer is the one under
#: test); every other type runs as "- <type>" on X2.
EXAMPLES = {
    "adaptive_avg_pool": (X2, "  - adaptive_avg_pool: {output_size: 3}\n"),
    "adaptive_max_pool": (X2, "  - adaptive_max_pool: {output_size: 3}\n"),
    "add": (X2, BRANCHES + "  - add: {}\n    inputs: [a, b]\n"),
    "concat": (X2, BRANCHES + "  - concat: {}\n    inputs: [a, b]\n"),
    "multiply": (X2, BRANCHES + "  - multiply: {}\n    inputs: [a, b]\n"),
    "avg_pool": (X2, "  - avg_pool: {kernel_size: 3, stride: 1}\n"),
    "max_pool": (X2, "  - max_pool: {kernel_size: 2, stride: 1}\n"),
    "lp_pool": (X2, "  - lp_pool: {kernel_size: 2, norm_type: 2}\n"),
    "kmax_pool": (X2, "  - kmax_pool: {k: 2}\n"),
    "batch_norm": (X2, "  - batch_norm: {}\n    weights: [2, 0.5]\n    biases: [0, 1]\n"),
    "group_norm": (X2, "  - group_norm: {num_groups: 1}\n    weights: [2, 0.5]\n    biases: [0, 1]\n"),
    "layer_norm": (X2, "  - layer_norm: {}\n    weights: [-1, 3]\n    biases: [0.5, 0]\n"),
    "layer_scale": (X2, "  - layer_scale: {}\n    weights: [2, -3]\n"),
    "channel_shuffle": (X2, "  - channel_shuffle: {groups: 2}\n"),
    "pixel_shuffle": (X4, "  - pixel_shuffle: {upscale_factor: 2}\n"),
    "pixel_unshuffle": (X2, "  - pixel_unshuffle: {downscale_factor: 2}\n"),
    "split": (X2, "  - split: {split_size_or_sections: 1}\n"),
    "slice": (X2, "  - slice: {dim: 1, start: 1, stop: 3}\n"),
    "conv": (X2, "  - conv: {out_channels: 1, kernel_size: 2}\n"
                 "    weights: [[[[1, 0], [0, 1]], [[1, 1], [0, -2]]]]\n    biases: [1]\n"),
    "conv_transpose": (X2, "  - conv_transpose: {out_channels: 1, kernel_size: 2, stride: 2, bias: false}\n"
                           "    weights: [[[[1, 0], [0, 1]]], [[[1, 1], [0, -2]]]]\n"),
    "locally_connected": (X33, "  - locally_connected: {out_channels: 1, kernel_size: 2, bias: false}\n"
                               "    weights: [[[[1, 0], [0, 1]], [[0, 1], [1, 0]]], [[[1, 1], [0, 0]], "
                               "[[0, 0], [1, 1]]]]\n"),
    "dense": (X222, "  - flatten\n  - dense: {out_features: 2}\n"
                    "    weights: [[1, 0, 1, 0, 1, 0, 1, 0], [0, 1, 0, -1, 0, 1, 0, 2]]\n    biases: [0.5, 0]\n"),
    "crop": (X2, "  - crop: {cropping: 1}\n"),
    "zero_pad": (X2, "  - zero_pad: {padding: 1}\n"),
    "dropout": (X2, "  - dropout: {p: 0}\n"),  # the executor's training pass draws masks; p = 0 keeps all
    "stochastic_depth": (X2, "  - stochastic_depth: {p: 0}\n"),
    "max_unpool": (X2, "  - max_pool: {kernel_size: 2}\n    name: p\n  - max_unpool: {pool: p}\n"),
    "upsample": (X2, "  - upsample: {scale_factor: 2, mode: bilinear}\n"),
}
#: Kernels that read another layer's state (max_unpool takes its pool's switches from the pool's kernel).
NEEDS_PEERS = {"max_unpool"}


def status(*args):
    with pytest.raises(SystemExit) as info:
        main(list(map(str, args)))
    return info.value.code


def spec_text(type_name, spec_file):
    """The example of a type, with a grad_output: shaped like its output (a vector after flatten or dense)."""
    values, layers = EXAMPLES.get(type_name, (X2, f"  - {type_name}\n"))
    text = values + "layers:\n" + layers
    out = list(load_and_run(spec_file(text)).outputs.values())[-1]
    n = len(out) * len(out[0]) * len(out[0][0])
    grad = [((7 * k) % 5) - 2 + k / 8 for k in range(n)]
    v = yaml.safe_load(text)["values"]
    in_shape = (len(v), len(v[0]), len(v[0][0])) if isinstance(v[0][0], list) else (1, len(v), len(v[0]))
    shape = analyze(parse_spec(load_file(spec_file(text)), "spec.yaml", in_shape)).layers[-1].output_shape
    if len(shape) != 1:
        c, h, w = len(out), len(out[0]), len(out[0][0])
        grad = [[grad[(ch * h + i) * w:(ch * h + i + 1) * w] for i in range(h)] for ch in range(c)]
    return text + f"grad_output: {grad}\n"


def floats(t):
    return np.array([float(v) for ch in t for row in ch for v in row])


@pytest.mark.parametrize("type_name", sorted(REGISTRY))
def test_every_layer_type_runs_forward_and_backward(type_name, spec_file, capsys):
    required = [f.name for f in records.fields(REGISTRY[type_name])
                if f.default is records.MISSING and f.default_factory is records.MISSING]
    assert type_name in EXAMPLES or not required, f"give {type_name} ({', '.join(required)}) an example in EXAMPLES"
    path = spec_file(spec_text(type_name, spec_file))
    run = load_and_run(path, backward=True)
    assert run.blocks[0].heading.startswith("input X: " + "×".join(map(str, worked.shape_of(run.input_grad))))
    assert "backward through 1. " in "\n".join(worked.render(run))
    assert status("run", path, "--backward") == 0
    out = capsys.readouterr().out
    assert "Traceback" not in out and list(run.outputs)[-1] in out


@pytest.mark.parametrize("type_name", sorted(set(REGISTRY) - NEEDS_PEERS))
def test_the_generic_step_agrees_with_the_dedicated_handler(type_name, spec_file, monkeypatch):
    path = spec_file(spec_text(type_name, spec_file))
    dedicated = load_and_run(path, backward=True)
    monkeypatch.delitem(steps.HANDLERS, type_name, raising=False)
    monkeypatch.setattr(worked, "SUPPORTED", tuple(t for t in worked.SUPPORTED if t != type_name))
    generic = load_and_run(path, backward=True)
    assert any(NOTE in item[1] for b in generic.blocks for item in b.items if item[0] == "text")
    name = list(dedicated.outputs)[-1]
    np.testing.assert_allclose(floats(generic.outputs[name]), floats(dedicated.outputs[name]), atol=2e-6)
    np.testing.assert_allclose(floats(generic.input_grad), floats(dedicated.input_grad), atol=1e-5)


# -- a layer type that exists only in this test: one module-like class and its kernel --------------------------


@record
class Square(Layer):
    """y = γ_c·x², one trainable γ per channel."""

    type_name = "test_square"
    family = "activation"
    summary = "γ_c·x², a learned scale of the square (a layer type registered only by this test)."
    formulas = {"shape": "unchanged", "params": "C (γ)", "macs": "2 per value", "rf": "unchanged"}

    def params(self, xs):
        return Params(xs[0][0])

    def macs(self, xs, y):
        return 2 * numel(y)


class SquareKernel(Kernel):
    counts_multiplications = True

    def setup(self):
        c = self.in_shapes[0][0]
        self.cshape = (c,) + (1,) * (len(self.in_shapes[0]) - 1)
        self.weight = self.param("weight", (c,), init="one")

    def forward(self, x):
        self.save(x=x)
        return self.multiply(self.multiply(x, x), self.weight.reshape(self.cshape))

    def backward(self, dy):
        x = self.saved["x"]
        self.grads["weight"] = (dy * x * x).sum(axis=(0, *range(2, dy.ndim)))
        return (2 * dy * x * self.weight.reshape(self.cshape),)


@pytest.fixture
def square(monkeypatch):
    kernel_for(REGISTRY["relu"]())  # (registers the shipped kernels first)
    monkeypatch.setitem(REGISTRY, "test_square", Square)  # removed again after the test
    monkeypatch.setitem(KERNELS, "test_square", SquareKernel)
    assert "test_square" not in steps.HANDLERS  # no homework handler: only the module and the kernel


SQUARE = """\
input: [2, 2, 2]
values:
  - [[1, 2], [3, -1]]
  - [[0.5, 0], [-2, 4]]
layers:
  - test_square: {}
    weights: [2, -1]
  - test_square: {}
    name: again
grad_output:
  - [[1, 0], [0, 1]]
  - [[1, 1], [0, 0]]
"""


def test_a_layer_with_only_a_module_and_a_kernel_works_in_analyze_verify_and_run(square, spec_file, capsys):
    path = spec_file(SQUARE)
    assert status("analyze", path, "--format", "json") == 0
    layer = json.loads(capsys.readouterr().out)["layers"][0]
    assert (layer["type"], layer["params"]["trainable"], layer["macs"]) == ("test_square", 2, 16)  # C; 2 per value
    assert status("verify", spec_file("input: [2, 5, 5]\nlayers:\n  - conv: {out_channels: 3, kernel_size: 2}\n"
                                      "  - test_square\n  - relu\n", "net.yaml"), "--gradcheck", "-q") == 0
    capsys.readouterr()

    run = load_and_run(path, backward=True)
    # y = γ_c·x²: channel 1 γ = 2, channel 2 γ = −1 (from weights:)
    assert floats(run.outputs["test_square1"]).tolist() == [2, 8, 18, 2, -0.25, 0, -4, -16]
    g = run.outputs["again"]  # γ not given: the kernel's seeded draw, rounded to 2 decimals and printed
    assert status("run", path, "--backward") == 0
    out = capsys.readouterr().out
    assert NOTE in out and "weight (2): from 'weights:'" in out and "weight (2): not given" in out
    assert "again (≈)" in out and "δweight (≈)" in out
    # by hand, through the second layer: δ(test_square1) = 2·γ'·y1·δy with γ' its printed draw
    gamma = [float(v) for v in _printed_row(out, "weight", 2)]
    y1 = floats(run.outputs["test_square1"]).reshape(2, 2, 2)
    dy = np.array([[[1, 0], [0, 1]], [[1, 1], [0, 0]]], dtype=float)
    np.testing.assert_allclose(floats(g), (np.array(gamma)[:, None, None] * y1 ** 2).ravel(), atol=1e-6)
    d1 = 2 * dy * y1 * np.array(gamma)[:, None, None]
    x = np.array([[[1, 2], [3, -1]], [[0.5, 0], [-2, 4]]])
    np.testing.assert_allclose(floats(run.input_grad), (2 * d1 * x * np.array([2, -1])[:, None, None]).ravel(),
                               atol=1e-5)
    assert status("run", path, "--matrix") == 2
    err = capsys.readouterr().err
    assert "--matrix" in err and "cnncalc run --help" in err and "spec.yaml:" in err and "Traceback" not in err


def test_a_kernel_that_reads_another_layers_kernel_is_refused_with_a_message(spec_file, monkeypatch, capsys):
    monkeypatch.delitem(steps.HANDLERS, "max_unpool")
    values, layers = EXAMPLES["max_unpool"]
    assert status("run", spec_file(values + "layers:\n" + layers)) == 2
    err = capsys.readouterr().err
    assert "reads the state of layer 'p'" in err and "spec.yaml:" in err and "Traceback" not in err


def _printed_row(out, title, index):
    """The values of the ``index``-th grid titled ``title`` (a one-row grid)."""
    lines = out.splitlines()
    at = [k for k, line in enumerate(lines) if line.strip() == f"{title}:"][index - 1]
    return [v.replace("−", "-") for v in lines[at + 2].split()]


def test_bad_numbers_for_a_generic_layer_name_the_field(square, spec_file, capsys):
    text = SQUARE.replace("weights: [2, -1]", "weights: [2, -1, 3]")
    assert status("run", spec_file(text)) == 2
    err = capsys.readouterr().err
    assert "'weights' has 3 numbers, but this layer's weight is 2 (2 numbers" in err and "spec.yaml:7:" in err
    text = SQUARE.replace("weights: [2, -1]", "biases: [2, -1]")
    assert status("run", spec_file(text)) == 2
    assert "'biases' is given, but this layer has no parameter 'bias'" in capsys.readouterr().err
