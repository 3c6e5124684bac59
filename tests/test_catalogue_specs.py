"""The shipped specs of the lecture catalogue: DCGAN's generator, the original
U-Net, a WaveNet-style TCN and C3D, checked against numbers worked out by hand
and (where torch is installed) against the same networks built in torch on
the meta device (shapes and counts without arithmetic)."""

from fractions import Fraction

import pytest

from cnncalc import analyze_file
from conftest import SPECS


def spec(name):
    return analyze_file(SPECS / f"{name}.yaml")


def test_dcgan_generator():
    r = spec("dcgan_generator")
    tconvs = [layer for layer in r.layers if layer.type_name == "conv_transpose"]
    assert [layer.output_shape for layer in tconvs] == [(512, 4, 4), (256, 8, 8), (128, 16, 16), (64, 32, 32), (3, 64, 64)]
    assert r.totals.params_trainable == 3_576_704  # the PyTorch DCGAN tutorial's generator
    assert r.totals.params_buffers == 2 * (512 + 256 + 128 + 64)
    # input side: 100·512·16·1 + 3 · (2^25) + 64·3·16·32·32
    assert r.totals.multiplications == 819_200 + 3 * 33_554_432 + 3_145_728 == 104_628_224
    # each stride-2 layer halves the jump: 1/16 of an input cell at the 64×64 output
    assert r.output_rf[0].jump == Fraction(1, 16)


def test_unet_original_tile():
    r = spec("unet")
    assert r.layers[-1].output_shape == (2, 388, 388)
    assert r["bottom.relu2"].output_shape == (1024, 28, 28)
    for name, size in (("up4", 56), ("up3", 104), ("up2", 200), ("up1", 392)):
        assert r[f"{name}.skip"].output_shape[1:] == r[f"{name}.upconv"].output_shape[1:] == (size, size)
    assert r.totals.params == 31_030_658
    assert r.warnings == []  # every crop is centred: the skips are aligned with the upsampled path


def test_wavenet_receptive_field_is_the_textbook_number():
    r = spec("wavenet_tcn")
    rf = r.output_rf[0]
    assert rf.size == 1 + sum(2**i for i in range(10)) == 1024
    assert rf.jump == 1
    # causal: the field of output t is inputs t − 1023 … t
    assert rf.start + Fraction(rf.size - 1, 2) == 0
    assert r.layers[-1].output_shape == (256, 16000)
    assert r.warnings == []


def test_c3d_shapes():
    r = spec("c3d")
    assert r["pool1"].output_shape == (64, 16, 56, 56)
    assert r["pool5"].output_shape == (512, 1, 4, 4)
    assert r["fc6"].input_shapes == ((8192,),)
    convs = 64 * 3 + 128 * 64 + 256 * 128 + 256 * 256 + 512 * 256 + 3 * 512 * 512
    dense = 8192 * 4096 + 4096 * 4096 + 4096 * 487
    assert r.totals.params == 27 * convs + (64 + 128 + 256 * 2 + 512 * 4) + dense + 4096 * 2 + 487 == 79_991_015


# -- the same networks in torch ----------------------------------------------------------------


def _torch_check(name, model, input_shape, count_flops=False):
    torch = pytest.importorskip("torch")
    from torch.utils.flop_counter import FlopCounterMode

    r = spec(name)
    with torch.device("meta"):
        x = torch.zeros(1, *input_shape)
        with FlopCounterMode(display=False) as counter:
            y = model(x)
    assert tuple(y.shape[1:]) == r.layers[-1].output_shape
    n_params = sum(p.numel() for p in model.parameters())
    assert r.totals.params == n_params
    if count_flops:
        assert counter.get_total_flops() == 2 * r.totals.multiplications
    return r


@pytest.mark.torch
def test_dcgan_generator_matches_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    with torch.device("meta"):
        layers = []
        chans = [100, 512, 256, 128, 64]
        for i, (a, b) in enumerate(zip(chans, chans[1:])):
            layers += [nn.ConvTranspose2d(a, b, 4, 1 if i == 0 else 2, 0 if i == 0 else 1, bias=False), nn.BatchNorm2d(b), nn.ReLU()]
        model = nn.Sequential(*layers, nn.ConvTranspose2d(64, 3, 4, 2, 1, bias=False), nn.Tanh())
    _torch_check("dcgan_generator", model, (100, 1, 1), count_flops=True)


@pytest.mark.torch
def test_unet_matches_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def double(a, b):
        return nn.Sequential(nn.Conv2d(a, b, 3), nn.ReLU(), nn.Conv2d(b, b, 3), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self):
            super().__init__()
            widths = [64, 128, 256, 512]
            self.down = nn.ModuleList(double(a, b) for a, b in zip([1, *widths], widths))
            self.bottom = double(512, 1024)
            self.upconv = nn.ModuleList(nn.ConvTranspose2d(2 * w, w, 2, 2) for w in reversed(widths))
            self.upconv_convs = nn.ModuleList(double(2 * w, w) for w in reversed(widths))
            self.head = nn.Conv2d(64, 2, 1)

        def forward(self, x):
            skips = []
            for block in self.down:
                x = block(x)
                skips.append(x)
                x = nn.functional.max_pool2d(x, 2)
            x = self.bottom(x)
            for up, conv, skip in zip(self.upconv, self.upconv_convs, reversed(skips)):
                x = up(x)
                c = (skip.shape[-1] - x.shape[-1]) // 2
                x = conv(torch.cat([skip[..., c : c + x.shape[-2], c : c + x.shape[-1]], x], 1))
            return self.head(x)

    with torch.device("meta"):
        model = UNet()
    _torch_check("unet", model, (1, 572, 572), count_flops=True)


@pytest.mark.torch
def test_c3d_matches_torch():
    torch = pytest.importorskip("torch")
    nn = torch.nn
    cfg = [64, "P1", 128, "P", 256, 256, "P", 512, 512, "P", 512, 512, "P5"]
    with torch.device("meta"):
        layers, c = [], 3
        for v in cfg:
            if v == "P1":
                layers.append(nn.MaxPool3d((1, 2, 2)))
            elif v == "P":
                layers.append(nn.MaxPool3d(2))
            elif v == "P5":
                layers.append(nn.MaxPool3d(2, padding=(0, 1, 1)))
            else:
                layers += [nn.Conv3d(c, v, 3, padding=1), nn.ReLU()]
                c = v
        model = nn.Sequential(
            *layers, nn.Flatten(), nn.Linear(8192, 4096), nn.ReLU(), nn.Dropout(), nn.Linear(4096, 4096),
            nn.ReLU(), nn.Dropout(), nn.Linear(4096, 487),
        )
    _torch_check("c3d", model, (3, 16, 112, 112), count_flops=True)
