"""``cnncalc check``: fail a CI job when a network outgrows its budget."""

from __future__ import annotations

import os

import click

from . import cli
from .options import BATCH, complete_spec, convention_option, format_option, input_option, resolve_spec, write_atomic
from ..analysis import DTYPE_BYTES
from ..budget import OPTIMIZERS, Budget, Limit, Quantity, Setting, load_budget_file, parse_percent_or_amount
from ..errors import Loc, SpecError
from ..render.check import CheckFormat


class LimitParam(click.ParamType):
    """A limit on the command line: a count (25M, 4.2G) or a size (120MiB), per quantity."""

    name = "LIMIT"

    def __init__(self, quantity: Quantity):
        self.quantity = quantity

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        try:
            return (self.quantity.parse(value.strip() if isinstance(value, str) else value), str(value).strip())
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class IncreaseParam(click.ParamType):
    """``2%``, ``0``, or per quantity: ``params=1%``, ``macs=100M``, ``activation_memory=16MiB``."""

    name = "[QUANTITY=]AMOUNT"

    def convert(self, value, param, ctx):
        if not isinstance(value, str):
            return value
        names = [q.value for q in (Quantity.PARAMS, Quantity.MACS, Quantity.ACTIVATION_MEMORY,
                                   Quantity.TRAINING_MEMORY)]
        if "=" in value:
            key, amount = (part.strip() for part in value.split("=", 1))
            key = key.replace("-", "_")
            if key not in names:
                from ..errors import did_you_mean

                self.fail(f"unknown quantity {key!r}{did_you_mean(key, names)}; allowed: {', '.join(names)}",
                          param, ctx)
            keys = [key]
        else:
            keys, amount = names, value.strip()
        out = []
        for key in keys:
            try:
                out.append(parse_percent_or_amount(Quantity(key), amount, source="--max-increase"))
            except ValueError as exc:
                hint = "" if len(keys) == 1 else " (an absolute amount applies to counts and bytes alike: " \
                    "give it per quantity, e.g. params=100K or activation_memory=16MiB)"
                self.fail(f"{key}: {exc}{hint}", param, ctx)
        return tuple(out)


# (flag, quantity, scope, bound, help)
LIMIT_FLAGS = [
    ("--max-params", Quantity.PARAMS, "total", "max", "Trainable parameters, e.g. 30M."),
    ("--max-macs", Quantity.MACS, "total", "max", "MACs per sample under --convention, e.g. 5G."),
    ("--max-activation-memory", Quantity.ACTIVATION_MEMORY, "total", "max",
     "Sum of all layer outputs at --batch and --dtype, e.g. 120MiB."),
    ("--max-training-memory", Quantity.TRAINING_MEMORY, "total", "max",
     "Weights + gradients + optimizer state + kept activations, e.g. 6GiB."),
    ("--max-layer-params", Quantity.PARAMS, "layer", "max", "Parameters of any single layer."),
    ("--max-layer-macs", Quantity.MACS, "layer", "max", "MACs of any single layer."),
    ("--max-layer-activation-memory", Quantity.ACTIVATION_MEMORY, "layer", "max", "Output bytes of any single layer."),
    ("--min-receptive-field", Quantity.RECEPTIVE_FIELD, "total", "min", "Smallest output receptive field, any axis."),
    ("--max-receptive-field", Quantity.RECEPTIVE_FIELD, "total", "max", "Largest output receptive field, any axis."),
]


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def _limit_options(func):
    for flag, quantity, _, _, help_text in reversed(LIMIT_FLAGS):
        param_type = LimitParam(quantity) if quantity is not Quantity.RECEPTIVE_FIELD else click.IntRange(min=1)
        func = click.option(flag, _dest(flag), type=param_type, default=None, help=help_text)(func)
    return func


def flag_budget(values: dict, batch, dtype, optimizer, increases) -> Budget:
    budget = Budget()
    for flag, quantity, scope, bound, _ in LIMIT_FLAGS:
        value = values.get(_dest(flag))
        if value is None:
            continue
        number, text = value if isinstance(value, tuple) else (value, str(value))
        lim = Limit(quantity, number, bound, scope, text, flag, None)
        budget.limits[lim.key] = lim
    for name, value in (("batch", batch), ("dtype", dtype), ("optimizer", optimizer)):
        if value is not None:
            budget.settings[name] = Setting(value, f"--{name}")
    for group in increases:
        for allowance in group:
            budget.increases[allowance.quantity] = allowance
    return budget


def _pair_baselines(specs: list[str], graphs: dict, baselines: list) -> dict:
    """spec → baseline snapshot: one each, or matched by spec path or network name."""
    if not baselines:
        return {}
    if len(specs) == 1 and len(baselines) == 1:
        return {specs[0]: baselines[0]}
    out = {}
    for spec in specs:
        graph = graphs.get(spec)
        for snap in baselines:
            same_file = snap.file and os.path.normpath(snap.file) == os.path.normpath(spec)
            same_name = graph is not None and graph.name and snap.name == graph.name
            if same_file or same_name:
                out[spec] = snap
                break
    return out


