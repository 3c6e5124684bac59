"""The spec keys homework mode owns, registered at import (light: no work here).

* ``expect:`` on a layer entry — the student's answers for that layer;
* ``expect_total:`` at the top level — answers for the whole network;
* ``values:`` at the top level and ``weights:`` and ``biases:`` on a layer entry —
  the explicit numbers of a small worked example (``cnncalc run``).
"""

from __future__ import annotations

from .. import spec

LAYER_KEYS = ("expect", "weights", "biases")
SECTIONS = ("expect_total", "values", "grad_output")

spec.EXTRA_ENTRY_KEYS.update(LAYER_KEYS)
spec.SECTIONS.update(SECTIONS)
