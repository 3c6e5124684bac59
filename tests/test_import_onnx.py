"""``cnncalc import`` of ONNX graphs built with onnx.helper (no torch needed):
each operation family becomes the right layer with the right fields, names
and inputs are kept, unsupported operations are listed by count and name,
and the self-check catches a spec that disagrees with the model."""

from __future__ import annotations

import click
import numpy as np
import pytest

from cnncalc.cli import main
from conftest import CliRunner

onnx = pytest.importorskip("onnx")
pytestmark = pytest.mark.onnx

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from cnncalc.importers.onnx_graph import ImportError_  # noqa: E402
from cnncalc.importers.onnx_import import import_model  # noqa: E402


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def _entry(argv):
    main(list(argv))


def run(*args):
    """The command line as a user runs it (errors and exit codes from cnncalc.cli.main)."""
    return CliRunner().invoke(_entry, list(map(str, args)))


def weight(name, *shape):
    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def ints(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def model(nodes, inits, input_shape=("N", 3, 8, 8), output="y", opset=17):
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(input_shape))],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def spec_of(m, **kw):
    return import_model(m, source="test.onnx", name="t", **kw)


def layers(result):
    return [(r.name, r.type_name, r.node.layer.settings(), r.node.inputs, r.output_shape) for r in result.analysis.layers]


