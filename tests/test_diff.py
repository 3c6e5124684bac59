"""``cnncalc diff``: layer alignment, deltas, Markdown for pull requests, JSON."""

import json

import click
import pytest
from conftest import CliRunner

from cnncalc import analyze, loads_spec
from cnncalc import compare
from cnncalc.cli import main
from conftest import SPECS

VGG11 = (SPECS / "vgg11.yaml").read_text()
# VGG-11 with a second 64-channel conv in the first block (the first step towards VGG-13):
# 64·64·9 + 64 = 36,928 parameters and 64·64·9·224·224 = 1,849,688,064 multiplications more.
VGG11_PLUS = VGG11.replace("  - conv: {out_channels: 64}\n", "  - conv: {out_channels: 64}\n    repeat: 2\n", 1)


def snap(text, file="t.yaml", **kw):
    return compare.snapshot_from_analysis(analyze(loads_spec(text, file), **kw))


@click.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def _entry(argv):
    main(list(argv))


def run(*args):
    return CliRunner().invoke(_entry, list(map(str, args)))


def test_inserted_layer_is_added_and_the_renamed_rest_is_unchanged():
    d = compare.diff(snap(VGG11), snap(VGG11_PLUS))
    added = [r.new.name for r in d.rows if r.status == compare.ADDED]
    assert added == ["conv2", "conv2.relu"]
    assert d.count(compare.REMOVED) == 0 and d.count(compare.CHANGED) == 0
    # every later conv was renamed by the insertion (conv2 → conv3, ...), and paired anyway
    renamed = [(r.old.name, r.new.name) for r in d.rows if r.renamed]
    assert renamed[0] == ("conv2", "conv3") and ("conv8", "conv9") in renamed
    totals = {label: (old, new) for label, _, old, new in d.totals()}
    assert totals["params"] == (132_863_336, 132_863_336 + 36_928)
    assert totals["macs"][1] - totals["macs"][0] == 1_849_688_064
    assert sum(r.delta("params") for r in d.rows) == 36_928


def test_removed_layer_the_other_way_round():
    d = compare.diff(snap(VGG11_PLUS), snap(VGG11))
    assert [r.old.name for r in d.rows if r.status == compare.REMOVED] == ["conv2", "conv2.relu"]
    assert d.count(compare.ADDED) == 0 and d.count(compare.CHANGED) == 0


def test_identical_specs_do_not_differ():
    d = compare.diff(snap(VGG11), snap(VGG11))
    assert not d.differs and d.count(compare.SAME) == len(d.rows) == 30


def test_changed_layer_and_its_consequences():
    wider = VGG11.replace("out_features: 4096, activation: relu}\n  - dropout\n  - dense: {out_features: 4096",
                          "out_features: 2048, activation: relu}\n  - dropout\n  - dense: {out_features: 4096", 1)
    d = compare.diff(snap(VGG11), snap(wider))
    changed = {r.new.name: r for r in d.rows if r.status == compare.CHANGED}
    assert set(changed) == {"dense1", "dense1.relu", "dropout1", "dense2"}
    assert "out_features 4096 → 2048" in changed["dense1"].changes
    assert changed["dense1"].delta("params") == (25088 + 1) * (2048 - 4096)
    assert changed["dense2"].delta("params") == 4096 * (2048 - 4096)
    assert d.count(compare.ADDED) == d.count(compare.REMOVED) == 0


def test_a_user_named_layer_is_paired_by_name_even_across_types():
    old = "input: [8, 4, 4]\nlayers:\n  - flatten\n  - dense: {out_features: 10}\n    name: head\n"
    new = "input: [8, 4, 4]\nlayers:\n  - conv: {out_channels: 10, kernel_size: 4}\n    name: head\n  - flatten\n"
    d = compare.diff(snap(old), snap(new))
    statuses = [(r.status, r.old and r.old.name, r.new and r.new.name) for r in d.rows]
    assert ("changed", "head", "head") in statuses
    head = next(r for r in d.rows if r.old and r.old.name == "head")
    assert "type dense → conv" in head.changes


def test_large_specs_align_with_difflib(monkeypatch):
    monkeypatch.setattr(compare, "MAX_DP_CELLS", 10)
    d = compare.diff(snap(VGG11), snap(VGG11_PLUS))
    assert d.count(compare.ADDED) == 2 and d.count(compare.REMOVED) == 0


def test_diff_cli_markdown_is_a_pull_request_comment(tmp_path):
    a, b = tmp_path / "old.yaml", tmp_path / "new.yaml"
    a.write_text(VGG11)
    b.write_text(VGG11_PLUS)
    result = run("diff", a, b, "--format", "markdown")
    assert result.exit_code == 0, result.output
    md = result.stdout
    assert md.startswith(f"### cnncalc diff: `{a}` → `{b}`")
    assert "**2 added, 0 removed, 0 changed, 30 unchanged layers**" in md
    assert "| params | 132,863,336 (132.9M) | 132,900,264 (132.9M) | +36,928 | +0.03% |" in md
    assert "| + |  | conv2 | conv | — → 64×224×224 | +36,928 | +1,849,688,064 | added |" in md
    changed_table = md[md.index("#### Changed layers"):md.index("<details>")]
    assert changed_table.count("| + |") == 2 and "| = |" not in changed_table
    assert "14 unchanged layers only got new automatic names: conv2 → conv3," in md
    assert "<details>" in md and "</details>" in md
    table = run("diff", a, b)
    assert table.exit_code == 0 and "conv2" in table.stdout and "Totals" in table.stdout


def test_diff_cli_json_and_against_a_saved_analysis(tmp_path):
    a, b = tmp_path / "old.yaml", tmp_path / "new.yaml"
    a.write_text(VGG11)
    b.write_text(VGG11_PLUS)
    saved = tmp_path / "main.json"
    assert run("analyze", a, "--format", "json", "-o", saved).exit_code == 0
    out = tmp_path / "diff.json"
    assert run("diff", saved, b, "--format", "json", "-o", out).exit_code == 0
    data = json.loads(out.read_text())
    assert data["schema"] == "cnncalc.diff/1"
    assert data["summary"] == {"added": 2, "removed": 0, "changed": 0, "same": 30}
    assert data["totals"]["params"] == {"old": 132_863_336, "new": 132_900_264, "delta": 36_928}
    assert data["old"]["label"] == str(saved)


def test_diff_warns_when_settings_differ(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(VGG11)
    saved = tmp_path / "a.json"
    assert run("analyze", a, "--format", "json", "--batch", "4", "-o", saved).exit_code == 0
    result = run("diff", saved, a, "--format", "markdown")
    assert "memory compared at different settings" in result.stdout


def test_diff_bad_input_exits_2(tmp_path):
    a = tmp_path / "a.yaml"
    a.write_text(VGG11)
    result = run("diff", a, tmp_path / "missing.yaml")
    assert result.exit_code == 2 and "no such file" in result.output


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "vgg16", "vgg16_bn"])
def test_every_shipped_spec_diffs_cleanly_with_itself(name):
    text = (SPECS / f"{name}.yaml").read_text()
    assert not compare.diff(snap(text), snap(text)).differs
