"""Rearranging layers: the values move, none is computed. Slices and splits
(ShuffleNetV2's channel split, YOLOv8's C2f ``chunk``), channel shuffle, and
pixel shuffle / unshuffle (sub-pixel convolution, space-to-depth).

No parameters, no multiplications, and nothing kept for backward (the
gradient moves back by the same indices). ``dim`` counts the axes of one
sample as ``concat`` does: 0 = channels, 1 = the first spatial axis.

A ``split`` node's output is its input (a view); each piece is a ``slice``
node of its own, ``<split name>.<k>`` (or ``<split name>.<piece name>`` with
``names:``), added the first time another entry names it in ``inputs:``.
"""

from __future__ import annotations

from ..errors import FieldError
from ..lazy import Fraction
from ..receptive import IDENTITY, AxisStep
from ..records import field
from .base import Layer, Saved, register, require_rank
from .fields import Int, Kind, _is_int, _type_name, record, spec_field

_FORMULAS_NOTHING = {"params": "0", "macs": "0"}


def _keeps_nothing(self, xs, y):
    return Saved()


def _check_dim(dim: int, x, field: str = "dim") -> int:
    if dim >= len(x):
        raise FieldError(field, f"dim={dim} but one sample has {len(x)} axes (shape {list(x)}; 0 = channels)")
    return x[dim]


@record
class Names(Kind):
    """A list of distinct piece names (letters, digits, _ and -)."""

    description = "a list of distinct names (letters, digits, '_', '-'; not numbers), one per piece"

    def parse(self, field, value):
        if not isinstance(value, list) or not value:
            raise FieldError(field, f"must be {self.description}, got {value!r}")
        for item in value:
            if not isinstance(item, str) or not item or not all(c.isalnum() or c in "_-" for c in item):
                raise FieldError(field, f"piece names must be non-empty words (letters, digits, _ or -), got {item!r}")
        if len(set(value)) != len(value):
            raise FieldError(field, f"piece names must differ, got {list(value)}")
        digits = [v for v in value if v.isdigit()]
        if digits:  # <split>.1 must mean one piece only
            raise FieldError(field, f"piece names must not be numbers (<split>.N is piece N), got {digits[0]!r}")
        return tuple(value)

    def schema(self):
        return {"type": "array", "items": {"type": "string", "pattern": "^(?![0-9]+$)[A-Za-z0-9_-]+$"}, "minItems": 1,
                "uniqueItems": True}


@record
class Sizes(Kind):
    """One size for every piece, or a list with the size of each piece."""

    description = "an integer ≥ 1 (the size of every piece) or a list of integers ≥ 1 (the size of each piece)"

    def parse(self, field, value):
        if _is_int(value) and value >= 1:
            return value
        if isinstance(value, list) and value and all(_is_int(v) and v >= 1 for v in value):
            return tuple(value)
        raise FieldError(field, f"must be {self.description}, got {_type_name(value)} {value!r}")

    def schema(self):
        item = {"type": "integer", "minimum": 1}
        return {"oneOf": [item, {"type": "array", "items": item, "minItems": 1}]}


