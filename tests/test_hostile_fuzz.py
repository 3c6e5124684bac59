"""Property-based fuzzers, one per class of the hostile catalogue
(tests/hostile/, issue 15). Each draws inputs written to hurt and checks the
rule the catalogue checks case by case: an answer or cnncalc's own error with
its location, never another exception, bounded work, escaped output.

Default: a few hundred examples per class (CI). Long mode:
``CNNCALC_FUZZ_EXAMPLES=100000 pytest tests/test_hostile_fuzz.py``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import stat
import time
import xml.etree.ElementTree as ET
from contextlib import redirect_stderr, redirect_stdout
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc import SpecError, analyze, loads_spec
from cnncalc.errors import CnncalcError

EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXAMPLES", "200"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    derandomize=EXAMPLES <= 1000,
    database=None,
)
#: CPU seconds one example may take: a bound that catches explosions (work that
#: grows with a number in the input) without flaking on a loaded machine, where
#: page faults alone once cost a trivial example half a second. The one-second
#: rule for a whole command is the catalogue's (tests/test_hostile.py).
CPU = 2.0
LOCATION = re.compile(r"^fuzz\.yaml:\d+(:\d+)?: ")


def counted(test):
    """With CNNCALC_FUZZ_PROGRESS=FILE, append "name count" to FILE every 1,000
    examples (a long run stopped by a time limit still tells how far it got)."""
    path = os.environ.get("CNNCALC_FUZZ_PROGRESS")
    if not path:
        return test
    import functools

    seen = [0]

    @functools.wraps(test)
    def run(*args, **kwargs):
        seen[0] += 1
        if seen[0] % 1000 == 0:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(f"{test.__name__} {seen[0]}\n")
        return test(*args, **kwargs)

    return run


def answer_or_spec_error(text: str, **kw):
    """Analyse ``text``: the analysis, or None after checking the SpecError."""
    import gc

    enabled = gc.isenabled()
    gc.disable()  # a full collection of the test session's objects is not cnncalc's work
    start = time.process_time()
    try:
        return analyze(loads_spec(text, "fuzz.yaml"), **kw)
    except SpecError as err:
        assert LOCATION.match(str(err)), f"no file:line in {str(err)[:300]!r}"
        assert len(str(err)) < 20_000, f"a message of {len(str(err)):,} characters"
        return None
    finally:
        spent = time.process_time() - start
        if enabled:
            gc.enable()
        assert spent < CPU, f"{spent:.2f} s for\n{text[:2000]}"


def run_cli(args, env=None):
    """(exit status, stdout, stderr) of ``cnncalc ARGS`` in this process."""
    from cnncalc.cli import main

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), pytest.raises(SystemExit) as info:
        main(list(args))
    return info.value.code, out.getvalue(), err.getvalue()


# -- 1. amplification through the spec language -----------------------------------------

_OPS = st.sampled_from(["*", "+", "-", "//", "%", "*", "*"])


@st.composite
def block_chains(draw):
    depth = draw(st.integers(1, 12))
    blocks = []
    for i in range(depth):
        terms = draw(st.lists(st.sampled_from(["w", "w", "2", "10", "999999999"]), min_size=1, max_size=6))
        ops = [draw(_OPS) for _ in terms[1:]]
        expr = terms[0] + "".join(f" {o} {t}" for o, t in zip(ops, terms[1:]))
        blocks.append(f"  b{i}:\n    params: {{w: ~}}\n    layers:\n      - b{i + 1}: {{w: \"$({expr})\"}}\n"
                      f"        repeat: {draw(st.sampled_from([1, 2, 10, 1000, 10**9, 10**18]))}\n"
                      f"        when: {draw(st.sampled_from(['true', 'false', '$(w > 3)']))}\n")
    field = draw(st.sampled_from(["out_channels: $w", "out_channels: 1, stride: $w", "out_channels: 1, dilation: $w"]))
    blocks.append(f"  b{depth}:\n    params: {{w: ~}}\n    layers:\n      - conv: {{{field}, kernel_size: 1}}\n")
    start = draw(st.sampled_from([1, 2, 3, 10, 10**9, 10**18]))
    return "input: [1, 8]\nblocks:\n" + "".join(blocks) + f"layers:\n  - b0: {{w: {start}}}\n"


@FUZZ
@given(block_chains())
@counted
def test_amplification_expressions_and_repeats_stay_bounded(text):
    answer_or_spec_error(text)


@FUZZ
@given(st.integers(1, 3000 if EXAMPLES > 1000 else 400), st.sampled_from(["fan_in", "fan_out", "when_chain"]),
       st.integers(0, 2))
@counted
def test_amplification_graph_shapes_stay_bounded(n, kind, skip_every):
    if kind == "fan_out":
        rows = "".join("  - relu: {}\n    inputs: inp\n" for _ in range(n))
        text = "input: [1, 4]\nlayers:\n  - relu:\n    name: inp\n" + rows
    elif kind == "fan_in":
        rows = "".join(f"  - relu:\n    name: r{i}\n    inputs: inp\n" for i in range(n))
        text = "input: [1, 4]\nlayers:\n  - relu:\n    name: inp\n" + rows + \
            "  - add: {}\n    inputs: [" + ", ".join(f"r{i}" for i in range(n)) + "]\n"
    else:
        rows = "".join(f"  - relu:\n    name: s{i}\n    when: {'false' if skip_every and i % (skip_every + 1) else 'true'}"
                       f"\n    inputs: s{i - 1}\n" for i in range(1, n))
        text = "input: [1, 4]\nlayers:\n  - relu:\n    name: s0\n" + rows + f"  - relu:\n    inputs: s{n - 1}\n"
    answer_or_spec_error(text)


@FUZZ
@given(st.text(alphabet="abcnm_.0123456789", min_size=1, max_size=5000), st.integers(0, 3000))
@counted
def test_amplification_did_you_mean_is_bounded(word, count):
    from cnncalc.errors import did_you_mean

    start = time.process_time()
    did_you_mean(word, (f"layer_{i}_{word[:30]}" for i in range(count)))
    assert time.process_time() - start < CPU


# -- 2. exact arithmetic ------------------------------------------------------------------

_BIG = st.sampled_from([1, 2, 3, 7, 1000, 10**9, 999999999999999989, 10**18])


@st.composite
def arithmetic_specs(draw):
    rows = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["upsample", "stride", "adaptive", "pool", "dilate", "tconv"]))
        n, m = draw(_BIG), draw(_BIG)
        rows.append({
            "upsample": f"  - upsample: {{scale_factor: {n}}}\n",
            "stride": f"  - conv: {{out_channels: 1, kernel_size: 2, stride: \"{n}/{m}\"}}\n",
            "adaptive": f"  - adaptive_avg_pool: {{output_size: {n}}}\n",
            "pool": f"  - max_pool: {{kernel_size: {min(n, 3)}, stride: {n}}}\n",
            "dilate": f"  - conv: {{out_channels: 1, kernel_size: 2, dilation: {n}}}\n",
            "tconv": f"  - conv_transpose: {{out_channels: 1, kernel_size: 2, stride: {n}}}\n",
        }[kind] + f"    repeat: {draw(st.integers(1, 4))}\n")
    return f"input: [1, {draw(_BIG)}]\nlayers:\n" + "".join(rows)


@FUZZ
@given(arithmetic_specs())
@counted
def test_exact_arithmetic_stays_within_the_10_18_rule(text):
    from cnncalc.homework.explain import explain_lines

    result = answer_or_spec_error(text)
    if result is None:
        return
    for r in result.layers:
        assert all(n <= 10**18 for n in r.output_shape), r.output_shape
        for a in r.rf:
            for v in (a.size, a.jump, a.start):
                v = Fraction(v)
                assert abs(v.numerator) <= 10**18 and v.denominator <= 10**18, (r.name, a)
    start = time.process_time()
    lines = explain_lines(result)
    assert time.process_time() - start < CPU
    for line in lines:  # exact numbers only: no float's exponent or its rounding tail
        assert not re.search(r"\d\.\d+e[+-]\d", line), line


# -- 3. YAML scalars ---------------------------------------------------------------------

_SCALAR_TEXT = st.text(alphabet="0123456789_:-+.xXbBoOeE abfinINaAlsuyY~", max_size=60) | st.builds(
    lambda head, n, tail: head + tail * n, st.sampled_from(["0x", "0b", "0", "1", "-", "1:", ""]),
    st.integers(0, 5000), st.sampled_from(["f", "1", "7", "9", ":59", "_", "0"]))


@FUZZ
@given(st.sampled_from(["", "!!int ", "!!float ", "!!bool ", "!!null ", "!!str "]), _SCALAR_TEXT,
       st.sampled_from(["out_channels", "kernel_size", "bias", "repeat"]), st.booleans())
@counted
def test_yaml_scalars_are_values_or_spec_errors_with_a_line(tag, value, field, quoted):
    shown = json.dumps(value) if quoted else value
    if field == "repeat":
        text = f"input: [3, 8, 8]\nlayers:\n  - relu:\n    repeat: {tag}{shown}\n"
    else:
        fields = {"out_channels": "2", "kernel_size": "3", "bias": "true"}
        fields[field] = f"{tag}{shown}"
        text = "input: [3, 8, 8]\nlayers:\n  - conv:\n" + "".join(f"      {k}: {v}\n" for k, v in fields.items())
    answer_or_spec_error(text)


# -- 4. numbers in answers, budgets and baselines ----------------------------------------

_NUMBERISH = st.text(alphabet="0123456789.,_eE+-%KMGTPiBx /", max_size=40) | st.builds(
    lambda a, n, b: a + "9" * n + b, st.sampled_from(["", "1e", "1.", "0.", "-", "1/"]), st.integers(0, 3000),
    st.sampled_from(["", "%", "e999999999", "e-99999999", "G", "MiB"]))


@FUZZ
@given(_NUMBERISH)
@counted
def test_numbers_parse_bounded_or_fail_cleanly(text):
    from cnncalc.budget import Quantity, parse_percent_or_amount
    from cnncalc.homework.grade import parse_number
    from cnncalc.numbers import NumberError, parse_decimal, parse_fraction
    from cnncalc.units import parse_bytes, parse_count

    start = time.process_time()
    for parse in (parse_decimal, parse_fraction, parse_count, parse_bytes):
        try:
            value = parse(text)
        except NumberError:
            continue
        except ValueError:
            continue
        assert abs(int(value)) < 10**61
    for q in (Quantity.PARAMS, Quantity.TRAINING_MEMORY):
        try:
            parse_percent_or_amount(q, text)
        except ValueError:
            pass
    try:
        parse_number(text, "answer", None)
    except SpecError:
        pass
    assert time.process_time() - start < CPU


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**70), 10**70) | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(st.data())
@counted
def test_baselines_are_snapshots_or_spec_errors(data):
    from cnncalc.compare import diff, snapshot_from_json

    base = json.loads(open(os.path.join(os.path.dirname(__file__), "hostile", "lenet5.analysis.json")).read())
    paths = [("batch",), ("totals", "macs"), ("totals", "params", "trainable"), ("layers",), ("name",),
             ("layers", 0, "macs"), ("layers", 0, "output_shape"), ("layers", 0, "name"), ("dtype",),
             ("totals", "memory", "activation_bytes"), ("layers", 1, "settings")]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        node = base
        try:
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = data.draw(_JSON_VALUES)
        except (KeyError, IndexError, TypeError):  # an earlier edit replaced the parent
            pass
    start = time.process_time()
    try:
        snap = snapshot_from_json(base, "fuzz.json")
    except SpecError as err:
        assert str(err).startswith("fuzz.json: "), str(err)
        return
    from cnncalc.render.diff import DiffFormat, render

    d = diff(snap, snap)
    for fmt in DiffFormat:
        render(d, fmt)
    assert time.process_time() - start < CPU


# -- 5. the executor's guards ------------------------------------------------------------

@FUZZ
@given(channels=st.integers(1, 10**6), size=st.integers(1, 2048), kernel=st.integers(1, 31),
       repeat=st.integers(1, 64), batch=st.integers(1, 10**4))
@counted
def test_verify_refuses_work_beyond_its_limits_before_running(tmp_path_factory, channels, size, kernel, repeat, batch):
    text = (f"input: [{channels}, {size}, {size}]\nlayers:\n  - conv: {{out_channels: {channels}, kernel_size: "
            f"{kernel}, padding: {kernel // 2}}}\n    repeat: {repeat}\n")
    result = answer_or_spec_error(text, batch=batch)
    assume(result is not None)
    work = result.totals.multiplications * batch
    assume(work > 1)
    path = tmp_path_factory.mktemp("v") / "net.yaml"
    path.write_text(text)
    start = time.process_time()
    status, out, err = run_cli(["verify", str(path), "--batch", str(batch), "--max-macs", str(work - 1), "-q"])
    assert time.process_time() - start < CPU
    assert status == 2 and "--max-macs" in err and out == "", err


@FUZZ
@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 64), st.booleans(), st.booleans())
@counted
def test_homework_run_refuses_what_it_cannot_print(h, w, channels, matrix, backward):
    from cnncalc.homework.worked import MAX_MATRIX_CELLS, MAX_RUN_CELLS, MAX_RUN_MULTS, check_run_size

    text = f"input: [1, {h}, {w}]\nlayers:\n  - conv: {{out_channels: {channels}, kernel_size: 1}}\n"
    result = answer_or_spec_error(text)
    try:
        check_run_size(result, matrix=matrix, backward=backward, loc=None)
    except SpecError as err:
        assert "limited to" in str(err)
        return
    cells = (2 if backward else 1) * (h * w + channels * h * w)
    assert cells <= MAX_RUN_CELLS and result.totals.multiplications <= MAX_RUN_MULTS
    assert not matrix or h * w * channels * h * w <= MAX_MATRIX_CELLS


# -- 6. output injection -------------------------------------------------------------------

_HOSTILE_TEXT = st.lists(
    st.sampled_from(list("\n\r\t\x00\x01\x07\x0b\x1b\x7f\x85\x9b\u2028\u2029\u202e\u2066\ufeff\ufffe")
                    + list(":%=+-@[]/|<>`*&\\\"' ,.ab") + ["::error::", "[link=x]", "%0A", "\x1b]8;;"]),
    min_size=1, max_size=12,
).map("".join)
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def _lines_ok(text: str, allowed_commands=()) -> None:
    for line in text.split("\n"):
        assert not _CONTROL.search(line), repr(line)
        stripped = line.lstrip()
        if stripped.startswith("::"):
            assert stripped.startswith(allowed_commands), repr(line)


@FUZZ
@given(_HOSTILE_TEXT, _HOSTILE_TEXT)
@counted
def test_output_escapes_hostile_names_in_every_renderer(net_name, layer_name):
    from cnncalc.checking import check_graph
    from cnncalc.budget import Budget, Limit, Quantity
    from cnncalc.render.check import CheckFormat, render as render_check
    from cnncalc.render.csvout import render as render_csv
    from cnncalc.render.jsonout import render as render_json
    from cnncalc.render.markdown import render as render_markdown
    from cnncalc.render.table import print_table
    from cnncalc.homework.explain import explain_lines
    from cnncalc.render.escape import line_text

    text = (f"name: {json.dumps(net_name)}\ninput: [1, 8, 8]\nlayers:\n  - name: {json.dumps(layer_name + 'g')}\n"
            f"    layers:\n      - conv: {{out_channels: 2, kernel_size: 3}}\n        name: {json.dumps(layer_name)}\n")
    result = answer_or_spec_error(text)
    assume(result is not None)
    from rich.console import Console

    buf = io.StringIO()
    print_table(result, Console(file=buf, width=200, no_color=True, highlight=False))
    _lines_ok(buf.getvalue())
    _lines_ok(render_markdown(result, depth=1))
    _lines_ok("\n".join(line_text(x) for x in explain_lines(result)))
    rows = list(csv.reader(io.StringIO(render_csv(result))))
    for row in rows[1:-1]:
        for cell in row[1:4]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
            assert not _CONTROL.search(cell), repr(cell)
    data = json.loads(render_json(result))
    assert data["name"] == net_name and data["layers"][0]["name"].endswith(layer_name)  # JSON keeps the data
    budget = Budget()
    lim = Limit(Quantity.PARAMS, 1, "max", "layer", "1", "--max-layer-params", None)
    budget.limits[lim.key] = lim
    report = check_graph(result.graph, budget)
    github = render_check([report], CheckFormat.GITHUB)
    _lines_ok(github, allowed_commands=("::error file=", "::error title=", "::error::"))
    ET.fromstring(render_check([report], CheckFormat.JUNIT).encode())
    json.loads(render_check([report], CheckFormat.JSON))


@FUZZ
@given(_HOSTILE_TEXT)
@counted
def test_error_messages_are_one_escaped_line(word):
    text = f"input: [1, 8]\nlayers:\n  - {json.dumps(word)}: {{}}\n"
    try:
        loads_spec(text, "fuzz.yaml")
    except SpecError as err:
        from cnncalc.render.escape import rich_markup

        from rich.console import Console

        buf = io.StringIO()
        Console(file=buf, width=100000, no_color=True, highlight=False, soft_wrap=True).print(
            f"[bold red]error:[/] {rich_markup(err)}")
        shown = buf.getvalue()
        assert shown.count("\n") == 1 and not _CONTROL.search(shown), repr(shown)


# -- 7. -o and files -------------------------------------------------------------------------

@settings(FUZZ, max_examples=max(20, EXAMPLES // 4))
@given(kind=st.sampled_from(["new", "existing", "symlink", "dangling", "chardev", "spec", "spec_link", "directory"]),
       umask=st.sampled_from([0o022, 0o077, 0o002, 0o027]))
@counted
def test_output_files_are_written_through_never_replaced(tmp_path_factory, kind, umask):
    from cnncalc.cli.options import write_atomic
    from cnncalc.errors import UsageError

    tmp = tmp_path_factory.mktemp("o")
    spec = tmp / "spec.yaml"
    spec.write_text("input: [1, 8]\nlayers: [relu]\n")
    target = tmp / "out"
    if kind == "existing":
        target.write_text("old")
        os.chmod(target, 0o640)
    elif kind == "symlink":
        (tmp / "real").write_text("old")
        target.symlink_to(tmp / "real")
    elif kind == "dangling":
        target.symlink_to(tmp / "missing")
    elif kind == "chardev":
        try:
            os.mknod(target, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except OSError:
            assume(False)
    elif kind == "spec":
        target = spec
    elif kind == "spec_link":
        target.symlink_to(spec)
    elif kind == "directory":
        target.mkdir()
    old = os.umask(umask)
    try:
        write_atomic(str(target), "report\n", reading=[str(spec)])
    except UsageError as exc:
        assert kind in ("spec", "spec_link", "directory"), exc
        assert spec.read_text() == "input: [1, 8]\nlayers: [relu]\n"
        return
    finally:
        os.umask(old)
    assert kind not in ("spec", "spec_link", "directory")
    st_ = os.lstat(target)
    if kind == "chardev":
        assert stat.S_ISCHR(st_.st_mode)
    elif kind in ("symlink", "dangling"):
        assert stat.S_ISLNK(st_.st_mode) and target.read_text() == "report\n"
        mode = stat.S_IMODE(os.stat(target).st_mode)
        assert mode == (0o666 & ~umask if kind == "dangling" else mode)
    else:
        assert target.read_text() == "report\n"
        assert stat.S_IMODE(st_.st_mode) == (0o640 if kind == "existing" else 0o666 & ~umask)
    assert sorted(p.name for p in tmp.iterdir() if p.name.startswith(".cnncalc-")) == []


# -- 8. environment and terminals ------------------------------------------------------------

@FUZZ
@given(st.sampled_from(sorted(__import__("cnncalc.env", fromlist=["LIMITS"]).LIMITS)),
       st.text(max_size=30) | st.integers(-10, 10**20).map(str))
@counted
def test_environment_limits_are_numbers_or_usage_errors(name, value):
    from cnncalc import env
    from cnncalc.errors import UsageError

    assume("\x00" not in value)
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        limit = env.limit(name)
        try:
            env.check_environment()
        except UsageError as exc:
            assert name in str(exc)
            assert limit == env.LIMITS[name][0]
        else:
            assert 1 <= limit <= env.MAX_LIMIT
    finally:
        if old is None:
            del os.environ[name]
        else:
            os.environ[name] = old


@FUZZ
@given(st.text(max_size=60), st.sampled_from(["ascii", "latin-1", "cp437", "cp1252"]))
@counted
def test_output_degrades_to_what_the_terminal_can_encode(text, encoding):
    from cnncalc.cli.console import degrade_to_ascii  # registers the error handler

    degrade_to_ascii()
    shown = text.encode(encoding, errors="cnncalc-ascii").decode(encoding)
    assert all(c in text or c.isascii() for c in shown)
