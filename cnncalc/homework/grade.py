"""Grade a spec's answers: ``expect:`` per layer and ``expect_total:``.

Answers are compared exactly, except where the student plainly rounded:
``"15.5G"``, ``"138M"``, ``1.52e3`` or ``12.5`` are accepted when the correct value
rounds to them at the precision written (half a unit of the last digit), and
the grade says so. Shapes may be written channels first ``[20, 14, 14]`` (as
specs are) or channels last ``14x14x20`` (as the lectures write them); a
receptive field may be one number for a square field, a list per axis, or
``"5x5"``. Unknown keys are spec errors (file and line, exit status 2).

Two counting conventions meet in the lectures and in tools, and both are
graded (:class:`Conventions`): parameters with or without the biases (the
lectures count weights only, ``F·F·D_in·D_out``: 1,500 where PyTorch has
1,520); multiplications alone (the lectures') or with one bias addition per
output value; and "layers" as the layers with weights (VGG-16 has 16) or as
every row of the table (40 for VGG-16). By default an answer in either
convention is right and the grade says which one it matched and what the
other would be; ``grading: {bias: with|without, layers: weights|all}`` in
the spec, or ``cnncalc grade --bias/--layers``, makes one the reference.
"""

from __future__ import annotations

import re
from fractions import Fraction
from math import prod

from .. import records
from ..errors import Loc, SpecError, did_you_mean
from ..numbers import NumberError, parse_decimal
from ..receptive import format_number
from ..records import field, record
from ..units import grouped
from .explain import Step, explain_analysis, num, render_steps, shape_text

LAYER_KEYS = {
    "output": "output shape",
    "params": "parameters",
    "parameters": "parameters",
    "macs": "multiplications",
    "multiplications": "multiplications",
    "flops": "FLOPs",
    "receptive_field": "receptive field",
    "rf": "receptive field",
    "jump": "jump (effective stride)",
}
TOTAL_KEYS = {
    "params": "parameters",
    "parameters": "parameters",
    "macs": "multiplications",
    "multiplications": "multiplications",
    "flops": "FLOPs",
    "output": "output shape",
    "receptive_field": "receptive field",
    "rf": "receptive field",
    "layers": "layers",
}
BIAS_MODES = ("either", "with", "without")
LAYER_MODES = ("either", "weights", "all")


@record
class Conventions:
    """Which counts are right: ``bias`` either/with/without (parameters, and multiplications
    with or without the bias additions); ``layers`` either/weights/all."""

    bias: str = "either"
    layers: str = "either"

    def text(self) -> str:
        b = {"either": "parameters with or without biases, multiplications with or without bias additions "
                       "(the lectures count neither)",
             "with": "parameters with biases, multiplications plus one bias addition per output value",
             "without": "parameters without biases and multiplications only (the lectures' counts)"}[self.bias]
        n = {"either": "layers with weights (the lectures') or all layers",
             "weights": "layers = layers with weights (the lectures')",
             "all": "layers = every layer of the table"}[self.layers]
        return f"Graded: {b}; {n}."


def conventions_for(graph, bias: str | None = None, layers: str | None = None) -> Conventions:
    """The spec's ``grading:`` section, overridden by the command line's options."""
    from ..yamlio import YMap

    section = graph.sections.get("grading")
    found = {}
    if section is not None:
        loc = Loc(graph.file)
        if not isinstance(section, dict):
            raise SpecError(f"grading must be a mapping such as {{bias: without, layers: weights}}, got {section!r}",
                            loc=loc, field="grading")
        locs = section.key_locs if isinstance(section, YMap) else {}
        allowed = {"bias": BIAS_MODES, "layers": LAYER_MODES}
        for key, value in section.items():
            if key not in allowed:
                raise SpecError(f"unknown grading key '{key}'{did_you_mean(key, allowed)}; allowed: bias, layers",
                                loc=locs.get(key, loc), field=f"grading.{key}")
            if value not in allowed[key]:
                raise SpecError(f"grading.{key} must be one of {', '.join(allowed[key])}, got {value!r}",
                                loc=locs.get(key, loc), field=f"grading.{key}")
            found[key] = value
    return Conventions(bias or found.get("bias", "either"), layers or found.get("layers", "either"))


