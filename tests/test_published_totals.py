"""Published totals of real architectures (torchvision's model cards: parameter
counts, and "GFLOPS" which are multiply-accumulates at 224×224)."""

import pytest

from cnncalc import analyze_file
from conftest import SPECS

PUBLISHED = {
    # spec: (trainable parameters, multiplications per sample)
    "lenet5": (61_706, None),
    "alexnet": (61_100_840, 714_188_480),
    "vgg11": (132_863_336, 7_609_090_048),
    "vgg16": (138_357_544, 15_470_264_320),
    "vgg16_bn": (138_365_992, 15_470_264_320),
    # graphs: residual adds, concatenation, blocks
    "resnet18": (11_689_512, 1_814_073_344),
    "resnet50": (25_557_032, 4_089_184_256),  # v1.5: stride on the 3×3 conv
    "mobilenet_v2": (3_504_872, 300_774_272),
    "densenet121": (7_978_856, 2_834_161_664),
    "googlenet": (6_624_904, 1_498_376_192),  # without the auxiliary heads
    "squeezenet1_0": (1_248_424, 818_924_576),
    # modern families: layer norm, layer scale, stochastic depth, channel split and shuffle, x.mean
    "convnext_tiny": (28_589_128, 4_455_531_264),
    "shufflenet_v2_x1_0": (2_278_604, 144_907_992),
    "efficientnet_b0": (5_288_548, 385_814_752),
    "regnet_y_400mf": (4_344_144, 401_842_848),
    "mnasnet1_0": (4_383_312, 314_415_872),
    "resnext50_32x4d": (25_028_904, 4_230_479_872),
    "inception_v3": (23_834_568, 5_713_216_096),  # 299×299, without the auxiliary head
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_totals(name):
    params, mults = PUBLISHED[name]
    result = analyze_file(SPECS / f"{name}.yaml")
    assert result.totals.params_trainable == params
    if mults is not None:
        assert result.totals.multiplications == mults
        assert result.totals.macs == mults  # default convention is plain multiplications


def test_vgg16_bn_buffers_are_kept_apart():
    result = analyze_file(SPECS / "vgg16_bn.yaml")
    # 13 batch norms, running mean + variance per channel: 2 * (2*64 + 2*128 + 3*256 + 6*512)
    assert result.totals.params_buffers == 2 * (2 * 64 + 2 * 128 + 3 * 256 + 6 * 512) == 8448


def test_vgg16_receptive_field_at_pool5_is_212():
    # Araujo et al. (Distill 2019), table of receptive fields: VGG-16 pool5 = 212.
    result = analyze_file(SPECS / "vgg16.yaml")
    pool5 = [r for r in result.layers if r.type_name == "max_pool"][-1]
    assert [a.size for a in pool5.rf] == [212, 212]
    assert [a.jump for a in pool5.rf] == [32, 32]


def test_lenet5_layer_by_layer():
    r = analyze_file(SPECS / "lenet5.yaml")
    convs = [x for x in r.layers if x.type_name == "conv"]
    dense = [x for x in r.layers if x.type_name == "dense"]
    assert [c.output_shape for c in convs] == [(6, 28, 28), (16, 10, 10)]
    assert [c.params.trainable for c in convs] == [5 * 5 * 1 * 6 + 6, 5 * 5 * 6 * 16 + 16]
    assert [c.multiplications for c in convs] == [6 * 28 * 28 * 25, 16 * 10 * 10 * 150]
    assert [d.params.trainable for d in dense] == [400 * 120 + 120, 120 * 84 + 84, 84 * 10 + 10]
