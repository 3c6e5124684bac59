"""Hand-checked examples of the pieces the hostile catalogue relies on: the
escaping functions, the bounded number parser, the environment limits, the
closed form of adaptive pooling's longest window, and ``-o`` writing."""

from __future__ import annotations

import os
import stat
from fractions import Fraction

import pytest

from cnncalc.render import escape as E


@pytest.mark.parametrize("text, shown", [
    ("conv1", "conv1"),
    ("a\nb", "a\\nb"),
    ("x\r::error::y", "x\\r::error::y"),
    ("\x1b]8;;http://e\x1b\\", "\\x1b]8;;http://e\\x1b\\"),
    ("a\x85b\x9b", "a\\x85b\\x9b"),
    ("safe\u202eexe", "safe\\u202eexe"),
    ("a\u2028b", "a\\u2028b"),
    ("×é漢", "×é漢"),  # printable Unicode stays
])
def test_visible(text, shown):
    assert E.visible(text) == shown


def test_line_text_never_starts_a_workflow_command():
    assert E.line_text("::error file=x::y") == "%3A:error file=x::y"
    assert E.line_text("  ::warning::y") == "  %3A:warning::y"
    assert E.line_text("a ::error::y") == "a ::error::y"


def test_github_escaping_follows_the_runner_rules():
    assert E.github_data("50%\r\n::x") == "50%25%0D%0A::x"
    assert E.github_property("a:b,c%") == "a%3Ab%2Cc%25"


def test_csv_cells_never_start_a_formula():
    assert [E.csv_cell(t) for t in ("=1+1", "+1", "-2", "@SUM(A1)", "\t=1", "conv1", "a=b")] == [
        "'=1+1", "'+1", "'-2", "'@SUM(A1)", "'\\t=1", "conv1", "a=b"]


def test_xml_text_drops_nothing_and_parses():
    import xml.etree.ElementTree as ET

    text = "a\x01\x0b\ufffe<&>"
    element = ET.Element("t", name=E.xml_text(text))
    element.text = E.xml_text(text)
    parsed = ET.fromstring(ET.tostring(element))
    assert parsed.get("name") == parsed.text == "a\\x01\\x0b\\ufffe<&>"


def test_markdown_and_rich():
    assert E.markdown_text("| <img> [a](b) `c`") == "\\| \\<img\\> \\[a\\](b) \\`c\\`"
    assert E.rich_markup("[link=x]y[/link]") == "\\[link=x]y\\[/link]"


def test_json_text_keeps_the_data():
    import json

    name = "a\x85\u2028\u202eb"
    dumped = E.json_text(json.dumps({"name": name}, ensure_ascii=False))
    assert "\x85" not in dumped and "\u2028" not in dumped and json.loads(dumped)["name"] == name


@pytest.mark.parametrize("text, value", [
    ("1,520", 1520), ("15.5", Fraction(31, 2)), ("-0.25", Fraction(-1, 4)), ("1.5e9", 1_500_000_000),
    ("2e-3", Fraction(1, 500)), ("0009", 9),
])
def test_parse_decimal(text, value):
    from cnncalc.numbers import parse_decimal

    assert parse_decimal(text) == value


@pytest.mark.parametrize("text", ["1e999999999", "1.5e-99999999", "9" * 41, "0." + "0" * 40 + "1", "", ".", "e5",
                                  "0x10", "nan", "inf", "1e", "--1"])
def test_parse_decimal_refuses(text):
    from cnncalc.numbers import NumberError, parse_decimal

    with pytest.raises(NumberError):
        parse_decimal(text)


def test_json_int():
    from cnncalc.numbers import NumberError, json_int

    assert json_int(5, what="x") == 5
    for bad in (True, 1.0, float("inf"), float("nan"), "3", None, 10**60, -1):
        with pytest.raises(NumberError):
            json_int(bad, what="x")


