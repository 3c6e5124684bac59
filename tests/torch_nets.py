"""Reference networks in plain PyTorch (torchvision is not available), built
the way torchvision builds them, and a helper that records every leaf module's
output shape and parameter counts. Imported only by tests that have already
called ``pytest.importorskip("torch")``."""

from __future__ import annotations

import torch
from torch import nn

VGG_CFGS = {
    "vgg11": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "vgg16": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
}


def lenet5() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(),
        nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10),
    )


def alexnet() -> nn.Module:
    """torchvision.models.alexnet, flattened into one Sequential."""
    return nn.Sequential(
        nn.Conv2d(3, 64, kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(64, 192, kernel_size=5, padding=2), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.Conv2d(192, 384, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.Conv2d(256, 256, kernel_size=3, padding=1), nn.ReLU(inplace=True),
        nn.MaxPool2d(kernel_size=3, stride=2),
        nn.AdaptiveAvgPool2d((6, 6)),
        nn.Flatten(),
        nn.Dropout(p=0.5), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(inplace=True),
        nn.Dropout(p=0.5), nn.Linear(4096, 4096), nn.ReLU(inplace=True),
        nn.Linear(4096, 1000),
    )


def vgg(name: str = "vgg16", batch_norm: bool = False) -> nn.Module:
    """torchvision's make_layers(cfg) + VGG head, flattened into one Sequential."""
    layers: list[nn.Module] = []
    c = 3
    for v in VGG_CFGS[name]:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(c, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        c = v
    return nn.Sequential(
        *layers,
        nn.AdaptiveAvgPool2d((7, 7)),
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
        nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=0.5),
        nn.Linear(4096, 1000),
    )


class BasicBlock(nn.Module):
    """torchvision.models.resnet.BasicBlock."""

    def __init__(self, inp: int, width: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, width, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or inp != width:
            self.downsample = nn.Sequential(nn.Conv2d(inp, width, 1, stride=stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


def resnet18() -> nn.Module:
    layers, inp = [], 64
    for width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        layers.append(nn.Sequential(BasicBlock(inp, width, stride), BasicBlock(width, width)))
        inp = width
    return nn.Sequential(
        nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2, padding=1),
        *layers,
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 1000),
    )


def _conv_bn(inp, out, kernel=3, stride=1, groups=1):
    """torchvision's Conv2dNormActivation with ReLU6."""
    return [nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
            nn.BatchNorm2d(out), nn.ReLU6(inplace=True)]


class InvertedResidual(nn.Module):
    """torchvision.models.mobilenetv2.InvertedResidual."""

    def __init__(self, inp: int, out: int, stride: int, expand: int):
        super().__init__()
        hidden = inp * expand
        layers = _conv_bn(inp, hidden, 1) if expand != 1 else []
        layers += _conv_bn(hidden, hidden, stride=stride, groups=hidden)
        layers += [nn.Conv2d(hidden, out, 1, bias=False), nn.BatchNorm2d(out)]
        self.conv = nn.Sequential(*layers)
        self.use_res_connect = stride == 1 and inp == out

    def forward(self, x):
        return x + self.conv(x) if self.use_res_connect else self.conv(x)


def mobilenet_v2() -> nn.Module:
    """torchvision's MobileNetV2 (width 1.0), with the final pooling as a
    module (torchvision calls F.adaptive_avg_pool2d; see test_conventions)."""
    blocks, inp = [], 32
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                       (6, 160, 3, 2), (6, 320, 1, 1)):
        for i in range(n):
            blocks.append(InvertedResidual(inp, c, s if i == 0 else 1, t))
            inp = c
    return nn.Sequential(
        *_conv_bn(3, 32, stride=2), *blocks, *_conv_bn(320, 1280, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.2), nn.Linear(1280, 1000),
    )


NETS = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg11": lambda: vgg("vgg11"),
    "vgg16": lambda: vgg("vgg16"),
    "vgg16_bn": lambda: vgg("vgg16", batch_norm=True),
    "resnet18": resnet18,
    "mobilenet_v2": mobilenet_v2,
}


def build(name: str, device: str = "cpu") -> nn.Module:
    """Build without paying for weight initialisation (VGG has 138M weights):
    construct on the meta device, then allocate zero-filled storage (zeros,
    not garbage: denormal garbage makes a forward pass crawl). Every test here
    looks at shapes and counts only."""
    with torch.device("meta"):
        model = NETS[name]()
    if device == "meta":
        return model
    model = model.to_empty(device=device)
    with torch.no_grad():
        for tensor in (*model.parameters(), *model.buffers()):
            tensor.zero_()
    return model


def leaf_records(model: nn.Module, input_shape) -> list[dict]:
    """Run one sample (batch 1) through ``model`` on the meta device and
    record, for every leaf module in call order, its class, output shape
    without the batch axis, trainable parameters and buffers (running
    statistics; the num_batches_tracked counter is not a tensor of values)."""
    records: list[dict] = []

    def hook(module, args, output):
        records.append({
            "class": type(module).__name__,
            "output_shape": tuple(output.shape[1:]),
            "params": sum(p.numel() for p in module.parameters(recurse=False) if p.requires_grad),
            "buffers": sum(b.numel() for n, b in module.named_buffers(recurse=False) if n != "num_batches_tracked"),
        })

    handles = [m.register_forward_hook(hook) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(torch.empty((1, *input_shape), device="meta"))
    finally:
        for h in handles:
            h.remove()
    return records
