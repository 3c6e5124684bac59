"""Mermaid and DOT: every node and every input edge, the shapes on the
edges, blocks as subgraphs/clusters, spec text escaped; DOT checked by
Graphviz's own parser where `dot` is installed; a diff coloured."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import ROOT, SPECS, CliRunner, analyze_text

from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.render import dot, mermaid
from test_html_report import HOSTILE

DOT = shutil.which("dot")
NAMES = ["lenet5", "resnet18", "googlenet", "densenet121", "unet"]

# Statements the Mermaid renderer writes (anything else is a bug): ids are
# cnncalc's own, labels are quoted and hold no quote, bracket or pipe.
_LABEL = r'"[^"\[\]|`<>]*(?:<br/>[^"\[\]|`<>]*)*"'
_ID = r"(?:n|cg)\d+"
_MERMAID_LINE = re.compile(
    r"flowchart TD"
    rf"|\s+{_ID}(?:\[{_LABEL}\]|\(\[{_LABEL}\]\)|\[\[{_LABEL}\]\])"
    rf"|\s+subgraph g\d+\[{_LABEL}\]"
    r"|\s+end"
    rf"|\s+{_ID} (?:-->|-\.->)(?:\|{_LABEL}\|)? {_ID}"
    r"|\s+classDef (?:added|removed|changed) [a-z0-9:#,\- .]+"
    rf"|\s+class {_ID}(?:,{_ID})* (?:added|removed|changed)"
    rf'|\s+empty\[{_LABEL}\]'
)

V1, V2 = (str(ROOT / "examples" / "diff" / f"small_v{k}.yaml") for k in (1, 2))


def mermaid_body(text: str) -> list[str]:
    body = text.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    return body.splitlines()


def check_mermaid(lines: list[str]) -> None:
    bad = [line for line in lines if not _MERMAID_LINE.fullmatch(line)]
    assert not bad, bad[:3]
    opened = sum(1 for line in lines if line.strip().startswith("subgraph "))
    assert opened == sum(1 for line in lines if line.strip() == "end")


@pytest.mark.parametrize("name", NAMES)
def test_mermaid_every_node_and_edge(name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    lines = mermaid_body(mermaid.render(analysis))
    check_mermaid(lines)
    nodes = [line for line in lines if re.match(r"\s+n\d+[\[(]", line)]
    assert len(nodes) == len(analysis.layers) + 1
    edges = [line for line in lines if "-->" in line]
    assert len(edges) == sum(len(r.node.inputs) for r in analysis.layers)
    shapes = {"×".join(map(str, r.output_shape)) for r in analysis.layers}
    assert all(re.search(r'\|"([^"]+)"\|', e).group(1) in shapes | {"×".join(map(str, analysis.input_shape))}
               for e in edges)


def test_mermaid_resnet_blocks_are_subgraphs():
    lines = mermaid_body(mermaid.render(analyze_file(SPECS / "resnet18.yaml")))
    assert '  subgraph g1["layer1 · basic ×2"]' in lines
    assert '    subgraph g2["layer1.0 · basic"]' in lines
    assert '  n4 -->|"64×56×56"| n10' in lines  # the shortcut into layer1.0's add


def test_depth_draws_blocks_as_one_box():
    analysis = analyze_file(SPECS / "densenet121.yaml")
    lines = mermaid_body(mermaid.render(analysis, depth=1))
    check_mermaid(lines)
    boxes = [line for line in lines if "[[" in line]
    assert len(boxes) == 6 + 12 + 24 + 16  # one per dense layer
    assert '    cg2[["denseblock1.0<br/>dense_layer · 45.44k params · 141.3M MACs<br/>7 layers"]]' in lines
    assert len(mermaid.render(analysis, depth=1)) < 20_000  # well inside GitHub's Mermaid size limit
    top = mermaid_body(mermaid.render(analysis, depth=0))
    check_mermaid(top)
    assert not any("subgraph" in line for line in top)
    text = dot.render(analysis, depth=1)
    assert text.count("peripheries=2") == 58
    if DOT is not None:
        out = subprocess.run([DOT, "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr


def test_mermaid_escapes_hostile_text():
    text = mermaid.render(analyze_text(HOSTILE))
    lines = mermaid_body(text)
    check_mermaid(lines)
    body = "\n".join(lines)
    assert "<script" not in body and "javascript:" in body  # as text, its colon harmless inside a label
    assert "#60;script#62;alert#40;1#41;#60;/script#62;" in body
    assert "line#10;break#39;quote#96;tick" in body
    head = text.split("\n", 1)[0]
    assert "<" not in head and "&#60;/script&#62;" in head


@pytest.mark.parametrize("name", NAMES)
def test_dot_structure(name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    text = dot.render(analysis)
    assert len(re.findall(r"^\s+n\d+ \[", text, re.M)) == len(analysis.layers) + 1
    assert len(re.findall(r"^\s+n\d+ -> n\d+ \[label=\"[0-9×]+\"\];$", text, re.M)) == sum(
        len(r.node.inputs) for r in analysis.layers)


@pytest.mark.skipif(DOT is None, reason="graphviz (dot) is not installed")
@pytest.mark.parametrize("name", NAMES)
def test_dot_is_valid_for_graphviz(name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    text = dot.render(analysis)
    out = subprocess.run([DOT, "-Tsvg"], input=text, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and not out.stderr.strip(), out.stderr
    assert out.stdout.count('class="node"') == len(analysis.layers) + 1
    assert out.stdout.count('class="edge"') == sum(len(r.node.inputs) for r in analysis.layers)
    assert out.stdout.count('class="cluster"') == text.count("subgraph cluster_")


@pytest.mark.skipif(DOT is None, reason="graphviz (dot) is not installed")
def test_dot_escapes_hostile_text():
    analysis = analyze_text(HOSTILE)
    text = dot.render(analysis)
    out = subprocess.run([DOT, "-Tsvg"], input=text, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    import html

    groups = re.findall(r'<g id="node\d+" class="node">(.*?)</g>', out.stdout, re.S)
    first_lines = [html.unescape(re.search(r"<text[^>]*>(.*?)</text>", g, re.S).group(1)) for g in groups]
    assert first_lines == ["input"] + [r.name.replace("\n", " ") for r in analysis.layers]
    title = re.search(r'<g id="graph0" class="graph"[^>]*>\s*<title>(.*?)</title>', out.stdout, re.S).group(1)
    assert html.unescape(title) == "cnncalc"
    assert "&lt;/script&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in out.stdout


def test_dot_quote():
    assert dot.quote('a"b\\c\nd') == '"a\\"b\\\\c d"'


def test_diff_mermaid_shows_the_changed_part():
    result = CliRunner().invoke(cli, ["diff", V1, V2,
                                      "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    lines = mermaid_body(result.stdout)
    check_mermaid(lines)
    assert "4 added, 0 removed, 3 changed" in result.stdout
    assert "  class n8,n9,n10,n11 added" in lines and "  class n12,n13,n14 changed" in lines
    names = re.findall(r'n\d+\["([^<"]+)', "\n".join(lines))
    assert "stem" not in names and "conv_a" not in names  # far from the change: left out
    assert "pool" in names  # one layer of context


def test_diff_without_changes():
    same = CliRunner().invoke(cli, ["diff", V1, V1,
                                    "--format", "mermaid"])
    assert same.exit_code == 0
    check_mermaid(mermaid_body(same.stdout))
    assert "no layer was added, removed or changed" in same.stdout


@pytest.mark.skipif(DOT is None, reason="graphviz (dot) is not installed")
def test_diff_dot_is_valid():
    result = CliRunner().invoke(cli, ["diff", V1, V2,
                                      "--format", "dot"])
    assert result.exit_code == 0
    out = subprocess.run([DOT, "-Tsvg"], input=result.stdout, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert result.stdout.count('color="#1a7f37"') == 4


def test_removed_layers_drawn_with_their_old_wiring():
    result = CliRunner().invoke(cli, ["diff", V2, V1,
                                      "--format", "mermaid"])
    lines = mermaid_body(result.stdout)
    check_mermaid(lines)
    assert any(line.startswith("  class ") and line.endswith(" removed") for line in lines)
    removed = re.search(r"class ([n\d,]+) removed", "\n".join(lines)).group(1).split(",")
    assert all(any(f" {r}" in line or line.startswith(f"  {r} ") for line in lines if "->" in line)
               for r in removed)


def test_diff_of_a_baseline_without_inputs_reads_it_as_a_chain(tmp_path):
    """JSON saved before analyses carried 'inputs' still draws connected."""
    import json

    saved = CliRunner().invoke(cli, ["analyze", V1, "--format", "json"]).stdout
    data = json.loads(saved)
    for layer in data["layers"]:
        del layer["inputs"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(data))
    result = CliRunner().invoke(cli, ["diff", str(old), V2, "--format", "mermaid"])
    assert result.exit_code == 0, result.output
    lines = mermaid_body(result.stdout)
    check_mermaid(lines)
    assert sum("-->" in line for line in lines) >= 8


def test_mermaid_too_big_for_github_warns(spec_file):
    layers = "".join(f"  - conv: {{out_channels: 4, kernel_size: 3, padding: 1}}\n    name: a_rather_long_layer_name_{i}\n"
                     for i in range(700))
    path = spec_file("input: [4, 8, 8]\nlayers:\n" + layers)
    result = CliRunner().invoke(cli, ["analyze", str(path), "--format", "mermaid"])
    assert result.exit_code == 0
    assert "GitHub draws at most 50,000" in result.stderr and "```mermaid" in result.stdout
    small = CliRunner().invoke(cli, ["analyze", str(SPECS / "resnet50.yaml"), "--format", "mermaid"])
    assert "warning" not in small.stderr
