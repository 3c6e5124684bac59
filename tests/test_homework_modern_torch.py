"""cnncalc run's working of the modern layer families (split and slice,
channel and pixel shuffles, mean, layer scale, stochastic depth at inference,
layer / group / instance norm) against PyTorch in float64: every layer's
output and the input gradient of --backward."""

from __future__ import annotations

import pytest

from cnncalc.homework.worked import load_and_run

torch = pytest.importorskip("torch")
F = torch.nn.functional
pytestmark = pytest.mark.torch

X = [[[1, 2], [3, 4]], [[0.5, 0], [-1, 2]], [[3, 1], [4, 1.5]], [[2, 7], [1, 8]]]

SPEC = """
values: {values}
layers:
  - split: {{split_size_or_sections: 2}}
    name: s
  - layer_scale:
    inputs: s.1
    weights: [2, 0.5]
  - concat:
    inputs: [s.0, layer_scale1]
  - channel_shuffle: {{groups: 2}}
  - pixel_shuffle: {{upscale_factor: 2}}
  - pixel_unshuffle: {{downscale_factor: 2}}
  - {norm}
  - stochastic_depth: {{p: 0.1}}
  - slice: {{dim: 2, start: 1}}
  - mean: {{dim: [1, 2]}}
grad_output: [1, -2, 3, 0.5]
"""

NORMS = {
    "group_norm: {num_groups: 2}": lambda t: F.group_norm(t, 2),
    "instance_norm: {affine: true}\n    weights: [1, 2, 3, 4]\n    biases: [0, 1, 0, -1]":
        lambda t: F.instance_norm(t, weight=torch.tensor([1., 2, 3, 4], dtype=torch.float64),
                                  bias=torch.tensor([0., 1, 0, -1], dtype=torch.float64)),
    "layer_norm": lambda t: F.layer_norm(t.movedim(1, -1), (4,)).movedim(-1, 1),
    "layer_norm: {normalized_shape: [2, 2]}\n    weights: [1, 2, 3, 4]":
        lambda t: F.layer_norm(t, (2, 2), weight=torch.tensor([[1., 2], [3, 4]], dtype=torch.float64)),
}


def torch_net(t, norm):
    a, b = t.split(2, dim=1)
    y = torch.cat([a, b * torch.tensor([2, 0.5], dtype=torch.float64).reshape(1, 2, 1, 1)], 1)
    y = F.pixel_unshuffle(F.pixel_shuffle(F.channel_shuffle(y, 2), 2), 2)
    y = norm(y)[:, :, :, 1:]
    return y.mean([2, 3])


@pytest.mark.parametrize("norm", sorted(NORMS))
def test_run_matches_torch_forward_and_backward(norm, tmp_path):
    spec = tmp_path / "modern.yaml"
    spec.write_text(SPEC.format(values=X, norm=norm), encoding="utf-8")
    run = load_and_run(spec, backward=True)
    t = torch.tensor([X], dtype=torch.float64, requires_grad=True)
    y = torch_net(t, NORMS[norm])
    mine = [float(ch[0][0]) for ch in run.outputs["mean1"]]  # a vector is kept as (C, 1, 1)
    assert mine == pytest.approx(y[0].tolist(), abs=2e-6)
    y.backward(torch.tensor([[1, -2, 3, 0.5]], dtype=torch.float64))
    grad = [[[float(v) for v in row] for row in ch] for ch in run.input_grad]
    assert torch.allclose(torch.tensor([grad], dtype=torch.float64), t.grad, atol=2e-5), (grad, t.grad)
