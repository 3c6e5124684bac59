"""Homework mode: the work shown in the lectures' notation.

* :mod:`.explain` — each formula, the same formula with the numbers in, the result;
* :mod:`.solve` — the unknown among input, output, kernel, stride, padding, dilation;
* :mod:`.grade` — a spec's ``expect:`` answers checked, with tolerances said aloud;
* :mod:`.matrices` and :mod:`.worked` — small convolutions and poolings with real
  numbers, exact (ints and Fractions), forward, as a matrix product, and backward;
* :mod:`.compare` — two designs side by side.

Nothing here prints; the CLI (``cnncalc.cli.homework``) does. Nothing here
imports numpy: the numbers of a hand example are exact rationals.
"""

from . import keys  # noqa: F401  (registers expect:, expect_total:, values:, weights:, ...)