def test_a_chain_keeps_names_fields_and_counts():
    m = model([
        helper.make_node("Conv", ["x", "conv1.weight", "conv1.bias"], ["c"], name="/conv1/Conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"],
                         ["b"], name="/bn/BatchNormalization", epsilon=1e-3),
        helper.make_node("Clip", ["b", "lo", "hi"], ["r"], name="/act/Clip"),
        helper.make_node("MaxPool", ["r"], ["p"], name="/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["p"], ["g"], name="/gap/GlobalAveragePool"),
        helper.make_node("Flatten", ["g"], ["f"], name="/flatten/Flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name="/fc/Gemm", transB=1),
    ], [weight("conv1.weight", 16, 3, 3, 3), weight("conv1.bias", 16), weight("bn.weight", 16), weight("bn.bias", 16),
        weight("bn.running_mean", 16), weight("bn.running_var", 16),
        numpy_helper.from_array(np.array(0, np.float32), "lo"), numpy_helper.from_array(np.array(6, np.float32), "hi"),
        weight("fc.weight", 10, 16), weight("fc.bias", 10)])
    result = spec_of(m)
    got = layers(result)
    assert [g[:2] for g in got] == [("conv1", "conv"), ("bn", "batch_norm"), ("act", "relu6"), ("pool", "max_pool"),
                                    ("gap", "adaptive_avg_pool"), ("flatten", "flatten"), ("fc", "dense")]
    assert got[0][2]["stride"] == 2 and got[0][2]["padding"] == 1 and got[0][4] == (16, 4, 4)
    assert got[1][2]["eps"] == 0.001
    assert got[-1][4] == (10,)
    assert result.analysis.totals.params_trainable == 16 * 27 + 16 + 32 + 160 + 10
    assert result.analysis.totals.params_buffers == 32
    assert "inputs:" not in result.text  # a chain needs no inputs
    assert result.checked_shapes == 7


def test_branches_get_inputs_and_block_scopes_become_names():
    m = model([
        helper.make_node("Conv", ["x", "layer1.0.conv1.weight"], ["a"], name="/layer1/layer1.0/conv1/Conv",
                         kernel_shape=[1, 1]),
        helper.make_node("Relu", ["a"], ["r"], name="/layer1/layer1.0/relu/Relu"),
        helper.make_node("Add", ["r", "x"], ["s"], name="/layer1/layer1.0/Add"),
        helper.make_node("Relu", ["s"], ["t"], name="/layer1/layer1.0/relu_1/Relu"),
        helper.make_node("Concat", ["t", "a"], ["y"], name="/Concat", axis=1),
    ], [weight("layer1.0.conv1.weight", 3, 3, 1, 1)])
    result = spec_of(m)
    names = [r.name for r in result.analysis.layers]
    assert names == ["layer1.0.conv1", "layer1.0.relu", "layer1.0.add", "layer1.0.relu_1", "concat"]
    assert result.analysis["layer1.0.add"].node.inputs == ("layer1.0.relu", "input")
    assert result.analysis["concat"].output_shape == (6, 8, 8)
    assert "inputs: [layer1.0.relu, input]" in result.text


def test_pad_folds_into_conv_and_slices_become_one_crop():
    m = model([
        helper.make_node("Pad", ["x", "pads"], ["p"], name="/c/Pad"),
        helper.make_node("Conv", ["p", "c.weight"], ["c"], name="/c/Conv", kernel_shape=[2, 2]),
        helper.make_node("Slice", ["c", "s0", "e0", "a0"], ["s1"], name="/crop/Slice"),
        helper.make_node("Slice", ["s1", "s1v", "e1", "a1"], ["y"], name="/crop/Slice_1"),
    ], [weight("c.weight", 4, 3, 2, 2), ints("pads", [0, 0, 1, 0, 0, 0, 0, 1]),
        ints("s0", [1]), ints("e0", [-1]), ints("a0", [2]), ints("s1v", [2]), ints("e1", [100]), ints("a1", [3])])
    result = spec_of(m)
    got = layers(result)
    assert [g[1] for g in got] == ["conv", "crop"]
    assert got[0][2]["padding"] == [[1, 0], [0, 1]] and got[0][4] == (4, 8, 8)
    assert got[1][2]["cropping"] == [[1, 1], [2, 0]] and got[1][4] == (4, 6, 6)


def test_matmul_with_bias_add_is_one_dense_layer_and_resize_is_upsample():
    m = model([
        helper.make_node("Resize", ["x", "", "scales"], ["u"], name="/up/Resize", mode="nearest"),
        helper.make_node("GlobalMaxPool", ["u"], ["g"], name="/gmp/GlobalMaxPool"),
        helper.make_node("Flatten", ["g"], ["f"], name="/flat/Flatten"),
        helper.make_node("MatMul", ["f", "w"], ["m"], name="/fc/MatMul"),
        helper.make_node("Add", ["m", "b"], ["y"], name="/fc/Add"),
    ], [numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales"), weight("w", 3, 7), weight("b", 7)])
    got = layers(spec_of(m))
    assert [g[1] for g in got] == ["upsample", "adaptive_max_pool", "flatten", "dense"]
    assert got[0][4] == (3, 16, 16)
    assert got[3][2] == {"out_features": 7, "bias": True}


def test_unsupported_operations_are_listed_with_counts_and_names(tmp_path):
    m = model([
        helper.make_node("Abs", ["x"], ["a"], name="/abs1/Abs"),
        helper.make_node("Abs", ["a"], ["b"], name="/abs2/Abs"),
        helper.make_node("Relu", ["b"], ["c"], name="/relu/Relu"),
        helper.make_node("Erf", ["c"], ["y"], name="/erf/Erf"),
    ], [])
    with pytest.raises(ImportError_) as err:
        spec_of(m)
    text = str(err.value)
    assert "3 operations cannot be expressed" in text
    assert "Abs ×2: '/abs1/Abs', '/abs2/Abs'" in text and "Erf ×1" in text and "'/erf/Erf'" in text
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    result = run("import", path)
    assert result.exit_code == 2 and "Abs ×2" in result.stderr and not result.stdout
    result = run("import", path, "--unknown", "identity", "-o", tmp_path / "m.yaml")
    assert result.exit_code == 0, result.output
    spec = (tmp_path / "m.yaml").read_text()
    assert spec.count("- identity:  # unsupported ONNX Abs") == 2 and "unsupported ONNX Erf" in spec
    assert result.stderr.count("warning:") == 3


def test_dynamic_spatial_axes_need_input_and_a_dynamic_batch_is_dropped():
    m = model([helper.make_node("Relu", ["x"], ["y"], name="/r/Relu")], [], input_shape=("N", 3, "H", "W"))
    with pytest.raises(ImportError_, match="--input"):
        spec_of(m)
    result = spec_of(m, input_shape=(3, 20, 30))
    assert result.analysis.input_shape == (3, 20, 30)
    with pytest.raises(ImportError_, match="contradicts"):
        spec_of(model([helper.make_node("Relu", ["x"], ["y"])], []), input_shape=(4, 8, 8))


def test_the_self_check_names_the_first_layer_that_differs(monkeypatch):
    m = model([
        helper.make_node("Conv", ["x", "a.weight"], ["a"], name="/a/Conv", kernel_shape=[3, 3]),
        helper.make_node("Relu", ["a"], ["y"], name="/r/Relu"),
    ], [weight("a.weight", 2, 3, 3, 3)])
    from cnncalc.importers import onnx_graph

    real = onnx_graph.Walk.onnx_shape

    def lying(self, name):  # ONNX shape inference saying something else than the spec
        shape = real(self, name)
        return (1, 2, 5, 5) if name == "y" else shape

    monkeypatch.setattr(onnx_graph.Walk, "onnx_shape", lying)
    with pytest.raises(ImportError_, match=r"self-check failed at layer 'r' \(ONNX node '/r/Relu', Relu\).*\[2, 6, 6\].*\[2, 5, 5\]"):
        spec_of(m)
    monkeypatch.setattr(onnx_graph.Walk, "onnx_shape", real)
    with pytest.raises(ImportError_, match=r"the spec has 54 trainable parameters, the model 999"):
        spec_of(m, model_params=999)


def test_not_an_onnx_file_is_one_clear_error(tmp_path):
    path = tmp_path / "bad.onnx"
    path.write_bytes(b"\x00garbage\xff" * 10)
    result = run("import", path)
    assert result.exit_code == 2 and "not a readable ONNX model" in result.stderr
    result = run("import", tmp_path / "missing.onnx")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_written_names_that_need_quotes_read_back(tmp_path):
    m = model([helper.make_node("Relu", ["x"], ["a"], name="/true/Relu"),
               helper.make_node("Relu", ["a"], ["y"], name="/0: odd #name/Relu")], [])
    result = spec_of(m)
    assert [r.name for r in result.analysis.layers] == ["true", "0: odd #name"]


def test_control_characters_in_names_never_reach_the_terminal(tmp_path):
    m = model([helper.make_node("Relu", ["x"], ["a"], name="/evil\x1b[31m/Relu"),
               helper.make_node("Abs", ["a"], ["y"], name="\x1b]0;pwned\x07")], [])
    path = tmp_path / "m.onnx"
    onnx.save(m, str(path))
    result = run("import", path)
    assert result.exit_code == 2 and "\x1b" not in result.stderr and "\\x1b" in result.stderr
    result = run("import", path, "--unknown", "identity")
    assert result.exit_code == 0, result.output
    assert "\x1b" not in result.stderr and "\x1b" not in result.stdout and "\x07" not in result.stdout


def test_auto_pad_same_becomes_explicit_padding():
    m = model([
        helper.make_node("Conv", ["x", "c.weight"], ["c"], name="/c/Conv", kernel_shape=[4, 3], strides=[2, 2],
                         auto_pad="SAME_UPPER"),
        helper.make_node("MaxPool", ["c"], ["y"], name="/p/MaxPool", kernel_shape=[2, 2], strides=[1, 1],
                         auto_pad="SAME_LOWER"),
    ], [weight("c.weight", 4, 3, 4, 3)], input_shape=("N", 3, 9, 8))
    got = layers(spec_of(m))
    # H: ⌈9/2⌉ = 5 outputs need (5 − 1)·2 + 4 − 9 = 3 cells, the odd one after; W: 4·… = 1
    assert got[0][2]["padding"] == [[1, 2], [0, 1]] and got[0][4] == (4, 5, 4)
    assert got[1][2]["padding"] == [[1, 0], [1, 0]] and got[1][4] == (4, 5, 4)


def test_gelu_written_out_with_erf_is_one_gelu_layer():
    def scalar(name, value):
        return numpy_helper.from_array(np.array(value, np.float32), name)

    m = model([
        helper.make_node("Div", ["x", "sqrt2"], ["d"], name="/act/Div"),
        helper.make_node("Erf", ["d"], ["e"], name="/act/Erf"),
        helper.make_node("Add", ["e", "one"], ["a"], name="/act/Add"),
        helper.make_node("Mul", ["x", "a"], ["m"], name="/act/Mul"),
        helper.make_node("Mul", ["m", "half"], ["y"], name="/act/Mul_1"),
    ], [scalar("sqrt2", 2 ** 0.5), scalar("one", 1.0), scalar("half", 0.5)])
    got = layers(spec_of(m))
    assert [g[:2] for g in got] == [("act", "gelu")] and got[0][4] == (3, 8, 8)
    broken = model([helper.make_node("Div", ["x", "sqrt2"], ["d"], name="/d/Div"),
                    helper.make_node("Relu", ["d"], ["y"], name="/r/Relu")], [scalar("sqrt2", 2 ** 0.5)])
    with pytest.raises(ImportError_, match="Relu ×1"):
        spec_of(broken)


def test_a_malformed_node_is_listed_not_a_crash():
    m = model([helper.make_node("MaxPool", ["x"], ["y"], name="/p/MaxPool")], [])  # no kernel_shape
    with pytest.raises(ImportError_, match=r"MaxPool ×1 \(malformed node \(KeyError"):
        spec_of(m)
