"""``cnncalc check``: measure a network against its budget and its baseline.

:func:`check_graph` analyses one spec at the budget's batch and dtype and
turns every limit into a :class:`Check` (measured value, limit, headroom or
excess in percent, where to point a CI annotation). With a baseline (a saved
``cnncalc analyze --format json``) it also re-measures at the baseline's batch,
dtype and convention, aligns the layers (:mod:`cnncalc.compare`) and checks
each total's growth against ``max_increase``.

Nothing here prints; the CLI renders :class:`SpecReport` objects.
"""

from __future__ import annotations

from fractions import Fraction

from .analysis import DTYPE_BYTES, Analysis, analyze
from .budget import INCREASE_KEYS, Allowance, Budget, Limit, Quantity, budget_of_graph
from .compare import SAME, Row, Snapshot, align, snapshot_from_analysis
from .errors import (
    EXIT_BAD_INPUT,
    EXIT_CHECK_FAILED,
    EXIT_OK,
    Loc,
    SpecError,
    did_you_mean,
)
from .records import field, record

#: Optimizer state arrays per trainable parameter.
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "adam": 2}

FALLBACK_TRAINING_MEMORY_DEFINITION = (
    "training memory = weights and buffers + one gradient per trainable parameter + optimizer state "
    "(sgd 0, momentum 1, adam 2 values per trainable parameter) + the input and every layer's output "
    "kept for the backward pass, all at the budget's batch and dtype"
)
ESTIMATE_TRAINING_MEMORY_DEFINITION = (
    "training memory = weights and buffers + gradients + optimizer state (sgd 0, momentum 1, adam 2 values "
    "per trainable parameter) + the activations the layers keep for the backward pass, each tensor once "
    "(cnncalc.training, checked by cnncalc verify), all at the budget's batch and dtype"
)


def _estimator():
    """The per-layer training-memory estimate (cnncalc.training), if this build has it."""
    try:
        from .training import training_memory as estimate
    except ImportError:
        return None
    return estimate


TRAINING_MEMORY_DEFINITION = (
    ESTIMATE_TRAINING_MEMORY_DEFINITION if _estimator() is not None else FALLBACK_TRAINING_MEMORY_DEFINITION
)


def training_bytes(*, param_bytes: int, trainable: int, input_bytes: int, activation_bytes: int,
                   dtype: str, optimizer: str) -> int:
    """The fallback estimate (FALLBACK_TRAINING_MEMORY_DEFINITION) from totals alone: every output kept."""
    size = DTYPE_BYTES[dtype]
    return param_bytes + trainable * size * (1 + OPTIMIZER_STATE[optimizer]) + input_bytes + activation_bytes


def training_memory(analysis: Analysis, optimizer: str = "sgd") -> int:
    """Training memory in bytes at the analysis' batch and dtype (see TRAINING_MEMORY_DEFINITION)."""
    estimate = _estimator()
    if estimate is not None:
        return estimate(analysis, optimizer).total
    t = analysis.totals
    return training_bytes(param_bytes=t.param_bytes, trainable=t.params_trainable, input_bytes=t.input_bytes,
                          activation_bytes=t.activation_bytes, dtype=analysis.dtype, optimizer=optimizer)


class NothingToCheck(SpecError):
    """A spec without any limit (no budget section, file, flag or baseline)."""


