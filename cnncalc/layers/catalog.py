"""Which module defines each layer type, so a spec imports only the layer
modules it uses (``cnncalc analyze`` of VGG-16 loads conv, pooling,
activation and dense, not the other six families).

The table below is generated from the layer modules themselves and a test
(``tests/test_layer_catalog.py``) fails, printing the exact lines to add,
when a module registers a type it does not list. To regenerate it after
adding or renaming a layer type::

    python -m cnncalc.layers.catalog          # prints the table
    python -m cnncalc.layers.catalog --write  # rewrites it in this file

The table only makes loading cheaper: a name it does not know makes
:mod:`cnncalc.layers.base` import every layer module and look again, so a
missing line costs speed, never a wrong answer.
"""

from __future__ import annotations

#: Modules of ``cnncalc.layers`` that hold helpers, not layer types.
HELPER_MODULES = ("base", "catalog", "fields", "window")

# BEGIN GENERATED TABLE (python -m cnncalc.layers.catalog --write)
#: Canonical YAML name → (module in cnncalc.layers, its aliases).
LAYER_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "adaptive_avg_pool": ("pooling", ("adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptiveavgpool")),
    "adaptive_max_pool": ("pooling", ("adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d", "adaptivemaxpool")),
    "add": ("merge", ("sum", "residual_add")),
    "avg_pool": ("pooling", ("avgpool", "avg_pool1d", "avg_pool2d", "avg_pool3d", "avgpool1d", "avgpool2d", "avgpool3d", "mean_pool")),
    "batch_norm": ("normalization", ("batchnorm", "bn", "batch_norm1d", "batch_norm2d", "batch_norm3d", "batchnorm1d", "batchnorm2d", "batchnorm3d")),
    "channel_shuffle": ("rearrange", ("channelshuffle",)),
    "concat": ("merge", ("concatenate", "cat")),
    "conv": ("conv", ("conv1d", "conv2d", "conv3d", "convolution")),
    "conv_transpose": ("transposed", ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "convtranspose", "transposed_conv", "deconv", "deconvolution")),
    "crop": ("padding", ("cropping", "crop1d", "crop2d", "crop3d", "cropping1d", "cropping2d", "cropping3d")),
    "dense": ("dense", ("linear", "fc", "fully_connected")),
    "downsample": ("resample", ("downsampling", "dsample", "subsample")),
    "dropout": ("activation", ("dropout1d", "dropout2d", "dropout3d")),
    "elu": ("activation", ()),
    "flatten": ("dense", ()),
    "gelu": ("activation", ()),
    "global_avg_pool": ("pooling", ("global_average_pool", "gap", "global_avg_pool1d", "global_avg_pool2d", "global_avg_pool3d")),
    "global_max_pool": ("pooling", ("global_max_pool1d", "global_max_pool2d", "global_max_pool3d")),
    "group_norm": ("normalization", ("groupnorm",)),
    "hardsigmoid": ("activation", ("hard_sigmoid",)),
    "hardswish": ("activation", ("hard_swish",)),
    "identity": ("activation", ("linear_activation",)),
    "instance_norm": ("normalization", ("instancenorm", "instance_norm1d", "instance_norm2d", "instance_norm3d", "instancenorm1d", "instancenorm2d", "instancenorm3d")),
    "kmax_pool": ("pooling", ("k_max_pool", "kmaxpool", "kmax_pooling", "k_max_pooling")),
    "layer_norm": ("normalization", ("layernorm", "layer_norm2d", "layernorm2d")),
    "layer_scale": ("normalization", ("layerscale",)),
    "leaky_relu": ("activation", ("leakyrelu",)),
    "locally_connected": ("local", ("locally_connected1d", "locally_connected2d", "locally_connected3d", "local", "unshared_conv")),
    "log_softmax": ("activation", ("logsoftmax",)),
    "lp_pool": ("pooling", ("lppool", "lp_pool1d", "lp_pool2d", "lp_pool3d", "lppool1d", "lppool2d", "lppool3d", "l2_pool", "norm_pool")),
    "max_pool": ("pooling", ("maxpool", "max_pool1d", "max_pool2d", "max_pool3d", "maxpool1d", "maxpool2d", "maxpool3d")),
    "max_unpool": ("resample", ("maxunpool", "max_unpool1d", "max_unpool2d", "max_unpool3d", "max_unpooling")),
    "mean": ("reduce", ("reduce_mean",)),
    "mish": ("activation", ()),
    "multiply": ("merge", ("mul", "scale")),
    "pixel_shuffle": ("rearrange", ("pixelshuffle",)),
    "pixel_unshuffle": ("rearrange", ("pixelunshuffle",)),
    "relu": ("activation", ()),
    "relu6": ("activation", ()),
    "sigmoid": ("activation", ()),
    "silu": ("activation", ("swish",)),
    "slice": ("rearrange", ()),
    "softmax": ("activation", ()),
    "softplus": ("activation", ()),
    "split": ("rearrange", ()),
    "stochastic_depth": ("activation", ("drop_path", "droppath")),
    "tanh": ("activation", ()),
    "unpool": ("resample", ("unpooling", "nearest_unpool", "bed_of_nails_unpool")),
    "upsample": ("resample", ("upsampling", "upsample1d", "upsample2d", "upsample3d", "usample")),
    "zero_pad": ("padding", ("zero_padding", "zeropad", "pad", "zero_pad1d", "zero_pad2d", "zero_pad3d", "zeropad1d", "zeropad2d", "zeropad3d")),
}
#: Types the ``activation:`` shorthand of conv and dense accepts (subclasses of activation.Activation).
ACTIVATIONS: tuple[str, ...] = (
    "elu", "gelu", "hardsigmoid", "hardswish", "identity", "leaky_relu", "log_softmax", "mish", "relu", "relu6",
    "sigmoid", "silu", "softmax", "softplus", "tanh",
)
# END GENERATED TABLE