@register
@record
class Slice(Layer):
    type_name = "slice"
    family = "rearrange"
    summary = "Take the cells [start, stop) (every step-th) of one axis: channels by default (x[:, start:stop])."
    formulas = {
        "shape": "the sliced axis becomes ⌈(stop − start)/step⌉; others unchanged",
        **_FORMULAS_NOTHING,
        "rf": "channels: unchanged; a spatial axis: r unchanged, j ← j·step, start ← start + start_cell·j",
    }
    output_is_view = True  # a basic slice shares its input's storage (numpy and PyTorch)

    dim: int = spec_field(Int(0), 0, "axis of one sample to slice (0 = channels, 1 = first spatial axis, ...)")
    start: int = spec_field(Int(0), 0, "first cell taken")
    stop: int = spec_field(Int(1), None, "one past the last cell taken (null: to the end of the axis)")
    step: int = spec_field(Int(1), 1, "take every step-th cell")
    #: a piece of a split by size: the last piece may be shorter (set by Split.piece, not by specs)
    clamp: bool = field(default=False, compare=False)
    #: the split this piece comes from, for messages (set by Split.piece)
    of: str = field(default="", compare=False)

    def bounds(self, x) -> tuple[int, int]:
        size = _check_dim(self.dim, x)
        stop = size if self.stop is None else self.stop
        if self.clamp:
            stop = min(stop, size)
        if self.of and self.start >= size:  # a piece of a split by size, past the last one
            width = self.stop - self.start
            count = -(-size // width)
            raise FieldError(
                "inputs",
                f"the split has no piece '{self.of}': pieces of {width} along axis {self.dim} of the input "
                f"{list(x)} make {count} piece{'s' if count > 1 else ''} (0 … {count - 1})",
            )
        what = f"piece {self.of} " if self.of else "slice "
        if self.start >= size or stop > size:
            raise FieldError(
                "stop" if self.start < size else "start",
                f"{what}[{self.start}, {stop}) is outside axis {self.dim} of the input {list(x)} "
                f"(size {size}: cells 0 … {size - 1})",
            )
        if stop <= self.start:
            raise FieldError("stop", f"{what}[{self.start}, {stop}) is empty")
        return self.start, stop

    def out_shape(self, xs):
        x = xs[0]
        start, stop = self.bounds(x)
        return x[: self.dim] + (-(-(stop - start) // self.step),) + x[self.dim + 1 :]

    def rf(self, xs):
        if self.dim == 0:
            return None
        self.bounds(xs[0])
        return tuple(AxisStep(1, self.step, 2 * self.start) if a + 1 == self.dim else IDENTITY
                     for a in range(len(xs[0]) - 1))

    saved_for_backward = _keeps_nothing


@register
@record
class Split(Layer):
    type_name = "split"
    family = "rearrange"
    summary = (
        "Split one axis (channels by default) into pieces of a given size or sizes (torch.split; "
        "x.chunk(n) is split(⌈C/n⌉)); name a piece in inputs as <name>.0, <name>.1, … (or by its name in "
        "names). Its own output is its input."
    )
    formulas = {
        "shape": "unchanged (a view); piece k is a slice node [Σ sizes before k, + size k) of that axis; an "
        "integer size gives pieces of that size, the last one shorter when it does not divide",
        **_FORMULAS_NOTHING,
        "rf": "unchanged",
    }
    output_is_view = True

    split_size_or_sections: object = spec_field(
        Sizes(), doc="size of every piece, or a list with the size of each piece (adding up to the axis)"
    )
    dim: int = spec_field(Int(0), 0, "axis of one sample to split (0 = channels, 1 = first spatial axis, ...)")
    names: tuple = spec_field(Names(), None, "names of the pieces, to write <split>.<name> instead of <split>.<k>")

    def __post_init__(self):
        if self.names is not None and isinstance(self.split_size_or_sections, tuple) \
                and len(self.names) != len(self.split_size_or_sections):
            raise FieldError(
                "names",
                f"{len(self.names)} names for {len(self.split_size_or_sections)} sections "
                f"{list(self.split_size_or_sections)}",
            )

    def out_shape(self, xs):
        size = _check_dim(self.dim, xs[0])
        sections = self.split_size_or_sections
        if isinstance(sections, tuple) and sum(sections) != size:
            raise FieldError(
                "split_size_or_sections",
                f"sections {list(sections)} add up to {sum(sections)} but axis {self.dim} of the input "
                f"{list(xs[0])} has {size}",
            )
        if self.names is not None and not isinstance(sections, tuple) and -(-size // sections) != len(self.names):
            raise FieldError(
                "names",
                f"{len(self.names)} names but pieces of {sections} make {-(-size // sections)} pieces of "
                f"axis {self.dim} (size {size})",
            )
        return xs[0]

    def piece(self, key):
        sections = self.split_size_or_sections
        if self.names is not None and key in self.names:
            index = self.names.index(key)
        elif key.isdigit() and (key == "0" or not key.startswith("0")):
            index = int(key)
        else:
            return None
        if isinstance(sections, tuple):
            if index >= len(sections):
                return None
            start, stop, clamp = sum(sections[:index]), sum(sections[: index + 1]), False
        else:
            if self.names is not None and index >= len(self.names):
                return None
            start, stop, clamp = index * sections, (index + 1) * sections, True
        name = self.names[index] if self.names is not None else str(index)
        return name, Slice(dim=self.dim, start=start, stop=stop, clamp=clamp, of=name)

    saved_for_backward = _keeps_nothing


@register
@record
class ChannelShuffle(Layer):
    type_name = "channel_shuffle"
    aliases = ("channelshuffle",)
    family = "rearrange"
    summary = "ShuffleNet's channel shuffle: view the channels as [groups, C/groups], transpose, flatten."
    formulas = {
        "shape": "unchanged (groups must divide C)",
        **_FORMULAS_NOTHING,
        "rf": "unchanged",
    }

    groups: int = spec_field(Int(1), doc="number of channel groups (divides the channels)")

    def out_shape(self, xs):
        c = xs[0][0]
        if c % self.groups:
            raise FieldError("groups", f"groups={self.groups} does not divide the {c} input channels")
        return xs[0]

    saved_for_backward = _keeps_nothing


def _block_step(r: int) -> AxisStep:
    """Output j of an ×r pixel shuffle sits in input cell ⌊j/r⌋; in the
    half-pixel picture (as nearest upsampling) its centre is (j + ½)/r − ½."""
    return AxisStep(1, Fraction(1, r), Fraction(1 - r, r))  # centre (1 − r)/(2r), doubled


@register
@record
class PixelShuffle(Layer):
    type_name = "pixel_shuffle"
    aliases = ("pixelshuffle",)  # not ONNX DepthToSpace, whose default DCR order differs
    family = "rearrange"
    summary = "Sub-pixel rearrangement (PyTorch's PixelShuffle): [C·r², H, W] → [C, r·H, r·W]."
    formulas = {
        "shape": "[C·r², H, W] → [C, r·H, r·W] (C·r² must be divisible by r²)",
        **_FORMULAS_NOTHING,
        "rf": "r unchanged, j ← j/r, start ← start + ((1 − r)/(2r))·j (as nearest upsampling)",
    }

    upscale_factor: int = spec_field(Int(1), doc="r")

    def out_shape(self, xs):
        require_rank(xs, (2,), "pixel_shuffle", "upscale_factor")
        c, h, w = xs[0]
        r = self.upscale_factor
        if c % (r * r):
            raise FieldError(
                "upscale_factor",
                f"pixel_shuffle needs channels divisible by upscale_factor² = {r * r}, got {c} channels",
            )
        return (c // (r * r), h * r, w * r)

    def rf(self, xs):
        return (_block_step(self.upscale_factor),) * 2

    saved_for_backward = _keeps_nothing


@register
@record
class PixelUnshuffle(Layer):
    type_name = "pixel_unshuffle"
    aliases = ("pixelunshuffle",)  # not ONNX SpaceToDepth, which orders the blocks first
    family = "rearrange"
    summary = "The inverse of pixel_shuffle (PyTorch's PixelUnshuffle): [C, r·H, r·W] → [C·r², H, W]."
    formulas = {
        "shape": "[C, r·H, r·W] → [C·r², H, W] (H, W of the input divisible by r)",
        **_FORMULAS_NOTHING,
        "rf": "an r×r window with stride r: r ← r + (r − 1)·j, j ← j·r, start ← start + ((r − 1)/2)·j",
    }

    downscale_factor: int = spec_field(Int(1), doc="r")

    def out_shape(self, xs):
        require_rank(xs, (2,), "pixel_unshuffle", "downscale_factor")
        c, h, w = xs[0]
        r = self.downscale_factor
        if h % r or w % r:
            raise FieldError(
                "downscale_factor",
                f"pixel_unshuffle needs height and width divisible by downscale_factor {r}, got {h}×{w}",
            )
        return (c * r * r, h // r, w // r)

    def rf(self, xs):
        return (AxisStep.window(self.downscale_factor, self.downscale_factor, 0),) * 2

    saved_for_backward = _keeps_nothing
