"""Reusable blocks: hierarchical names, arguments and overrides, the block
input, skipped entries, the safe expression evaluator, and bad input."""

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cnncalc import SpecError, analyze, expr, loads_spec
from cnncalc.expr import ExprError, evaluate, substitute
from conftest import analyze_text

BASIC = """
input: [8, 16, 16]
defaults:
  conv: {bias: false}
blocks:
  basic:
    params: {width: ~, stride: 1, downsample: false}
    layers:
      - conv: {out_channels: $width, kernel_size: 3, stride: $stride, padding: 1}
        name: conv1
      - relu
      - conv: {out_channels: $width, kernel_size: 3, padding: 1}
        name: conv2
      - name: downsample
        when: $downsample
        inputs: input
        layers:
          - conv: {out_channels: $width, kernel_size: 1, stride: $stride}
      - add:
        inputs: [conv2, downsample]
layers:
  - basic: {width: 8}
    name: layer1
    repeat: 2
  - basic: {width: 16}
    name: layer2
    repeat: 2
    overrides: {0: {stride: 2, downsample: true}}
"""


def error_of(text):
    with pytest.raises(SpecError) as info:
        analyze(loads_spec(text, "t.yaml"))
    return info.value


def test_hierarchical_names_and_overrides():
    r = analyze_text(BASIC)
    names = [x.name for x in r.layers]
    assert names[:5] == ["layer1.0.conv1", "layer1.0.relu1", "layer1.0.conv2", "layer1.0.add1", "layer1.1.conv1"]
    assert "layer2.0.downsample.conv1" in names and "layer2.1.downsample.conv1" not in names
    # the first block of layer2 strides and projects; the second does neither
    assert r["layer2.0.conv1"].output_shape == (16, 8, 8)
    assert r["layer2.0.add1"].node.inputs == ("layer2.0.conv2", "layer2.0.downsample.conv1")
    assert r["layer2.0.downsample.conv1"].node.inputs == ("layer1.1.add1",)  # the block's input
    assert r["layer2.1.add1"].node.inputs == ("layer2.1.conv2", "layer2.0.add1")  # skipped: its input
    assert r["layer2.1.conv1"].node.inputs == ("layer2.0.add1",)  # repetitions are chained
    assert r.totals.params_trainable == 4 * 8 * 8 * 9 + (8 * 16 * 9 + 16 * 16 * 9 + 8 * 16) + 2 * 16 * 16 * 9
    assert r.warnings == []


def test_groups_record_the_hierarchy():
    graph = loads_spec(BASIC)
    assert graph["layer2.0.downsample.conv1"].parent == "layer2.0.downsample"
    assert graph.groups["layer2.0.downsample"].parent == "layer2.0"
    assert graph.groups["layer2.0"].parent == "layer2"
    assert graph.groups["layer2.0"].kind == "basic"
    assert graph.groups["layer2"].parent is None


def test_a_group_or_block_name_stands_for_its_output():
    r = analyze_text(BASIC + "  - conv: {out_channels: 4, kernel_size: 1}\n    inputs: layer1\n    name: probe\n"
                     "  - concat:\n    inputs: [layer2, layer2.0]\n    name: out\n"
                     "  - add:\n    inputs: [probe, probe]\n    name: unused_sink\n")
    assert r["probe"].node.inputs == ("layer1.1.add1",)
    assert r["out"].node.inputs == ("layer2.1.add1", "layer2.0.add1")


def test_nested_blocks_and_unnamed_instances():
    r = analyze_text("""
input: [3, 8, 8]
blocks:
  cbr:
    params: {out: ~}
    layers:
      - conv: {out_channels: $out, kernel_size: 3, padding: 1}
      - relu
  pair:
    params: {out: ~}
    layers:
      - cbr: {out: $out}
      - cbr: {out: $(2 * out)}
layers:
  - pair: {out: 4}
  - pair: {out: 2}
""")
    assert [x.name for x in r.layers] == [
        "pair1.cbr1.conv1", "pair1.cbr1.relu1", "pair1.cbr2.conv1", "pair1.cbr2.relu1",
        "pair2.cbr1.conv1", "pair2.cbr1.relu1", "pair2.cbr2.conv1", "pair2.cbr2.relu1",
    ]
    assert r.layers[-1].output_shape == (4, 8, 8)