_BEGIN = "# BEGIN GENERATED TABLE"
_END = "# END GENERATED TABLE"


def layer_modules() -> list[str]:
    """Every module of ``cnncalc.layers`` that may define layer types."""
    import pkgutil

    from . import __path__ as package_path

    return sorted(m.name for m in pkgutil.iter_modules(package_path) if m.name not in HELPER_MODULES)


def generate() -> str:
    """The generated part of this file, from what the layer modules register."""
    from .base import REGISTERED, load_all

    load_all()
    from .activation import Activation

    lines = [
        f"{_BEGIN} (python -m cnncalc.layers.catalog --write)",
        "#: Canonical YAML name → (module in cnncalc.layers, its aliases).",
        "LAYER_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {",
    ]
    for name, cls in sorted(REGISTERED.items()):
        module = cls.__module__.rsplit(".", 1)[1]
        aliases = "".join(f'"{a}", ' for a in cls.aliases)
        aliases = f"({aliases[:-2]},)" if len(cls.aliases) == 1 else f"({aliases[:-2]})"
        lines.append(f'    "{name}": ("{module}", {aliases}),')
    lines.append("}")
    lines.append("#: Types the ``activation:`` shorthand of conv and dense accepts (subclasses of activation.Activation).")
    lines.append("ACTIVATIONS: tuple[str, ...] = (")
    names = [f'"{n}",' for n, cls in sorted(REGISTERED.items()) if issubclass(cls, Activation)]
    row = "   "
    for item in names:
        if len(row) + 1 + len(item) > 116:
            lines.append(row)
            row = "   "
        row += " " + item
    lines.append(row)
    lines.append(")")
    lines.append(_END)
    return "\n".join(lines) + "\n"


def _write() -> None:
    from pathlib import Path

    path = Path(__file__)
    text = path.read_text(encoding="utf-8")
    start = text.index(_BEGIN)
    end = text.index(_END) + len(_END) + 1
    path.write_text(text[:start] + generate() + text[end:], encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    import sys

    if "--write" in sys.argv[1:]:
        _write()
    else:
        print(generate(), end="")
