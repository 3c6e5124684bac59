"""Stage 1: the top-level document — its keys, ``input:``, ``name:`` and
``description:`` — then the other stages in order (expand, link) and the
finished :class:`~cnncalc.graph.Graph`."""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import FieldError, Loc, did_you_mean
from ..graph import Graph
from ..layers import base as layer_base
from ..yamlio import YList, YMap, from_data, load_file, load_text, loc_of
from .common import _check_magnitude, _describe, _err
from .expand import _check_expanded_size, _expand_list
from .layer import _parse_defaults
from .link import _link
from .resolve import _group_outputs
from .state import _Ctx, _Scope

#: Top-level keys of a spec. Other features own the SECTIONS: they are
#: listed here, not registered when the feature's module is imported, so that
#: reading a spec does not import budget or homework code (a test checks that
#: importing those modules adds nothing to this set).
CORE_KEYS = ("name", "description", "input", "defaults", "blocks", "layers")
SECTIONS: set[str] = {
    "budget",  # cnncalc.budget
    "expect_total", "values", "grad_output", "grading",  # cnncalc.homework.keys
}


def load_spec(path, input_shape=None) -> Graph:
    """Read and check a spec file. ``input_shape`` overrides its ``input:``."""
    return parse_spec(load_file(path), str(path), input_shape)


def loads_spec(text, file: str | None = None, input_shape=None) -> Graph:
    """Like :func:`load_spec` for YAML text, or for the spec as a Python
    dict (``{"input": [3, 32, 32], "layers": [...]}``; its errors name the
    file ``<dict>`` and the layer and field, without line numbers)."""
    if isinstance(text, Mapping):
        file = file or "<dict>"
        return parse_spec(from_data(dict(text), file), file, input_shape)
    file = file or "<spec>"
    return parse_spec(load_text(text, file), file, input_shape)


def parse_spec(doc, file: str | None = None, input_shape=None) -> Graph:
    top = Loc(file, 1, 1)
    if doc is None:
        raise _err("the spec is empty; it needs at least 'input:' and 'layers:'", top)
    if not isinstance(doc, YMap):
        kind = "a list" if isinstance(doc, list) else f"a single value ({doc!r})"
        raise _err(
            f"the spec must be a mapping with 'input:' and 'layers:', but the file holds {kind}",
            loc_of(doc, top),
        )
    allowed = (*CORE_KEYS, *sorted(SECTIONS))
    for key in doc:
        if key not in allowed:
            raise _err(
                f"unknown top-level key '{key}'{did_you_mean(key, allowed)}; allowed: " + ", ".join(allowed),
                doc.key_locs[key],
                field=str(key),
            )
    shape = _parse_input(doc, file) if input_shape is None else tuple(input_shape)
    if input_shape is not None:
        _check_input_shape(list(shape), Loc(file), "--input")
    if "layers" not in doc:
        raise _err("missing 'layers:' (the list of layers)", doc.loc, field="layers")
    layers = doc["layers"]
    if not isinstance(layers, YList):
        raise _err(
            f"'layers' must be a list of layer entries, got {_describe(layers)}",
            doc.loc_of("layers"),
            field="layers",
        )
    if not layers:
        raise _err("'layers' is empty; a network needs at least one layer", doc.loc_of("layers"), field="layers")
    blocks = {}
    if doc.get("blocks") is not None:  # (the block code is imported only for a spec that has blocks)
        from ..blocks import parse_blocks

        blocks = parse_blocks(doc["blocks"], doc.loc_of("blocks"),
                              lambda n: layer_base.canonical_type(n.lower()) is not None)
    ctx = _Ctx(file, _parse_defaults(doc.get("defaults"), doc.loc_of("defaults")), blocks)
    _check_expanded_size(layers, blocks)
    try:
        _expand_list(layers, ctx, _Scope())
    except RecursionError:  # blocks within groups within blocks …: the limits above make this rare
        raise _err(
            "the spec nests blocks and groups too deeply to expand; flatten some of them",
            doc.loc_of("layers"),
            field="layers",
        ) from None
    nodes = _link(ctx, file)
    name = doc.get("name")
    description = doc.get("description")
    for key, value in (("name", name), ("description", description)):
        if value is not None and not isinstance(value, str):
            raise _err(f"'{key}' must be a string, got {_describe(value)}", doc.loc_of(key), field=key)
    return Graph(
        input_shape=shape,
        nodes=nodes,
        file=file,
        input_loc=doc.loc_of("input") if "input" in doc else doc.loc,
        name=name,
        description=description,
        sections={k: doc[k] for k in doc if k in SECTIONS},
        groups=_group_outputs(ctx),
    )


def _check_input_shape(shape, loc, what="input"):
    if not isinstance(shape, list) or not shape:
        raise _err(
            f"{what} must be a list [C, L], [C, H, W] or [C, D, H, W], got {_describe(shape)}", loc, field="input"
        )
    for item in shape:
        if isinstance(item, bool) or not isinstance(item, int) or item < 1:
            raise _err(f"{what} sizes must be integers ≥ 1, got {item!r} in {list(shape)}", loc, field="input")
        try:
            _check_magnitude("input", item)
        except FieldError as exc:
            raise _err(exc.message, loc, field="input") from None
    if len(shape) > 4:
        raise _err(
            f"{what} {list(shape)} has {len(shape) - 1} spatial axes; cnncalc handles [C] (flat), "
            "[C, L] (1D), [C, H, W] (2D) and [C, D, H, W] (3D), channels first, without the batch axis",
            loc,
            field="input",
        )


def _parse_input(doc, file):
    if "input" not in doc:
        raise _err(
            "missing 'input:' (the shape of one sample, channels first, e.g. [3, 224, 224]); "
            "or give it with --input",
            doc.loc,
            field="input",
        )
    value = doc["input"]
    _check_input_shape(value, doc.loc_of("input"))
    return tuple(value)
