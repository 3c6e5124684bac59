"""The terminal table: one row per layer, numbers right-aligned, human units
(exact grouped integers with ``exact=True``), totals and the convention
footer. Colour follows rich's rules (NO_COLOR, not a terminal → plain).

Columns are a vocabulary (:class:`Column`, as torchinfo's ``col_names``):
``--columns name,type,output,...`` picks them; by default every column is
shown, except ``inputs`` when the network is a plain chain. Given a width
(the terminal's), :func:`build` makes the table fit *without wrapping a row*:
first it abbreviates (share bars without percentages, a shorter header,
buffers left to the totals, names relative to their block, inputs as row
numbers), then it drops the least useful columns (:data:`DROP_ORDER`, never
for an explicit ``--columns``), and last it shortens names with ``…``.
"""

from __future__ import annotations

from ..analysis import Analysis
from ..choices import Choice
from ..graph import INPUT
from ..units import grouped, human_bytes, human_count
from .bars import share_cell
from .common import axes_label, convention_lines, memory_text, output_rf_text, rf_text, training_memory_text

SHARE_WIDTH = 8  # cells of a share bar in the table
COMPACT_SHARE_WIDTH = 6  # bars without percentages, when the full table does not fit
MIN_NAME = 12  # the layer-name column is shortened no further than this
INPUTS_NOTE = "Inputs: the layers a layer reads (#n: row n); blank: the layer above."


class Column(Choice):
    """The table's columns, in display order (``--columns`` names)."""

    INDEX = "index"
    NAME = "name"
    TYPE = "type"
    INPUTS = "inputs"
    OUTPUT = "output"
    PARAMS = "params"
    MACS = "macs"
    RF = "rf"
    MEMORY = "memory"
    KEPT = "kept"
    PARAMS_SHARE = "params%"
    MACS_SHARE = "macs%"


#: what a narrow table gives up first (the name, output, parameters, MACs and
#: inputs always stay: they are what the table is for)
DROP_ORDER = (Column.KEPT, Column.MEMORY, Column.PARAMS_SHARE, Column.MACS_SHARE, Column.INDEX, Column.RF,
              Column.TYPE)

_ALIASES = {"#": Column.INDEX, "layer": Column.NAME, "output_shape": Column.OUTPUT, "shape": Column.OUTPUT,
            "receptive_field": Column.RF, "params_share": Column.PARAMS_SHARE, "macs_share": Column.MACS_SHARE}


def parse_columns(text: str) -> tuple[Column, ...]:
    """``"name,type,params"`` → columns, in the order given. Raises
    ValueError naming the unknown column and every valid one."""
    from ..errors import did_you_mean

    out: list[Column] = []
    valid = [c.value for c in Column]
    for part in str(text).split(","):
        word = part.strip().lower()
        if not word:
            continue
        column = _ALIASES.get(word)
        if column is None:
            if word not in valid:
                raise ValueError(f"unknown column {part.strip()!r}{did_you_mean(word, valid)}; "
                                 f"valid columns: {', '.join(valid)}")
            column = Column(word)
        if column not in out:
            out.append(column)
    if not out:
        raise ValueError(f"no columns given; valid columns: {', '.join(valid)}")
    if Column.NAME not in out:
        out.insert(0, Column.NAME) if Column.INDEX not in out else out.insert(out.index(Column.INDEX) + 1, Column.NAME)
    return tuple(out)


def printable(text: str) -> str:
    """Spec text for a terminal: control characters (newlines, ESC, ...) and
    other unprintable ones as visible escapes (\\n, \\x1b, \\u2028), so a
    name can neither break a row nor send the terminal a command."""
    from .escape import visible

    return visible(text)  # the one terminal escaping of cnncalc.render.escape


def _text_width(text: str) -> int:
    if text.isascii():
        return len(text)
    from .fasttable import _width

    return _width(text)


class _Col:
    """One column while the table is being fitted: cells are (text, style)."""

    __slots__ = ("key", "header", "footer", "justify", "style", "cells", "markup_safe", "_width")

    def __init__(self, key, header, cells, *, footer="", justify="left", style=None, markup_safe=True):
        self.key, self.header, self.footer, self.justify, self.style = key, header, footer, justify, style
        self.cells = cells
        self.markup_safe = markup_safe  # False: user text, always a Text (rich would read [x] as markup)
        self._width = None

    def set_cells(self, cells) -> None:
        self.cells, self._width = cells, None

    @property
    def width(self) -> int:
        if self._width is None:
            widths = [_text_width(t) for t, _ in self.cells]
            self._width = max([_text_width(self.header), _text_width(self.footer), *widths])
        return self._width


