"""Property: every spec that analyses is drawn by every picture renderer —
the fitted table never passes the width nor wraps a row, the HTML report has
one box per layer and one edge per input, Mermaid keeps to its statements,
DOT to its own — at any --depth."""

from __future__ import annotations

import io
import os
import re

from hypothesis import HealthCheck, assume, given, settings

from cnncalc import SpecError, analyze, loads_spec
from cnncalc.render import dot, html, mermaid
from cnncalc.render.fasttable import _width, print_analysis_table
from strategies import spec_docs, to_yaml
from test_graph_formats import check_mermaid, mermaid_body
from test_html_report import _first_drawing

EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXAMPLES", "120"))


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=EXAMPLES <= 1000,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
@given(spec_docs(max_layers=8, clean=True))
def test_pictures_of_any_spec(doc):
    try:
        analysis = analyze(loads_spec(to_yaml(doc), file="fuzz.yaml"))
    except SpecError:
        assume(False)
    layers = len(analysis.layers)
    edges = sum(len(r.node.inputs) for r in analysis.layers)
    for width in (60, 80, 100, None):
        out = io.StringIO()
        print_analysis_table(analysis, stream=out, width=width)
        lines = out.getvalue().splitlines()
        if width is not None:
            assert max(_width(line) for line in lines) <= width or width < 70, lines
        assert sum(line.startswith("│") for line in lines) >= layers + 1
    page = _first_drawing(html.render(analysis))
    assert len(re.findall(r'<g class="node[^"]*" data-id=', page)) == layers + 1
    assert page.count('<path class="edge') == edges
    for depth in (None, 0):
        check_mermaid(mermaid_body(mermaid.render(analysis, depth=depth)))
        text = dot.render(analysis, depth=depth)
        assert text.startswith("digraph cnncalc {") and text.rstrip().endswith("}")
    html.render(analysis, depth=0)
