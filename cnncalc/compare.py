"""Two versions of a network side by side: snapshots, layer alignment, deltas.

A :class:`Snapshot` holds what a comparison needs of one analysis (per-layer
records and totals); it is built from an :class:`~cnncalc.analysis.Analysis`
or read back from the JSON of ``cnncalc analyze --format json`` (a saved
baseline). :func:`align` pairs the layers of two snapshots:

1. identical runs at the start and at the end are paired as they stand;
2. in between, a weighted longest-common-subsequence alignment pairs layers
   in order, maximising a similarity score: same type (required, unless the
   two layers share a user-given name), same settings, same output shape,
   same name. A user-given name weighs most, so ``name: head`` finds its
   partner even when its type changed; automatic names (``conv3``,
   ``conv3.relu``) weigh little, because inserting one conv renames every
   later one.

Unpaired layers are *added* or *removed*; paired layers whose settings,
shapes, parameters or multiplications differ are *changed* (a rename alone is
reported but is not a change in size).
"""

from __future__ import annotations

import json
import re

from . import env
from .analysis import DTYPE_BYTES
from .errors import Loc, SpecError
from .numbers import NumberError, json_int
from .records import field, record

#: A saved analysis is read whole: 16 MiB holds about 23,000 layers.
MAX_BASELINE_BYTES = env.limit("CNNCALC_MAX_BASELINE_BYTES")

ANALYSIS_SCHEMA = "cnncalc.analysis/1"


@record
class LayerRecord:
    index: int
    name: str
    type: str
    settings: dict = field(hash=False, compare=False)
    output_shape: tuple[int, ...] = ()
    params: int = 0
    macs: int = 0
    activation_bytes: int = 0
    line: int | None = None
    #: for drawings of a diff (not compared): the layers it reads, its block
    inputs: tuple[str, ...] = field(default=(), hash=False, compare=False)
    parent: str | None = field(default=None, hash=False, compare=False)

    @property
    def shape_text(self) -> str:
        return "×".join(map(str, self.output_shape))


@record
class Snapshot:
    """The numbers of one analysed network that comparisons use."""

    label: str  # how to name it in reports (the file)
    file: str | None
    name: str | None
    batch: int
    dtype: str
    convention: str
    layers: tuple[LayerRecord, ...]
    params: int
    buffers: int
    macs: int
    activation_bytes: int
    param_bytes: int
    input_bytes: int
    training_bytes: int | None = None  # when the analysis provides it
    training_optimizer: str | None = None  # the optimizer that estimate assumed

    def total(self, quantity: str) -> int | None:
        return {
            "params": self.params,
            "macs": self.macs,
            "activation_memory": self.activation_bytes,
            "training_memory": self.training_bytes,
        }[quantity]


def snapshot_from_analysis(analysis, *, label: str | None = None, training_bytes: int | None = None,
                           training_optimizer: str | None = None) -> Snapshot:
    t = analysis.totals
    layers = tuple(
        LayerRecord(
            r.node.index, r.name, r.type_name, r.node.layer.settings(), tuple(r.output_shape),
            r.params.trainable, r.macs, r.activation_bytes, r.node.loc.line, tuple(r.node.inputs), r.node.parent,
        )
        for r in analysis.layers
    )
    graph = analysis.graph
    return Snapshot(
        label=label or graph.file or graph.name or "network",
        file=graph.file,
        name=graph.name,
        batch=analysis.batch,
        dtype=analysis.dtype,
        convention=analysis.convention.value,
        layers=layers,
        params=t.params_trainable,
        buffers=t.params_buffers,
        macs=t.macs,
        activation_bytes=t.activation_bytes,
        param_bytes=t.param_bytes,
        input_bytes=t.input_bytes,
        training_bytes=training_bytes,
        training_optimizer=training_optimizer,
    )


def _bad_json(path, message) -> SpecError:
    return SpecError(
        f"{message}; a baseline is the output of 'cnncalc analyze SPEC --format json' saved to a file",
        loc=Loc(str(path)),
    )


