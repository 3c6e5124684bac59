"""Homework mode on the command line: ``conv``, ``pool``, ``tconv`` (one-layer
calculators), ``solve``, ``grade``, ``run`` and ``compare``.

Thin commands: parse → compute (cnncalc.homework) → print.
"""

from __future__ import annotations

import click

from .. import homework as _homework  # noqa: F401  (registers the spec keys expect:, values:, ...)
from . import cli
from .options import BATCH, complete_spec, format_option, input_option, resolve_spec, spec_argument

CONVENTION = ("Counting: parameters = weights + biases; multiplications as in the lectures "
              "(one per weight per output value; additions and biases not counted).")


def _echo_calc(calc, explain: bool):
    from ..homework.explain import num, per_axis_values, render_steps, shape_text

    click.echo(calc.header())
    if calc.warning:
        click.echo(f"warning: {calc.warning}", err=True)
    if explain:
        for line in render_steps(calc.steps):
            click.echo(line)
    else:
        click.echo(f"  output shape     {shape_text(calc.output_shape, True)}")
        params = calc.value("parameters")
        click.echo(f"  parameters       {num(params)}" + (
            f"  ({num(params - calc.biases)} weights + {num(calc.biases)} bias{'es' if calc.biases > 1 else ''}; "
            f"the lectures count the weights: "
            f"{num(params - calc.biases)})" if calc.biases else ""))
        click.echo(f"  multiplications  {num(calc.value('multiplications'))}")
        rf = per_axis_values(calc.steps, "receptive field", len(calc.input_shape) - 1)
        click.echo(f"  receptive field  {'×'.join(num(r) for r in rf)}")
        notes = [n for s in calc.steps if s.quantity.startswith("output size") for n in s.notes]
        notes += list(dict.fromkeys(n for s in calc.steps if s.quantity.startswith("receptive field")
                                    for n in s.notes if n.startswith("fractional:")))
        for note in notes:
            click.echo(f"  note: {note}")
        click.echo("  (--explain shows every formula with the numbers substituted)")
    click.echo(CONVENTION)


def _layer_options(fn):
    fn = click.option("--dilation", default="1", show_default=True, help="Dilation d (F′ = d·(F − 1) + 1).")(fn)
    fn = click.option("--padding", default="0", show_default=True,
                      help="Zero padding P per side: an int, per axis (1x2), or same/valid/full/causal "
                      "(causal: F′ − 1 zeros before a 1D signal, none after).")(fn)
    fn = click.option("--kernel", required=True, help="Kernel (filter) size F: 5, or per axis 3x5.")(fn)
    fn = click.option("--input", "input_text", required=True,
                      help="Input shape: 28x28x3 (x: H×W×C, channels last as in the lectures; 4x5 is H×W with one channel) "
                           "or 3,28,28 (commas: C,H,W, channels first as in a spec); 1D: 32 or 1,32.")(fn)
    return fn


def _say(line) -> None:
    """One line of output that may quote the spec (names, paths): control
    characters shown visibly, so no name can start a line of its own."""
    from ..render.escape import line_text

    click.echo(line_text(line))


explain_option = click.option("--explain", is_flag=True, help="Show each formula, the numbers substituted, the result.")


@cli.command("conv")
@_layer_options
@click.option("--stride", default="1", show_default=True,
              help="Stride S; a fraction S2/S1 such as 1/2 is the lectures' fractional stride (uSample by S1, then "
              "stride S2).")
@click.option("--filters", type=click.IntRange(min=1), default=1, show_default=True,
              help="Number of kernels D_out (output channels).")
@click.option("--groups", type=click.IntRange(min=1), default=1, show_default=True, help="Channel groups G.")
@click.option("--no-bias", is_flag=True, help="No bias terms.")
@explain_option
def conv_cmd(input_text, kernel, padding, dilation, stride, filters, groups, no_bias, explain):
    """One convolution layer: output size, parameters, multiplications, receptive field.

    \b
    Example:
      cnncalc conv --input 28x28x3 --kernel 5 --stride 2 --padding 2 --filters 20 --explain
    """
    from ..homework.calc import conv

    _echo_calc(conv(input_text, kernel, stride, padding, dilation, filters, groups, not no_bias), explain)
    return 0


@cli.command("pool")
@_layer_options
@click.option("--stride", default=None, help="Stride S (default: the kernel size).")
@click.option("--type", "kind", type=click.Choice(["max", "avg"]), default="max", show_default=True)
@click.option("--ceil-mode", is_flag=True, help="Round the output size up (PyTorch's ceil_mode).")
@explain_option
def pool_cmd(input_text, kernel, padding, dilation, stride, kind, ceil_mode, explain):
    """One pooling layer: output size, parameters (0), multiplications (0), receptive field.

    \b
    Example:
      cnncalc pool --input 4x5 --kernel 2 --stride 1 --explain
    """
    from ..homework.calc import pool

    if kind == "avg" and dilation != "1":
        raise click.UsageError("--dilation applies to max pooling only")
    _echo_calc(pool(input_text, kernel, stride, padding, dilation, kind, ceil_mode), explain)
    return 0


