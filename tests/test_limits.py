"""Resource limits: no spec can make cnncalc hang, recurse away or eat memory.

Each hostile input runs in one child process (so its peak memory can be
measured on its own) and must end with a clear SpecError or a correct answer
within a second of CPU time, with bounded memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from cnncalc import SpecError, analyze, loads_spec


def _bomb(levels=9, width=10):
    lines = ["a0: &a0 [" + ", ".join(["x"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]")
    return "defaults:\n  relu: {}\nx_" + "\nx_".join(lines) + "\ninput: [1, 4]\nlayers:\n  - relu\n"


def _block_chain(depth):
    """Blocks that each use the next one ten times: 10**depth layers."""
    blocks = [f"  b{i}:\n    layers: [" + ", ".join([f"b{i + 1}"] * 10) + "]" for i in range(depth)]
    blocks.append(f"  b{depth}:\n    layers: [relu]")
    return "input: [1, 4]\nblocks:\n" + "\n".join(blocks) + "\nlayers:\n  - b0\n"


#: name -> (spec text, expected message fragment or None for success)
HOSTILE = {
    "repeat 10^12": ("input: [3, 8, 8]\nlayers:\n  - relu:\n    repeat: 1000000000000\n", "more than the limit"),
    "nested repeats 1000 x 1000": (
        "input: [1, 4]\nlayers:\n  - repeat: 1000\n    layers:\n      - repeat: 1000\n        layers: [relu]\n",
        "1,000,000 layers",
    ),
    "group bomb through aliases": (
        "input: [1, 4]\nlayers:\n  - &g1 {repeat: 10, layers: [relu, relu]}\n"
        "  - &g2 {repeat: 10, layers: [*g1, *g1, *g1]}\n  - &g3 {repeat: 10, layers: [*g2, *g2, *g2]}\n"
        "  - {repeat: 100, layers: [*g3, *g3, *g3]}\n",
        "more than the limit",
    ),
    "blocks using blocks (10^12 layers)": (_block_chain(12), "more than the limit"),
    "blocks nested 40 deep": (
        "input: [1, 4]\nblocks:\n" + "".join(f"  b{i}:\n    layers: [b{i + 1}]\n" for i in range(40))
        + "  b40:\n    layers: [relu]\nlayers: [b0]\n",
        "blocks nest more than",
    ),
    "billion laughs": (_bomb(), "alias bomb"),
    "deep flow nesting": ("input: " + "[" * 200_000 + "]" * 200_000 + "\nlayers: [relu]\n", "nests more than"),
    "deep block nesting": (
        "input: [1, 4]\nlayers:\n" + "".join("  " * i + "- layers:\n" for i in range(1, 200)) + "  " * 200 + "- relu\n",
        "nests more than",
    ),
    "cycle through 5000 layers": (
        "input: [1, 4]\nlayers:\n"
        + "".join(f"  - relu:\n    name: r{i}\n    inputs: r{(i + 1) % 5000}\n" for i in range(5000)),
        "cycle",
    ),
    "10^9 channels": (
        "input: [1000000000, 8, 8]\nlayers:\n  - conv: {out_channels: 1000000000, kernel_size: 3}\n", None
    ),
    "integer of 5000 digits": (
        "input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: " + "9" * 5000 + ", kernel_size: 1}\n", "too large"
    ),
    "integer of 4000 digits": (
        "input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: " + "9" * 4000 + ", kernel_size: 1}\n", "too large"
    ),
}

_CHILD = textwrap.dedent(
    """
    import json, resource, sys, time
    from cnncalc import SpecError, analyze, loads_spec
    cases = json.loads(sys.stdin.read())
    out = {}
    for name, text in cases.items():
        before = resource.getrusage(resource.RUSAGE_SELF)
        try:
            result = analyze(loads_spec(text, "hostile.yaml"))
            outcome = ["ok", result.totals.params_trainable if result.layers else 0]
        except SpecError as err:
            outcome = ["error", str(err)]
        except BaseException as err:
            outcome = ["crash", type(err).__name__ + ": " + str(err)[:300]]
        after = resource.getrusage(resource.RUSAGE_SELF)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        out[name] = outcome + [cpu]
    # VmHWM is this process's own peak (ru_maxrss survives exec, so it would
    # report the parent's peak when pytest itself is large).
    try:
        with open("/proc/self/status") as status:
            peak = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    except (OSError, StopIteration):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["__maxrss_kb__"] = peak
    print(json.dumps(out))
    """
)


@pytest.fixture(scope="module")
def hostile_results():
    cases = {name: text for name, (text, _) in HOSTILE.items()}
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], input=json.dumps(cases), capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_spec_ends_fast_with_clear_outcome(hostile_results, name):
    outcome, value, cpu = hostile_results[name]
    expected = HOSTILE[name][1]
    assert outcome != "crash", value
    if expected is None:
        assert outcome == "ok", value
    else:
        assert outcome == "error" and expected in value, value
        assert value.startswith("hostile.yaml:"), value
    assert cpu < 1.0, f"{name} took {cpu:.2f} s of CPU"


def test_hostile_specs_keep_memory_bounded(hostile_results):
    # The interpreter, PyYAML and cnncalc take about 30 MB; nothing above may add much.
    assert hostile_results["__maxrss_kb__"] < 200 * 1024, hostile_results["__maxrss_kb__"]


def test_ten_to_the_ninth_channels_is_exact():
    result = analyze(loads_spec(HOSTILE["10^9 channels"][0]))
    assert result.totals.params_trainable == 10**9 * 10**9 * 9 + 10**9
    assert result.totals.multiplications == 10**9 * 10**9 * 9 * 36


def test_huge_file_is_refused_before_reading(tmp_path):
    import resource
    import time

    from cnncalc import load_spec

    big = tmp_path / "big.yaml"
    with open(big, "wb") as handle:  # a sparse 100 MB file: no disk, same size
        handle.truncate(100 * 1024 * 1024)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    with pytest.raises(SpecError, match="CNNCALC_MAX_SPEC_BYTES"):
        load_spec(big)
    assert time.process_time() - start < 1.0
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 20 * 1024


def test_a_device_is_refused_before_it_is_opened():
    from cnncalc import load_spec

    with pytest.raises(SpecError, match="is a character device, not a spec file"):
        load_spec("/dev/zero")  # getsize says 0 and reading would never end


def test_long_chain_of_skipped_entries_resolves_without_recursion():
    chain = "".join(f"  - relu:\n    name: s{i}\n    when: false\n    inputs: s{i - 1}\n" for i in range(1, 3000))
    text = "input: [1, 4]\nlayers:\n  - relu:\n    name: s0\n" + chain + "  - relu:\n    inputs: s2999\n"
    result = analyze(loads_spec(text))
    assert result.layers[-1].node.inputs == ("s0",)


def test_merge_key_does_not_clash_with_explicit_keys():
    text = "input: [1, 8]\ndefaults:\n  conv: &d {kernel_size: 3}\nlayers:\n  - conv:\n      <<: *d\n      kernel_size: 5\n      out_channels: 2\n"
    assert analyze(loads_spec(text)).layers[0].output_shape == (2, 4)


def test_more_than_one_document_is_an_error():
    with pytest.raises(SpecError, match="more than one YAML document"):
        loads_spec("input: [1, 8]\nlayers: [relu]\n---\ninput: [1, 8]\n")


def test_limits_can_be_raised(monkeypatch):
    import cnncalc.spec as spec

    monkeypatch.setattr(spec, "MAX_LAYERS", 100)
    text = "input: [1, 4]\nlayers:\n  - relu:\n    repeat: 150\n"
    with pytest.raises(SpecError, match="CNNCALC_MAX_LAYERS"):
        loads_spec(text)
    monkeypatch.setattr(spec, "MAX_LAYERS", 200)
    assert len(loads_spec(text).nodes) == 150


def test_limits_come_from_the_environment():
    code = "import cnncalc.spec as s, cnncalc.yamlio as y; print(s.MAX_LAYERS, y.MAX_NODES, y.MAX_DEPTH, y.MAX_FILE_BYTES)"
    env = {"CNNCALC_MAX_LAYERS": "7", "CNNCALC_MAX_YAML_NODES": "8", "CNNCALC_MAX_YAML_DEPTH": "9",
           "CNNCALC_MAX_SPEC_BYTES": "10", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.stdout.split() == ["7", "8", "9", "10"], out.stderr


def test_verify_refuses_ten_to_the_ninth_channels_with_its_memory_estimate(tmp_path):
    """The analysis answers instantly; the executor must not try to allocate."""
    import io
    import time
    from contextlib import redirect_stderr, redirect_stdout

    from cnncalc.cli import main

    spec = tmp_path / "wide.yaml"
    spec.write_text(HOSTILE["10^9 channels"][0])
    err = io.StringIO()
    start = time.process_time()
    with redirect_stdout(io.StringIO()), redirect_stderr(err), pytest.raises(SystemExit) as info:
        main(["verify", str(spec), "--quiet"])
    assert time.process_time() - start < 1.0
    assert info.value.code == 2
    assert "verify would need about" in err.getvalue() and "bytes" in err.getvalue(), err.getvalue()


@pytest.mark.parametrize("loader", ["SafeLoader", "CSafeLoader"])
@pytest.mark.parametrize("depth", [65, 999, 1001, 200_000])
def test_deep_nesting_is_cnncalcs_message_whichever_layer_stops_it(monkeypatch, loader, depth):
    """PyYAML >= 6.0.4 (libyaml 0.2.5) stops deep flow nesting itself; the
    user still sees cnncalc's message: file, line, column, the limit and the
    variable that raises it, whichever parser and whichever layer stopped it."""
    import yaml

    from cnncalc import yamlio

    if not hasattr(yaml, loader):
        pytest.skip(f"PyYAML built without {loader}")
    monkeypatch.setattr(yamlio, "_Loader", getattr(yaml, loader))
    text = "input: " + "[" * depth + "]" * depth + "\nlayers: [relu]\n"
    with pytest.raises(SpecError) as info:
        loads_spec(text, "deep.yaml")
    message = str(info.value)
    assert message.startswith("deep.yaml:1:"), message
    assert f"more than {yamlio.MAX_DEPTH} levels" in message and "CNNCALC_MAX_YAML_DEPTH" in message, message
    assert "exceeded" not in message  # never the library's wording


def test_deep_nesting_exits_2_with_location(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("input: " + "[" * 5000 + "]" * 5000 + "\nlayers: [relu]\n")
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert "deep.yaml:1:" in proc.stderr and "CNNCALC_MAX_YAML_DEPTH" in proc.stderr
    assert "Traceback" not in proc.stderr