@record
class Check:
    """One limit as checked: ``measured`` against ``limit`` (``bound`` max: ≤, min: ≥)."""

    quantity: Quantity
    measured: int | Fraction
    limit: int
    bound: str  # "max" or "min"
    scope: str  # "total", "layer" or "increase"
    text: str  # the limit as written ("25M", "2%")
    source: str  # "spec", "budget file", "--max-params", "baseline"
    loc: Loc  # where a CI annotation points: the budget entry or the offending layer
    subject: str | None = None  # the layer, for per-layer limits
    baseline: int | None = None  # for increase checks
    note: str = ""
    batch: int | None = None  # memory checks: the batch and dtype the bytes are measured at
    dtype: str | None = None
    allowed_growth: Fraction | None = None  # increase checks with a percentage allowance, in percent

    @property
    def passed(self) -> bool:
        return self.measured <= self.limit if self.bound == "max" else self.measured >= self.limit

    @property
    def margin(self) -> Fraction | None:
        """Headroom (> 0) or excess (< 0) in percent of the limit; None for a zero limit."""
        if self.limit == 0:
            return None if self.measured else Fraction(0)
        gap = self.limit - self.measured if self.bound == "max" else self.measured - self.limit
        return Fraction(gap) * 100 / self.limit

    @property
    def growth(self) -> Fraction | None:
        """Increase checks: the growth over the baseline in percent (None for a zero baseline)."""
        if self.baseline is None or self.baseline == 0:
            return None
        return Fraction(self.measured - self.baseline) * 100 / self.baseline

    @property
    def at(self) -> str:
        """'batch 4, float16' for a memory figure, else ''."""
        return f"batch {self.batch}, {self.dtype}" if self.batch is not None else ""

    @property
    def title(self) -> str:
        sign = "≤" if self.bound == "max" else "≥"
        label = self.quantity.label
        if self.scope == "layer":
            return f"layer {label} {sign} {self.text}"
        if self.scope == "increase":
            return f"{label} increase {sign} {self.text}"
        return f"{label} {sign} {self.text}"

    @property
    def unit(self) -> str:
        return self.quantity.unit


@record(frozen=False)
class SpecReport:
    spec: str
    name: str | None = None
    checks: list[Check] = field(default_factory=list)
    error: SpecError | None = None
    changes: list[Row] = field(default_factory=list)
    baseline: str | None = None
    batch: int = 1
    dtype: str = "float32"
    optimizer: str = "sgd"
    convention: str = "multiplications"
    notes: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nothing was checked (--skip-unbudgeted)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        if self.skipped is not None:
            return "skip"
        return "fail" if self.failures else "pass"


def exit_status(reports: list[SpecReport]) -> int:
    if any(r.status == "error" for r in reports):
        return EXIT_BAD_INPUT
    if any(r.status == "fail" for r in reports):
        return EXIT_CHECK_FAILED
    return EXIT_OK


# -- measuring -------------------------------------------------------------------


def _layer_value(quantity: Quantity, r) -> int:
    if quantity is Quantity.PARAMS:
        return r.params.trainable
    if quantity is Quantity.MACS:
        return r.macs
    return r.activation_bytes


def _total(quantity: Quantity, analysis: Analysis, optimizer: str) -> int:
    t = analysis.totals
    return {
        Quantity.PARAMS: lambda: t.params_trainable,
        Quantity.MACS: lambda: t.macs,
        Quantity.ACTIVATION_MEMORY: lambda: t.activation_bytes,
        Quantity.TRAINING_MEMORY: lambda: training_memory(analysis, optimizer),
    }[quantity]()


def _top_layer_loc(analysis: Analysis, quantity: Quantity, optimizer: str = "sgd") -> Loc:
    """The spec line of the layer contributing most to ``quantity`` (where a flag's failure points):
    the output layer for the receptive field; for training memory, weights, gradients and optimizer
    state plus what the layer keeps for backward."""
    if not analysis.layers:
        return Loc(analysis.graph.file, 1, 1)
    if quantity is Quantity.RECEPTIVE_FIELD:
        return analysis.layers[-1].node.loc
    if quantity is Quantity.TRAINING_MEMORY:
        estimate = _estimator()
        kept = estimate(analysis, optimizer).layers if estimate is not None else {}
        copies = 2 + OPTIMIZER_STATE[optimizer]

        def weight(r):
            saved = kept.get(r.name)
            return r.param_bytes * copies + (saved.bytes if saved is not None else r.activation_bytes)
    else:
        def weight(r):
            return _layer_value(quantity, r)
    return max(analysis.layers, key=weight).node.loc


def _instance_note(graph, node) -> str:
    """For a layer defined inside a block: the chain of instances that placed it, with their lines."""
    groups = getattr(graph, "groups", None) or {}
    chain, parent = [], node.parent
    while parent is not None and parent in groups:
        info = groups[parent]
        if info.loc is not None and info.loc.line is not None:
            chain.append(f"{info.kind} '{parent}' at line {info.loc.line}")
        parent = info.parent
    return ("in " + ", in ".join(chain)) if chain else ""