def snapshot_from_json(data: dict, path: str) -> Snapshot:
    """Read back ``cnncalc analyze --format json`` output (schema cnncalc.analysis/1)."""
    if not isinstance(data, dict) or "schema" not in data:
        raise _bad_json(path, "not a cnncalc analysis (no 'schema' field)")
    if data["schema"] != ANALYSIS_SCHEMA:
        raise _bad_json(path, f"schema {data['schema']!r} is not supported (expected {ANALYSIS_SCHEMA!r})")
    try:
        t = data["totals"]
        if not isinstance(data["layers"], list):
            raise ValueError("'layers' is not a list")
        from .spec import MAX_LAYERS

        if len(data["layers"]) > MAX_LAYERS:
            raise ValueError(f"{len(data['layers']):,} layers, more than the limit of {MAX_LAYERS:,} "
                             "(set CNNCALC_MAX_LAYERS to raise it)")
        layers = tuple(
            LayerRecord(
                json_int(r["index"], what="index"), _text(r["name"], "name"), _text(r["type"], "type"),
                dict(r.get("settings") or {}),
                tuple(json_int(n, what="output_shape", minimum=1) for n in _list(r["output_shape"])),
                json_int(r["params"]["trainable"], what="params"), json_int(r["macs"], what="macs"),
                json_int(r["memory"]["activation_bytes"], what="activation_bytes"),
                _line(r.get("line")),
                tuple(_text(s, "inputs") for s in _inputs(r.get("inputs"))),
                None if r.get("parent") is None else _text(r["parent"], "parent"),
            )
            for r in data["layers"]
        )
        memory = t["memory"]
        training = memory.get("training_bytes")
        training_optimizer = memory.get("training_optimizer")
        dtype = str(data["dtype"])
        if dtype not in DTYPE_BYTES:
            raise ValueError(f"unknown dtype {dtype!r}")
        return Snapshot(
            label=str(path),
            file=None if data.get("spec") is None else _text(data.get("spec"), "spec"),
            name=None if data.get("name") is None else _text(data.get("name"), "name"),
            batch=json_int(data["batch"], what="batch", minimum=1),
            dtype=dtype,
            convention=_text(data["convention"]["name"], "convention"),
            layers=layers,
            params=json_int(t["params"]["trainable"], what="params"),
            buffers=json_int(t["params"]["buffers"], what="buffers"),
            macs=json_int(t["macs"], what="macs"),
            activation_bytes=json_int(memory["activation_bytes"], what="activation_bytes"),
            param_bytes=json_int(memory["param_bytes"], what="param_bytes"),
            input_bytes=json_int(memory["input_bytes"], what="input_bytes"),
            training_bytes=None if training is None else json_int(training, what="training_bytes"),
            training_optimizer=None if training_optimizer is None else _text(training_optimizer, "training_optimizer"),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing field {exc}" if isinstance(exc, KeyError) else str(exc)
        raise _bad_json(path, f"malformed analysis JSON ({detail})") from None


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise NumberError(f"{what} must be text, got {type(value).__name__}")
    if len(value) > 10_000:
        raise NumberError(f"{what} is {len(value):,} characters long (at most 10,000)")
    return value


def _inputs(value) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 100_000:
        raise NumberError("inputs must be a list of layer names")
    return value


def _list(value) -> list:
    if not isinstance(value, list) or not 1 <= len(value) <= 5:
        raise NumberError("output_shape must be a list of 1 to 5 sizes")
    return value


def _line(value):
    return None if value is None else json_int(value, what="line", minimum=1)


def load_snapshot_json(path) -> Snapshot:
    from .yamlio import read_text_file

    name = str(path)
    text = read_text_file(name, what="baseline", limit=MAX_BASELINE_BYTES, variable="CNNCALC_MAX_BASELINE_BYTES")
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int)
    except json.JSONDecodeError as exc:
        raise SpecError(f"not valid JSON: {exc.msg}", loc=Loc(name, exc.lineno, exc.colno)) from None
    except (ValueError, RecursionError) as exc:
        raise _bad_json(name, f"unusable JSON ({exc})") from None
    return snapshot_from_json(data, name)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number a saved analysis holds")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 60:
        raise ValueError(f"an integer of {len(text):,} digits")
    return int(text)


