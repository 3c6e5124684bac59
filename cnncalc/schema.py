"""JSON Schema of the spec format, generated from the layer registry so it
cannot drift from what the parser accepts."""

from __future__ import annotations

from .layers import base as layer_base
from .layers.fields import REQUIRED, layer_fields

SCHEMA_ID = "https://cnncalc.invalid/schema/spec-v1.json"

#: JSON Schemas of the top-level sections other features register in cnncalc.spec.SECTIONS.
SECTION_SCHEMAS: dict[str, dict] = {}


def _layer_fields_schema(cls) -> tuple[dict, list[str]]:
    props = {}
    required = []
    for f in layer_fields(cls):
        entry = dict(f.metadata["kind"].schema())
        if f.metadata.get("doc"):
            entry["description"] = f.metadata["doc"]
        if f.default is not REQUIRED and f.default is not None:
            entry["default"] = list(f.default) if isinstance(f.default, tuple) else f.default
        if f.default is None:
            entry = {"oneOf": [entry, {"type": "null"}], "description": entry.get("description", "")}
        props[f.name] = entry
        if f.default is REQUIRED:
            required.append(f.name)
    if cls.takes_activation:
        props["activation"] = {
            "description": "an activation layer to add after this one (e.g. relu), or none",
            "oneOf": [{"type": "string"}, {"type": "object"}, {"type": "null"}],
        }
    return props, required


def spec_schema() -> dict:
    from .spec import SECTIONS

    entry_props = {
        "name": {"type": "string", "minLength": 1, "description": "node name (default: type + counter)"},
        "inputs": {
            "description": "earlier node name(s) or 'input' (default: the previous layer)",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
        },
        "repeat": {"type": "integer", "minimum": 1, "description": "repeat this entry N times"},
        "when": {
            "description": "false skips the entry (its name then stands for its first input); "
                           "in a block: $param or $(expression)",
            "oneOf": [{"type": "boolean"}, {"type": "string", "pattern": "^\\$"}],
        },
    }
    type_names = sorted([*layer_base.REGISTRY, *layer_base.ALIASES])
    variants = [{"type": "string", "enum": type_names, "description": "a layer with default fields"}]
    defaults_props = {}
    for name, cls in sorted(layer_base.REGISTRY.items()):
        props, required = _layer_fields_schema(cls)
        fields_schema = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            fields_schema["required"] = required
        for alias in (name, *cls.aliases):
            compact = {
                "type": "object",
                "description": cls.summary,
                "properties": {alias: {"oneOf": [fields_schema, {"type": "null"}]}, **entry_props},
                "required": [alias],
                "additionalProperties": True,
            }
            variants.append(compact)
            defaults_props[alias] = {"type": "object", "properties": props, "additionalProperties": False}
        explicit = {
            "type": "object",
            "description": cls.summary,
            "properties": {"type": {"enum": [name, *cls.aliases]}, **props, **entry_props},
            "required": ["type", *required],
        }
        variants.append(explicit)
    # a block instance: {block_name: {arguments}} with the entry keys, or a bare block name
    variants.append({"type": "string", "description": "a block defined under 'blocks:', with its default arguments"})
    variants.append({
        "type": "object",
        "description": "a block instance {block_name: {arguments}}; 'overrides' maps a repetition to arguments",
        "properties": {
            **entry_props,
            "overrides": {"type": "object", "additionalProperties": {"type": "object"}},
        },
        "minProperties": 1,
        "additionalProperties": {"oneOf": [{"type": "object"}, {"type": "null"}]},
    })
    group = {
        "type": "object",
        "properties": {
            "layers": {"$ref": "#/$defs/layers"},
            "repeat": entry_props["repeat"],
            "name": entry_props["name"],
            "inputs": entry_props["inputs"],
            "when": entry_props["when"],
        },
        "required": ["layers"],
        "additionalProperties": False,
    }
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "cnncalc network spec (format v1)",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "input": {
                "description": "one sample, channels first, no batch axis: [C], [C, L], [C, H, W] or [C, D, H, W]",
                "type": "array",
                "items": {"type": "integer", "minimum": 1},
                "minItems": 1,
                "maxItems": 4,
            },
            "defaults": {
                "type": "object",
                "description": "default fields per layer type",
                "properties": defaults_props,
                "additionalProperties": False,
            },
            "blocks": {
                "type": "object",
                "description": "reusable blocks: params (name → default, ~ for required) and layers; "
                               "values may be $param or $(integer expression); 'input' is the block's input",
                "additionalProperties": {
                    "type": "object",
                    "properties": {
                        "params": {"type": "object"},
                        "layers": {"type": "array", "minItems": 1},
                        "description": {"type": "string"},
                    },
                    "required": ["layers"],
                    "additionalProperties": False,
                },
            },
            "layers": {"$ref": "#/$defs/layers"},
            **{
                key: SECTION_SCHEMAS.get(key, {"description": f"section '{key}' (see the README)"})
                for key in sorted(SECTIONS)
            },
        },
        "required": ["layers"],
        "additionalProperties": False,
        "$defs": {
            "layers": {"type": "array", "minItems": 1, "items": {"anyOf": [group, *variants]}},
        },
    }
    return schema
