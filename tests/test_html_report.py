"""The HTML report (analyze, check, diff): self-contained, escaped, and —
in a real headless Chromium — loads with no console errors and no network
request, draws every node, and is not blank. Browser tests skip when no
chromium is installed (`.ci/run` installs it where it can)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from conftest import ROOT, SPECS, CliRunner, analyze_text

from browser import Browser, BrowserMissing, decode_png, find_chromium
from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.render import html
from cnncalc.render.layout import layered

HOSTILE = """\
name: "</script><script>alert('x')</script>"
description: "a \\"quoted\\" <b>bold</b> & line\\nbreak"
input: [3, 16, 16]
layers:
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
    name: "<script>alert(1)</script>"
  - relu:
    name: "a\\"]-->b; click x \\"javascript:alert(1)\\" #35; \\\\N"
  - conv: {out_channels: 4, kernel_size: 3, padding: 1}
    name: "line\\nbreak'quote`tick"
    inputs: ["<script>alert(1)</script>"]
  - add:
    inputs: ["a\\"]-->b; click x \\"javascript:alert(1)\\" #35; \\\\N", "line\\nbreak'quote`tick"]
    name: "</svg><img src=x onerror=alert(2)>"
"""

V1, V2 = (str(ROOT / "examples" / "diff" / f"small_v{k}.yaml") for k in (1, 2))


@pytest.fixture(scope="module")
def resnet18():
    return analyze_file(SPECS / "resnet18.yaml")


def _first_drawing(page: str) -> str:
    """The main drawing (the report may add views with blocks as boxes)."""
    return page[page.index("<svg"):page.index("</svg>")]


def _names_in(page: str) -> list[str]:
    import html as stdlib_html

    page = _first_drawing(page)
    return [stdlib_html.unescape(m) for m in re.findall(r'<g class="node[^"]*" data-id="\w+" data-name="([^"]*)"',
                                                        page)]


# -- without a browser ----------------------------------------------------------------


def test_self_contained(resnet18):
    page = html.render(resnet18)
    assert page.startswith("<!DOCTYPE html>")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"<(link|img|iframe|object|embed)\b", page)
    assert not re.search(r"\bsrc=|@import|url\(", page)
    # the only URL is the SVG namespace name (never fetched)
    assert set(re.findall(r"https?://[^\s\"'<>]+", page)) == {"http://www.w3.org/2000/svg"}


@pytest.mark.parametrize("name", ["vgg16", "resnet18", "googlenet", "densenet121", "unet"])
def test_every_node_is_drawn_once(name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    page = html.render(analysis)
    assert _names_in(page) == ["input"] + [r.name for r in analysis.layers]
    edges = _first_drawing(page).count('<path class="edge')
    assert edges == sum(len(r.node.inputs) for r in analysis.layers)
    assert page.count('<tr data-name="') == len(analysis.layers)


def test_depth_lays_out_blocks_as_boxes():
    analysis = analyze_file(SPECS / "resnet50.yaml")
    page = html.render(analysis, depth=1)
    assert _names_in(page) == ["input", "conv1", "bn1", "relu1", "maxpool"] + [
        f"layer{s}.{b}" for s, n in ((1, 3), (2, 4), (3, 6), (4, 3)) for b in range(n)] + ["avgpool", "flatten1", "fc"]
    assert _first_drawing(page).count('<g class="node block"') == 16
    assert page.count('<tr data-name="') == len(analysis.layers)  # the table keeps every layer


def test_hostile_names_are_text():
    analysis = analyze_text(HOSTILE)
    page = html.render(analysis)
    assert re.findall(r"<script\b[^>]*>", page) == ['<script type="application/json" id="rf-data">', "<script>"]
    assert "<img" not in page and "</svg><" not in page.replace("</svg></div>", "")
    assert "alert(1)</script>" not in page
    assert _names_in(page)[1:] == [r.name for r in analysis.layers]
    data = page.split('id="rf-data">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and ">" not in data and "&" not in data


def test_vgg_is_a_straight_column():
    analysis = analyze_file(SPECS / "vgg16.yaml")
    page = html.render(analysis)
    xs = set(re.findall(r'<text x="([0-9.]+)" y="[0-9.]+" class="nm">', page))
    assert len(xs) == 1, xs


def test_resnet_shortcut_beside_the_main_path(resnet18):
    from cnncalc.render.netgraph import from_analysis

    g = from_analysis(resnet18)
    ids = [n.id for n in g.nodes]
    lay = layered(ids, {i: (120, 40) for i in ids}, [(e.src, e.dst) for e in g.edges])
    by_name = {n.name: n.id for n in g.nodes}
    main = [by_name[f"layer1.0.{x}"] for x in ("conv1", "bn1", "relu1", "conv2", "bn2", "add1", "relu2")]
    assert len({lay.x[i] for i in main}) == 1  # the main path is straight
    shortcut = lay.routes[[(e.src, e.dst) for e in g.edges].index((by_name["maxpool"], by_name["layer1.0.add1"]))]
    assert all(abs(x - lay.x[main[0]]) >= 60 for x, _ in shortcut[1:-1])  # routed beside the boxes
    down = by_name["layer2.0.downsample.0"]
    assert lay.x[down] != lay.x[by_name["layer2.0.conv1"]]  # the projection beside the main path
    assert lay.layer[down] == lay.layer[by_name["layer2.0.conv1"]]


def test_inception_branches_side_by_side():
    from cnncalc.render.netgraph import from_analysis

    g = from_analysis(analyze_file(SPECS / "googlenet.yaml"))
    ids = [n.id for n in g.nodes]
    lay = layered(ids, {i: (120, 40) for i in ids}, [(e.src, e.dst) for e in g.edges])
    by_name = {n.name: n.id for n in g.nodes}
    heads = [by_name[f"inception3a.branch{k}"] for k in ("1.conv", "2.0.conv", "3.0.conv", "4.0")]
    assert len({lay.layer[h] for h in heads}) == 1
    assert sorted(lay.x[h] for h in heads) == [lay.x[h] for h in heads]  # in order, left to right
    assert min(b - a for a, b in zip(*[iter(sorted(lay.x[h] for h in heads))] * 2)) >= 120


def test_layout_no_overlaps_densenet_and_unet():
    from cnncalc.render.netgraph import from_analysis

    for name in ("densenet121", "unet"):
        g = from_analysis(analyze_file(SPECS / f"{name}.yaml"))
        ids = [n.id for n in g.nodes]
        lay = layered(ids, {i: (140, 40) for i in ids}, [(e.src, e.dst) for e in g.edges])
        rows: dict = {}
        for i in ids:
            rows.setdefault(lay.layer[i], []).append(lay.x[i])
        for xs in rows.values():
            xs.sort()
            assert all(b - a >= 140 for a, b in zip(xs, xs[1:]))


def test_table_fragment_for_notebooks(resnet18):
    fragment = html.table_fragment(resnet18)
    assert fragment.startswith('<table class="layers"') and fragment.endswith("</table>")
    assert "<script" not in fragment and "11,689,512" in fragment
    drawing = html.drawing_fragment(resnet18, depth=0)
    assert drawing.startswith('<div class="cnncalc-drawing"><style>svg') and "<script" not in drawing
    assert _names_in(drawing)[-3:] == ["avgpool", "flatten1", "fc"]


def test_cli_html_check_and_diff(tmp_path):
    runner = CliRunner()
    out = tmp_path / "r.html"
    result = runner.invoke(cli, ["analyze", str(SPECS / "lenet5.yaml"), "--format", "html", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text(encoding="utf-8")
    check = runner.invoke(cli, ["check", str(SPECS / "resnet18.yaml"), "--max-params", "10M", "--format", "html"])
    assert check.exit_code == 1 and 'class="bar fail"' in check.stdout and "params ≤ 10M" in check.stdout
    diff = runner.invoke(cli, ["diff", V1, V2, "--format",
                               "html"])
    assert diff.exit_code == 0, diff.output
    assert len(re.findall(r'<g class="node[^"]* added"', diff.stdout)) == 4
    assert len(re.findall(r'<g class="node[^"]* changed"', diff.stdout)) == 3


def test_html_analyze_imports_neither_rich_nor_numpy():
    code = ("import sys\nsys.argv = ['cnncalc', 'analyze', %r, '--format', 'html']\nimport cnncalc.cli as c\n"
            "try:\n    c.main()\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('rich', 'numpy') if m in sys.modules]\nassert not bad, bad" % str(SPECS / "resnet18.yaml"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


# -- in a real browser -------------------------------------------------------------------

needs_browser = pytest.mark.skipif(find_chromium() is None, reason="chromium is not installed")


@pytest.fixture(scope="module")
def browser():
    try:
        with Browser() as b:
            yield b
    except BrowserMissing as exc:  # installed but cannot start here
        pytest.skip(str(exc))


def _clean(page, url_ok=lambda u: False):
    errors = [(level, text) for level, text in page.console if level in ("error", "warning", "assert")]
    assert not errors and not page.exceptions, (errors, page.exceptions)
    assert [u for u in page.requests if u != page.url and not url_ok(u)] == [], page.requests
    assert not page.failed, page.failed


@needs_browser
def test_browser_catches_errors_and_requests(browser, tmp_path):
    """The harness itself: a page that logs an error and fetches must fail it."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><body><script>console.error('boom');"
                   "fetch('http://127.0.0.1:9/x').catch(function(){});</script></body></html>")
    page = browser.open(bad)
    with pytest.raises(AssertionError):
        _clean(page)
    assert any("boom" in text for _, text in page.console)
    assert any(u.startswith("http://127.0.0.1:9/") for u in page.requests)


