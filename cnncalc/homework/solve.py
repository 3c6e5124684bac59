"""Solve the sliding-window relation for what is unknown.

    O = ⌊(I + 2P − F′) / S⌋ + 1,   F′ = d·(F − 1) + 1

Any of I (input), O (output), F (kernel), S (stride), P (padding), d
(dilation) may be unknown. Every non-negative integer solution inside the
stated bounds is listed with its check. Bounds (all said in the output):
F ≤ max_kernel, S ≤ max_stride, d ≤ max_dilation, and P < F′ (a wider pad
would give windows that see only zeros; the lectures pad "with widths smaller
than the filter"). I and O cannot both be unknown: there would be infinitely
many solutions.

Also the lectures' direct questions: the padding that keeps the size, how many
stacked F×F layers give an R×R receptive field, and the parameters of one R×R
layer against that stack.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import product

from ..errors import UsageError
from ..receptive import effective_kernel
from ..records import field, record
from .explain import decimal, num

NAMES = ("input", "output", "kernel", "stride", "padding", "dilation")
SYMBOL = {"input": "I", "output": "O", "kernel": "F", "stride": "S", "padding": "P", "dilation": "d"}


@record
class Bounds:
    max_kernel: int = 11
    max_stride: int = 8
    max_dilation: int = 8
    max_solutions: int = 200


@record
class Solution:
    values: dict
    check: str
    exact: bool  # (I + 2P − F′) divisible by S: the windows tile the padded input


@record(frozen=False)
class SolveResult:
    known: dict
    unknown: tuple
    solutions: list = field(default_factory=list)
    total: int = 0
    bounds_text: str = ""
    notes: list = field(default_factory=list)


def check_text(i, o, k, s, p, d) -> str:
    keff = effective_kernel(k, d)
    f = f"{k}" if d == 1 else f"{d}·({k} − 1) + 1"
    span = i + 2 * p - keff
    got = span // s + 1
    mark = "✓" if got == o else "✗"
    text = f"⌊({i} + 2·{p} − {f}) / {s}⌋ + 1 = ⌊{span} / {s}⌋ + 1 = {got}"
    if got == o:
        return f"{text} {mark}"
    return f"{text} ≠ {o} {mark}"


def solve_window(known: dict, *, exact_only: bool = False, bounds: Bounds = Bounds()) -> SolveResult:
    """``known`` maps names in NAMES to ints; missing names are unknown."""
    for name, value in known.items():
        if name not in NAMES:
            raise UsageError(f"unknown quantity {name!r}; allowed: {', '.join(NAMES)}")
        minimum = 0 if name == "padding" else 1
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise UsageError(f"--{name} must be an integer ≥ {minimum}, got {value!r}")
    unknown = tuple(n for n in NAMES if n not in known)
    if not unknown:
        i, o, k, s, p, d = (known[n] for n in NAMES)
        keff = effective_kernel(k, d)
        result = SolveResult(dict(known), ())
        result.notes.append("nothing is unknown: checking the given values")
        if i + 2 * p < keff:
            result.notes.append(f"✗ the kernel F′ = {keff} does not fit in I + 2P = {i + 2 * p}")
        elif (i + 2 * p - keff) // s + 1 == o:
            result.solutions.append(Solution(dict(known), check_text(i, o, k, s, p, d), (i + 2 * p - keff) % s == 0))
            result.total = 1
        else:
            result.notes.append(check_text(i, o, k, s, p, d))
        return result
    if "input" in unknown and "output" in unknown:
        raise UsageError("input and output are both unknown: there are infinitely many solutions; give one of them")

    ranges = {
        "kernel": range(1, bounds.max_kernel + 1),
        "stride": range(1, bounds.max_stride + 1),
        "dilation": range(1, bounds.max_dilation + 1),
    }
    loop = [n for n in ("kernel", "stride", "dilation") if n in unknown]
    result = SolveResult(dict(known), unknown)
    parts = []
    if "kernel" in unknown:
        parts.append(f"F ≤ {bounds.max_kernel}")
    if "stride" in unknown:
        parts.append(f"S ≤ {bounds.max_stride}")
    if "dilation" in unknown:
        parts.append(f"d ≤ {bounds.max_dilation}")
    if "padding" in unknown:
        parts.append("0 ≤ P < F′ (padding narrower than the effective kernel)")
    result.bounds_text = ", ".join(parts)

    for combo in product(*(ranges[n] for n in loop)):
        v = dict(known)
        v.update(zip(loop, combo))
        k, s, d = v["kernel"], v["stride"], v["dilation"]
        keff = effective_kernel(k, d)
        pads = range(0, keff) if "padding" in unknown else (v["padding"],)
        for p in pads:
            if "input" in unknown:
                o = v["output"]
                # ⌊(I + 2P − F′)/S⌋ = O − 1  ⇔  (O − 1)·S ≤ I + 2P − F′ < O·S
                low = (o - 1) * s + keff - 2 * p
                inputs = [i for i in range(max(low, 1), low + s) if i + 2 * p >= keff]
            else:
                inputs = [v["input"]]
            for i in inputs:
                if i + 2 * p < keff:
                    continue
                o = (i + 2 * p - keff) // s + 1
                if "output" not in unknown and o != v["output"]:
                    continue
                exact = (i + 2 * p - keff) % s == 0
                if exact_only and not exact:
                    continue
                result.total += 1
                if len(result.solutions) < bounds.max_solutions:
                    values = {"input": i, "output": o, "kernel": k, "stride": s, "padding": p, "dilation": d}
                    result.solutions.append(Solution(values, check_text(i, o, k, s, p, d), exact))
    if not exact_only and any(not sol.exact for sol in result.solutions):
        result.notes.append(
            "solutions marked 'floor' are valid because the formula rounds down (PyTorch, the lectures' ⌊ ⌋); "
            "notes that write (I + 2P − F)/S + 1 without the floor accept only those marked 'exact' "
            "(use --exact to list only those)"
        )
    return result


# -- the lectures' direct questions -------------------------------------------------


@record
class Answer:
    question: str
    lines: tuple[str, ...]
    value: object


def same_padding(kernel: int, dilation: int = 1) -> Answer:
    """Stride 1: O = I needs 2P = F′ − 1."""
    keff = effective_kernel(kernel, dilation)
    total = keff - 1
    lines = [
        "With stride 1, O = I + 2P − F′ + 1, so O = I needs 2P = F′ − 1.",
        (f"F′ = {dilation}·({kernel} − 1) + 1 = {keff};  " if dilation > 1 else "")
        + f"2P = {keff} − 1 = {total}",
    ]
    if total % 2 == 0:
        p = total // 2
        lines.append(f"P = {total} / 2 = {p} on every side (check for any I: ⌊(I + 2·{p} − {keff}) / 1⌋ + 1 = I ✓)")
        return Answer("padding that keeps the size", tuple(lines), p)
    before, after = total // 2, total - total // 2
    lines.append(
        f"{total} is odd: an even kernel cannot be padded symmetrically to keep the size; pad {before} before and "
        f"{after} after (TF/Keras 'same' puts the extra cell after): I + {before} + {after} − {keff} + 1 = I ✓"
    )
    return Answer("padding that keeps the size", tuple(lines), (before, after))


def stack_for_field(field_size: int, kernel: int = 3, channels: int | None = None) -> list[Answer]:
    """How many stride-1 F×F layers reach an R×R field, and their parameters
    against one R×R layer (C channels in and out, weights only)."""
    if kernel < 2:
        raise UsageError("--kernel must be ≥ 2 for the field to grow")
    if field_size < kernel:
        raise UsageError(f"--field {field_size} is smaller than one {kernel}×{kernel} kernel")
    step = kernel - 1
    n_exact = Fraction(field_size - 1, step)
    n = -(-(field_size - 1) // step)
    reached = 1 + n * step
    lines = [
        f"Each stride-1 {kernel}×{kernel} layer adds F − 1 = {step} to the field: r_n = 1 + n·(F − 1).",
        f"1 + n·{step} = {field_size}  ⇒  n = ({field_size} − 1) / {step} = {decimal(n_exact)}",
    ]
    if n_exact.denominator == 1:
        lines.append(f"n = {n} layers (check: 1 + {n}·{step} = {reached} ✓)")
    else:
        lines.append(f"not a whole number: {n} layers give {reached}×{reached}, the first stack that covers "
                     f"{field_size}×{field_size}")
    answers = [Answer(f"stacked {kernel}×{kernel} layers for a {field_size}×{field_size} receptive field",
                      tuple(lines), n)]
    one = field_size * field_size
    many = n * kernel * kernel
    ratio = Fraction(one, many)
    c = "C" if channels is None else str(channels)
    lines = [
        f"Weights with {c} channels in and out (biases apart): one layer F·F·C·C, n layers n·(F·F·C·C).",
        f"one {field_size}×{field_size}: {field_size}·{field_size}·{c}·{c}"
        + (f" = {num(one * channels * channels)}" if channels else f" = {one}·C²"),
        f"{n} × {kernel}×{kernel}: {n}·{kernel}·{kernel}·{c}·{c}"
        + (f" = {num(many * channels * channels)}" if channels else f" = {many}·C²"),
        f"ratio: {one}·C² / {many}·C² = {decimal(ratio)}: the single {field_size}×{field_size} layer uses "
        f"{decimal(ratio)} times the weights of the stack"
        + (f", with the same {reached}×{reached} field" if reached == field_size else ""),
    ]
    if n > 1:
        lines.append(
            f"(compared with a single {kernel}×{kernel} layer it is {decimal(Fraction(one, kernel * kernel))}; "
            "some notes quote that figure for the stack, but the stack has n times those weights)"
        )
    lines.append(f"the stack also puts {n} nonlinearities where the single layer has one")
    answers.append(Answer(f"parameters: one {field_size}×{field_size} layer vs {n} stacked {kernel}×{kernel}",
                          tuple(lines), ratio))
    return answers