@cli.command("tconv")
@click.option("--input", "input_text", required=True,
              help="Input shape: 2x2, 4x4x16 (x: H×W×C, channels last as in the lectures) "
                   "or 16,4,4 (commas: C,H,W, channels first as in a spec).")
@click.option("--kernel", required=True, help="Kernel size F.")
@click.option("--stride", default="1", show_default=True, help="Stride S.")
@click.option("--padding", default="0", show_default=True, help="Padding P cropped from each side.")
@click.option("--output-padding", default="0", show_default=True, help="Extra cells on one side (< S or d).")
@click.option("--dilation", default="1", show_default=True, help="Dilation d.")
@click.option("--filters", type=click.IntRange(min=1), default=1, show_default=True, help="Output channels D_out.")
@click.option("--groups", type=click.IntRange(min=1), default=1, show_default=True, help="Channel groups G.")
@click.option("--no-bias", is_flag=True, help="No bias terms.")
@explain_option
def tconv_cmd(input_text, kernel, stride, padding, output_padding, dilation, filters, groups, no_bias, explain):
    """One transposed convolution ("deconvolution"), PyTorch's ConvTranspose rule:
    O = S·(I − 1) + d·(F − 1) + 1 − 2P + output_padding.

    \b
    Example:
      cnncalc tconv --input 2x2 --kernel 3 --stride 1 --padding 0 --explain
    """
    from ..homework.calc import tconv

    _echo_calc(tconv(input_text, kernel, stride, padding, output_padding, dilation, filters, groups,
                     not no_bias), explain)
    return 0


class _Unknown(click.ParamType):
    """An integer, or '?' for "solve for it"."""

    name = "INT|?"

    def convert(self, value, param, ctx):
        if value is None or value == "?" or isinstance(value, int):
            return value
        try:
            return int(value)
        except ValueError:
            self.fail(f"{value!r} is not an integer (or ? to solve for it)", param, ctx)


UNKNOWN = _Unknown()


@cli.command("solve")
@click.option("--input", "input_size", type=UNKNOWN, help="Input size I along one axis (omit or ? to solve).")
@click.option("--output", "output_size", type=UNKNOWN, help="Output size O (omit or ? to solve).")
@click.option("--kernel", type=UNKNOWN, help="Kernel size F (omit or ? to solve).")
@click.option("--stride", type=UNKNOWN, help="Stride S (omit or ? to solve).")
@click.option("--padding", type=UNKNOWN, help="Padding P per side (omit or ? to solve).")
@click.option("--dilation", type=UNKNOWN, help="Dilation d (default 1; ? to solve).")
@click.option("--exact", is_flag=True, help="Only solutions where S divides I + 2P − F′ exactly (no floor).")
@click.option("--max-kernel", type=click.IntRange(min=1), default=11, show_default=True)
@click.option("--max-stride", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--max-dilation", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--same", is_flag=True, help="The padding that keeps the size (stride 1) for --kernel.")
@click.option("--field", type=click.IntRange(min=1), help="How many stacked --kernel layers give this receptive field, "
              "and their parameters against one layer of this size.")