def bias_parameters(r) -> int:
    """How many of a layer's trainable parameters are biases (0 for layers without a ``bias`` switch)."""
    layer = r.node.layer
    if not getattr(layer, "bias", False) or "bias" not in {f.name for f in records.fields(layer)}:
        return 0
    without = records.replace(layer, bias=False).params(r.input_shapes)
    return r.params.trainable - without.trainable


def bias_additions(r) -> int:
    """One bias addition per output value of a layer with biases."""
    return prod(r.output_shape) if bias_parameters(r) else 0


def has_weights(r) -> bool:
    """A layer with weights in the lectures' sense (convolutions, dense): VGG-16's 16."""
    return bool(r.params.trainable) and r.node.layer.family not in ("normalization",)

_SUFFIX = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15}
_NUMBER = re.compile(r"^\s*([0-9][0-9_,]*(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)\s*([KMGTP]?)\s*$", re.IGNORECASE)


@record(frozen=False)
class Mark:
    where: str  # layer name or "total"
    key: str
    answer: object
    correct: object
    ok: bool
    how: str = ""  # "exact", "rounded: …", "channels last"
    work: list = field(default_factory=list)  # worked lines for wrong answers
    loc: Loc | None = None


@record(frozen=False)
class Grade:
    marks: list

    @property
    def right(self) -> int:
        return sum(m.ok for m in self.marks)

    @property
    def total(self) -> int:
        return len(self.marks)

    @property
    def all_right(self) -> bool:
        return self.right == self.total


# -- reading answers ---------------------------------------------------------------


def parse_number(value, where: str, loc: Loc):
    """(value, tolerance, how) for a count answer."""
    if isinstance(value, bool) or value is None:
        raise SpecError(f"{where}: expected a number such as 1520 or 15.5G, got {value!r}", loc=loc)
    if isinstance(value, int):
        return Fraction(value), Fraction(0), "exact"
    text = repr(value) if isinstance(value, float) else str(value)
    match = _NUMBER.match(text.replace(" ", "")) if isinstance(value, (str, float)) else None
    if not match:
        raise SpecError(
            f"{where}: expected a number such as 1520, 1,520, 15.5G or 138M (suffixes K, M, G, T, P), got {value!r}",
            loc=loc,
        )
    digits, suffix = match.group(1).replace(",", "").replace("_", ""), match.group(2).upper()
    try:  # digits and exponent bounded before any Fraction is built ("1e999999999")
        parse_decimal(digits, what="answer")
    except NumberError as exc:
        raise SpecError(f"{where}: {exc}", loc=loc) from None
    scale = _SUFFIX[suffix]
    mantissa, _, exponent = digits.lower().partition("e")
    decimals = len(mantissa.partition(".")[2])
    unit = Fraction(1, 10**decimals) * (Fraction(10) ** int(exponent or 0)) * scale
    number = Fraction(mantissa) * (Fraction(10) ** int(exponent or 0)) * scale
    if unit <= 1 and number.denominator == 1 and not suffix and "." not in mantissa:
        return number, Fraction(0), "exact"
    return number, unit / 2, f"rounded: {text} stands for {grouped(int(number)) if number.denominator == 1 else format_number(number)} ± {format_number(unit / 2) if unit < 2 else grouped(int(unit / 2))}"


def _shape_from(value, where, loc):
    if isinstance(value, str):
        parts = [p for p in re.split(r"[,x×\s]+", value.strip().strip("[]()")) if p]
        try:
            return tuple(int(p) for p in parts), True
        except ValueError:
            pass
    elif isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value), False
    elif isinstance(value, int) and not isinstance(value, bool):
        return (value,), False
    raise SpecError(f"{where}: expected a shape such as [20, 14, 14] or \"14x14x20\", got {value!r}", loc=loc)


def grade_shape(answer, correct, where, loc):
    """A string follows cnncalc's one shape notation (:mod:`cnncalc.shapes`):
    ``"14x14x20"`` is channels last (H×W×C), ``"20,14,14"`` channels first. A
    list is channels first as in a spec, or accepted channels last with a note."""
    correct = tuple(correct)
    if isinstance(answer, str):
        from ..shapes import ShapeSyntaxError, parse_shape

        try:
            typed = parse_shape(answer, what=where)
        except ShapeSyntaxError as exc:
            raise SpecError(str(exc), loc=loc) from None
        if typed.shape != correct:
            return False, ""
        return True, "read as channels last (H×W×C, the lectures' order)" if typed.channels_last else "exact"
    shape, is_text = _shape_from(answer, where, loc)
    last = (*correct[1:], correct[0]) if len(correct) > 1 else correct
    if shape == correct:
        return True, "exact"
    if shape == last:
        return True, "read as channels last (H×W×C, the lectures' order)"
    return False, ""


