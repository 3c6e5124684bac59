"""``cnncalc zoo``: the bundled architectures, and ``cnncalc zoo show NAME``."""

from __future__ import annotations

import click

from ..errors import CnncalcError
from . import cli
from .options import format_option


def _complete_name(ctx, param, incomplete: str):
    from ..bundled import bundled_names

    return [name for name in bundled_names() if name.startswith(incomplete)]


def one_line(text: str, limit: int = 100) -> str:
    """The first sentence of a description, whitespace collapsed, at most ``limit`` characters."""
    import re

    text = " ".join(str(text).split())
    text = re.split(r"[:;] |(?<! al)(?<! e\.g)(?<! i\.e)\. (?=[A-Z])", text, maxsplit=1)[0].rstrip(".")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def zoo_rows() -> list[dict]:
    """One record per bundled spec: name, file, input, totals and description
    (the numbers are those of ``cnncalc analyze`` with default options)."""
    from ..analysis import analyze
    from ..bundled import bundled_names, bundled_path
    from ..spec import load_spec

    rows = []
    for name in bundled_names():
        path = bundled_path(name)
        row = {"name": name, "file": str(path)}
        try:
            result = analyze(load_spec(path))
        except CnncalcError as exc:  # a broken bundled spec is shown, not hidden
            row["error"] = str(exc)
        else:
            row.update(
                input=list(result.input_shape),
                params=result.totals.params_trainable,
                multiplications=result.totals.multiplications,
                description=one_line(result.graph.description or result.graph.name or ""),
            )
        rows.append(row)
    return rows


@cli.group(invoke_without_command=True, short_help="The bundled specs; `zoo show NAME` prints one.")
@format_option("zoo")
@click.option("--exact", is_flag=True, help="Exact grouped integers instead of 138.4M-style units.")
@click.pass_context
def zoo(ctx, fmt, exact):
    """The architectures bundled with cnncalc: input size, parameters, multiplications.

    Any command that takes a SPEC accepts these names (with or without .yaml)
    when no file of that name exists.

    \b
    Example:
      cnncalc zoo
      cnncalc analyze vgg16
      cnncalc zoo show vgg16 > my_vgg.yaml
    """
    if ctx.invoked_subcommand is not None:
        return 0
    rows = zoo_rows()
    if fmt == "json":
        import json

        click.echo(json.dumps({"schema": "cnncalc.zoo/1", "specs": rows}, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        import csv
        import io

        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["name", "input", "params", "multiplications", "description", "file", "error"])
        for r in rows:
            writer.writerow([r["name"], ",".join(map(str, r.get("input", []))), r.get("params", ""),
                             r.get("multiplications", ""), r.get("description", ""), r["file"], r.get("error", "")])
        click.echo(out.getvalue(), nl=False)
    elif fmt == "markdown":
        from ..units import grouped

        def cell(text):
            return str(text).replace("|", "\\|").replace("<", "&lt;")

        click.echo("| name | input (channels first) | params | multiplications | description |\n|:--|:--|--:|--:|:--|")
        for r in rows:
            if "error" in r:
                click.echo(f"| {r['name']} | | | | error: {cell(r['error'])} |")
            else:
                click.echo(f"| `{r['name']}` | {'×'.join(map(str, r['input']))} | {grouped(r['params'])} | "
                           f"{grouped(r['multiplications'])} | {cell(r['description'])} |")
        click.echo("\nParams: trainable; multiplications per sample (the default convention).")
    else:
        _print_table(rows, exact=exact)
    return 2 if any("error" in r for r in rows) else 0


def _print_table(rows: list[dict], *, exact: bool) -> None:
    from rich.table import Table
    from rich.text import Text

    from ..render.escape import visible
    from ..units import grouped, human_count
    from .console import output_console

    count = grouped if exact else human_count
    table = Table(title="Bundled specs (cnncalc analyze NAME)", title_justify="left", header_style="bold")
    table.add_column("Name", style="cyan", no_wrap=True)
    table.add_column("Input", no_wrap=True)
    table.add_column("Params", justify="right", no_wrap=True)
    table.add_column("MACs", justify="right", no_wrap=True)
    table.add_column("Description")
    for r in rows:
        if "error" in r:
            table.add_row(Text(visible(r["name"])), "", "", "", Text(visible(r["error"]), style="red"))
            continue
        table.add_row(
            r["name"], "×".join(map(str, r["input"])), count(r["params"]), count(r["multiplications"]),
            Text(visible(r["description"])),
        )
    console = output_console()
    console.print(table)
    console.print(Text("Params: trainable; MACs: multiplications per sample (the default convention).", style="dim"))


@zoo.command()
@click.argument("name", shell_complete=_complete_name)
def show(name):
    """Print the YAML of the bundled spec NAME (copy it and modify it)."""
    from ..bundled import SpecNotFound, bundled_names, bundled_path
    from ..errors import did_you_mean
    from .console import error_console

    path = bundled_path(name)
    if path is None:
        names = bundled_names()
        raise SpecNotFound(
            f"no bundled spec named {name!r}{did_you_mean(name, names)}; bundled specs: {', '.join(names) or 'none'}"
        )
    error_console().print(f"[dim]spec: {path} (bundled spec)[/]", highlight=False)
    click.echo(path.read_text(encoding="utf-8"), nl=False)
    return 0
