"""The block hierarchy in the output: summed block rows, indentation, and
``--depth N`` collapsing blocks as torchinfo's depth does."""

import pytest
from conftest import CliRunner

from cnncalc import analyze_file
from cnncalc.cli import cli
from cnncalc.hierarchy import rows
from conftest import SPECS


@pytest.fixture(scope="module")
def resnet18():
    return analyze_file(SPECS / "resnet18.yaml")


def test_depth_0_shows_the_stages_as_summed_rows(resnet18):
    top = rows(resnet18, depth=0)
    assert [r.name for r in top] == [
        "conv1", "bn1", "relu1", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "flatten1", "fc",
    ]
    assert sum(r.params for r in top) == resnet18.totals.params_trainable == 11_689_512
    assert sum(r.macs for r in top) == resnet18.totals.macs == 1_814_073_344
    layer2 = next(r for r in top if r.name == "layer2")
    assert layer2.collapsed and layer2.type_name == "basic ×2"
    # two basic blocks 64→128 (first with a projection) and 128→128, with batch norms
    assert layer2.params == (73_728 + 256 + 147_456 + 256 + 8_192 + 256) + (2 * 147_456 + 2 * 256)
    assert layer2.output_shape == (128, 28, 28)
    assert layer2.indices == "19–34"


def test_depth_1_and_2_open_one_level_more(resnet18):
    one = [r.name for r in rows(resnet18, depth=1)]
    assert "layer2.0" in one and "layer2.0.conv1" not in one
    two = rows(resnet18, depth=2)
    names = [r.name for r in two]
    assert "layer2.0.conv1" in names and "layer2.0.downsample" in names
    assert "layer2.0.downsample.0" not in names
    assert next(r for r in two if r.name == "layer2.0.downsample").collapsed


def test_full_hierarchy_lists_every_layer_once_under_its_blocks(resnet18):
    full = rows(resnet18)
    layers = [r for r in full if not r.is_group]
    assert [r.name for r in layers] == [x.name for x in resnet18.layers]
    assert not any(r.collapsed for r in full)
    depth_of = {r.name: r.depth for r in full}
    assert depth_of["layer3"] == 0 and depth_of["layer3.1"] == 1 and depth_of["layer3.1.conv2"] == 2
    assert depth_of["layer3.0.downsample.0"] == 3
    # a block's row comes right before its first layer
    i = [r.name for r in full].index("layer3.1")
    assert full[i + 1].name == "layer3.1.conv1"


def test_a_block_ending_in_a_skipped_entry_reports_its_real_output():
    r = analyze_file(SPECS / "mobilenet_v2.yaml")
    stage2 = {row.name: row for row in rows(r, depth=1)}["stage2.0"]
    assert stage2.output.name == "stage2.0.bn"  # no residual add: stride 2
    assert stage2.output_shape == (24, 56, 56)


def test_cli_depth_collapses_blocks():
    result = CliRunner().invoke(cli, ["analyze", str(SPECS / "resnet50.yaml"), "--depth", "0", "--exact"])
    assert result.exit_code == 0, result.output
    assert "▸ layer3" in result.output and "bottleneck ×6" in result.output
    assert "layer3.0.conv1" not in result.output
    assert "25,557,032" in result.output
    full = CliRunner().invoke(cli, ["analyze", str(SPECS / "resnet50.yaml")])
    assert "    layer3.0.conv1" in full.output  # indented under layer3 and layer3.0


def test_markdown_depth_and_bad_depth():
    result = CliRunner().invoke(cli, ["analyze", str(SPECS / "densenet121.yaml"), "--format", "markdown",
                                      "--depth", "0"])
    assert result.exit_code == 0
    # 24 dense layers on 256 + 32k channels: Σ (2c + 128c) + 24·(2·128 + 128·32·9)
    assert "| 139–306 | **denseblock3** | dense_layer ×24 | 1024×14×14 | 2,837,760 | 549,126,144 |" in result.output
    bad = CliRunner().invoke(cli, ["analyze", str(SPECS / "resnet18.yaml"), "--depth", "-1"])
    assert bad.exit_code == 2


def test_json_lists_groups_with_sums(resnet18):
    from cnncalc.render.jsonout import to_dict

    groups = {g["name"]: g for g in to_dict(resnet18)["groups"]}
    assert groups["layer2.0.downsample"]["parent"] == "layer2.0"
    assert groups["layer2.0.downsample"]["params"] == {"trainable": 8_192 + 256, "buffers": 256}
    assert sum(groups[f"layer{i}"]["params"]["trainable"] for i in (1, 2, 3, 4)) + 9_408 + 128 + 513_000 == 11_689_512
