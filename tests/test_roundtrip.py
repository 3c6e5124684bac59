"""Round trips (torch and onnx installed): every shipped spec exported to ONNX
and imported back has, layer by layer, the same names, output shapes,
parameters and multiplications; networks written independently in plain
PyTorch import with torchvision's published totals and equal the shipped
specs of the same networks; the README's three commands work.

Sizes are reduced where the spec allows (64×64 for networks that end in a
global pooling) to keep CI fast; AlexNet and the VGGs keep 224×224 because
their adaptive pooling must export as a plain pooling."""

from __future__ import annotations

import click
import pytest

from cnncalc.analysis import analyze
from cnncalc.cli import main
from cnncalc.spec import load_spec
from conftest import SPECS, CliRunner

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
pytestmark = [pytest.mark.torch, pytest.mark.onnx]

import torch_nets  # noqa: E402
import torch_nets_import  # noqa: E402

from cnncalc.exporters.onnx_export import export_onnx  # noqa: E402
from cnncalc.importers.onnx_import import import_model  # noqa: E402
from cnncalc.importers.torch_model import import_torch  # noqa: E402

def fast(build):
    """The model with zero-filled, uninitialised storage (random initialisation of
    25M weights costs seconds; the import needs shapes only)."""
    with torch.device("meta"):
        model = build()
    model = model.to_empty(device="cpu")
    with torch.no_grad():
        for tensor in (*model.parameters(), *model.buffers()):
            tensor.zero_()
    return model


REDUCED = {
    "resnet18": (3, 32, 32), "resnet50": (3, 32, 32), "mobilenet_v2": (3, 32, 32), "densenet121": (3, 32, 32),
    "googlenet": (3, 32, 32), "squeezenet1_0": (3, 64, 64), "unet": (1, 188, 188), "wavenet_tcn": (256, 2048),
    "convnext_tiny": (3, 32, 32), "efficientnet_b0": (3, 32, 32), "mnasnet1_0": (3, 32, 32),
    "regnet_y_400mf": (3, 32, 32), "resnext50_32x4d": (3, 32, 32), "shufflenet_v2_x1_0": (3, 32, 32),
    "inception_v3": (3, 75, 75),
}

#: Layers that do not come back, by spec, and why.
NOT_BACK: dict[str, set] = {}  # none: every shipped spec comes back layer for layer


def per_layer(analysis):
    return [(r.name, r.type_name, r.output_shape, r.params, r.multiplications) for r in analysis.layers]


def comparable(rows):
    """Name, shape, parameters, multiplications (a layer's type may change
    name: an adaptive pooling that divides evenly exports as a plain one)."""
    return [(n, shape, params, mults) for n, _, shape, params, mults in rows]


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_spec_survives_onnx_and_back(path, tmp_path):
    original = analyze(load_spec(path, REDUCED.get(path.stem)))
    out = tmp_path / "model.onnx"
    export_onnx(original, str(out), weights=False)
    back = import_model(onnx.load(str(out)), source=str(out), name=path.stem)
    assert back.analysis.input_shape == original.input_shape
    gone = NOT_BACK.get(path.stem, set())
    a = [row for row in comparable(per_layer(original)) if row[0] not in gone]
    b = comparable(per_layer(back.analysis))
    first = next((f"original {x}\nimported {y}" for x, y in zip(a, b) if x != y), None)
    assert first is None and len(a) == len(b), first or f"{len(a)} layers became {len(b)}"
    assert back.checked_shapes == len(b)
    assert back.analysis.totals.multiplications == original.totals.multiplications


