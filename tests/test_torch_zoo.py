"""PyTorch as the oracle for the graph specs: each architecture is written
here in plain torch (as torchvision writes it; torchvision itself is not
needed), run once at 224×224, and every module whose name is also a node of
the spec is compared on output shape and parameter count. Every torch module
with parameters must have its node, and the totals must agree.

The models live on torch's "meta" device: torch's own shape rules run
(convolution arithmetic, ceil_mode pooling, concatenation) without any
arithmetic on data, so six ImageNet networks take a second, not a minute.

Module names follow the specs' node names (``layer2.0.downsample.0``,
``inception4a.branch2.1.conv``) so that the comparison is by name.
"""

import pytest

from cnncalc import analyze_file
from conftest import SPECS

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
nn = torch.nn
DEVICE = "meta"


def compare(spec: str, model, input_shape=(3, 224, 224)):
    analysis = analyze_file(SPECS / f"{spec}.yaml")
    nodes = {r.name: r for r in analysis.layers}
    seen: dict[str, tuple] = {}
    hooks = []

    def record(name):
        def hook(module, inputs, output):
            seen[name] = tuple(output.shape[1:])  # returns None: the output is left alone

        return hook

    for name, module in model.named_modules():
        if name in nodes:
            hooks.append(module.register_forward_hook(record(name)))
    model.eval()
    with torch.no_grad():
        out = model(torch.zeros(1, *input_shape, device=DEVICE))
    for h in hooks:
        h.remove()

    problems = []
    compared = 0
    for name, module in model.named_modules():
        own = list(module.parameters(recurse=False))
        if name not in nodes:
            if own:
                problems.append(f"torch module {name!r} has parameters but no spec node")
            continue
        if name not in seen:
            continue  # a container that is not called as a whole
        r = nodes[name]
        compared += 1
        trainable = sum(p.numel() for p in module.parameters())
        buffers = sum(b.numel() for n, b in module.named_buffers() if not n.endswith("num_batches_tracked"))
        if seen[name] != r.output_shape:
            problems.append(f"{name}: shape Mine {r.output_shape} Theirs {seen[name]}")
        if (trainable, buffers) != (r.params.trainable, r.params.buffers):
            problems.append(f"{name}: params Mine {tuple(r.params)} Theirs {(trainable, buffers)}")
    total = sum(p.numel() for p in model.parameters())
    if total != analysis.totals.params_trainable:
        problems.append(f"total params Mine {analysis.totals.params_trainable} Theirs {total}")
    if tuple(out.shape[1:]) != analysis.layers[-1].output_shape:
        problems.append(f"output Mine {analysis.layers[-1].output_shape} Theirs {tuple(out.shape[1:])}")
    assert not problems, "\n".join(problems)
    return compared


# -- ResNet (He et al. 2016; torchvision's v1.5) ------------------------------

