"""Write imported layers as a readable spec: one entry per layer, its name
kept, ``inputs:`` only where the graph is not a chain, PyTorch field names,
fields at their defaults left out."""

from __future__ import annotations

import json
import re

_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-/]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def scalar(value) -> str:
    """One YAML scalar: plain where that reads back as the same string, quoted otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        mantissa, e, exponent = text.partition("e")
        if e and "." not in mantissa:  # YAML 1.1 (PyYAML) reads 1e-06 as text; 1.0e-06 is a number
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    text = str(value)
    if _PLAIN.match(text) and text.lower() not in _RESERVED:
        return text
    return json.dumps(text, ensure_ascii=False)


def comment(text: str) -> str:
    """A single-line YAML comment (no line breaks can end it early)."""
    return " ".join(str(text).split())


def write_spec(layers, *, name: str, input_shape, header: list[str], outputs: list[str]) -> str:
    lines = [f"# {comment(h)}" for h in header]
    lines += [f"name: {scalar(name)}", f"input: {scalar(list(input_shape))}", "layers:"]
    previous = "input"
    for layer in layers:
        fields = ", ".join(f"{k}: {scalar(v)}" for k, v in layer.fields.items())
        note = f"  # {comment(layer.comment)}" if layer.comment else ""
        lines.append(f"  - {layer.type_name}: {{{fields}}}{note}" if fields else f"  - {layer.type_name}:{note}")
        lines.append(f"    name: {scalar(layer.name)}")
        if layer.inputs != [previous]:
            ins = layer.inputs
            lines.append(f"    inputs: {scalar(ins[0]) if len(ins) == 1 else scalar(ins)}")
        previous = layer.name
    if outputs and layers and outputs[-1] != layers[-1].name:
        lines.append(f"# network outputs: {comment(', '.join(outputs))}")
    return "\n".join(lines) + "\n"