@needs_browser
def test_resnet18_report_in_a_browser(browser, resnet18, tmp_path):
    path = tmp_path / "resnet18.html"
    path.write_text(html.render(resnet18), encoding="utf-8")
    page = browser.open(path)
    _clean(page)
    drawn = browser.evaluate("Array.prototype.map.call(document.querySelectorAll('#view-all g.node'),"
                             "function(n){return n.getAttribute('data-name');})")
    assert drawn == ["input"] + [r.name for r in resnet18.layers]
    visible = browser.evaluate("Array.prototype.filter.call(document.querySelectorAll('#view-all g.node'),"
                               "function(n){var b=n.getBBox();return b.width>50&&b.height>20;}).length")
    assert visible == len(resnet18.layers) + 1
    # the receptive-field picture is drawn for the chosen layer
    assert browser.evaluate("document.querySelectorAll('#rf-grid rect.field').length") == 1
    assert "field size" in browser.evaluate("document.getElementById('rf-info').textContent")
    # not blank: many non-white pixels and several colours
    width, height, channels, rows = decode_png(browser.screenshot(selector="#view-all svg.net", max_height=1500))
    pixels = [row[i:i + 3] for row in rows for i in range(0, width * channels, channels)]
    ink = sum(1 for p in pixels if p != b"\xff\xff\xff")
    assert ink > 0.03 * len(pixels), ink
    assert len(set(pixels)) > 20