def _table_width(cols) -> int:
    return sum(c.width for c in cols) + 3 * len(cols) + 1


def _shorten(text: str, width: int, keep: int = 0) -> str:
    """``text`` in at most ``width`` cells: the first ``keep`` characters
    (indentation) stay, the rest is cut with '…'."""
    if _text_width(text) <= width:
        return text
    room = max(width - keep - 1, 1)
    return text[:keep] + text[keep:keep + room] + "…"


def is_chain(analysis: Analysis) -> bool:
    """True when every layer reads only the layer before it (no wiring to show)."""
    previous = INPUT
    for r in analysis.layers:
        inputs = r.node.inputs
        if len(inputs) != 1 or inputs[0] != previous:
            return False
        previous = r.name
    return True


def _relative(name: str, prefix: str | None) -> str:
    if prefix and name.startswith(prefix) and name[len(prefix):len(prefix) + 1] == ".":
        return name[len(prefix) + 1:]
    return name


class _Rows:
    """The rows of the table (layers, and group rows with their sums), as
    parallel lists: cheap for 10,000 layers."""

    def __init__(self, analysis: Analysis, depth: int | None):
        graph = analysis.graph
        self.hierarchical = bool(graph.groups) or depth is not None
        kept = analysis.training_memory.layers
        self.indices, self.names, self.short_names, self.depths, self.groups = [], [], [], [], []
        self.collapsed, self.types, self.outputs, self.params, self.buffers = [], [], [], [], []
        self.macs, self.rfs, self.memory, self.kept, self.layers = [], [], [], [], []
        if self.hierarchical:
            from ..hierarchy import rows

            for row in rows(analysis, depth):
                group = row.is_group
                info = graph.groups.get(row.name) if group else None
                parent = info.parent if info is not None else (None if group else row.layer.node.parent)
                self.indices.append(row.indices)
                self.names.append(printable(row.name))
                self.short_names.append(printable(_relative(row.name, parent)))
                self.depths.append(row.depth)
                self.groups.append(group)
                self.collapsed.append(row.collapsed)
                self.types.append(row.type_name)
                self.outputs.append("×".join(map(str, row.output_shape)))
                self.params.append(row.params)
                self.buffers.append(row.buffers)
                self.macs.append(row.macs)
                self.rfs.append(rf_text(row.output.rf))
                self.memory.append(row.activation_bytes)
                self.kept.append(None if group else kept[row.name].bytes)
                self.layers.append(row.layer)
        else:
            for r in analysis.layers:
                self.indices.append(str(r.node.index))
                self.names.append(r.name if r.name.isprintable() else printable(r.name))
                self.types.append(r.node.layer.type_name)
                self.outputs.append("×".join(map(str, r.output_shape)))
                self.params.append(r.params.trainable)
                self.buffers.append(r.params.buffers)
                self.macs.append(r.macs)
                self.rfs.append(rf_text(r.rf))
                self.memory.append(r.activation_bytes)
                self.kept.append(kept[r.name].bytes)
                self.layers.append(r)
            n = len(self.names)
            self.short_names, self.depths, self.groups, self.collapsed = self.names, [0] * n, [False] * n, [False] * n

    def name_cells(self, relative: bool):
        names = self.short_names if relative else self.names
        if not self.hierarchical:
            return [(name, None) for name in names]
        out = []
        for name, depth, group, collapsed in zip(names, self.depths, self.groups, self.collapsed):
            indent = "  " * depth
            if group:
                out.append((indent + ("▸ " if collapsed else "▾ ") + name, "bold"))
            else:
                out.append((indent + name, None))
        return out

    def input_cells(self, analysis: Analysis, by_index: bool):
        """Inputs of each layer row: blank when it reads the layer above
        (the layer before it in the network), else names relative to its
        block (or ``#n`` row numbers)."""
        index = {r.name: r.node.index for r in analysis.layers}
        previous = {}
        before = INPUT
        for r in analysis.layers:
            previous[r.name] = before
            before = r.name
        out = []
        for r in self.layers:
            if r is None:
                out.append(("", None))
                continue
            inputs = r.node.inputs
            if len(inputs) == 1 and inputs[0] == previous[r.name]:
                out.append(("", None))
            elif by_index:
                out.append((printable(_some(f"#{index[s]}" if s in index else s for s in inputs)), None))
            else:
                out.append((printable(_some(_relative(s, r.node.parent) for s in inputs)), None))
        return out


#: A merge may read thousands of inputs: the cell names the first few and
#: counts the rest (every row is padded to the widest cell of its column).
MAX_INPUTS_SHOWN = 8