def grade_rf(answer, sizes, where, loc):
    if isinstance(answer, int) and not isinstance(answer, bool):
        if all(s == answer for s in sizes):
            return True, "one number for a square field" if len(sizes) > 1 else "exact"
        return False, ""
    if isinstance(answer, (list, str)):
        shape, _ = _shape_from(answer, where, loc)
        return tuple(Fraction(s) for s in shape) == tuple(Fraction(s) for s in sizes), "per axis"
    raise SpecError(f"{where}: expected a receptive field such as 5, [5, 5] or \"5x5\", got {answer!r}", loc=loc)


def grade_count(answer, correct: int, where, loc):
    value, tol, how = parse_number(answer, where, loc)
    ok = abs(value - correct) <= tol
    if ok and tol:
        how = f"accepted as {how}"
    return ok, how


# -- grading -----------------------------------------------------------------------


def _expect_map(value, where, loc):
    from ..yamlio import YMap

    if not isinstance(value, dict):
        raise SpecError(f"{where} must be a mapping such as {{params: 1520}}, got {value!r}", loc=loc)
    locs = value.key_locs if isinstance(value, YMap) else {}
    return value, locs


def _check_keys(mapping, locs, allowed, section, default_loc, node=None):
    for key in mapping:
        if key not in allowed:
            extra = {}
            if node is not None:
                extra = dict(layer_index=node.index, layer_name=node.name, layer_type=node.type_name)
            raise SpecError(
                f"unknown answer key '{key}'{did_you_mean(key, allowed)}; allowed: "
                + ", ".join(sorted(set(allowed))),
                loc=locs.get(key, default_loc),
                field=f"{section}.{key}",
                **extra,
            )


def _steps_for(steps: list[Step], quantity: str) -> list[str]:
    chosen = [s for s in steps if s.quantity.startswith(quantity)]
    if quantity == "output shape":
        chosen = [s for s in steps if s.quantity.startswith(("output size", "effective kernel", "output shape",
                                                            "stride"))]
    return render_steps(chosen, indent="      ")


def grade(result, conventions: Conventions | None = None) -> Grade:
    """Check every ``expect:`` and ``expect_total:`` of the analysed spec."""
    graph = result.graph
    conv = conventions or conventions_for(graph)
    marks: list[Mark] = []
    explained = dict((r.name, steps) for r, steps in explain_analysis(result))
    for r in result.layers:
        node = r.node
        if "expect" not in node.extra:
            continue
        where = f"layer {node.index} '{node.name}' expect"
        loc = node.loc_of("expect")
        expect, locs = _expect_map(node.extra["expect"], where, loc)
        _check_keys(expect, locs, LAYER_KEYS, "expect", loc, node)
        steps = explained.get(r.name, [])
        for key, answer in expect.items():
            kloc = locs.get(key, loc)
            what = LAYER_KEYS[key]
            marks.append(_grade_one(r.name, key, what, answer, r, steps, result, kloc, conv))
    if "expect_total" in graph.sections:
        loc = graph.input_loc
        where = "expect_total"
        expect, locs = _expect_map(graph.sections["expect_total"], where, Loc(graph.file))
        _check_keys(expect, locs, TOTAL_KEYS, "expect_total", Loc(graph.file))
        for key, answer in expect.items():
            kloc = locs.get(key, Loc(graph.file))
            marks.append(_grade_total(key, TOTAL_KEYS[key], answer, result, kloc, conv))
    return Grade(marks)