def test_longest_adaptive_window_matches_pytorchs_windows():
    from cnncalc.layers.pooling import longest_adaptive_window

    for n in range(1, 80):
        for o in range(1, 80):
            windows = [-(-((i + 1) * n) // o) - (i * n) // o for i in range(o)]
            assert longest_adaptive_window(n, o) == max(windows), (n, o)
    assert longest_adaptive_window(7, 10**18) == 2  # straddling windows; no loop over 10^18 outputs
    assert longest_adaptive_window(10**18, 10**18) == 1


def test_environment_limits(monkeypatch):
    from cnncalc import env
    from cnncalc.errors import UsageError

    monkeypatch.setenv("CNNCALC_MAX_LAYERS", "1_000")
    assert env.limit("CNNCALC_MAX_LAYERS") == 1000
    env.check_environment()
    for bad in ("garbage", "-1", "0", "1.5", "9" * 20, "١٢٣"):
        monkeypatch.setenv("CNNCALC_MAX_LAYERS", bad)
        assert env.limit("CNNCALC_MAX_LAYERS") == env.LIMITS["CNNCALC_MAX_LAYERS"][0]
        with pytest.raises(UsageError, match="CNNCALC_MAX_LAYERS"):
            env.check_environment()


def test_write_atomic_honours_the_umask_and_keeps_an_existing_mode(tmp_path):
    from cnncalc.cli.options import write_atomic

    old = os.umask(0o027)
    try:
        write_atomic(str(tmp_path / "new"), "x")
        (tmp_path / "kept").write_text("old")
        os.chmod(tmp_path / "kept", 0o604)
        write_atomic(str(tmp_path / "kept"), "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o640
    assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == 0o604


def test_write_atomic_writes_through_a_symlink_and_into_a_fifo(tmp_path):
    import threading

    from cnncalc.cli.options import write_atomic

    (tmp_path / "real").write_text("old")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    write_atomic(str(tmp_path / "link"), "new")
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real").read_text() == "new"

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo).read()))
    reader.start()
    write_atomic(str(fifo), "through the pipe")
    reader.join(5)
    assert got == ["through the pipe"] and stat.S_ISFIFO(os.lstat(fifo).st_mode)


def test_write_atomic_refuses_the_file_being_read(tmp_path):
    from cnncalc.cli.options import write_atomic
    from cnncalc.errors import UsageError

    spec = tmp_path / "spec.yaml"
    spec.write_text("input: [1, 4]\nlayers: [relu]\n")
    (tmp_path / "alias").symlink_to(spec)
    for target in (spec, tmp_path / "alias", tmp_path / "." / "spec.yaml"):
        with pytest.raises(UsageError, match="a file this command reads"):
            write_atomic(str(target), "x", reading=[str(spec)])
    assert spec.read_text() == "input: [1, 4]\nlayers: [relu]\n"


def test_expression_evaluates_only_the_operation_asked_for():
    """Found by the long fuzz run: ``w + w % w`` with w = 1 computed 1 // 0 too."""
    from cnncalc.expr import ExprError, evaluate

    assert evaluate("w + w % w", {"w": 1}) == 1
    with pytest.raises(ExprError, match="division by zero"):
        evaluate("w % (w - w)", {"w": 1})
    with pytest.raises(ExprError, match="too large"):
        evaluate("w * w * w", {"w": 10**18})


def test_a_merge_of_thousands_of_inputs_keeps_its_table_cell_short():
    """Every row is padded to its column's widest cell: a 15,000-input merge
    once made the table 2 GB (found by the catalogue's fan-in case)."""
    from cnncalc import analyze, loads_spec
    from cnncalc.render.fasttable import analysis_table_lines

    n = 3000
    rows = "".join(f"  - relu:\n    name: r{i}\n    inputs: inp\n" for i in range(n))
    text = ("input: [1, 4]\nlayers:\n  - relu:\n    name: inp\n" + rows + "  - add: {}\n    inputs: ["
            + ", ".join(f"r{i}" for i in range(n)) + "]\n")
    lines = analysis_table_lines(analyze(loads_spec(text)))
    assert max(len(line) for line in lines) < 400
    assert any(f"({n - 8:,} more)" in line for line in lines)


def test_rich_table_title_is_never_markup():
    """Found by the long fuzz run: rich read a title '[link=x]::error::' as
    markup, and the line then started with a workflow command."""
    import io

    from rich.console import Console

    from cnncalc import analyze, loads_spec
    from cnncalc.render.table import print_table

    result = analyze(loads_spec('name: "[link=x]::error::forged"\ninput: [1, 8]\nlayers: [relu]\n'))
    buf = io.StringIO()
    print_table(result, Console(file=buf, width=200, no_color=True, highlight=False))
    assert buf.getvalue().startswith("[link=x]::error::forged"), buf.getvalue()[:80]


def test_memory_error_is_exit_2_with_one_line(monkeypatch, capsys):
    from cnncalc import cli

    def boom(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(cli.cli, "main", boom)
    with pytest.raises(SystemExit) as info:
        cli.main(["analyze", "x.yaml"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: out of memory") and "internal error" not in err