def is_json_file(path) -> bool:
    """A saved analysis (``.json``) rather than a YAML spec."""
    return str(path).lower().endswith(".json")


# -- alignment -----------------------------------------------------------------

SAME, CHANGED, ADDED, REMOVED = "same", "changed", "added", "removed"


@record
class Row:
    status: str  # same, changed, added, removed
    old: LayerRecord | None
    new: LayerRecord | None
    changes: tuple[str, ...] = ()

    @property
    def renamed(self) -> bool:
        return self.old is not None and self.new is not None and self.old.name != self.new.name

    @property
    def user_renamed(self) -> bool:
        """Renamed, and not merely because automatic names shifted (conv3 → conv4)."""
        return self.renamed and not (_auto_name(self.old) and _auto_name(self.new))

    @property
    def notable(self) -> bool:
        """Worth listing among the changes: added, removed, changed or renamed by the user."""
        return self.status != SAME or self.user_renamed

    def delta(self, attr: str) -> int:
        return (getattr(self.new, attr) if self.new else 0) - (getattr(self.old, attr) if self.old else 0)


def _auto_name(rec: LayerRecord) -> bool:
    """Names cnncalc makes up (conv3, block.conv3, conv3.relu) rather than a user's."""
    kind = re.escape(rec.type)
    return bool(re.fullmatch(rf"(?:.*\.)?{kind}\d+", rec.name) or rec.name.endswith("." + rec.type))


def _identical(a: LayerRecord, b: LayerRecord) -> bool:
    """Same layer, up to a change of automatic name (an insertion upstream renames ``conv7`` to ``conv8``)."""
    same_name = a.name == b.name or (_auto_name(a) and _auto_name(b))
    return same_name and (a.type, a.settings, a.output_shape, a.params, a.macs) == (
        b.type, b.settings, b.output_shape, b.params, b.macs,
    )


def _score(a: LayerRecord, b: LayerRecord) -> int:
    """How alike two layers are (0: never pair them)."""
    same_user_name = a.name == b.name and not (_auto_name(a) and _auto_name(b))
    if a.type != b.type and not same_user_name:
        return 0
    score = 1
    if a.type == b.type:
        score += 2
    if a.settings == b.settings:
        score += 4
    if a.output_shape == b.output_shape:
        score += 2
    if a.name == b.name:
        score += 16 if same_user_name else 1
    return score


#: Above this many cells the middle is aligned with difflib instead of the weighted DP.
MAX_DP_CELLS = 250_000  # the Python DP does about a million cells a second


def _pairs_dp(old, new) -> list[tuple[int, int]]:
    n, m = len(old), len(new)
    best = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        row, below = best[i], best[i + 1]
        a = old[i]
        for j in range(m - 1, -1, -1):
            s = _score(a, new[j])
            take = below[j + 1] + s if s else 0
            row[j] = max(take, below[j], row[j + 1])
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        s = _score(old[i], new[j])
        if s and best[i][j] == best[i + 1][j + 1] + s:
            pairs.append((i, j))
            i, j = i + 1, j + 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def _pairs_difflib(old, new) -> list[tuple[int, int]]:
    import difflib

    def key(r):
        return (r.type, json.dumps(r.settings, sort_keys=True, default=str), r.output_shape)

    # autojunk: keys repeated throughout (hundreds of identical relu layers)
    # would make the matcher quadratic; they still pair inside matched runs.
    matcher = difflib.SequenceMatcher(None, [key(r) for r in old], [key(r) for r in new], autojunk=True)
    return [(b.a + k, b.b + k) for b in matcher.get_matching_blocks() for k in range(b.size)]


