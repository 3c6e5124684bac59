"""The one shape notation of cnncalc, wherever a shape is typed.

* **Commas are PyTorch's order, channels first**, as in a spec's ``input:``:
  ``3,224,224`` is C,H,W; ``1,32`` is C,L (1D); ``3,16,112,112`` is C,D,H,W;
  ``784,`` (a trailing comma) is a flat [C].
* **``x`` (or a lone number) is the lectures' order, channels last**:
  ``224x224x3`` is H×W×C; ``4x5`` is H×W with one channel; ``16x112x112x3``
  is D×H×W×C; ``32`` is a 1D signal of length 32 with one channel.

Either way the result is channels first, the order used everywhere inside
cnncalc. :func:`order_warning` says when a shape looks written in the other
order (a channel count of 1, 3 or 4 standing where a much larger spatial size
was expected), so that ``input: [224, 224, 3]`` does not pass silently.
"""

from __future__ import annotations

from .lazy import Pattern
from .records import record

#: Channel counts that give a shape away as written in the other order.
_CHANNEL_LIKE = (1, 3, 4)
#: How much larger the other axes must be before a 1/3/4 axis looks misplaced.
_FACTOR = 8

NOTATION_HELP = ("channels first with commas (C,H,W: 3,224,224, as in a spec; a flat [C]: 784,) "
                 "or channels last with x (H×W×C: 224x224x3, as in the lectures; a 1D signal: 32)")


class ShapeSyntaxError(ValueError):
    """A typed shape that cannot be read; the message says how to write one."""


@record
class TypedShape:
    """A shape as typed and as understood (channels first)."""

    text: str
    shape: tuple[int, ...]  # channels first
    channels_last: bool  # written with x, the lectures' order

    def describe(self) -> str:
        """``224x224x3 (H×W×C) = C,H,W 3,224,224``: what was understood."""
        labels = axis_labels(len(self.shape))
        first = f"{','.join(labels)} {','.join(map(str, self.shape))}"
        if not self.channels_last:
            return first
        typed = "×".join([*labels[1:], labels[0]] if len(self.text.split("x")) > 2 else labels[1:])
        return f"{self.text} ({typed}, channels last) = {first}"


def axis_labels(rank: int) -> list[str]:
    """C; C,L; C,H,W; C,D,H,W."""
    return {1: ["C"], 2: ["C", "L"], 3: ["C", "H", "W"], 4: ["C", "D", "H", "W"]}.get(
        rank, ["C", *(f"S{i}" for i in range(1, rank))])


_SEPARATORS = Pattern(r"[,x×\s]+")


def _sizes(text: str) -> list[str]:
    return [p for p in _SEPARATORS.split(text) if p]


def parse_shape(text, *, what: str = "--input", max_rank: int = 4, minimum: int = 1) -> TypedShape:
    """Read a typed shape under the one rule (module docstring). Raises
    ShapeSyntaxError with the rule in the message."""
    raw = str(text).strip()
    body = raw.strip("[]()").strip().lower().replace("×", "x")
    has_comma = "," in body
    has_x = "x" in body or (not has_comma and len(_sizes(body)) == 1)  # a lone number: the lectures' L
    if has_x and has_comma:
        raise ShapeSyntaxError(f"{what} {raw!r} mixes ',' and 'x'; write it {NOTATION_HELP}")
    parts = _sizes(body)
    if any(len(p) > 19 for p in parts):  # the 10^18 rule, before int() reads thousands of digits
        raise ShapeSyntaxError(f"{what} {raw[:40]!r}…: sizes go up to 10^18")
    try:
        sizes = [int(p) for p in parts]
    except ValueError:
        raise ShapeSyntaxError(f"{what} {raw!r} is not a shape; write it {NOTATION_HELP}") from None
    if not sizes or any(n < minimum for n in sizes):
        raise ShapeSyntaxError(f"{what} {raw!r}: every size must be an integer ≥ {minimum}; write it {NOTATION_HELP}")
    if not has_x:
        if len(sizes) > max_rank:
            raise ShapeSyntaxError(
                f"{what} {raw!r} has {len(sizes)} sizes; channels first takes C, C,L, C,H,W or C,D,H,W "
                "(without the batch axis)")
        return TypedShape(body, tuple(sizes), False)
    if len(sizes) > max_rank:
        raise ShapeSyntaxError(f"{what} {raw!r} has {len(sizes)} sizes; channels last takes at most D×H×W×C")
    if len(sizes) <= 2:  # H×W (or a lone L) with one channel, as the lectures write a grey image
        shape = (1, *sizes)
    else:
        shape = (sizes[-1], *sizes[:-1])
    return TypedShape("x".join(map(str, sizes)), shape, True)


def _much_smaller(value: int, others) -> bool:
    return value in _CHANNEL_LIKE and all(o >= _FACTOR * value and o >= 16 for o in others)


def order_warning(shape, *, channels_last_typed: bool = False, what: str = "") -> str | None:
    """A warning when a channels-first ``shape`` looks written in the other order.

    A spec (or commas) ``[224, 224, 3]``: the last axis is 1, 3 or 4 and every
    other axis at least 8× larger — probably H, W, C. Typed with ``x``,
    ``3x224x224`` becomes [224, 3, 224]: the first spatial axis is the small
    one — probably C, H, W."""
    shape = tuple(shape)
    if len(shape) < 3:
        return None
    if not channels_last_typed and _much_smaller(shape[-1], shape[:-1]):
        guess = (shape[-1], *shape[:-1])
        return (f"{what}{list(shape)} is read channels first (C={shape[0]}, "
                f"{'×'.join(map(str, shape[1:]))} spatial); its last axis looks like a channel count — "
                f"if you meant H×W×C, write {list(guess)} (or {'x'.join(map(str, [*shape]))} on the command line)")
    if channels_last_typed and _much_smaller(shape[1], (shape[0], *shape[2:])):
        typed = "x".join(map(str, [*shape[1:], shape[0]]))
        guess = ",".join(map(str, (shape[1], shape[0], *shape[2:])))
        return (f"{what}{typed} is read channels last (H×W×C: C={shape[0]}); its first axis looks like a "
                f"channel count — if you meant C,H,W, write {guess} (commas are channels first)")
    return None