def _rf_node(analysis: Analysis, at: str | None, limit: Limit):
    """The layer a receptive-field limit is measured at, and why: the one named by
    ``receptive_field.at``, else the last layer whose field is still spatial (after
    global pooling or a dense layer every network sees the whole input, so a limit
    there would pass for any network)."""
    if at is not None:
        by_name = {r.name: r for r in analysis.layers}
        if at not in by_name:
            raise SpecError(f"receptive_field.at: no layer named '{at}'{did_you_mean(at, list(by_name))}",
                            loc=limit.loc or analysis.graph.input_loc, field="budget.receptive_field.at")
        if not by_name[at].rf:
            raise SpecError(f"receptive_field.at: layer '{at}' has no spatial axes", loc=limit.loc,
                            field="budget.receptive_field.at")
        return by_name[at], "named by receptive_field.at"
    spatial = [r for r in analysis.layers if r.rf and not any(a.whole for a in r.rf)]
    if spatial:
        last = spatial[-1]
        why = "the output" if last is analysis.layers[-1] else "the last layer with a spatial field"
        return last, why
    if not analysis.layers or not analysis.layers[-1].rf:
        raise SpecError(
            "a receptive_field limit needs an input with spatial axes ([C, L], [C, H, W] or [C, D, H, W])",
            loc=limit.loc or analysis.graph.input_loc, field="budget.receptive_field",
        )
    return analysis.layers[-1], "the output"


def _check_limit(limit: Limit, analysis: Analysis, optimizer: str, rf_at: str | None = None) -> list[Check]:
    q = limit.quantity
    if limit.scope == "layer":
        values = [(r, _layer_value(q, r)) for r in analysis.layers]
        offenders = [(r, v) for r, v in values if v > limit.value]
        if not offenders:
            top, value = max(values, key=lambda rv: rv[1])
            offenders = [(top, value)]
        return [
            Check(q, value, limit.value, "max", "layer", limit.text, limit.source, r.node.loc, subject=r.name,
                  note=_instance_note(analysis.graph, r.node), **_at(q, analysis))
            for r, value in offenders
        ]
    if q is Quantity.RECEPTIVE_FIELD:
        node, why = _rf_node(analysis, rf_at, limit)
        rf = node.rf
        sizes = [a.size for a in rf]
        measured = min(sizes) if limit.bound == "min" else max(sizes)
        axis = sizes.index(measured)
        note = f"at {node.name} ({why}), " + ("the smallest" if limit.bound == "min" else "the largest") + \
            f" axis (axis {axis})"
        if all(a.whole for a in rf):
            note += "; it sees the whole input"
        loc = limit.loc or node.node.loc
        return [Check(q, measured, limit.value, limit.bound, "total", limit.text, limit.source, loc,
                      subject=node.name, note=note)]
    measured = _total(q, analysis, optimizer)
    note = ""
    if q is Quantity.TRAINING_MEMORY:
        note = f"optimizer {optimizer}; definition in the report footer"
    loc = limit.loc or _top_layer_loc(analysis, q, optimizer)
    return [Check(q, measured, limit.value, limit.bound, "total", limit.text, limit.source, loc, note=note,
                  **_at(q, analysis))]


def _at(quantity: Quantity, analysis: Analysis) -> dict:
    """The batch and dtype of a memory figure (stated with every one)."""
    if quantity.unit != "bytes":
        return {}
    return {"batch": analysis.batch, "dtype": analysis.dtype}


def _record_loc(analysis: Analysis, rows: list[Row], attr: str) -> Loc:
    """The line of the new or changed layer that grew ``attr`` most."""
    grown = [r for r in rows if r.new is not None and r.delta(attr) > 0]
    if not grown:
        grown = [r for r in rows if r.new is not None and r.status != SAME]
    if grown:
        best = max(grown, key=lambda r: r.delta(attr))
        return Loc(analysis.graph.file, best.new.line, None) if best.new.line else Loc(analysis.graph.file, 1, 1)
    return Loc(analysis.graph.file, 1, 1)


