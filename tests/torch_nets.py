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


NETS = {
    "lenet5": lenet5,
    "alexnet": alexnet,
    "vgg11": lambda: vgg("vgg11"),
    "vgg16": lambda: vgg("vgg16"),
    "vgg16_bn": lambda: vgg("vgg16", batch_norm=True),
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
