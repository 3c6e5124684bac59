"""Homework mode: the work shown in the lectures' notation.

* :mod:`.explain` — each formula, the same formula with the numbers in, the result;
* :mod:`.solve` — the unknown among input, output, kernel, stride, padding, dilation;
* :mod:`.grade` — a spec's ``expect:`` answers checked, with tolerances said aloud;
* :mod:`.matrices` and :mod:`.worked` — small convolutions and poolings with real
  numbers, exact (ints and Fractions), forward, as a matrix product, and backward;
* :mod:`.steps` and :mod:`.modern` — ``cnncalc run``'s step-by-step handler per layer type;
  :mod:`.generic` — the fallback for a type without one, through its executor kernel;
* :mod:`.compare` — two designs side by side.

Nothing here prints; the CLI (``cnncalc.cli.homework``) does. Nothing here
imports numpy (the numbers of a hand example are exact rationals) except
:mod:`.generic`, and only when ``cnncalc run`` meets a layer without a handler.
"""

from . import keys  # noqa: F401  (registers expect:, expect_total:, values:, weights:, ...)
