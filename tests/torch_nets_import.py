"""EfficientNet-B0 and DenseNet-121 in plain PyTorch, built the way
torchvision builds them (torchvision is not installable here), for the
import tests. Imported only after ``pytest.importorskip("torch")``."""

from __future__ import annotations

import torch
from torch import nn


class ConvNormAct(nn.Sequential):
    """torchvision.ops.Conv2dNormActivation."""

    def __init__(self, inp, out, kernel=3, stride=1, groups=1, act=nn.SiLU):
        layers = [nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(out)]
        if act is not None:
            layers.append(act(inplace=True))
        super().__init__(*layers)


class SqueezeExcitation(nn.Module):
    """torchvision.ops.SqueezeExcitation."""

    def __init__(self, channels, squeeze):
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc1 = nn.Conv2d(channels, squeeze, 1)
        self.fc2 = nn.Conv2d(squeeze, channels, 1)
        self.activation = nn.SiLU()
        self.scale_activation = nn.Sigmoid()

    def forward(self, x):
        s = self.scale_activation(self.fc2(self.activation(self.fc1(self.avgpool(x)))))
        return s * x


class MBConv(nn.Module):
    """torchvision.models.efficientnet.MBConv (stochastic depth is the identity in eval mode)."""

    def __init__(self, expand, kernel, stride, inp, out):
        super().__init__()
        self.use_res_connect = stride == 1 and inp == out
        hidden = inp * expand
        layers = []
        if hidden != inp:
            layers.append(ConvNormAct(inp, hidden, 1))
        layers.append(ConvNormAct(hidden, hidden, kernel, stride, groups=hidden))
        layers.append(SqueezeExcitation(hidden, max(1, inp // 4)))
        layers.append(ConvNormAct(hidden, out, 1, act=None))
        self.block = nn.Sequential(*layers)

    def forward(self, x):
        y = self.block(x)
        return y + x if self.use_res_connect else y


def efficientnet_b0() -> nn.Module:
    settings = [(1, 3, 1, 32, 16, 1), (6, 3, 2, 16, 24, 2), (6, 5, 2, 24, 40, 2), (6, 3, 2, 40, 80, 3),
                (6, 5, 1, 80, 112, 3), (6, 5, 2, 112, 192, 4), (6, 3, 1, 192, 320, 1)]
    stages = []
    for expand, kernel, stride, inp, out, n in settings:
        stages.append(nn.Sequential(*(MBConv(expand, kernel, stride if i == 0 else 1, inp if i == 0 else out, out)
                                      for i in range(n))))
    model = nn.Module()
    model.features = nn.Sequential(ConvNormAct(3, 32, 3, 2), *stages, ConvNormAct(320, 1280, 1))
    model.avgpool = nn.AdaptiveAvgPool2d(1)
    model.classifier = nn.Sequential(nn.Dropout(0.2, inplace=True), nn.Linear(1280, 1000))

    def forward(x):
        return model.classifier(torch.flatten(model.avgpool(model.features(x)), 1))

    model.forward = forward
    return model


class DenseLayer(nn.Module):
    """torchvision.models.densenet._DenseLayer (bn_size 4)."""

    def __init__(self, inp, growth=32, bn_size=4):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(inp)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(inp, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, padding=1, bias=False)

    def forward(self, features):
        x = torch.cat(features, 1)
        return self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))


class DenseBlock(nn.ModuleDict):
    def __init__(self, n, inp, growth=32):
        super().__init__()
        for i in range(n):
            self.add_module(f"denselayer{i + 1}", DenseLayer(inp + i * growth, growth))

    def forward(self, x):
        features = [x]
        for layer in self.values():
            features.append(layer(features))
        return torch.cat(features, 1)


def densenet121() -> nn.Module:
    features = nn.Sequential()
    features.add_module("conv0", nn.Conv2d(3, 64, 7, 2, 3, bias=False))
    features.add_module("norm0", nn.BatchNorm2d(64))
    features.add_module("relu0", nn.ReLU(inplace=True))
    features.add_module("pool0", nn.MaxPool2d(3, 2, 1))
    c = 64
    for i, n in enumerate((6, 12, 24, 16)):
        features.add_module(f"denseblock{i + 1}", DenseBlock(n, c))
        c += n * 32
        if i != 3:
            features.add_module(f"transition{i + 1}", nn.Sequential(
                nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.Conv2d(c, c // 2, 1, bias=False), nn.AvgPool2d(2, 2)))
            c //= 2
    features.add_module("norm5", nn.BatchNorm2d(c))
    model = nn.Module()
    model.features = features
    model.classifier = nn.Linear(c, 1000)

    def forward(x):
        y = torch.relu(model.features(x))
        y = torch.flatten(nn.functional.adaptive_avg_pool2d(y, (1, 1)), 1)
        return model.classifier(y)

    model.forward = forward
    return model