@cli.command()
@click.argument("specs", nargs=-1, required=True, shell_complete=complete_spec)
@click.option("--budget", "budget_file", type=click.Path(dir_okay=False), default=None,
              help="A YAML budget file (a 'budget:' mapping); overrides the specs' own budgets.")
@_limit_options
@click.option("--batch", type=BATCH, default=None, help="Batch size for memory limits [budget's, or 1].")
@click.option("--dtype", type=click.Choice(list(DTYPE_BYTES)), default=None,
              help="Element type for memory limits [budget's, or float32].")
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), default=None,
              help="Optimizer state counted in training memory [budget's, or sgd].")
@convention_option
@input_option
@click.option("--baseline", "baselines", multiple=True, type=click.Path(dir_okay=False),
              help="Saved 'cnncalc analyze --format json' output to compare with (repeatable; matched to specs "
                   "by path or name).")
@click.option("--max-increase", "increases", multiple=True, type=IncreaseParam(),
              help="Allowed growth over the baseline: 2%, or per quantity params=1%, macs=100M "
                   "(repeatable; default 0: any growth fails).")
@click.option("--skip-unbudgeted", is_flag=True,
              help="Pass over specs that have no limits instead of failing (for pre-commit over many files).")
@format_option("check")
@click.option("--exact", is_flag=True, help="Exact grouped integers in the table instead of 25.56M-style units.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the report to this file (atomically) instead of stdout.")
def check(specs, budget_file, batch, dtype, optimizer, convention, input_shape, baselines, increases,
          skip_unbudgeted, fmt, exact, output, **limits):
    """Check SPECS against their budgets; exit 1 when any limit is exceeded.

    Limits come from each spec's 'budget:' section, then --budget FILE, then
    the flags (later ones win). Every limit is printed with the measured
    value, the limit and the headroom or excess in percent.

    \b
    Examples:
      cnncalc check specs/resnet50.yaml
      cnncalc check specs/resnet*.yaml --max-params 30M --max-macs 5G
      cnncalc analyze specs/resnet50.yaml --format json -o main.json
      cnncalc check specs/resnet50.yaml --baseline main.json --max-increase 2%
      cnncalc check specs/*.yaml --skip-unbudgeted --format junit -o cnncalc.xml
      cnncalc check specs/*.yaml --skip-unbudgeted --format github

    Exit status: 0 all limits hold, 1 a limit is exceeded, 2 unusable input.
    """
    from ..checking import NothingToCheck, SpecReport, check_graph, exit_status
    from ..compare import load_snapshot_json
    from ..render.check import render
    from .options import load_graph

    overrides = Budget()
    if budget_file is not None:
        overrides = load_budget_file(budget_file)
    overrides = overrides.merged(flag_budget(limits, batch, dtype, optimizer, increases))
    snapshots = [load_snapshot_json(path) for path in baselines]
    if increases and not baselines:
        raise click.UsageError("--max-increase needs --baseline FILE (a saved 'cnncalc analyze --format json')")

    graphs, errors = {}, {}
    for spec in specs:
        try:
            graphs[spec] = load_graph(resolve_spec(spec), input_shape)
        except SpecError as exc:
            errors[spec] = exc
    paired = _pair_baselines(list(specs), graphs, snapshots)
    reports = []
    for spec in specs:
        if spec in errors:
            reports.append(SpecReport(spec=spec, error=errors[spec]))
            continue
        if snapshots and spec not in paired:
            known = ", ".join(f"{s.label} (spec {s.file}, name {s.name})" for s in snapshots)
            reports.append(SpecReport(spec=spec, error=SpecError(
                f"no baseline matches this spec (baselines are matched by spec path or network name): {known}",
                loc=Loc(spec))))
            continue
        try:
            reports.append(check_graph(graphs[spec], overrides, baseline=paired.get(spec), convention=convention))
        except NothingToCheck as exc:
            if skip_unbudgeted:
                reports.append(SpecReport(spec=spec, name=graphs[spec].name, skipped=exc.message))
            else:
                reports.append(SpecReport(spec=spec, name=graphs[spec].name, error=exc))
        except SpecError as exc:
            reports.append(SpecReport(spec=spec, name=graphs[spec].name, error=exc))

    fmt = CheckFormat(fmt)
    if fmt is CheckFormat.TABLE and output is None:
        from ..render.check import print_table
        from .console import output_console

        print_table(reports, output_console(), exact=exact)
    else:
        text = render(reports, fmt, exact=exact)
        if output:
            write_atomic(output, text, reading=[*specs, *baselines, *([budget_file] if budget_file else [])])
        else:
            click.echo(text, nl=False)
    status = exit_status(reports)
    if status == 2 and fmt is not CheckFormat.TABLE:
        from ..render.escape import rich_markup
        from .console import error_console

        for r in reports:
            if r.error is not None:
                error_console().print(f"[bold red]error:[/] {rich_markup(r.error)}", highlight=False)
    if status:
        click.get_current_context().exit(status)
    return status