def test_a_node_name_passed_as_an_argument_resolves_where_the_block_is_used():
    r = analyze_text("""
input: [3, 8, 8]
blocks:
  merge_with:
    params: {skip: ~}
    layers:
      - conv: {out_channels: 3, kernel_size: 1}
      - concat:
        inputs: [conv1, $skip]
layers:
  - relu:
    name: stem
  - merge_with: {skip: stem}
""")
    assert r["merge_with1.concat1"].node.inputs == ("merge_with1.conv1", "stem")


@pytest.mark.parametrize(
    "text,value",
    [
        ("4 * width", 256), ("width // 3", 21), ("width / 4", 16), ("-width + 1", -63), ("2 + 3 * 4", 14),
        ("(2 + 3) * 4", 20), ("width % 5", 4), ("stride == 1 and width > 32", True), ("not flag", True),
        ("not stride == 1 or flag", False), ("true", True),
    ],
)
def test_expressions(text, value):
    assert evaluate(text, {"width": 64, "stride": 1, "flag": False}) == value


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("widht * 2", "did you mean 'width'"),
        ("width / 3", "not an integer"),
        ("width // 0", "division by zero"),
        ("__import__('os')", "cannot read"),
        ("width.real", "cannot read"),
        ("2 +", "ends too early"),
        ("(2", "missing ')'"),
        ("2 3", "unexpected 3"),
        ("name * 2", "not an integer or boolean"),
        ("flag + 1", "needs integers"),
        ("1 and 2", "expected true or false"),
    ],
)
def test_expression_errors(text, fragment):
    with pytest.raises(ExprError) as info:
        evaluate(text, {"width": 64, "flag": True, "name": "x"})
    assert fragment in info.value.message


def test_dollar_name_substitutes_any_value():
    assert substitute("$pad", {"pad": [[1, 0], [1, 0]]}) == [[1, 0], [1, 0]]
    assert substitute("$(k - 1)", {"k": 3}) == 2
    with pytest.raises(ExprError, match="parentheses"):
        substitute("$k - 1", {"k": 3})


BAD = [
    # (spec text, line, field, fragment)
    ("blocks:\n  b:\n    params: {w: ~}\n    layers:\n      - conv: {out_channels: $w, kernel_size: 1}\n"
     "layers:\n  - b: {}\n", 7, "w", "block 'b' needs argument 'w'"),
    ("blocks:\n  b:\n    params: {width: ~}\n    layers:\n      - conv: {out_channels: $width, kernel_size: 1}\n"
     "layers:\n  - b: {width: 2, widht: 3}\n", 7, "widht", "no parameter 'widht' (did you mean 'width'?)"),
    ("blocks:\n  b:\n    params: {w: ~}\n    layers:\n      - conv: {out_channels: $wdth, kernel_size: 1}\n"
     "layers:\n  - b: {w: 2}\n", 5, "out_channels", "unknown block parameter 'wdth'"),
    ("blocks:\n  b:\n    params: {w: ~}\n    layers:\n      - conv: {out_channels: $(w / 3), kernel_size: 1}\n"
     "layers:\n  - b: {w: 2}\n", 5, "out_channels", "2 / 3 is not an integer"),
    ("blocks:\n  b:\n    layers:\n      - relu\n      - add:\n        inputs: [input, relu2]\n"
     "layers:\n  - b\n", 6, "inputs", "unknown input 'relu2' (did you mean 'relu1'?)"),
    ("blocks:\n  b:\n    layers:\n      - relu:\n        name: x\n      - relu:\n        name: x\n"
     "layers:\n  - b\n", 7, "name", "name 'b1.x' is already used by the layer on line 6"),
    ("layers:\n  - relu:\n    name: a\n  - relu:\n    name: a\n", 5, "name", "already used"),
    ("blocks:\n  b:\n    layers:\n      - b\nlayers:\n  - b\n", 4, "type", "block 'b' uses itself (b → b)"),
    ("blocks:\n  conv:\n    layers: [relu]\nlayers:\n  - relu\n", 2, "blocks", "already a layer type"),
    ("blocks:\n  b:\n    params: {w: 1}\n    layers: [relu]\nlayers:\n  - b: {w: 1}\n    repeat: 2\n"
     "    overrides: {2: {w: 3}}\n", 8, "overrides", "repetition 0 … 1"),
    ("layers:\n  - relu:\n    name: a\n    inputs: b\n  - relu:\n    name: b\n    inputs: a\n", 4, "inputs", "cycle: a → b → a"),
    ("layers:\n  - relu:\n    when: maybe\n", 3, "when", "'when' must be true or false"),
    ("layers:\n  - relu:\n    overrides: {0: {}}\n", 3, "overrides", "repeated block instance"),
    ("layers:\n  - blok: {w: 1}\nblocks:\n  block:\n    layers: [relu]\n", 2, "type", "did you mean 'block'"),
]


