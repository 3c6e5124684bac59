"""Stage 3: names → nodes. An ``inputs:`` entry is read as references
(:class:`~cnncalc.spec.state._Ref`) in the scope where it is written; once
every node exists, each reference is looked up outwards through the scopes
(block input, this scope's nodes and groups, skipped entries' names, the
enclosing scopes)."""

from __future__ import annotations

from .. import records
from ..errors import SpecError, did_you_mean
from ..graph import INPUT
from ..yamlio import YMap
from .common import _describe, _err
from .state import _Ctx, _Pending, _Ref, _Scope


def _parse_inputs(entry: YMap, scope: _Scope):
    if "inputs" not in entry:
        return None
    value = entry["inputs"]
    loc = entry.loc_of("inputs")
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise _err(
            f"'inputs' must be a node name or a list of node names, got {_describe(value)}", loc, field="inputs"
        )
    return tuple(_Ref(n, scope, loc) for n in names)


def _resolve(ctx: _Ctx, ref: _Ref, p: _Pending, index: int) -> str:
    """The full node name a reference stands for. Lookup goes outwards
    through the scopes: inside a block ``input`` is the block's input, then
    nodes and groups of this scope (a group stands for its output), names of
    skipped entries, then the enclosing scopes; at the root ``input`` is the
    network input."""
    original = ref
    for _ in range(10_000):  # a loop, not recursion: chains of skipped entries can be long
        nxt = _resolve_step(ctx, ref)
        if isinstance(nxt, str):
            return nxt
        if nxt is None:
            break
        ref = nxt
    else:
        raise SpecError(f"'{original.name}' refers to itself through skipped entries", loc=original.loc or p.loc,
                        field="inputs", layer_index=index, layer_name=p.name)
    piece = _piece(ctx, ref)
    if piece is not None:
        return piece
    name = ref.name
    candidates = {INPUT, *ctx.names, *ctx.group_out}
    scope = ref.scope
    while scope is not None:  # names as written from where the reference stands
        candidates |= {n[len(scope.prefix):] for n in (*ctx.names, *ctx.group_out) if n.startswith(scope.prefix)}
        candidates |= set(scope.aliases)
        scope = scope.parent
    raise SpecError(
        f"unknown input '{name}'{did_you_mean(name, sorted(candidates))}",
        loc=ref.loc or p.loc,
        field="inputs",
        layer_index=index,
        layer_name=p.name,
        layer_type=p.layer.type_name,
    )


def _resolve_step(ctx: _Ctx, ref: _Ref):
    """One lookup step of :func:`_resolve`: a full node name, another
    reference to follow, or None when the name is unknown."""
    if ref.scope is None:
        return ref.name
    name = ref.name
    scope = ref.scope
    while scope is not None:
        if name == INPUT and scope.block_input is not None:
            return scope.block_input
        full = scope.prefix + name
        if full in ctx.names:
            return full
        if full in ctx.group_out:
            return ctx.group_out[full]
        if name in scope.aliases:
            return scope.aliases[name]
        scope = scope.parent
    if name == INPUT:
        return INPUT
    return None


# -- pieces of a node's output (split1.0): Layer.piece ------------------------

def _piece(ctx: _Ctx, ref: _Ref) -> str | None:
    """``<node>.<key>`` where ``<node>`` is a layer whose output has pieces
    (``split``): the full name of the piece's node, added (once) as a pending
    node right after its source, or None."""
    import sys

    limit = sys.modules[__package__].MAX_LAYERS  # cnncalc.spec's, read at call time

    head, dot, key = ref.name.rpartition(".")
    if not dot or not head:
        return None
    source = _Ref(head, ref.scope, ref.loc)
    for _ in range(10_000):
        source = _resolve_step(ctx, source)
        if source is None or isinstance(source, str):
            break
    if ctx.by_name is None:  # only linking resolves references: every node is known by now
        ctx.by_name = {p.name: p for p in ctx.nodes}
    owner = ctx.by_name.get(source) if isinstance(source, str) else None
    found = owner.layer.piece(key) if owner is not None else None
    if found is None:
        return None
    canonical, layer = found
    name = f"{owner.name}.{canonical}"
    if name not in ctx.pieces:
        if name in ctx.names or name in ctx.groups:
            return None  # an entry of that name exists; the caller reports the reference
        if len(ctx.nodes) + len(ctx.pieces) >= limit:  # pieces are nodes too (see "Limits")
            raise _err(
                f"the spec expands to more than {limit:,} layers with the split pieces it names; cnncalc "
                "refuses it (set CNNCALC_MAX_LAYERS to raise the limit)",
                ref.loc or owner.loc,
                field="inputs",
            )
        ctx.pieces[name] = _Pending(name, layer, (_Ref(owner.name),), ref.loc or owner.loc, {}, owner.parent, {})
    return name


def _group_outputs(ctx: _Ctx) -> dict:
    """The groups with their output node filled in (a group ending in a
    skipped entry stands for that entry's input, possibly outside it)."""
    out = {}
    for name, info in ctx.groups.items():
        ref = ctx.group_out.get(name)
        output = None
        for _ in range(10_000):
            if ref is None or isinstance(ref, str):
                output = ref
                break
            ref = _resolve_step(ctx, ref)
        out[name] = records.replace(info, output=output)
    return out
