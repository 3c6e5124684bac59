"""Reusable, parametrised blocks: definitions, argument binding and
substitution of ``$name`` / ``$(expression)`` values.

A spec defines blocks once under ``blocks:``::

    blocks:
      basic:                              # used like a layer type: - basic: {width: 64}
        params: {width: ~, stride: 1, downsample: false}   # ~ (null) = required
        layers:
          - conv: {out_channels: $width, kernel_size: 3, stride: $stride, padding: 1, bias: false}
            name: conv1
          ...
          - name: downsample
            when: $downsample             # skipped entries pass their input through
            inputs: input                 # 'input' inside a block is the block's input
            layers: [...]
          - add:
            inputs: [bn2, downsample]

The expander in :mod:`cnncalc.spec` instantiates a block by substituting its
arguments into a copy of the body (keeping every line number) and expanding
that copy in a scope of its own, so that node names become hierarchical
(``layer3.1.conv2``).
"""

from __future__ import annotations

from .errors import FieldError, Loc, SpecError, did_you_mean
from .expr import is_reference, substitute
from .records import record
from .yamlio import YList, YMap

#: Keys of a block definition.
DEF_KEYS = ("params", "layers", "description")


@record
class BlockDef:
    name: str
    params: dict  # name -> default (None = required)
    param_locs: dict
    body: YList
    loc: Loc

    @property
    def required(self) -> list[str]:
        return [p for p, default in self.params.items() if default is None]


def _describe(value) -> str:
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    return repr(value)


def parse_blocks(value, loc: Loc, is_layer_type) -> dict[str, BlockDef]:
    """Read the ``blocks:`` section; ``is_layer_type(name)`` guards clashes."""
    if value is None:
        return {}
    if not isinstance(value, YMap):
        raise SpecError(f"'blocks' must map block names to definitions, got {_describe(value)}", loc=loc, field="blocks")
    out = {}
    for name, body in value.items():
        key_loc = value.key_locs[name]
        if not isinstance(name, str) or not name.isidentifier():
            raise SpecError(f"a block name must be an identifier like 'bottleneck', got {name!r}", loc=key_loc, field="blocks")
        if is_layer_type(name):
            raise SpecError(
                f"block name '{name}' is already a layer type; choose another name", loc=key_loc, field="blocks"
            )
        if not isinstance(body, YMap):
            raise SpecError(
                f"block '{name}' must be a mapping with 'params:' and 'layers:', got {_describe(body)}",
                loc=value.loc_of(name),
                field=name,
            )
        for key in body:
            if key not in DEF_KEYS:
                raise SpecError(
                    f"unknown key '{key}' in block '{name}'{did_you_mean(key, DEF_KEYS)}; allowed: {', '.join(DEF_KEYS)}",
                    loc=body.key_locs[key],
                    field=str(key),
                )
        params = body.get("params")
        if params is None:
            params = YMap()
            params.loc, params.key_locs, params.value_locs = body.loc, {}, {}
        if not isinstance(params, YMap):
            raise SpecError(
                f"'params' of block '{name}' must map parameter names to defaults (~ for required), "
                f"got {_describe(params)}",
                loc=body.loc_of("params"),
                field="params",
            )
        for p in params:
            if not isinstance(p, str) or not p.isidentifier() or p in ("and", "or", "not", "true", "false"):
                raise SpecError(
                    f"block parameter names must be identifiers, got {p!r}", loc=params.key_locs[p], field="params"
                )
        layers = body.get("layers")
        if not isinstance(layers, YList) or not layers:
            raise SpecError(
                f"block '{name}' needs 'layers:', a non-empty list", loc=body.loc_of("layers"), field="layers"
            )
        out[name] = BlockDef(name, dict(params), {p: params.key_locs[p] for p in params}, layers, body.loc)
    return out


def bind_args(block: BlockDef, args, loc: Loc, overrides=None) -> dict:
    """The parameter values of one instance: defaults, then ``args``, then
    ``overrides`` (a per-repetition mapping); every required one present."""
    values = dict(block.params)
    given = set()
    for source in (args, overrides):
        if source is None:
            continue
        for key, value in source.items():
            if key not in block.params:
                known = list(block.params)
                raise SpecError(
                    f"block '{block.name}' has no parameter '{key}'{did_you_mean(key, known)}; "
                    f"its parameters are: {', '.join(known) or '(none)'}",
                    loc=source.key_locs.get(key, loc),
                    field=str(key),
                )
            values[key] = value
            given.add(key)
    missing = [p for p in block.required if p not in given or values[p] is None]
    if missing:
        raise SpecError(
            f"block '{block.name}' needs argument{'s' if len(missing) > 1 else ''} "
            + ", ".join(f"'{m}'" for m in missing)
            + f" (e.g. {block.name}: {{{missing[0]}: ...}})",
            loc=loc,
            field=missing[0],
        )
    return values


def substitute_tree(value, params: dict, loc: Loc, field: str | None = None):
    """A copy of a YAML value with every ``$...`` string replaced; mappings
    and lists keep their locations so errors still point into the file."""
    if is_reference(value):
        try:
            return substitute(value, params, field)
        except FieldError as exc:
            raise SpecError(exc.message, loc=loc, field=field) from None
    if isinstance(value, YMap):
        out = YMap()
        out.loc, out.key_locs, out.value_locs = value.loc, value.key_locs, value.value_locs
        for key, item in value.items():
            out[key] = substitute_tree(item, params, value.loc_of(key), field=str(key))
        return out
    if isinstance(value, YList):
        out = YList(substitute_tree(item, params, value.loc_of(i), field) for i, item in enumerate(value))
        out.loc, out.item_locs = value.loc, value.item_locs
        return out
    return value