def _some(names) -> str:
    names = list(names)
    if len(names) <= MAX_INPUTS_SHOWN:
        return ", ".join(names)
    return ", ".join(names[:MAX_INPUTS_SHOWN]) + f", … ({len(names) - MAX_INPUTS_SHOWN:,} more)"


def _params_cells(rows: _Rows, count, with_buffers: bool):
    out = []
    for p, b in zip(rows.params, rows.buffers):
        if p or b:
            text = count(p)
            if b and with_buffers:
                text += f" +{count(b)} buf"  # buffers, not bits
            out.append((text, None))
        else:
            out.append(("0", "dim"))
    return out


def _share_cells(values, total, bars):
    share = {"width": COMPACT_SHARE_WIDTH if bars == "compact" else SHARE_WIDTH, "unicode": bool(bars),
             "with_percent": bars != "compact"}
    return [(share_cell(v, total, **share), None) for v in values]


def build(analysis: Analysis, *, exact: bool = False, bars: bool | str = False, kit=None,
          depth: int | None = None, columns=None, width: int | None = None):
    """The renderables: (table, footer lines, notes).

    ``bars``: draw the share columns as bars with percentages (a terminal),
    ``"compact"`` bars alone; otherwise they hold percentages only.
    ``kit``: the (Table, Text) classes to build with, rich's by default
    (:mod:`cnncalc.render.fasttable` passes light stand-ins).
    Blocks and named groups get a summed row with their layers indented
    below; ``depth`` collapses groups at that depth into their summed row.
    ``columns``: the columns to show (a sequence of :class:`Column`), every
    column by default; ``width``: make the table fit this many cells (see the
    module's docstring), or None for the full table."""
    if kit is None:
        from rich.table import Table
        from rich.text import Text
    else:
        Table, Text = kit

    explicit = columns is not None
    chain = is_chain(analysis)
    if columns is None:
        columns = [c for c in Column if not (c is Column.INPUTS and chain)]
    count = grouped if exact else human_count
    rows = _Rows(analysis, depth)
    t = analysis.totals
    kept = analysis.training_memory
    label = axes_label(len(analysis.input_shape) - 1)
    last_shape = "×".join(map(str, analysis.layers[-1].output_shape)) if analysis.layers else ""
    dim_zero = [(count(m), None) if m else ("0", "dim") for m in rows.macs]

    def make(key: Column) -> _Col:
        if key is Column.INDEX:
            return _Col(key, "#", [(i, None) for i in rows.indices], justify="right", style="dim")
        if key is Column.NAME:
            return _Col(key, "Layer", rows.name_cells(False), footer="Total", markup_safe=False)
        if key is Column.TYPE:
            return _Col(key, "Type", [(tn, "bold cyan" if g else None) for tn, g in zip(rows.types, rows.groups)],
                        style="cyan")
        if key is Column.INPUTS:
            return _Col(key, "Inputs", rows.input_cells(analysis, False), markup_safe=False)
        if key is Column.OUTPUT:
            return _Col(key, f"Output ({label})", [(o, None) for o in rows.outputs], footer=last_shape)
        if key is Column.PARAMS:
            return _Col(key, "Params", _params_cells(rows, count, True), footer=count(t.params_trainable),
                        justify="right")
        if key is Column.MACS:
            return _Col(key, "MACs", dim_zero, footer=count(t.macs), justify="right")
        if key is Column.RF:
            return _Col(key, "RF", [(rf, None) for rf in rows.rfs], justify="right")
        if key is Column.MEMORY:
            return _Col(key, "Memory", [(human_bytes(m), None) for m in rows.memory],
                        footer=human_bytes(t.activation_bytes), justify="right")
        if key is Column.KEPT:
            return _Col(key, "Kept", [("" if k is None else human_bytes(k), None) for k in rows.kept],
                        footer=human_bytes(kept.activations), justify="right")
        if key is Column.PARAMS_SHARE:
            return _Col(key, "Params %", _share_cells(rows.params, t.params_trainable, bars),
                        justify="left" if bars else "right", style="magenta")
        return _Col(key, "MACs %", _share_cells(rows.macs, t.macs, bars), justify="left" if bars else "right",
                    style="blue")

    cols = [make(c) for c in columns]
    if width is not None and _table_width(cols) > width:
        _fit(cols, rows, analysis, count, bars, width, explicit)

    from .escape import line_text

    title = (f"{line_text(analysis.graph.name or analysis.graph.file or 'network')}  input "
             f"{'×'.join(map(str, analysis.input_shape))} ({label})")
    if width is not None and _text_width(title) > width:
        title = _shorten(title, width)
    table = Table(
        title=Text(title),  # spec text: a Text, never read as rich markup ([link=…])
        title_justify="left",
        show_footer=True,
        header_style="bold",
        footer_style="bold",
    )
    for col in cols:
        table.add_column(col.header, footer=col.footer, justify=col.justify, style=col.style,
                         no_wrap=col.key in (Column.PARAMS_SHARE, Column.MACS_SHARE))
    cells = []
    for col in cols:
        if col.markup_safe:
            cells.append([Text(text, style=style) if style else text for text, style in col.cells])
        else:
            cells.append([Text(text, style=style) for text, style in col.cells])
    for row in zip(*cells):
        table.add_row(*row)

    footer = [
        f"Parameters: {grouped(t.params_trainable)} trainable ({human_count(t.params_trainable)})"
        + (f", {grouped(t.params_buffers)} buffers" if t.params_buffers else ""),
        f"MACs: {grouped(t.macs)} ({human_count(t.macs)}) per sample · FLOPs: {grouped(t.flops)} ({human_count(t.flops)})",
        f"Receptive field at the output: {output_rf_text(analysis)}",
        f"Memory: {memory_text(analysis)}",
        f"Training memory: {training_memory_text(analysis)}",
    ]
    for name, message in analysis.warnings:
        footer.append(f"warning: {name}: {message}")
    footer = [printable(line) for line in footer]
    notes = convention_lines(analysis)
    if any(c.key is Column.INPUTS for c in cols):
        notes = [*notes, INPUTS_NOTE]
    return table, footer, notes


