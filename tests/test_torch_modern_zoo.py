"""PyTorch as the oracle for the seven modern specs: each network is built in
plain torch as torchvision writes it (tests/torch_modern_nets.py), run once
on the meta device (torch's own shape rules, no arithmetic on data), and
every torch module whose name is a node or a block/group of the spec is
compared on output shape, parameters (trainable and buffers) and
multiplications (convolution and linear products counted from the shapes
torch produced). Every torch parameter must belong to a spec node, and the
totals must agree with the published ones.

torchvision's ConvNeXt runs its inverted bottleneck as nn.Linear on
channels-last tensors (Permute, LayerNorm, Linear, GELU, Linear, Permute);
those modules' shapes are compared with the channel axis moved last."""

from math import prod

import pytest

from cnncalc import analyze_file
from conftest import SPECS

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
nn = torch.nn

import torch_modern_nets  # noqa: E402

INPUTS = {"inception_v3": (3, 299, 299)}


def _own_mults(module, inputs, output) -> int:
    """Weight products of one convolution or linear module call."""
    if isinstance(module, nn.Conv2d):
        return output.numel() // output.shape[0] * (module.in_channels // module.groups) * prod(module.kernel_size)
    if isinstance(module, nn.Linear):
        return output.numel() // output.shape[0] * module.in_features
    return 0


def compare(spec: str, model, input_shape=(3, 224, 224)):
    analysis = analyze_file(SPECS / f"{spec}.yaml", input_shape=input_shape)
    nodes = {r.name: r for r in analysis.layers}
    groups = analysis.graph.groups

    def spec_side(name):
        """(output shape, (trainable, buffers), multiplications) of a node or group."""
        if name in nodes:
            r = nodes[name]
            return r.output_shape, tuple(r.params), r.multiplications
        inside = [r for n, r in nodes.items() if n.startswith(name + ".")]
        out = nodes[groups[name].output].output_shape
        return (out, (sum(r.params.trainable for r in inside), sum(r.params.buffers for r in inside)),
                sum(r.multiplications for r in inside))

    shapes: dict[str, tuple] = {}
    calls: dict[str, int] = {}
    mults: dict[str, int] = {}
    hooks = []

    def record(name):
        def hook(module, inputs, output):
            shapes[name] = tuple(output.shape[1:])
            calls[name] = calls.get(name, 0) + 1
            mults[name] = mults.get(name, 0) + _own_mults(module, inputs, output)

        return hook

    for name, module in model.named_modules():
        if name:
            hooks.append(module.register_forward_hook(record(name)))
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, *input_shape, device="meta"))
    for h in hooks:
        h.remove()

    problems = []
    compared = 0
    for pname, p in model.named_parameters():
        owner = pname.rpartition(".")[0]
        if owner not in nodes and pname not in nodes:  # a parameter held by a block (layer_scale) is a node itself
            problems.append(f"torch parameter {pname!r} {tuple(p.shape)} belongs to no spec node")
        if pname in nodes and nodes[pname].params.trainable != p.numel():
            problems.append(f"{pname}: params Mine {nodes[pname].params.trainable} Theirs {p.numel()}")
    for name, module in model.named_modules():
        if name not in nodes and name not in groups:
            continue
        if calls.get(name) != 1:
            continue  # never called as a whole (an empty branch1, a block without residual)
        compared += 1
        shape, params, mults_spec = spec_side(name)
        trainable = sum(p.numel() for p in module.parameters())
        buffers = sum(b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))
        theirs_mults = sum(v for n, v in mults.items() if n == name or n.startswith(name + "."))
        theirs_shape = shapes[name]
        channels_last = (*shape[1:], shape[0]) if len(shape) > 1 else shape
        if theirs_shape != shape and not (theirs_shape == channels_last and isinstance(module, (nn.Linear, nn.LayerNorm, nn.GELU))):
            problems.append(f"{name}: shape Mine {shape} Theirs {theirs_shape}")
        if params != (trainable, buffers):
            problems.append(f"{name}: params Mine {params} Theirs {(trainable, buffers)}")
        if mults_spec != theirs_mults:
            problems.append(f"{name}: multiplications Mine {mults_spec:,} Theirs {theirs_mults:,}")
    total = sum(p.numel() for p in model.parameters())
    if total != analysis.totals.params_trainable:
        problems.append(f"total params Mine {analysis.totals.params_trainable} Theirs {total}")
    total_mults = sum(mults.values())
    if total_mults != analysis.totals.multiplications:
        problems.append(f"total multiplications Mine {analysis.totals.multiplications:,} Theirs {total_mults:,}")
    if tuple(out.shape[1:]) != analysis.layers[-1].output_shape:
        problems.append(f"output Mine {analysis.layers[-1].output_shape} Theirs {tuple(out.shape[1:])}")
    assert not problems, "\n".join(problems[:40])
    return compared


@pytest.mark.parametrize("spec", sorted(torch_modern_nets.MODELS))
def test_modern_spec_matches_torch_module_by_module(spec):
    with torch.device("meta"):
        model = torch_modern_nets.MODELS[spec]()
    compared = compare(spec, model, INPUTS.get(spec, (3, 224, 224)))
    assert compared >= 50  # the comparison really ran over the network's modules