@needs_browser
def test_report_interactions(browser, resnet18, tmp_path):
    path = tmp_path / "r.html"
    path.write_text(html.render(resnet18), encoding="utf-8")
    _clean(browser.open(path))
    # sort by MACs, largest first
    browser.evaluate("var th=document.querySelectorAll('#layers th')[7]; th.click(); th.click(); 0")
    first = browser.evaluate("document.querySelector('#layers tbody tr').getAttribute('data-name')")
    assert first == max(resnet18.layers, key=lambda r: (r.macs, -r.node.index)).name or \
        resnet18[first].macs == max(r.macs for r in resnet18.layers)
    # fold a block: its layers hide, the summary box shows
    browser.evaluate("document.querySelector('#view-all .grp-label[data-g]').dispatchEvent("
                     "new MouseEvent('click', {bubbles: true})); 0")
    hidden = browser.evaluate("document.querySelectorAll('#view-all g.node.hid').length")
    assert hidden > 0 and browser.evaluate("document.querySelectorAll('#view-all g.fold.on').length") == 1
    # shade by parameters
    browser.evaluate("var r=document.querySelector('input[value=params]'); r.click(); 0")
    fill = browser.evaluate("document.querySelector('#view-all g.node[data-name=fc] rect').style.fill")
    assert fill and fill != "rgb(255, 255, 255)"
    # the top level laid out again: blocks as single boxes
    browser.evaluate("var r=document.querySelector('input[name=level][value=d0]'); r.click(); 0")
    assert browser.evaluate("document.getElementById('view-all').hidden") is True
    shown = browser.evaluate("Array.prototype.map.call(document.querySelectorAll('#view-d0 g.node'),"
                             "function(n){return n.getAttribute('data-name');})")
    assert shown == ["input", "conv1", "bn1", "relu1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool",
                     "flatten1", "fc"]
    height = browser.evaluate("document.querySelector('#view-d0 svg').getBoundingClientRect().height")
    assert 0 < height < 2000
    # choosing a layer redraws the receptive field
    browser.evaluate("var s=document.getElementById('rf-layer'); s.value='conv1'; "
                     "s.dispatchEvent(new Event('change')); 0")
    assert "7×7" in browser.evaluate("document.getElementById('rf-info').textContent")