_RECORD_ATTR = {
    Quantity.PARAMS: "params",
    Quantity.MACS: "macs",
    Quantity.ACTIVATION_MEMORY: "activation_bytes",
    Quantity.TRAINING_MEMORY: "activation_bytes",
}


def _check_baseline(report: SpecReport, graph, base: Snapshot, budget: Budget, convention) -> None:
    optimizer = base.training_optimizer or budget.optimizer  # like for like with the baseline
    if base.training_bytes is None and _estimator() is None:
        from .records import replace

        base = replace(base, training_bytes=training_bytes(
            param_bytes=base.param_bytes, trainable=base.params, input_bytes=base.input_bytes,
            activation_bytes=base.activation_bytes, dtype=base.dtype, optimizer=optimizer,
        ))
    analysis = analyze(graph, batch=base.batch, dtype=base.dtype, convention=base.convention)
    current = snapshot_from_analysis(analysis, training_bytes=training_memory(analysis, optimizer),
                                     training_optimizer=optimizer)
    rows = align(base.layers, current.layers)
    report.changes = [r for r in rows if r.notable]
    report.baseline = base.label
    report.notes.append(
        f"baseline {base.label}: compared at its batch {base.batch}, {base.dtype}, convention {base.convention}, "
        f"optimizer {optimizer}"
    )
    for q in INCREASE_KEYS:
        if base.total(q.value) is None:
            report.notes.append(
                f"the baseline records no {q.label}; its growth was not checked "
                "(save the baseline with a cnncalc that reports it)"
            )
            continue
        allowance = budget.increases.get(q) or Allowance(q, percent=Fraction(0), text="0%", source="baseline")
        old, new = base.total(q.value), current.total(q.value)
        note = f"baseline {old:,}, now {new:,}"
        if q is Quantity.TRAINING_MEMORY:
            note += f" (optimizer {optimizer})"
        loc = allowance.loc if (allowance.loc and new <= allowance.allowed(old)) else _record_loc(
            analysis, rows, _RECORD_ATTR[q]
        )
        report.checks.append(
            Check(q, new, allowance.allowed(old), "max", "increase", allowance.text, allowance.source, loc,
                  baseline=old, note=note, allowed_growth=allowance.percent, **_at(q, analysis))
        )


def effective_budget(graph, overrides: Budget) -> Budget:
    """The spec's own budget overridden by the budget file and flags (already merged into ``overrides``)."""
    return budget_of_graph(graph).merged(overrides)


def check_graph(graph, overrides: Budget | None = None, *, baseline: Snapshot | None = None,
                convention="multiplications") -> SpecReport:
    """Every limit of the spec's budget (overridden by ``overrides``) and, with a
    baseline, every total's growth. Raises SpecError for an unusable budget."""
    budget = effective_budget(graph, overrides or Budget())
    if not budget.limits and baseline is None and budget.increases:
        first = next(iter(budget.increases.values()))
        raise SpecError(
            "the budget sets only max_increase, which needs a baseline: pass --baseline FILE "
            "(a saved 'cnncalc analyze --format json')",
            loc=first.loc or Loc(graph.file, 1, 1), field="budget.max_increase",
        )
    if not budget.limits and baseline is None:
        raise NothingToCheck(
            "nothing to check: add a 'budget:' section to the spec, pass --budget FILE, "
            "a --max-... limit, or --baseline FILE",
            loc=Loc(graph.file, 1, 1),
        )
    analysis = analyze(graph, batch=budget.batch, dtype=budget.dtype, convention=convention)
    report = SpecReport(
        spec=graph.file or "<spec>", name=graph.name, batch=budget.batch, dtype=budget.dtype,
        optimizer=budget.optimizer, convention=analysis.convention.value,
    )
    for limit in budget.sorted_limits():
        report.checks.extend(_check_limit(limit, analysis, budget.optimizer, budget.receptive_field_at))
    if baseline is not None:
        _check_baseline(report, graph, baseline, budget, convention)
    elif budget.increases:
        report.notes.append("max_increase is set but no --baseline was given; growth was not checked")
    return report