def _two_counts(name, key, what, answer, with_bias, without_bias, mode, where, loc) -> Mark:
    """A count right in either convention (or in the one ``mode`` asks for), said aloud.
    ``with_bias``/``without_bias``: parameters with and without biases, or multiplications
    with and without the bias additions."""
    if with_bias == without_bias:
        ok, how = grade_count(answer, with_bias, where, loc)
        return Mark(name, key, answer, grouped(with_bias), ok, how, loc=loc)
    ok_w, how_w = grade_count(answer, with_bias, where, loc)
    ok_wo, how_wo = grade_count(answer, without_bias, where, loc)
    params = what == "parameters"
    lectures = ("without bias (the lectures' count)" if params else
                "multiplications only (the lectures' count)")
    other = "with bias" if params else f"with the {grouped(with_bias - without_bias)} bias additions"
    both = (f"{grouped(with_bias)} {other}, {grouped(without_bias)} {lectures}" if params else
            f"{grouped(without_bias)} ({lectures}; {grouped(with_bias)} {other})")
    rounded = lambda how: f"; {how}" if how and how != "exact" else ""  # noqa: E731
    if mode == "either":
        if params and ok_w:
            return Mark(name, key, answer, grouped(with_bias), True, how_w, loc=loc)
        if not params and ok_wo:
            return Mark(name, key, answer, grouped(without_bias), True, how_wo, loc=loc)
        if params and ok_wo:
            return Mark(name, key, answer, grouped(without_bias), True,
                        f"correct without bias (the lectures' count); with bias: {grouped(with_bias)}"
                        + rounded(how_wo), loc=loc)
        if ok_w:
            return Mark(name, key, answer, grouped(with_bias), True,
                        f"correct with the {grouped(with_bias - without_bias)} bias additions counted too; "
                        f"multiplications only (the lectures' count): {grouped(without_bias)}" + rounded(how_w),
                        loc=loc)
        return Mark(name, key, answer, both, False, loc=loc)
    want, want_text, ok, how, ok_other = ((with_bias, other, ok_w, how_w, ok_wo) if mode == "with" else
                                          (without_bias, lectures, ok_wo, how_wo, ok_w))
    mark = Mark(name, key, answer, f"{grouped(want)} ({want_text}, as this spec grades)", ok, how, loc=loc)
    if not ok and ok_other:
        if params:
            got, asked = ("without bias (the lectures' count)", "with bias") if mode == "with" else (
                "with bias", "without bias (the lectures' count)")
            text = f"{answer_text(answer)} is the count {got}; this grade asks for the count {asked}"
        elif mode == "with":
            text = (f"{answer_text(answer)} counts the multiplications only (the lectures' count); this grade asks "
                    f"for the {grouped(with_bias - without_bias)} bias additions too")
        else:
            text = (f"{answer_text(answer)} adds the {grouped(with_bias - without_bias)} bias additions; this grade "
                    "asks for the multiplications only (the lectures' count)")
        mark.work.append(f"      {text} (grading: {{bias: {mode}}} or --bias {mode})")
    return mark


def _grade_one(name, key, what, answer, r, steps, result, loc, conv=Conventions()) -> Mark:
    where = f"layer '{name}' expect.{key}"
    if what == "output shape":
        ok, how = grade_shape(answer, r.output_shape, where, loc)
        correct = shape_text(r.output_shape) + f" (C×H×W; channels last {shape_text(r.output_shape, True)})"
    elif what == "receptive field":
        sizes = tuple(a.size for a in r.rf)
        if any(a.whole for a in r.rf):
            ok, how = (answer in ("whole", "all")), "the whole input"
            correct = "the whole input"
        else:
            ok, how = grade_rf(answer, sizes, where, loc)
            correct = "×".join(format_number(s) for s in sizes) + " input pixels"
    elif what.startswith("jump"):
        jumps = tuple(a.jump for a in r.rf)
        ok, how = grade_rf(answer, jumps, where, loc)
        correct = "×".join(format_number(j) for j in jumps)
    elif what in ("parameters", "multiplications"):
        with_bias, without_bias = ((r.params.trainable, r.params.trainable - bias_parameters(r))
                                   if what == "parameters" else (r.multiplications + bias_additions(r),
                                                                 r.multiplications))
        mark = _two_counts(name, key, what, answer, with_bias, without_bias, conv.bias, where, loc)
        if not mark.ok:
            mark.work.extend(_steps_for(steps, what))
        return mark
    else:
        value = r.flops
        ok, how = grade_count(answer, value, where, loc)
        correct = grouped(value)
    mark = Mark(name, key, answer, correct, ok, how, loc=loc)
    if not ok:
        quantity = {"FLOPs": "multiplications", "jump (effective stride)": "receptive field"}.get(what, what)
        mark.work = _steps_for(steps, quantity)
        if what == "FLOPs":
            mark.work.append(f"      FLOPs = {result.convention.value} convention: {grouped(r.flops)}")
    return mark


