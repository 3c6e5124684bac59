"""Mermaid output parsed and drawn by Mermaid itself (mermaid.min.js in
headless Chromium). Skips without chromium or without the mermaid package:
`.ci/run` installs it with npm into ~/.cache/cnncalc-test where it can, or
point CNNCALC_MERMAID_JS at a mermaid.min.js."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import ROOT, SPECS, CliRunner, analyze_text

from browser import Browser, BrowserMissing, find_chromium
from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.render import mermaid
from test_graph_formats import mermaid_body
from test_html_report import HOSTILE

V1, V2 = (str(ROOT / "examples" / "diff" / f"small_v{k}.yaml") for k in (1, 2))


def mermaid_js() -> Path | None:
    candidates = [os.environ.get("CNNCALC_MERMAID_JS", ""),
                  str(Path.home() / ".cache/cnncalc-test/node_modules/mermaid/dist/mermaid.min.js")]
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


pytestmark = pytest.mark.skipif(find_chromium() is None or mermaid_js() is None,
                                reason="needs chromium and mermaid.min.js (npm install mermaid)")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    path = tmp_path_factory.mktemp("mermaid") / "mermaid.html"
    # UTF-8 declared: mermaid.min.js holds non-ASCII placeholders for its #code; entities
    path.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><div id="out"></div>'
                    f'<script src="{mermaid_js().as_uri()}"></script>'
                    "<script>mermaid.initialize({startOnLoad: false, securityLevel: 'strict'});</script>"
                    "</body></html>", encoding="utf-8")
    try:
        with Browser() as b:
            loaded = b.open(path, settle=1.0)
            assert not loaded.exceptions, loaded.exceptions
            yield b
    except BrowserMissing as exc:
        pytest.skip(str(exc))


def draw(b, text: str) -> dict:
    """Parse and render one flowchart; its node count and labels' text."""
    body = "\n".join(mermaid_body(text))
    return b.evaluate(
        "(async function(){try{await mermaid.parse(%s);var r=await mermaid.render('g'+Date.now(),%s);"
        "var d=document.createElement('div');d.innerHTML=r.svg;"
        "return {ok:true,nodes:d.querySelectorAll('g.node').length,"
        "scripts:d.querySelectorAll('script').length,text:d.textContent};}"
        "catch(e){return {ok:false,error:String(e)};}})()" % (json.dumps(body), json.dumps(body)), wait=True)


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "squeezenet1_0"])
def test_mermaid_parses_and_draws_every_node(page, name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    result = draw(page, mermaid.render(analysis))
    assert result["ok"], result.get("error")
    assert result["nodes"] == len(analysis.layers) + 1


def test_mermaid_depth_and_diff(page):
    result = draw(page, mermaid.render(analyze_file(SPECS / "densenet121.yaml"), depth=1))
    assert result["ok"], result.get("error")
    diff = CliRunner().invoke(cli, ["diff", V1, V2,
                                    "--format", "mermaid"])
    result = draw(page, diff.stdout)
    assert result["ok"], result.get("error")
    assert result["nodes"] == 8


def test_mermaid_hostile_names_drawn_as_text(page):
    analysis = analyze_text(HOSTILE)
    result = draw(page, mermaid.render(analysis))
    assert result["ok"], result.get("error")
    assert result["nodes"] == len(analysis.layers) + 1 and result["scripts"] == 0
    assert "<script>alert(1)</script>" in result["text"]
    assert 'a"]-->b; click x "javascript:alert(1)" #35; \\N' in result["text"]