class BasicBlock(nn.Module):
    def __init__(self, inp, width, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(inp, width, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.downsample = None
        if stride != 1 or inp != width:
            self.downsample = nn.Sequential(nn.Conv2d(inp, width, 1, stride, bias=False), nn.BatchNorm2d(width))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    def __init__(self, inp, width, stride=1):
        super().__init__()
        out = 4 * width
        self.conv1 = nn.Conv2d(inp, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)  # v1.5: stride on the 3×3
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(nn.Conv2d(inp, out, 1, stride, bias=False), nn.BatchNorm2d(out))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = torch.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, block, depths, expansion):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        inp = 64
        for i, (width, n) in enumerate(zip((64, 128, 256, 512), depths), 1):
            blocks = []
            for r in range(n):
                blocks.append(block(inp, width, 2 if r == 0 and i > 1 else 1))
                inp = width * expansion
            setattr(self, f"layer{i}", nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(inp, 1000)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# -- MobileNetV2 (Sandler et al. 2018) ----------------------------------------

class ConvBN(nn.Module):
    def __init__(self, inp, out, kernel=3, stride=1, groups=1):
        super().__init__()
        self.conv = nn.Conv2d(inp, out, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(out)

    def forward(self, x):
        return nn.functional.relu6(self.bn(self.conv(x)))


class InvertedResidual(nn.Module):
    def __init__(self, inp, out, stride, t):
        super().__init__()
        hidden = inp * t
        self.expand = ConvBN(inp, hidden, 1) if t != 1 else None
        self.depthwise = ConvBN(hidden, hidden, 3, stride, groups=hidden)
        self.project = nn.Conv2d(hidden, out, 1, bias=False)
        self.bn = nn.BatchNorm2d(out)
        self.residual = stride == 1 and inp == out

    def forward(self, x):
        y = self.expand(x) if self.expand is not None else x
        y = self.bn(self.project(self.depthwise(y)))
        return x + y if self.residual else y


class MobileNetV2(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = ConvBN(3, 32, stride=2)
        inp = 32
        for i, (t, c, n, s) in enumerate(
            [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)],
            1,
        ):
            blocks = []
            for r in range(n):
                blocks.append(InvertedResidual(inp, c, s if r == 0 else 1, t))
                inp = c
            setattr(self, f"stage{i}", blocks[0] if n == 1 else nn.Sequential(*blocks))
        self.head = ConvBN(320, 1280, 1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(1280, 1000)

    def forward(self, x):
        x = self.stem(x)
        for i in range(1, 8):
            x = getattr(self, f"stage{i}")(x)
        x = torch.flatten(self.avgpool(self.head(x)), 1)
        return self.classifier(nn.functional.dropout(x, 0.2, self.training))


# -- DenseNet-121 (Huang et al. 2017) -----------------------------------------

class DenseLayer(nn.Module):
    def __init__(self, inp, growth=32, bn_size=4):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(inp)
        self.relu1 = nn.ReLU()
        self.conv1 = nn.Conv2d(inp, bn_size * growth, 1, bias=False)
        self.norm2 = nn.BatchNorm2d(bn_size * growth)
        self.relu2 = nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, x):
        new = self.conv2(self.relu2(self.norm2(self.conv1(self.relu1(self.norm1(x))))))
        return torch.cat([x, new], 1)


class Transition(nn.Module):
    def __init__(self, inp, out):
        super().__init__()
        self.norm = nn.BatchNorm2d(inp)
        self.conv = nn.Conv2d(inp, out, 1, bias=False)
        self.pool = nn.AvgPool2d(2, 2)

    def forward(self, x):
        return self.pool(self.conv(torch.relu(self.norm(x))))


class DenseNet121(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv0 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.norm0 = nn.BatchNorm2d(64)
        self.relu0 = nn.ReLU()
        self.pool0 = nn.MaxPool2d(3, 2, 1)
        c = 64
        self.stages = []
        for i, n in enumerate((6, 12, 24, 16), 1):
            layers = []
            for _ in range(n):
                layers.append(DenseLayer(c))
                c += 32
            setattr(self, f"denseblock{i}", nn.Sequential(*layers))
            self.stages.append(f"denseblock{i}")
            if i < 4:
                setattr(self, f"transition{i}", Transition(c, c // 2))
                self.stages.append(f"transition{i}")
                c //= 2
        self.norm5 = nn.BatchNorm2d(c)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, 1000)

    def forward(self, x):
        x = self.pool0(self.relu0(self.norm0(self.conv0(x))))
        for name in self.stages:
            x = getattr(self, name)(x)
        return self.classifier(torch.flatten(self.avgpool(torch.relu(self.norm5(x))), 1))


# -- GoogLeNet (Szegedy et al. 2015), torchvision's variant without aux heads --

class BasicConv2d(nn.Module):
    def __init__(self, inp, out, kernel=1, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(inp, out, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out, eps=0.001)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class Inception(nn.Module):
    def __init__(self, inp, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = BasicConv2d(inp, ch1x1)
        self.branch2 = nn.Sequential(BasicConv2d(inp, ch3x3red), BasicConv2d(ch3x3red, ch3x3, 3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(inp, ch5x5red), BasicConv2d(ch5x5red, ch5x5, 3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), BasicConv2d(inp, pool_proj))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class GoogLeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = BasicConv2d(3, 64, 7, 2, 3)
        self.maxpool1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64)
        self.conv3 = BasicConv2d(64, 192, 3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, 1000)

    def forward(self, x):
        for name in ("conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
                     "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
                     "inception5a", "inception5b", "avgpool"):
            x = getattr(self, name)(x)
        return self.fc(torch.flatten(x, 1))


# -- SqueezeNet 1.0 (Iandola et al. 2016) -------------------------------------

class Fire(nn.Module):
    def __init__(self, inp, squeeze, e1, e3):
        super().__init__()
        self.squeeze = nn.Conv2d(inp, squeeze, 1)
        self.expand1x1 = nn.Conv2d(squeeze, e1, 1)
        self.expand3x3 = nn.Conv2d(squeeze, e3, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.squeeze(x))
        return torch.cat([torch.relu(self.expand1x1(x)), torch.relu(self.expand3x3(x))], 1)


class SqueezeNet10(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 96, 7, 2)
        fires = [(96, 16, 64, 64), (128, 16, 64, 64), (128, 32, 128, 128), (256, 32, 128, 128),
                 (256, 48, 192, 192), (384, 48, 192, 192), (384, 64, 256, 256), (512, 64, 256, 256)]
        for i, args in enumerate(fires, 1):
            setattr(self, f"fire{i}", Fire(*args))
        for i in (1, 2, 3):
            setattr(self, f"max_pool{i}", nn.MaxPool2d(3, 2, ceil_mode=True))
        self.final_conv = nn.Conv2d(512, 1000, 1)
        self.avgpool = nn.AdaptiveAvgPool2d(1)

    def forward(self, x):
        x = self.max_pool1(torch.relu(self.conv1(x)))
        x = self.max_pool2(self.fire3(self.fire2(self.fire1(x))))
        x = self.max_pool3(self.fire7(self.fire6(self.fire5(self.fire4(x)))))
        x = self.fire8(x)
        return torch.flatten(self.avgpool(torch.relu(self.final_conv(x))), 1)


MODELS = {
    "resnet18": lambda: ResNet(BasicBlock, (2, 2, 2, 2), 1),
    "resnet50": lambda: ResNet(Bottleneck, (3, 4, 6, 3), 4),
    "mobilenet_v2": MobileNetV2,
    "densenet121": DenseNet121,
    "googlenet": GoogLeNet,
    "squeezenet1_0": SqueezeNet10,
}


@pytest.mark.parametrize("spec", sorted(MODELS))
def test_zoo_graph_matches_torch(spec):
    with torch.device(DEVICE):
        model = MODELS[spec]()
    compared = compare(spec, model)
    assert compared >= 20  # the comparison really ran over the network's modules
