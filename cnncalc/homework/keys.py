"""The spec keys homework mode owns, registered at import (light: no work here).

* ``expect:`` on a layer entry — the student's answers for that layer;
* ``expect_total:`` at the top level — answers for the whole network;
* ``values:`` at the top level and ``weights:`` and ``biases:`` on a layer entry —
  the explicit numbers of a small worked example (``cnncalc run``).
"""

from __future__ import annotations

from .. import schema, spec

LAYER_KEYS = ("expect", "weights", "biases")
SECTIONS = ("expect_total", "values", "grad_output", "grading")

spec.EXTRA_ENTRY_KEYS.update(LAYER_KEYS)
spec.SECTIONS.update(SECTIONS)

_NUMBER = {"oneOf": [{"type": "number"}, {"type": "string"}]}
_MATRIX = {"type": "array", "items": {"type": "array", "items": _NUMBER}}
_TENSOR = {"description": "a matrix for one channel, or a list of matrices (one per channel); "
                          "numbers, decimals or fractions written as strings such as \"1/3\"",
           "oneOf": [_MATRIX, {"type": "array", "items": _MATRIX}]}
schema.SECTION_SCHEMAS.setdefault("values", dict(_TENSOR, title="input values for cnncalc run"))
schema.SECTION_SCHEMAS.setdefault("grad_output", dict(_TENSOR, title="∂L/∂output for cnncalc run --backward"))
schema.SECTION_SCHEMAS.setdefault("grading", {
    "title": "which counting conventions cnncalc grade accepts",
    "type": "object",
    "properties": {"bias": {"enum": ["either", "with", "without"]},
                   "layers": {"enum": ["either", "weights", "all"]}},
    "additionalProperties": False,
})
schema.SECTION_SCHEMAS.setdefault("expect_total", {
    "title": "answers for the whole network (cnncalc grade)",
    "type": "object",
    "properties": {k: {} for k in ("params", "parameters", "macs", "multiplications", "flops", "output",
                                   "receptive_field", "rf", "layers")},
    "additionalProperties": False,
})
