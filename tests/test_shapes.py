"""One shape notation everywhere: commas are channels first (C,H,W, as in a
spec), x is channels last (H×W×C, as in the lectures); every command says what
it understood and warns when a shape looks written in the other order."""

import json

import pytest
from conftest import SPECS, CliRunner

from cnncalc.cli import cli
from cnncalc.shapes import ShapeSyntaxError, order_warning, parse_shape


def run(*args):
    return CliRunner().invoke(cli, list(map(str, args)))


@pytest.mark.parametrize("text, shape, last", [
    ("3,224,224", (3, 224, 224), False),
    ("224x224x3", (3, 224, 224), True),
    ("224×224×3", (3, 224, 224), True),
    ("[3, 224, 224]", (3, 224, 224), False),
    ("4x5", (1, 4, 5), True),           # the lectures' grey H×W
    ("16x112x112x3", (3, 16, 112, 112), True),
    ("3,16,112,112", (3, 16, 112, 112), False),
    ("1,32", (1, 32), False),
    ("32", (1, 32), True),              # a lone number: the lectures' 1D signal
    ("784,", (784,), False),            # a flat [C]
])
def test_the_rule(text, shape, last):
    typed = parse_shape(text)
    assert typed.shape == shape and typed.channels_last is last


@pytest.mark.parametrize("text", ["3,224x224", "abc", "0,4,4", "1,2,3,4,5", "2x2x2x2x2", ""])
def test_unreadable_shapes_say_the_rule(text):
    with pytest.raises(ShapeSyntaxError, match="channels first with commas|sizes|≥ 1"):
        parse_shape(text)


def test_order_warnings():
    assert "[3, 224, 224]" in order_warning((224, 224, 3))
    assert "[1, 28, 28]" in order_warning((28, 28, 1))
    assert order_warning((3, 224, 224)) is None
    assert order_warning((512, 4, 4)) is None and order_warning((2048, 1, 1)) is None
    assert order_warning((64, 7, 7)) is None
    typed = parse_shape("3x224x224")
    assert "3,224,224" in order_warning(typed.shape, channels_last_typed=True)
    assert order_warning(parse_shape("224x224x3").shape, channels_last_typed=True) is None


@pytest.mark.parametrize("command", [
    ["analyze", "vgg16", "--format", "json"],
    ["check", "vgg16", "--max-params", "1G", "--format", "json"],
    ["verify", "lenet5"],
])
def test_every_command_reads_x_as_channels_last_and_says_so(command):
    shape = "32x32x1" if "lenet5" in command else "64x64x3"
    result = run(*command, "--input", shape)
    assert result.exit_code == 0, result.output
    assert f"--input: {shape} (H×W×C, channels last) = C,H,W" in result.stderr
    if "json" in command:
        data = json.loads(result.stdout)
        assert data.get("input", [3, 64, 64]) == [3, 64, 64]


def test_commas_are_channels_first_everywhere():
    assert run("analyze", "vgg16", "--input", "3,64,64", "--format", "json").exit_code == 0
    out = run("conv", "--input", "3,28,28", "--kernel", "3", "--filters", "8")
    assert out.exit_code == 0 and "→ output 26×26×8" in out.stdout and "read as C,H,W" in out.stdout
    out = run("conv", "--input", "28x28x3", "--kernel", "3", "--filters", "8")
    assert "→ output 26×26×8" in out.stdout and "read as H×W×C" in out.stdout


def test_x_typed_channels_first_gets_a_warning():
    result = run("conv", "--input", "3x28x28", "--kernel", "3")
    assert "warning" in result.stderr and "3,28,28" in result.stderr


def test_spec_written_channels_last_is_warned_about(spec_file):
    path = spec_file("input: [224, 224, 3]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 3}\n")
    table = run("analyze", path)
    assert "looks like a channel count" in table.stdout and "[3, 224, 224]" in table.stdout
    data = json.loads(run("analyze", path, "--format", "json").stdout)
    assert any(w["layer"] == "input" and "[3, 224, 224]" in w["message"] for w in data["warnings"])
    checked = run("check", path, "--max-params", "1M")
    assert "spec.yaml:1" in checked.stderr and "looks like a channel count" in checked.stderr


def test_grade_reads_strings_by_the_rule(spec_file):
    text = ("input: [3, 28, 28]\nlayers:\n  - conv: {out_channels: 20, kernel_size: 5, stride: 2, padding: 2}\n"
            "    expect: {output: %s}\n")
    assert "Score: 1/1" in run("grade", spec_file(text % '"14x14x20"')).stdout
    assert "Score: 1/1" in run("grade", spec_file(text % '"20,14,14"')).stdout
    assert "Score: 0/1" in run("grade", spec_file(text % '"20x14x14"')).stdout  # x is H×W×C: C=14
