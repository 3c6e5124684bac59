"""cnncalc.yamlfast against PyYAML: for any text, the fast reader either
declines (None) or gives exactly what yamlio's composer over PyYAML gives —
the same values of the same types, at the same line and column, key by key
and item by item. It must never accept a text PyYAML refuses."""

from __future__ import annotations

import glob
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc import yamlfast, yamlio
from cnncalc.errors import SpecError
from conftest import ROOT


def canon(value):
    """Everything the spec reader can see of a loaded value, as plain tuples."""
    if isinstance(value, dict):
        return ("map", tuple(value.loc), tuple((type(k).__name__, k, canon(v), tuple(value.key_locs[k]),
                                                tuple(value.value_locs[k])) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", tuple(value.loc), tuple((canon(v), tuple(loc)) for v, loc in zip(value, value.item_locs)))
    return (type(value).__name__, value)


def pyyaml(text: str):
    """yamlio's reading of ``text`` through PyYAML alone: the value, or the SpecError."""
    saved = yamlfast.load
    yamlfast.load = lambda text, file=None: None
    try:
        return yamlio.load_text(text, "t.yaml")
    except SpecError as err:
        return err
    finally:
        yamlfast.load = saved


def agree(text: str) -> bool:
    """True when the fast reader took ``text``; fails when it read it otherwise than PyYAML."""
    fast = yamlfast.load(text, "t.yaml")
    if fast is None:
        return False
    slow = pyyaml(text)
    assert not isinstance(slow, SpecError), f"the fast reader took a text PyYAML refuses ({slow}):\n{text}"
    assert canon(fast) == canon(slow), text
    return True


REPOSITORY_YAML = sorted(p for pattern in ("**/*.yaml", "**/*.yml")
                         for p in glob.glob(str(ROOT / pattern), recursive=True) if os.path.isfile(p))


def test_every_yaml_file_of_the_repository_reads_the_same():
    taken = 0
    for path in REPOSITORY_YAML:
        with open(path, encoding="utf-8-sig") as handle:
            try:
                text = handle.read()
            except UnicodeDecodeError:
                continue
        taken += agree(text)
    assert taken > 300  # the hostile catalogue's texts mostly go to PyYAML


def test_every_shipped_spec_and_example_takes_the_fast_path():
    paths = sorted(glob.glob(str(ROOT / "specs" / "*.yaml")) + glob.glob(str(ROOT / "examples" / "**" / "*.yaml"),
                                                                          recursive=True))
    assert len(paths) > 20
    for path in paths:
        with open(path, encoding="utf-8") as handle:
            assert agree(handle.read()), path


@pytest.mark.parametrize("text", [
    "a: 1\n", "a:\nb: 1\n", "a:   \n  b: 1\n", "l:\n- 1\n-  x\n", "a: [1, 2]\n", "a: {x: 1, y: [2, {z: 3}]}\n",
    "x:\n  - c: {o: 1}\n    r: 2\n  - d\n", "a: 'it''s # not a comment'\n", 'a: "x y"\n', "a: b # c\n",
    "d: >\n  one\n  two\n", "d: |\n  one\n  two\nn: 1\n", "a: [ ]\nb: {}\n", "on: yes\nNULL: ~\n",
    "a: 1.5\nb: 1.\nc: 1.5e-3\nd: -2\ne: +3\n", "budget:\n  params: 5M\n  memory: 2.5GiB\n", "a: $w\nb: [$w, 1]\n",
    "overrides: {0: {stride: 2}}\n", "a:\n- x\nb: 1\n", "- a: 1\n  b: 2\n- c\n",
])
def test_plain_forms_are_taken_and_read_the_same(text):
    assert agree(text)


@pytest.mark.parametrize("text", [
    "a: 1e5\n", "a: 1.5e3\n", "a: 0x1F\n", "a: 007\n", "a: .5\n", "a: -.5\n", "a: 1_000\n", "a: 2020-01-01\n",
    "a: 1:30\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "---\na: 1\n", "a: 1\n---\nb: 2\n", "a: 'x\n  y'\n",
    'a: "\\t"\n', "a: b\n  c\n", "a: 1\na: 2\n", "a:\n  - 1\n   - 2\n", "a: [1,\n  2]\n", "d: >-\n  x\n",
    "d: >\n  x\n\n  y\n", "a: x: y\n", "a: [1, 2,]\n", "a: {x}\n", "a: 1.0e+999\n", "? a\n: 1\n", "a: 1 # c\n  b: 2\n",
    "a: [1] x\n", "'a': 1\n", "a: <<\n", "<<: {x: 1}\n", "a: =\n", "a: @x\n", "a: `x`\n", "a: |\n  x\n   y\n",
    "\ta: 1\n", "a:\t1\n", "a: 1\r\nb: 2\r\n", "a: x\u2028y\n", "a: x\x85y\n", "- - 1\n", "-\n  a: 1\n",
    "a: {b: 1, b: 2}\n", "a: " + "[" * 70 + "]" * 70 + "\n", "just text\n", "",
])
def test_anything_else_is_left_to_pyyaml(text):
    assert yamlfast.load(text, "t.yaml") is None
    pyyaml(text)  # PyYAML reads or refuses it: either way the fast reader had no say


# -- generated documents ----------------------------------------------------------

#: examples per property (CNNCALC_FUZZ_EXAMPLES=100000 for a long run, as the other fuzzers)
EXAMPLES = int(os.environ.get("CNNCALC_FUZZ_EXAMPLES", "300"))

WORDS = ["conv", "relu", "same", "x", "on", "off", "yes", "No", "null", "Null", "true", "y", "n", "$w", "a_b", "inf",
         "nan", "e", "kernel_size", "Name", "_", "$c * 4", "max_pool"]
GOOD = st.one_of(st.sampled_from(WORDS), st.integers(-10**20, 10**20).map(str),
                 st.sampled_from(["1.5", "1.", "0.25", "-2.5", "+3", "1.5e-3", "1.5E+3", "5M", "64MiB", "2.5G", "~",
                                  "'q'", "'it''s'", '"dq"', "a b", "(a)"]))
WEIRD = st.sampled_from(["1e5", "1.5e3", "0x1F", "007", "0", "-0", ".5", "-.5", "1_000", "2020-01-01", "1:30",
                         "0.5G", "", "1.0e+999", "12e", "3x3", "a  b", "a#b", "a #b", "a: b", "a:b", "-x", "-", "?",
                         "*x", "&x", "!x", '"a\\tb"', "'a: b'", "'#'", "|", ">", "[", "{", "}", "]", ",", "x,y", "é",
                         "×", "a\u2028b"])
SCALARS = st.one_of(GOOD, GOOD, GOOD, WEIRD)  # mostly forms the fast reader takes, so that it is exercised


@st.composite
def documents(draw, depth=0):
    """Spec-like YAML: block mappings and sequences at varying indentation,
    one-line flow collections, block scalars, comments and blank lines."""
    def scalar():
        return draw(SCALARS)

    def flow(level):
        if level > 2 or draw(st.booleans()):
            return scalar()
        if draw(st.booleans()):
            return "[" + draw(st.sampled_from([", ", ",", " , "])).join(flow(level + 1) for _ in range(
                draw(st.integers(0, 3)))) + "]"
        keys = draw(st.lists(st.sampled_from(WORDS[:12] + ["0", "1"]), max_size=3))
        return "{" + ", ".join(f"{k}: {flow(level + 1)}" for k in keys) + "}"

    def block(indent, level):
        lines = []
        is_seq = draw(st.booleans())
        for _ in range(draw(st.integers(1, 3))):
            pad = " " * indent
            comment = draw(st.sampled_from(["", "", " # c", "  #c", "#c"]))
            if draw(st.integers(0, 9)) == 0:
                lines.append(draw(st.sampled_from(["", "  ", "# note", pad + "# indented note"])))
            head = pad + ("- " if is_seq else "")
            inner = indent + (2 if is_seq else 0)
            key = "" if is_seq else draw(st.sampled_from(WORDS + ["0", "1", "a b"])) + ":"
            kind = draw(st.integers(0, 5 if level < 3 else 2))
            if kind <= 1:
                lines.append(f"{head}{key}{' ' if key else ''}{flow(0)}{comment}")
            elif kind == 2 and key:
                style = draw(st.sampled_from([">", "|", ">", "|", ">-", "|+"]))
                lines.append(f"{head}{key} {style}")
                step = draw(st.integers(1, 3))
                for word in draw(st.lists(st.sampled_from(["one", "two words", "#x", " lead", "tail "]), min_size=1,
                                          max_size=3)):
                    lines.append(" " * (indent + step) + word)
            elif kind == 3 and is_seq:  # '- key: value' and more keys under it
                lines.append(f"{head}{draw(st.sampled_from(WORDS[:6]))}: {flow(0)}")
                for _ in range(draw(st.integers(0, 2))):
                    lines.append(" " * inner + f"{draw(st.sampled_from(WORDS[6:12]))}: {flow(0)}")
            else:
                lines.append(f"{head}{key}{comment}" if key else f"{head.rstrip()}")
                step = draw(st.sampled_from([0, 1, 2, 2, 4]))
                lines.extend(block(inner + step, level + 1))
        return lines

    text = "\n".join(block(draw(st.sampled_from([0, 0, 0, 1])), depth))
    return text + draw(st.sampled_from(["\n", "\n", "", "\n\n"]))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents())
def test_generated_documents_read_the_same(text):
    agree(text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_damaged_documents_are_never_read_otherwise(text, data):
    """One character inserted, deleted or replaced anywhere: the fast reader
    declines or agrees with PyYAML; it never takes what PyYAML refuses."""
    if not text:
        return
    at = data.draw(st.integers(0, len(text)))
    char = data.draw(st.sampled_from(list(" -:#[]{},'\"\n\t&*!|>.0a~$")))
    how = data.draw(st.sampled_from(["insert", "delete", "replace"]))
    damaged = (text[:at] + char + text[at:] if how == "insert" else text[:at] + text[at + 1:] if how == "delete"
               else text[:at] + char + text[at + 1:])
    agree(damaged)


def test_a_flow_collection_read_again_is_placed_where_it_stands_now():
    """The second reading of a flow text comes from the template of the first:
    same values, locations of the new line and column, fresh containers."""
    line = "{o: 16, k: [3, {p: same}], b: false}  # c"
    text = "a: " + line + "\nl:\n  - c: " + line + "\n  -   " + line + "\nz:    " + line + "\n"
    assert agree(text) and agree(text)
    value = yamlfast.load(text, "t.yaml")
    first, second = value["a"], value["l"][0]["c"]
    assert first == second and first is not second and first["k"] is not second["k"]
    assert (tuple(first.loc), tuple(second.loc), tuple(value["z"]["k"][1].loc)) == (
        ("t.yaml", 1, 4), ("t.yaml", 3, 8), ("t.yaml", 5, 22))


def test_a_generated_chain_of_a_thousand_layers_reads_the_same():
    import sys

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_analyze import generated_spec

    assert agree(generated_spec(1000))


@pytest.mark.parametrize("limit", range(1, 64))  # the document holds 64 values
def test_over_the_value_limit_both_readers_stop_at_the_same_value(monkeypatch, limit):
    """The one error the fast reader gives itself: the value limit, at the value
    PyYAML's composer stops at (same message, same line and column)."""
    monkeypatch.setattr(yamlio, "MAX_NODES", limit)
    monkeypatch.setattr(yamlfast, "MAX_NODES", limit)
    text = ("name: n\ninput: [3, 8, 8]\nd: >\n  two\n  lines\nlayers:\n"
            + "  - conv: {out_channels: 4, kernel_size: [3, 3]}\n    name: c\n  - relu\n" * 4 + "empty:\nlast: 1\n")
    with pytest.raises(SpecError) as fast:
        yamlio.load_text(text, "t.yaml")
    slow = pyyaml(text)
    assert isinstance(slow, SpecError)
    assert str(fast.value) == str(slow) and fast.value.loc == slow.loc
    assert fast.value.excerpt == slow.excerpt


def test_a_byte_order_mark_is_skipped_and_offsets_count_it(tmp_path):
    """A BOM (as Windows editors write) is dropped before reading, as the
    "utf-8-sig" codec would; a bad byte after it is reported at its offset in
    the file, BOM included."""
    body = b"input: [3, 8, 8]\nlayers: [relu]\n"
    (tmp_path / "bom.yaml").write_bytes(b"\xef\xbb\xbf" + body)
    (tmp_path / "plain.yaml").write_bytes(body)
    assert yamlio.read_spec_text(str(tmp_path / "bom.yaml")) == body.decode()  # lines and columns as without
    assert yamlio.read_spec_text(str(tmp_path / "plain.yaml")) == body.decode()
    (tmp_path / "bad.yaml").write_bytes(b"\xef\xbb\xbf" + body + b"name: \xff\n")
    with pytest.raises(SpecError, match=f"byte 0xff at offset {3 + len(body) + 6}"):
        yamlio.read_spec_text(str(tmp_path / "bad.yaml"))