@click.option("--channels", type=click.IntRange(min=1), help="Channels in and out for --field's parameter count.")
def solve_cmd(input_size, output_size, kernel, stride, padding, dilation, exact, max_kernel, max_stride,
              max_dilation, same, field, channels):
    """Solve O = ⌊(I + 2P − F′)/S⌋ + 1 (F′ = d·(F − 1) + 1) for the unknowns, listing every solution.

    \b
    Examples:
      cnncalc solve --input 28 --output 28 --kernel 5 --stride 1     # padding 2
      cnncalc solve --input 28 --output 14 --stride 2                # kernel and padding
      cnncalc solve --same --kernel 5                                # padding that keeps the size
      cnncalc solve --field 7 --kernel 3                             # 3 layers; vs one 7×7: 49/27
    """
    from ..homework import solve as S

    if same or field:
        if same:
            if not isinstance(kernel, int):
                raise click.UsageError("--same needs --kernel")
            answers = [S.same_padding(kernel, dilation if isinstance(dilation, int) else 1)]
        else:
            answers = S.stack_for_field(field, kernel if isinstance(kernel, int) else 3, channels)
        for a in answers:
            click.echo(f"{a.question}:")
            for line in a.lines:
                click.echo(f"  {line}")
        return 0
    given = {"input": input_size, "output": output_size, "kernel": kernel, "stride": stride,
             "padding": padding, "dilation": dilation}
    assumed = []
    if dilation is None:
        given["dilation"] = 1
        assumed.append("dilation not given: d = 1 (write --dilation ? to solve for it)")
    known = {k: v for k, v in given.items() if isinstance(v, int)}
    bounds = S.Bounds(max_kernel, max_stride, max_dilation)
    result = S.solve_window(known, exact_only=exact, bounds=bounds)
    click.echo("O = ⌊(I + 2P − F′) / S⌋ + 1,  F′ = d·(F − 1) + 1")
    click.echo("known: " + ", ".join(f"{S.SYMBOL[k]} = {v}" for k, v in known.items()))
    for line in assumed:
        click.echo(line)
    if result.unknown:
        click.echo("unknown: " + ", ".join(S.SYMBOL[u] for u in result.unknown)
                   + (f"   (searched {result.bounds_text})" if result.bounds_text else ""))
    for note in result.notes:
        click.echo(note)
    if not result.total:
        click.echo("no solution" + (f" within {result.bounds_text}" if result.bounds_text else "") + ".")
        return 1
    click.echo(f"{result.total} solution{'s' if result.total > 1 else ''}:")
    for sol in result.solutions:
        vals = ", ".join(f"{S.SYMBOL[u]} = {sol.values[u]}" for u in result.unknown)
        kind = "exact" if sol.exact else "floor"
        click.echo(f"  {vals:<28} {sol.check}   [{kind}]" if vals else f"  {sol.check}   [{kind}]")
    if result.total > len(result.solutions):
        click.echo(f"  … {result.total - len(result.solutions)} more; narrow the bounds to see them")
    return 0


@cli.command("grade")
@click.argument("spec", shell_complete=complete_spec)
@input_option
@click.option("--bias", type=click.Choice(["either", "with", "without"]), default=None,
              help="Which parameter and multiplication counts are right: with the biases (PyTorch's "
              "parameters; one bias addition per output value), without (the lectures' F·F·D_in·D_out), or "
              "either (the default; the grade says which one matched). Overrides the spec's grading: {bias: …}.")
@click.option("--layers", "layer_mode", type=click.Choice(["either", "weights", "all"]), default=None,
              help="What expect_total: {layers: N} counts: layers with weights (the lectures': VGG-16 has 16), "
              "all layers of the table, or either (the default). Overrides grading: {layers: …}.")
@format_option("grade")
def grade_cmd(spec, input_shape, bias, layer_mode, fmt="table"):
    """Check the answers in SPEC (expect: per layer, expect_total:) and print a score.

    ✓/✗ for every answer; for a wrong one the correct value and the worked
    formula. Rounded answers ("15.5G", "138M") and shapes written channels last
    ("14x14x20") are accepted and said so. Exit status 1 if any answer is wrong.

    \b
    Example spec:
      input: [3, 28, 28]
      layers:
        - conv: {out_channels: 20, kernel_size: 5, stride: 2, padding: 2}
          expect: {output: [20, 14, 14], params: 1520, macs: 294000, receptive_field: 5}
      expect_total: {params: 1520}
    """
    from ..analysis import analyze
    from ..errors import SpecError
    from ..homework.grade import answer_text, conventions_for, grade
    from .options import load_graph

    path = resolve_spec(spec)
    graph = load_graph(path, input_shape)
    result = analyze(graph)
    conventions = conventions_for(graph, bias, layer_mode)
    g = grade(result, conventions)
    if not g.total:
        raise SpecError("no answers to grade: add 'expect: {params: ...}' to a layer or 'expect_total:' to the spec",
                        loc=graph.input_loc)
    if fmt != "table":
        from ..render.homework import render_grade

        click.echo(render_grade(g, path, fmt), nl=False)
        return 0 if g.all_right else 1
    _say(f"Grading {path} ({len(result.layers)} layers)")
    for m in g.marks:
        label = f"{m.where} {m.key}"
        line = f"  {'✓' if m.ok else '✗'} {label:<28} {answer_text(m.answer):<16}"
        if m.ok:
            line += f" ({m.how})" if m.how and m.how != "exact" else ""
        else:
            line += f" correct: {m.correct}   [{m.loc}]"
        _say(line.rstrip())
        for w in m.work:
            _say(w)
    pct = 100 * g.right // g.total
    _say(f"Score: {g.right}/{g.total} ({pct}%)")
    _say(conventions.text())
    return 0 if g.all_right else 1


@cli.command("run")
@spec_argument
@click.option("--matrix", is_flag=True, help="Also write every linear layer as a matrix product M·vec(X), "
              "checked against its output: convolution (C; a transposed convolution is Cᵀ), fractional strides, "
              "up/downsampling, mean, global and adaptive pooling, unpooling, padding.")