@pytest.mark.parametrize("name, build, spec", [
    ("resnet18", torch_nets.resnet18, "resnet18"),
    ("mobilenet_v2", torch_nets.mobilenet_v2, "mobilenet_v2"),
    ("densenet121", torch_nets_import.densenet121, "densenet121"),
    ("efficientnet_b0", torch_nets_import.efficientnet_b0, None),
])
def test_plain_torch_networks_import_with_published_totals(name, build, spec):
    published = {"resnet18": 11_689_512, "mobilenet_v2": 3_504_872, "densenet121": 7_978_856,
                 "efficientnet_b0": 5_288_548}  # torchvision's model cards
    result = import_torch("", (3, 32, 32), model=fast(build), name=name)
    assert result.analysis.totals.params_trainable == published[name]
    assert result.checked_shapes == len(result.analysis.layers)
    if spec is not None:  # and the multiplications of the shipped spec (checked at 224 in test_published_totals)
        shipped = analyze(load_spec(SPECS / f"{spec}.yaml", (3, 32, 32)))
        assert result.analysis.totals.multiplications == shipped.totals.multiplications
        assert result.analysis.totals.params_buffers == shipped.totals.params_buffers
    names = {r.name for r in result.analysis.layers}  # module names survive
    assert {
        "resnet18": {"0", "4.0.conv1", "4.0.relu", "4.0.add", "4.0.relu_1", "5.0.downsample.0", "9"},
        "mobilenet_v2": {"0", "3.conv.3", "5.add"},
        "densenet121": {"features.conv0", "features.denseblock1.denselayer1.conv1", "features.transition1.2",
                        "features.norm5", "classifier"},
        "efficientnet_b0": {"features.1.0.block.1.fc1", "features.1.0.block.1.multiply", "classifier.0"},
    }[name] <= names, sorted(names)[:40]


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def _entry(argv):
    main(list(argv))


def run(*args):
    return CliRunner().invoke(_entry, list(map(str, args)))


MODEL_PY = '''
import torch
from torch import nn


def build():
    return nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU6(),
                         nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.Hardswish(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.1), nn.Linear(16, 10))


def unusual():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.Softsign(), nn.Flatten())
'''


def test_model_to_spec_to_check_in_three_commands(tmp_path, monkeypatch):
    (tmp_path / "model.py").write_text(MODEL_PY)
    monkeypatch.chdir(tmp_path)
    result = run("import", "model.py:build", "--input", "3,32,32", "-o", "model.yaml")
    assert result.exit_code == 0, result.output
    text = (tmp_path / "model.yaml").read_text()
    assert "- dropout: {p: 0.1}" in text and "- relu6:" in text
    assert run("check", "model.yaml", "--max-params", "1k").exit_code == 0
    assert run("check", "model.yaml", "--max-params", "100").exit_code == 1
    monkeypatch.syspath_prepend(str(tmp_path))
    result = run("import", "torch:model:build", "--input", "3,32,32")
    assert result.exit_code == 0 and result.stdout == text.replace("model.py:build", "torch:model:build")
    result = run("import", "model.py:unusual", "--input", "3,16,16")
    assert result.exit_code == 2 and "Abs ×1" in result.stderr and "Div ×1" in result.stderr
    assert run("import", "model.py:nothing", "--input", "3,16,16").exit_code == 2
    assert "--input" in run("import", "model.py:build").stderr


def test_export_to_onnx_with_weights_runs_in_onnxruntime(tmp_path):
    ort = pytest.importorskip("onnxruntime")
    import numpy as np

    out = tmp_path / "lenet5.onnx"
    result = run("export", SPECS / "lenet5.yaml", "--to", "onnx", "-o", out)
    assert result.exit_code == 0, result.output
    session = ort.InferenceSession(str(out))
    (y,) = session.run(None, {"input": np.zeros((3, 1, 32, 32), np.float32)})
    assert y.shape == (3, 10)
    assert run("export", SPECS / "lenet5.yaml", "--to", "onnx").exit_code == 2  # -o is required


