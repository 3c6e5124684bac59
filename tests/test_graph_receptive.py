"""Receptive fields on graphs (Araujo et al., Distill 2019), checked against
the unit-test networks of google-research/receptive_field
(receptive_field/python/util/receptive_field_computation_test.py).

Their ``tf.pad(x, [[1, 0], [1, 0]])`` followed by a VALID convolution is our
``zero_pad`` with ``[[1, 0], [1, 0]]``; their SAME padding is our ``same``
(the TF rule). Their x axis is our last (width) axis. Effective padding
P = (r − 1)/2 − start.
"""

import pytest

from conftest import analyze_text


def rf_at(result, name):
    return [(a.size, a.jump, a.padding) for a in result[name].rf]


def misaligned(result):
    return [name for name, message in result.warnings if "not aligned" in message]


NET1 = """
input: [1, {n}, {n}]
layers:
  - conv: {{out_channels: 1, kernel_size: 1, stride: 4}}
    name: L1
    inputs: input
  - zero_pad: {{padding: [[1, 0], [1, 0]]}}
    inputs: input
  - {right2}
    name: L2
  - {right3}
    name: L3
  - add:
    inputs: [L1, L3]
    name: sum
  - relu:
    name: output
"""


def net1(n=16, pool=False):
    if pool:  # create_test_network_2: the right branch pools instead
        right2, right3 = "max_pool: {kernel_size: 3, stride: 2}", "max_pool: {kernel_size: 1, stride: 2}"
    else:
        right2 = "conv: {out_channels: 1, kernel_size: 3, stride: 2}"
        right3 = "conv: {out_channels: 1, kernel_size: 1, stride: 2}"
    return NET1.format(n=n, right2=right2, right3=right3)


@pytest.mark.parametrize("pool", [False, True], ids=["network_1_conv", "network_2_pool"])
def test_aligned_two_branch_network(pool):
    r = analyze_text(net1(pool=pool))
    assert rf_at(r, "output") == [(3, 4, 1), (3, 4, 1)]
    assert misaligned(r) == []
    # the two branches before the add: sizes 1 and 3, same jump and centre
    assert [a.size for a in r["L1"].rf] == [1, 1] and [a.size for a in r["L3"].rf] == [3, 3]
    assert r["L1"].rf[0].start == r["L3"].rf[0].start == 0


def test_round_trip_of_coordinates():
    rf = analyze_text(net1())["output"].rf[0]
    for i in range(50):
        assert rf.output_index(rf.input_center(i)) == i
    assert [rf.input_center(i) for i in range(3)] == [0, 4, 8]


def test_misaligned_network_is_reported_not_fatal():
    # create_test_network_3: a 5×5/2 conv after padding [2, 1] beside two 3×3/1 convs
    r = analyze_text("""
input: [1, 8, 8]
layers:
  - zero_pad: {padding: [[2, 1], [2, 1]]}
  - conv: {out_channels: 1, kernel_size: 5, stride: 2}
    name: L1
  - conv: {out_channels: 1, kernel_size: 3}
    inputs: input
    name: L2
  - conv: {out_channels: 1, kernel_size: 3}
    name: L3
  - add:
    inputs: [L1, L3]
    name: sum
""")
    assert r["sum"].output_shape == (1, 4, 4)
    assert misaligned(r) == ["sum", "sum"]  # one warning per axis
    message = r.warnings[0][1]
    assert "L1: jump 2, start 0" in message and "L3: jump 1, start 2" in message
    assert [a.size for a in r["sum"].rf] == [5, 5]  # the largest field is kept


@pytest.mark.parametrize("n,aligned", [(9, True), (8, False)])
def test_same_padding_alignment_depends_on_the_input_size(n, aligned):
    # create_test_network_4 with input_resolution 9 (aligned: 3, 4, 1) and 8 (misaligned)
    r = analyze_text(f"""
input: [1, {n}, {n}]
layers:
  - conv: {{out_channels: 1, kernel_size: 1, stride: 4}}
    name: L1
  - conv: {{out_channels: 1, kernel_size: 3, stride: 2, padding: same}}
    inputs: input
    name: L2
  - conv: {{out_channels: 1, kernel_size: 1, stride: 2}}
    name: L3
  - add:
    inputs: [L1, L3]
""")
    assert (misaligned(r) == []) is aligned
    if aligned:
        assert rf_at(r, "add1") == [(3, 4, 1), (3, 4, 1)]


def test_non_square_kernels():
    # create_test_network_5: [3, 5] then [3, 1] kernels, stride 2: x field 5, y field 7
    r = analyze_text("""
input: [1, 32, 32]
layers:
  - conv: {out_channels: 1, kernel_size: [3, 5], stride: 2}
  - conv: {out_channels: 1, kernel_size: [3, 1], stride: 2}
  - relu
""")
    assert rf_at(r, "relu1") == [(7, 4, 0), (5, 4, 0)]


def test_dropout_does_not_change_the_field():
    # create_test_network_6: network 1 with dropout on the right branch
    text = net1().replace("  - add:\n    inputs: [L1, L3]", "  - dropout\n  - add:\n    inputs: [L1, dropout1]")
    r = analyze_text(text)
    assert rf_at(r, "output") == [(3, 4, 1), (3, 4, 1)]


def test_intermediate_add_the_deeper_variant():
    # create_test_network_8: a naive depth-first visit gets this wrong
    r = analyze_text(net1() + """
  - conv: {out_channels: 1, kernel_size: 1, stride: 2}
    name: L5
  - zero_pad: {padding: [[1, 0], [1, 0]]}
    inputs: output
  - conv: {out_channels: 1, kernel_size: 3, stride: 2}
    name: L6
  - add:
    inputs: [L5, L6]
  - relu:
    name: final
""")
    assert rf_at(r, "final") == [(11, 8, 5), (11, 8, 5)]
    assert misaligned(r) == []


def test_intermediate_add_with_same_padding_at_17():
    # create_test_network_9 with input_resolution [17, 17]
    r = analyze_text("""
input: [1, 17, 17]
defaults:
  conv: {out_channels: 1, padding: same}
layers:
  - conv: {kernel_size: 1, stride: 4}
    name: L1
  - conv: {kernel_size: 3, stride: 2}
    inputs: input
  - conv: {kernel_size: 1, stride: 2}
    name: L3
  - add:
    inputs: [L1, L3]
    name: L4
  - conv: {kernel_size: 1, stride: 2}
    name: L5
  - conv: {kernel_size: 3, stride: 2}
    inputs: L4
    name: L6
  - add:
    inputs: [L5, L6]
    name: output
""")
    assert rf_at(r, "output") == [(11, 8, 5), (11, 8, 5)]
    assert misaligned(r) == []


def test_resnet18_field_by_hand():
    # r ← r + (k − 1)·j along the longest path: conv 7/2 → 7 (j 2), pool 3/2 → 11 (j 4),
    # layer1: four 3×3 → 43; layer2: 43 + 2·4 = 51 (j 8), three more → 99;
    # layer3: 99 + 2·8 = 115 (j 16) → 211; layer4: 211 + 2·16 = 243 (j 32) → 435.
    # The 1×1 projection shortcuts are aligned with the main path everywhere.
    from cnncalc import analyze_file
    from conftest import SPECS

    r = analyze_file(SPECS / "resnet18.yaml")
    assert [(a.size, a.jump) for a in r["layer4.1.relu2"].rf] == [(435, 32), (435, 32)]
    assert r.warnings == []