@pytest.mark.parametrize("text,line,field,fragment", BAD)
def test_bad_blocks(text, line, field, fragment):
    err = error_of("input: [3, 8, 8]\n" + text)
    assert fragment in err.message, str(err)
    assert err.loc.file == "t.yaml"
    assert err.loc.line == line + 1, str(err)  # +1: the input line added above
    assert err.field == field


def test_cli_reports_a_block_error_with_exit_2(spec_file):
    path = spec_file("input: [3, 8, 8]\nblocks:\n  b:\n    params: {w: ~}\n    layers: [relu]\nlayers:\n  - b\n")
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "spec.yaml:7" in proc.stderr and "needs argument 'w'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_warning_for_an_unused_branch_names_its_line():
    r = analyze_text("input: [3, 8, 8]\nblocks:\n  b:\n    layers:\n      - relu:\n        name: lost\n"
                     "      - sigmoid:\n        inputs: input\nlayers:\n  - b\n")
    assert r.warnings and r.warnings[0][0] == "b1.lost" and "<spec>:5" in r.warnings[0][1]


def test_readme_residual_example_runs():
    import re

    from conftest import ROOT

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Graphs: residual adds"):]
    example = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    r = analyze_text(example)
    assert r["layer2.0.add1"].node.inputs == ("layer2.0.bn2", "layer2.0.downsample.batch_norm1")
    assert r["layer1.1.add1"].node.inputs == ("layer1.1.bn2", "layer1.0.relu2")
    # conv 64→128 3×3, bn, conv 128→128 3×3, bn, projection 1×1 64→128, bn
    assert sum(x.params.trainable for x in r.layers if x.name.startswith("layer2.0.")) == (
        73_728 + 256 + 147_456 + 256 + 8_192 + 256
    )


# The expression tokens were read by this regular expression; the hand scanner
# that replaced it (no re at start-up) must read every text the same way.
_TOKEN_RE = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(//|==|!=|<=|>=|[-+*/%()<>]))")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _tokens_by_regex(text: str):
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m:
            return ("error", f"cannot read the expression {text!r} at {text[pos:].strip()!r}")
        number, name, op = m.groups()
        out.append(("num", int(number)) if number else ("name", name) if name else ("op", op))
        pos = m.end()
    return out


def _tokens_by_scanner(text: str):
    try:
        return expr._tokens(text, "f")
    except expr.ExprError as err:
        return ("error", str(err))


_EXPR_ALPHABET = st.sampled_from(list("abzAZ_09 \t\n/=!<>-+*%()$.,#\u00a0\u2003\u0663\u00b2\u00e9\u212a\x85\x1c") + ["//", "<=", "w1"])


@settings(max_examples=400, deadline=None)
@given(st.lists(_EXPR_ALPHABET, max_size=30).map("".join))
def test_expression_tokens_are_read_as_the_regular_expression_read_them(text):
    assert _tokens_by_scanner(text) == _tokens_by_regex(text)
    assert expr._is_name(text) == bool(_NAME_RE.fullmatch(text))