def test_readme_import_export_section_runs_as_written(tmp_path, monkeypatch):
    import re
    import shlex

    from conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Models in, specs out"):]
    section = section[: section.index("\n## ", 5)]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.S)
    python = next(text for lang, text in blocks if lang == "python")
    shipped = (ROOT / "examples" / "model.py").read_text()
    assert python.replace("# examples/model.py\n", "") in shipped  # the README shows the shipped file
    (tmp_path / "examples").mkdir()
    (tmp_path / "examples" / "model.py").write_text(shipped)
    monkeypatch.chdir(tmp_path)
    commands = [line.split("  #")[0].strip() for lang, text in blocks if lang == "bash"
                for line in text.splitlines() if line.startswith("cnncalc ")]
    assert len(commands) == 7
    for command in commands:
        result = run(*shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.output)
    assert (tmp_path / "resnet18.py").exists() and (tmp_path / "resnet18.onnx").exists()
    assert "0 added, 0 removed, 0 changed, 69 unchanged layers" in result.stdout, result.stdout
    # and the examples of `cnncalc import --help` and `cnncalc export --help`, in the same directory
    for command in ("import", "export"):
        text = run(command, "--help").stdout
        examples = [line.strip() for line in text.split("Examples:")[1].splitlines()
                    if line.strip().startswith("cnncalc ")]
        assert len(examples) >= 2
        for example in examples:
            result = run(*shlex.split(example)[1:])
            assert result.exit_code == 0, (example, result.output)


@pytest.mark.parametrize("name", ["convnext_tiny", "shufflenet_v2_x1_0", "efficientnet_b0", "regnet_y_400mf",
                                  "mnasnet1_0", "resnext50_32x4d", "inception_v3"])
def test_torchvision_style_modern_networks_import_as_their_shipped_specs(name):
    """tests/torch_modern_nets.py writes these as torchvision does (Permute + LayerNorm + Linear,
    x.chunk and channel_shuffle, StochasticDepth, x.mean, ...); imported, they have the shipped
    spec's parameters, buffers and multiplications (published totals: tests/test_modern_specs.py)."""
    import torch_modern_nets

    size = (3, 75, 75) if name == "inception_v3" else (3, 32, 32)
    result = import_torch("", size, model=fast(torch_modern_nets.MODELS[name]), name=name)
    shipped = analyze(load_spec(SPECS / f"{name}.yaml", size))
    got, want = result.analysis.totals, shipped.totals
    assert (got.params_trainable, got.params_buffers, got.multiplications) == \
        (want.params_trainable, want.params_buffers, want.multiplications)
    assert result.checked_shapes >= len(result.analysis.layers) - sum(
        r.type_name == "slice" for r in result.analysis.layers)


def test_a_network_torch_cannot_export_to_onnx_is_one_clear_error(tmp_path):
    spec = tmp_path / "local.yaml"
    spec.write_text("input: [2, 5, 5]\nlayers:\n  - adaptive_max_pool: {output_size: 3}\n")
    result = run("export", spec, "--to", "onnx", "-o", tmp_path / "local.onnx")
    assert result.exit_code == 2, result.output
    assert "torch.onnx.export cannot write this network" in result.stderr and "adaptive_max_pool2d" in result.stderr
    assert not (tmp_path / "local.onnx").exists()
    assert run("export", spec, "--to", "pytorch", "-o", tmp_path / "local.py").exit_code == 0


@pytest.mark.parametrize("name, gone, refused", [
    ("conv_1d_3d", set(), None),
    ("transposed", set(), None),  # asymmetric padding: ConvTranspose + Slice fold back into one layer
    ("activations_dense", set(), None),  # mish, silu, identity, softmax, ...
    ("merges", set(), None),  # a concat that only feeds another one stays (its axis counted from the end)
    ("pools_1d", None, "TopK ×1"),
    ("resampling", None, "Expand ×1"),
    ("conv_paddings", None, "Expand ×1"),
])
def test_layer_families_through_onnx_and_back(name, gone, refused, tmp_path):
    from cnncalc.importers.onnx_graph import ImportError_
    from conftest import analyze_text
    from test_export_pytorch import LAYER_SPECS

    original = analyze_text(LAYER_SPECS[name])
    out = tmp_path / "m.onnx"
    export_onnx(original, str(out), weights=False)
    if refused is not None:
        with pytest.raises(ImportError_, match=refused):
            import_model(onnx.load(str(out)), source=str(out), name=name)
        return
    back = import_model(onnx.load(str(out)), source=str(out), name=name)
    a = [row for row in comparable(per_layer(original)) if row[0] not in gone]
    assert a == comparable(per_layer(back.analysis))
