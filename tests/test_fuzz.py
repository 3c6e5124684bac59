"""Property-based tests: whatever spec it is given, cnncalc either answers or
raises its own SpecError with a location; it never raises anything else.

Default: a few hundred examples per property (fast enough for CI).
Long mode: ``CNNCALC_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz.py`` (the
executor property follows it unless ``CNNCALC_FUZZ_EXEC_EXAMPLES`` is set).
"""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc import SpecError, analyze, loads_spec
from strategies import spec_docs, to_yaml

EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXAMPLES", "250"))

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize=EXAMPLES <= 1000,  # CI runs are reproducible; long runs explore
    database=None,
)

LOCATION = re.compile(r"^fuzz\.yaml:\d+(:\d+)?: ")


def check_error(err: SpecError, text: str) -> None:
    """The one message the CLI would print: file, line, and what it is about."""
    message = str(err)
    assert LOCATION.match(message), f"no file:line in {message!r}\n---\n{text}"
    assert err.line is not None and err.line >= 1, message
    assert err.line <= max(1, text.count("\n") + 1), f"line {err.line} beyond the text: {message}\n---\n{text}"
    assert err.field is not None or err.layer_index is not None or err.layer_name is not None, (
        f"names neither a layer nor a field: {message}\n---\n{text}"
    )
    assert "Traceback" not in message and "\n" not in message.strip(), message


def check_result(result) -> None:
    """Invariants every successful analysis satisfies, and every renderer copes."""
    from cnncalc.render.csvout import render as render_csv
    from cnncalc.render.jsonout import render as render_json
    from cnncalc.render.markdown import render as render_markdown

    totals = result.totals
    assert totals.params_trainable == sum(r.params.trainable for r in result.layers)
    assert totals.params_buffers == sum(r.params.buffers for r in result.layers)
    assert totals.multiplications == sum(r.multiplications for r in result.layers)
    for r in result.layers:
        assert r.output_shape and all(type(n) is int and n >= 1 for n in r.output_shape), r
        assert type(r.multiplications) is int and r.multiplications >= 0
        assert r.params.trainable >= 0 and r.params.buffers >= 0
        assert len(r.rf) == len(result.input_shape) - 1
    data = json.loads(render_json(result))
    assert len(data["layers"]) == len(result.layers)
    render_csv(result)
    render_markdown(result)


def analyze_or_error(text: str):
    try:
        result = analyze(loads_spec(text, "fuzz.yaml"))
    except SpecError as err:
        check_error(err, text)
        return None
    check_result(result)
    return result


@FUZZ
@given(spec_docs())
def test_analyze_answers_or_raises_spec_error(doc):
    analyze_or_error(to_yaml(doc))


_YAMLISH = st.lists(
    st.sampled_from(
        list("input:layers-[]{},&*!|>'\"#%@` \n\t\x00abc0123456789.-_é")
        + ["input: ", "layers:", "conv", "relu", "\n  - ", "{out_channels: 2, kernel_size: 1}", "&a ", "*a", "<<: "]
    ),
    max_size=40,
).map("".join)


@FUZZ
@given(_YAMLISH)
def test_any_text_answers_or_raises_spec_error(text):
    try:
        analyze(loads_spec(text, "fuzz.yaml"))
    except SpecError as err:
        message = str(err)
        assert LOCATION.match(message), f"no file:line in {message!r} for {text!r}"


@FUZZ
@given(spec_docs(max_layers=4), st.data())
def test_mangled_yaml_answers_or_raises_spec_error(doc, data):
    """Real specs with one edit at a random place: a deleted, duplicated or
    replaced character (indentation, brackets, colons, tabs...)."""
    text = to_yaml(doc)
    i = data.draw(st.integers(0, len(text)))
    edit = data.draw(st.sampled_from(["delete", "insert", "dup-line"]))
    if edit == "delete":
        text = text[:i] + text[i + 1:]
    elif edit == "insert":
        text = text[:i] + data.draw(st.sampled_from(list(" \t\n:-[]{}#&*!'\"\\"))) + text[i:]
    else:
        lines = text.splitlines(keepends=True)
        j = i % max(1, len(lines))
        text = "".join(lines[: j + 1] + lines[j:])
    try:
        analyze(loads_spec(text, "fuzz.yaml"))
    except SpecError as err:
        assert LOCATION.match(str(err)), str(err)


EXEC_EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXEC_EXAMPLES", os.environ.get("CNNCALC_FUZZ_EXAMPLES", "120")))


@settings(FUZZ, max_examples=EXEC_EXAMPLES, derandomize=EXEC_EXAMPLES <= 1000)
@given(spec_docs(max_layers=5, clean=True))
def test_executor_agrees_with_analysis(doc):
    """For every valid generated spec, running it (numpy, batch 2) gives the
    analysed output shape, parameter and buffer counts, multiplications (for
    kernels that count them), gradient shapes and bytes kept for backward."""
    np = pytest.importorskip("numpy")
    from cnncalc.executor.verify import estimate_bytes, verify

    text = to_yaml(doc)
    try:
        result = analyze(loads_spec(text, "fuzz.yaml"), batch=2)
    except SpecError as err:
        check_error(err, text)
        assume(False)
    assume(estimate_bytes(result) < 64 * 2**20)  # a few generated nets are large: skip, don't swap
    with np.errstate(all="ignore"):
        report = verify(result, seed=0)
    for r in report.layers:
        where = f"layer {r.index} '{r.name}' ({r.type_name})\n---\n{text}"
        assert r.shape.ok, f"shape: executed {r.shape.measured}, analysed {r.shape.analysed}: {where}"
        assert r.params.ok, f"params: executed {r.params.measured}, analysed {r.params.analysed}: {where}"
        assert r.grads_ok, f"gradient shapes differ from parameter shapes: {where}"
        assert r.mults is None or r.mults.ok, f"mults: executed {r.mults.measured}, analysed {r.mults.analysed}: {where}"
        assert r.saved.ok, f"bytes kept for backward: executed {r.saved.measured}, analysed {r.saved.analysed}: {where}"
    assert report.held.ok, f"total kept for backward: {report.held.measured} vs {report.held.analysed}\n---\n{text}"