def _grade_layers(key, answer, result, loc, mode) -> Mark:
    weights = sum(1 for r in result.layers if has_weights(r))
    rows = len(result.layers)
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise SpecError(f"expect_total.{key}: expected a whole number of layers, got {answer!r}", loc=loc)
    lectures = f"layers with weights (the lectures' count; VGG-16 has 16): {weights}"
    table = f"all layers (every row of the table, activations and pools too): {rows}"
    if mode == "weights" or (mode == "either" and answer == weights):
        ok = answer == weights
        how = ("correct: " + lectures + ("" if weights == rows else f"; {table}")) if ok else ""
        return Mark("total", key, answer, f"{weights} (layers with weights)", ok, how, loc=loc,
                    work=[] if ok else [f"      {lectures}; {table}"])
    ok = answer == rows
    how = ("correct: " + table + ("" if weights == rows else f"; {lectures}")) if ok else ""
    correct = (f"{weights} layers with weights or {rows} in all" if mode == "either" else f"{rows} (all layers)")
    return Mark("total", key, answer, correct, ok, how, loc=loc, work=[] if ok else [f"      {lectures}; {table}"])


def _grade_total(key, what, answer, result, loc, conv=Conventions()) -> Mark:
    where = f"expect_total.{key}"
    t = result.totals
    if what == "layers":
        return _grade_layers(key, answer, result, loc, conv.layers)
    if what in ("parameters", "multiplications"):
        if what == "parameters":
            pair = (t.params_trainable, t.params_trainable - sum(bias_parameters(r) for r in result.layers))
        else:
            pair = (t.multiplications + sum(bias_additions(r) for r in result.layers), t.multiplications)
        mark = _two_counts("total", key, what, answer, *pair, conv.bias, where, loc)
        if not mark.ok:
            per = {"parameters": lambda r: r.params.trainable, "multiplications": lambda r: r.multiplications}[what]
            terms = [(r.name, per(r)) for r in result.layers if per(r)]
            shown = " + ".join(num(v) for _, v in terms[:12]) + (" + …" if len(terms) > 12 else "")
            mark.work += [f"      sum over the layers: {shown} = {grouped(sum(v for _, v in terms))}"
                          + (" (with biases)" if what == "parameters" else "")]
        return mark
    if what == "output shape":
        y = result.layers[-1].output_shape
        ok, how = grade_shape(answer, y, where, loc)
        return Mark("total", key, answer, shape_text(y), ok, how, loc=loc)
    if what == "receptive field":
        rf = result.output_rf
        sizes = tuple(a.size for a in rf)
        ok, how = grade_rf(answer, sizes, where, loc)
        return Mark("total", key, answer, "×".join(format_number(s) for s in sizes), ok, how, loc=loc,
                    work=[] if ok else ["      r_L = 1 + Σ_l (F′_l − 1)·j_{l−1}, layer by layer: see analyze --explain"])
    attr = {"parameters": "params_trainable", "multiplications": "multiplications", "FLOPs": "flops"}[what]
    value = getattr(t, attr)
    ok, how = grade_count(answer, value, where, loc)
    mark = Mark("total", key, answer, grouped(value), ok, how, loc=loc)
    if not ok:
        per = {"parameters": lambda r: r.params.trainable, "multiplications": lambda r: r.multiplications,
               "FLOPs": lambda r: r.flops}[what]
        terms = [(r.name, per(r)) for r in result.layers if per(r)]
        shown = " + ".join(num(v) for _, v in terms[:12]) + (" + …" if len(terms) > 12 else "")
        mark.work = [f"      sum over the layers: {shown} = {grouped(value)}",
                     "      " + ", ".join(f"{n} {num(v)}" for n, v in terms[:12])]
    return mark


def answer_text(answer) -> str:
    if isinstance(answer, list):
        return "[" + ", ".join(map(str, answer)) + "]"
    return str(answer)