@needs_browser
@pytest.mark.parametrize("name", ["densenet121", "unet", "googlenet", "wavenet_tcn", "c3d", "dcgan_generator"])
def test_reports_load_cleanly(browser, name, tmp_path):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    path = tmp_path / f"{name}.html"
    path.write_text(html.render(analysis), encoding="utf-8")
    _clean(browser.open(path))
    assert browser.evaluate("document.querySelectorAll('#view-all g.node').length") == len(analysis.layers) + 1
    assert browser.evaluate("document.querySelectorAll('#rf-grid rect.field').length") == 1  # 1-D, 2-D, 3-D inputs


@needs_browser
def test_hostile_report_runs_no_injected_script(browser, tmp_path):
    path = tmp_path / "h.html"
    path.write_text(html.render(analyze_text(HOSTILE)), encoding="utf-8")
    page = browser.open(path)
    _clean(page)
    assert browser.evaluate("document.querySelectorAll('img').length") == 0
    assert browser.evaluate("document.querySelectorAll('script').length") == 2
    assert browser.evaluate("document.querySelector('h1').textContent") == "</script><script>alert('x')</script>"


@needs_browser
def test_check_and_diff_reports_in_a_browser(browser, tmp_path):
    runner = CliRunner()
    for args, name in (
        (["check", str(SPECS / "resnet18.yaml"), str(SPECS / "vgg16.yaml"), "--max-params", "30M"], "check"),
        (["diff", V1, V2], "diff"),
    ):
        out = tmp_path / f"{name}.html"
        result = runner.invoke(cli, [*args, "--format", "html", "-o", str(out)])
        assert result.exit_code in (0, 1), result.output
        _clean(browser.open(out))
    assert browser.evaluate("document.querySelectorAll('svg.net g.node.added').length") == 4


def test_layout_bounded_for_dense_wiring():
    """Thousands of long edges: routed straight instead of through millions of dummy nodes."""
    n = 700
    ids = [f"v{i}" for i in range(n)]
    edges = [(f"v{j}", f"v{i}") for i in range(1, n) for j in range(max(0, i - 120), i)]
    lay = layered(ids, {i: (100, 40) for i in ids}, edges)
    assert len(lay.routes) == len(edges)
    assert max(len(r) for r in lay.routes) == 2
    assert len({lay.x[i] for i in ids}) == 1  # still one column: each layer holds one node
