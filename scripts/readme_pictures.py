"""Regenerate the README's screenshots (docs/img/*.png) in headless Chromium.

    PYTHONPATH=. python scripts/readme_pictures.py

Uses the tests' stdlib DevTools client (tests/browser.py); needs chromium.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from browser import Browser, unclip  # noqa: E402

from cnncalc import analyze_file  # noqa: E402
from cnncalc.checking import check_graph  # noqa: E402
from cnncalc.budget import Budget, Limit, Quantity  # noqa: E402
from cnncalc.compare import diff, snapshot_from_analysis  # noqa: E402
from cnncalc.render import html, html_check, html_diff  # noqa: E402
from cnncalc.spec import load_spec  # noqa: E402

OUT = ROOT / "docs" / "img"


def group(label: str) -> str:
    """JS: the box of the group whose label starts with ``label``."""
    return ("(function(){var ls=document.querySelectorAll('svg.net g.grp .grp-label');"
            f"for(var i=0;i<ls.length;i++){{if(ls[i].textContent.indexOf({label!r})===2)"
            "return ls[i].parentNode.querySelector('rect');}})()")


def main() -> None:
    os.chdir(ROOT)  # paths in the pictures read as in a clone, not this machine's
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, Browser(1400, 1000) as b:
        def load(name: str, text: str):
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            page = b.open(path)
            assert not page.exceptions, page.exceptions
            unclip(b)

        def save(name: str, png: bytes):
            (OUT / name).write_bytes(png)
            print(f"{OUT / name}: {len(png):,} bytes")

        load("resnet18.html", html.render(analyze_file(Path("specs/resnet18.yaml"))))
        save("resnet18_graph.png", b.screenshot(selector="svg.net", scale=0.6, max_height=1350))
        b.evaluate("var s=document.getElementById('rf-layer'); s.value='layer3.0.conv1'; "
                   "s.dispatchEvent(new Event('change')); 0")
        save("resnet18_rf.png", b.screenshot(selector="#rf", scale=0.6))
        load("googlenet.html", html.render(analyze_file(Path("specs/googlenet.yaml"))))
        save("googlenet_inception.png", b.screenshot(element=group("inception3a · inception"), scale=0.6, pad=6))
        load("unet.html", html.render(analyze_file(Path("specs/unet.yaml")), depth=0))
        save("unet_depth0.png", b.screenshot(selector="svg.net", scale=0.5))
        v1 = analyze_file(Path("examples/diff/small_v1.yaml"))
        v2 = analyze_file(Path("examples/diff/small_v2.yaml"))
        d = diff(snapshot_from_analysis(v1, label="small_v1.yaml"), snapshot_from_analysis(v2, label="small_v2.yaml"))
        load("diff.html", html_diff.render(d))
        save("diff_graph.png", b.screenshot(selector="svg.net", scale=0.6))
        budget = Budget()
        for quantity, value, text, scope in ((Quantity.PARAMS, 30_000_000, "30M", "total"),
                                             (Quantity.MACS, 5_000_000_000, "5G", "total"),
                                             (Quantity.PARAMS, 50_000_000, "50M", "layer")):
            lim = Limit(quantity, value, "max", scope, text, "--max-" + ("layer-" if scope == "layer" else "")
                        + quantity.value, None)
            budget.limits[lim.key] = lim
        reports = [check_graph(load_spec(Path(f"specs/{n}.yaml")), budget) for n in ("resnet50", "vgg16")]
        load("check.html", html_check.render(reports))
        save("check_bars.png", b.screenshot(element="document.body", scale=0.6, max_height=720))


if __name__ == "__main__":
    main()