@click.option("--backward", is_flag=True, help="Backpropagate grad_output through every layer: δX (for a "
              "convolution the full convolution with the flipped kernel), δW, δb, the gradients routed through "
              "the switches of max-type layers, and the lecture's rule for resampling (δ of dSample = uSample).")
@click.option("--notation", type=click.Choice(["default", "000", "001", "002", "002flat", "004"]),
              default="default", show_default=True,
              help="Name cells as one lecture note does: 000/001 (CNN: High Level) w₀,₀ numbered from 0; 002 "
              "(Chapter 4 slides) X11, W11, δZ from 1; 002flat (its backpropagation slides) x1 … x9, w1 … w4, "
              "z1 … z4 row by row; 004 (Lecture 6 notes) X11, W11, output h and δh from 1; default X[1,1].")
def run_cmd(spec, matrix, backward, notation):
    """Compute a small example with explicit numbers and print every feature map.

    SPEC gives the input values and the kernels (weights: beside a conv,
    conv_transpose, locally_connected or dense layer; γ and β of a batch_norm
    as weights: and biases:). Every layer type cnncalc analyzes runs, forward
    and with --backward: convolution (fractional strides too), pooling of every
    kind (max, mean, global, adaptive, K-max, Lp), up/downsampling, unpooling
    (nearest, bed of nails, max_unpool with its pooling layer's switches),
    padding, cropping, flatten, dense, merges, normalisation and activations.
    Arithmetic is exact (0.9 stays 9/10); irrational values (an L2 norm, a
    sigmoid, a batch norm's √(σ² + ε)) are rounded to 6 decimals and marked ≈.
    A flat list of values (or one row per channel with input: [C, L]) is a 1D
    signal: causal padding, K-max pooling of a sequence.

    \b
    Example spec:
      values:                 # the input: one matrix per channel
        - [1, 0.9, 1.6, 0.3, 0.4]
        - [0.9, 0.2, 0, 0.5, 3]
        - [0.4, 0.2, 0.8, 0.6, 0.3]
        - [0.5, 0.8, 1, 0.7, 2.1]
      layers:
        - conv: {out_channels: 1, kernel_size: 2, bias: false}
          weights: [[1, 0], [1, 1]]
        - max_pool: {kernel_size: 2, stride: 1}
      grad_output: [[1, 0], [0, 1]]   # for --backward
    """
    from ..homework.worked import load_and_run, render

    result = load_and_run(resolve_spec(spec), matrix=matrix, backward=backward, notation=notation)
    n = result.notation
    _say(f"{spec}: exact arithmetic; " + ("rows and columns numbered from 1 as in the lectures"
                                          if n.key == "default" else f"the notation of {n.note}"))
    for line in render(result):
        _say(line)
    return 0


@cli.command("compare")
@click.argument("spec_a", metavar="A", shell_complete=complete_spec)
@click.argument("spec_b", metavar="B", shell_complete=complete_spec)
@input_option
@click.option("--batch", type=BATCH, default=1, show_default=True, help="Batch size for memory.")
@click.option("--dtype", default="float32", show_default=True,
              type=click.Choice(["float32", "float16", "bfloat16", "float64", "int8"]), help="Element type for memory.")
@format_option("compare")
def compare_cmd(spec_a, spec_b, input_shape, batch, dtype, fmt="table"):
    """Two designs side by side: receptive field, parameters, multiplications and memory, with exact ratios A / B.

    \b
    Example (the lectures' one 5×5 layer against two 3×3 layers):
      cnncalc compare examples/homework/one_5x5.yaml examples/homework/two_3x3.yaml
    """
    import os

    from ..analysis import analyze
    from ..homework.compare import compare, render
    from .options import load_graph

    path_a, path_b = resolve_spec(spec_a), resolve_spec(spec_b)
    a = analyze(load_graph(path_a, input_shape), batch=batch, dtype=dtype)
    b = analyze(load_graph(path_b, input_shape), batch=batch, dtype=dtype)
    name_a = a.graph.name or os.path.basename(path_a)
    name_b = b.graph.name or os.path.basename(path_b)
    if fmt != "table":
        from ..render.homework import render_compare

        click.echo(render_compare(compare(a, b), {"name": name_a, "spec": path_a}, {"name": name_b, "spec": path_b},
                                  fmt), nl=False)
        return 0
    _say(f"A = {name_a} ({path_a})")
    _say(f"B = {name_b} ({path_b})")
    for line in render(compare(a, b), "A", "B"):
        _say(line)
    _say(f"Counting: parameters = trainable weights + biases; multiplications as in the lectures; "
               f"memory = outputs × batch {batch} × {dtype}; receptive field in input pixels.")
    return 0