def _fit(cols: list[_Col], rows: _Rows, analysis, count, bars, width: int, explicit: bool) -> None:
    """Make ``cols`` fit ``width`` cells: abbreviate, then drop columns
    (unless they were chosen explicitly), then shorten names. In place."""
    by_key = {c.key: c for c in cols}

    def fits() -> bool:
        return _table_width(cols) <= width

    steps = []
    if bars and bars != "compact":
        def compact_bars():
            for key, values, total in ((Column.PARAMS_SHARE, rows.params, analysis.totals.params_trainable),
                                       (Column.MACS_SHARE, rows.macs, analysis.totals.macs)):
                if key in by_key:
                    by_key[key].set_cells(_share_cells(values, total, "compact"))
        steps.append(compact_bars)

    def short_headers():
        if Column.OUTPUT in by_key:
            by_key[Column.OUTPUT].header = "Output"
            by_key[Column.OUTPUT]._width = None
        if Column.PARAMS in by_key:  # buffers stay in the totals below the table
            by_key[Column.PARAMS].set_cells(_params_cells(rows, count, False))
    steps.append(short_headers)
    if rows.hierarchical:
        steps.append(lambda: by_key[Column.NAME].set_cells(rows.name_cells(True)) if Column.NAME in by_key else None)
    if Column.INPUTS in by_key:
        steps.append(lambda: by_key[Column.INPUTS].set_cells(rows.input_cells(analysis, True)))
    if not explicit:
        for key in DROP_ORDER:
            if key is Column.INDEX and Column.INPUTS in by_key:
                continue  # the inputs refer to rows by their number
            def drop(key=key):
                col = by_key.pop(key, None)
                if col is not None:
                    cols.remove(col)
            steps.append(drop)
    for step in steps:
        step()
        if fits():
            return
    for key, least in ((Column.NAME, MIN_NAME), (Column.INPUTS, 8)):  # last: shorten names, then inputs
        col = by_key.get(key)
        if col is None or fits():
            continue
        room = max(width - (_table_width(cols) - col.width), least, _text_width(col.header))
        if room < col.width:
            cells = []
            for text, style in col.cells:
                keep = len(text) - len(text.lstrip(" ▾▸"))  # the indentation stays
                cells.append((_shorten(text, room, keep), style))
            col.set_cells(cells)
            col.footer = _shorten(col.footer, room)


def print_table(analysis: Analysis, console, *, exact: bool = False, depth: int | None = None,
                columns=None) -> None:
    """The table through rich, fitted to the console's width."""
    from rich.text import Text

    bars = console.is_terminal and not console.options.ascii_only
    table, footer, notes = build(analysis, exact=exact, bars=bars, depth=depth, columns=columns,
                                 width=console.width)
    console.print(table)
    for line in footer:
        console.print(Text(line, style="yellow" if line.startswith("warning") else ""))
    for line in notes:
        console.print(Text(line, style="dim"))