def _changes(a: LayerRecord, b: LayerRecord) -> tuple[str, ...]:
    out = []
    if a.type != b.type:
        out.append(f"type {a.type} → {b.type}")
    for key in sorted(set(a.settings) | set(b.settings)):
        va, vb = a.settings.get(key), b.settings.get(key)
        if va != vb:
            out.append(f"{key} {_setting_text(va)} → {_setting_text(vb)}")
    if a.output_shape != b.output_shape:
        out.append(f"output {a.shape_text} → {b.shape_text}")
    if a.params != b.params:
        out.append(f"params {a.params:,} → {b.params:,}")
    if a.macs != b.macs:
        out.append(f"MACs {a.macs:,} → {b.macs:,}")
    return tuple(out)


def _setting_text(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(map(_setting_text, value)) + "]"
    return "—" if value is None else str(value)


def align(old: tuple[LayerRecord, ...], new: tuple[LayerRecord, ...]) -> list[Row]:
    """Pair the layers of two versions in order; see the module docstring."""
    old, new = list(old), list(new)
    head = 0
    while head < min(len(old), len(new)) and _identical(old[head], new[head]):
        head += 1
    tail = 0
    while tail < min(len(old), len(new)) - head and _identical(old[-1 - tail], new[-1 - tail]):
        tail += 1
    mid_old, mid_new = old[head:len(old) - tail], new[head:len(new) - tail]
    if len(mid_old) * len(mid_new) <= MAX_DP_CELLS:
        pairs = _pairs_dp(mid_old, mid_new)
    else:
        pairs = _pairs_difflib(mid_old, mid_new)
    rows = [Row(SAME, o, n) for o, n in zip(old[:head], new[:head])]
    i = j = 0
    for pi, pj in [*pairs, (len(mid_old), len(mid_new))]:
        rows += [Row(REMOVED, r, None) for r in mid_old[i:pi]]
        rows += [Row(ADDED, None, r) for r in mid_new[j:pj]]
        if pi < len(mid_old) and pj < len(mid_new):
            a, b = mid_old[pi], mid_new[pj]
            changes = _changes(a, b)
            rows.append(Row(CHANGED if changes else SAME, a, b, changes))
        i, j = pi + 1, pj + 1
    rows += [Row(SAME, o, n) for o, n in zip(old[len(old) - tail:], new[len(new) - tail:])]
    return rows


@record
class Diff:
    old: Snapshot
    new: Snapshot
    rows: tuple[Row, ...]

    @property
    def auto_renamed(self) -> list[Row]:
        """Unchanged layers whose automatic name shifted (an insertion upstream renames conv3 → conv4)."""
        return [r for r in self.rows if r.status == SAME and r.renamed and not r.user_renamed]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)

    @property
    def differs(self) -> bool:
        return any(r.status != SAME for r in self.rows)

    def totals(self) -> list[tuple[str, str, int | None, int | None]]:
        """(label, unit, old, new) for every total both sides know."""
        out = [
            ("layers", "count", len(self.old.layers), len(self.new.layers)),
            ("params", "count", self.old.params, self.new.params),
            ("buffers", "count", self.old.buffers, self.new.buffers),
            ("macs", "count", self.old.macs, self.new.macs),
            ("activation memory", "bytes", self.old.activation_bytes, self.new.activation_bytes),
            ("parameter and buffer memory", "bytes", self.old.param_bytes, self.new.param_bytes),
        ]
        if self.old.training_bytes is not None and self.new.training_bytes is not None:
            out.append(("training memory", "bytes", self.old.training_bytes, self.new.training_bytes))
        return out

    def warnings(self) -> list[str]:
        out = []
        if (self.old.batch, self.old.dtype) != (self.new.batch, self.new.dtype):
            out.append(
                f"memory compared at different settings: batch {self.old.batch} {self.old.dtype} vs "
                f"batch {self.new.batch} {self.new.dtype}"
            )
        if self.old.convention != self.new.convention:
            out.append(f"MACs counted under different conventions: {self.old.convention} vs {self.new.convention}")
        return out


def diff(old: Snapshot, new: Snapshot) -> Diff:
    return Diff(old, new, tuple(align(old.layers, new.layers)))


def percent_change(old: int, new: int):
    """Exact relative change in percent (a Fraction), or None from zero."""
    from fractions import Fraction

    if old == 0:
        return None if new else Fraction(0)
    return Fraction(new - old, old) * 100
