"""The fast analyze outputs draw exactly what the reference renderers draw:
the table as rich lays it out, the JSON as json.dumps would."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from cnncalc import analyze_file
from cnncalc.render import jsonout
from cnncalc.render.fasttable import color_wanted, print_analysis_table
from cnncalc.render.table import print_table
from conftest import SPECS

SHIPPED = sorted(p.stem for p in SPECS.glob("*.yaml"))


def _rich_text(analysis, **kw) -> str:
    from rich.console import Console

    buffer = io.StringIO()
    print_table(analysis, Console(file=buffer, width=200, highlight=False, soft_wrap=False), **kw)
    return buffer.getvalue()


@pytest.mark.parametrize("name", SHIPPED)
def test_fast_table_is_byte_identical_to_rich(name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    fast = io.StringIO()
    print_analysis_table(analysis, stream=fast, width=200)
    assert fast.getvalue() == _rich_text(analysis)


def test_fast_table_exact_numbers_and_wide_characters():
    from conftest import analyze_text

    analysis = analyze_text(
        "name: 网络\ninput: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3}\n    name: 卷积层\n  - relu\n"
    )
    fast = io.StringIO()
    print_analysis_table(analysis, stream=fast, exact=True, width=200)
    assert fast.getvalue() == _rich_text(analysis, exact=True)


def _json_by_the_encoder(analysis) -> str:
    """The JSON document written by json's C encoder, one layer per line."""
    data = jsonout.to_dict(analysis)
    layers, data["layers"] = data["layers"], "\0layers\0"
    text = json.dumps(data, indent=2, ensure_ascii=False)
    compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    rows = "[\n" + ",\n".join("    " + compact(layer) for layer in layers) + "\n  ]"
    from cnncalc.render.escape import json_text

    return json_text(text.replace('"layers": ' + json.dumps("\0layers\0"), '"layers": ' + rows, 1)) + "\n"


@pytest.mark.parametrize("name", SHIPPED)
def test_json_is_the_encoders_text(name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    assert jsonout.render(analysis) == _json_by_the_encoder(analysis)


def test_json_text_with_quotes_unicode_and_fractions():
    from conftest import analyze_text

    analysis = analyze_text(
        'name: "网络 \\"q\\""\ninput: [3, 9, 9]\nlayers:\n  - conv: {out_channels: 4, kernel_size: 3, stride: "1/2"}\n'
        '    name: "卷积\\tlayer \\"x\\""\n  - relu:\n    name: "a\\u2028b"\n  - dropout: {p: 0.25}\n    name: "del\\x7f"\n'
        '  - flatten\n  - dense: {out_features: 3}\n'
    )
    text = jsonout.render(analysis)
    assert text == _json_by_the_encoder(analysis)
    assert "\\u2028" in text and "\\u007f" in text and "\u2028" not in text  # shown, not obeyed


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "unet"])
def test_json_layers_on_one_line_each_same_data(name):
    analysis = analyze_file(SPECS / f"{name}.yaml")
    text = jsonout.render(analysis)
    assert json.loads(text) == json.loads(json.dumps(jsonout.to_dict(analysis)))
    assert text.count("\n    {\"index\": ") == len(analysis.layers)


def test_colour_rules(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    for var in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(var, raising=False)
    assert color_wanted(Tty()) and not color_wanted(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_wanted(Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not color_wanted(Tty())
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert color_wanted(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "")  # empty: not set, as no-color.org says
    assert color_wanted(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not color_wanted(Tty())


def _run(*args, **env):
    full = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    full.update(env)
    return subprocess.run([sys.executable, "-m", "cnncalc", "analyze", *args], capture_output=True, text=True, env=full)


def test_piped_output_is_plain_and_force_color_paints():
    plain = _run(str(SPECS / "lenet5.yaml"))
    assert plain.returncode == 0 and "\x1b[" not in plain.stdout
    painted = _run(str(SPECS / "lenet5.yaml"), FORCE_COLOR="1")
    assert "\x1b[1m" in painted.stdout  # bold header
    assert "\x1b[" not in _run(str(SPECS / "lenet5.yaml"), FORCE_COLOR="1", NO_COLOR="1").stdout


def test_columns_narrower_than_the_table_fits_it():
    out = _run(str(SPECS / "vgg16.yaml"), COLUMNS="80").stdout
    assert max(len(line) for line in out.splitlines()[:40]) <= 80
    assert "138,357,544" in out
