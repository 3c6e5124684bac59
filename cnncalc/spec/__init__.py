"""Spec files (format v1) → :class:`~cnncalc.graph.Graph`.

A spec is a YAML mapping::

    name: vgg16                # optional
    input: [3, 224, 224]       # one sample, channels first: [C, L], [C, H, W] or [C, D, H, W]
    defaults:                  # optional, per layer type
      conv: {kernel_size: 3, padding: same, activation: relu}
    layers:
      - conv: {out_channels: 64}        # compact form
        repeat: 2
      - max_pool: {kernel_size: 2}
      - type: dense                     # explicit form
        out_features: 10
        name: head
      - relu                            # bare form

A layer entry may also carry ``name``, ``inputs`` (earlier node names, or
``input``) and ``repeat: N``; a ``{repeat: N, layers: [...]}`` entry repeats a
list. Reusable blocks live under ``blocks:`` (see :mod:`cnncalc.blocks`):
each instance expands in a scope of its own, so node names are hierarchical
(``layer3.1.conv2``) and ``input`` inside a block is the block's input;
``when: false`` skips an entry. Everything is checked here, with the file,
line and column of each value, before any arithmetic runs.

The reader runs in stages, one module each:

* :mod:`.load` — the top-level document and ``input:``;
* :mod:`.expand` — entries, ``repeat:``, groups, blocks, ``when:``, size guards
  (with :mod:`.layer`: one entry's fields → a frozen layer);
* :mod:`.resolve` — ``inputs:`` names → nodes, through the scopes;
* :mod:`.link` — topological order and cycles.

:mod:`.state` holds the data they pass along, :mod:`.common` what they share.
"""

from .. import env  # every environment variable is read there

#: Safety limit on the expanded number of nodes (``repeat`` can multiply);
#: checked before anything is expanded (see README, "Limits"). The stages read
#: it (and MAX_BLOCK_DEPTH) from here at call time.
MAX_LAYERS = env.limit("CNNCALC_MAX_LAYERS")
#: How deeply block definitions may use one another.
MAX_BLOCK_DEPTH = env.limit("CNNCALC_MAX_BLOCK_DEPTH")

from .common import MAX_INT  # noqa: E402  (the stages read the limits above)
from .expand import ENTRY_KEYS, EXTRA_ENTRY_KEYS  # noqa: E402
from .load import CORE_KEYS, SECTIONS, load_spec, loads_spec, parse_spec  # noqa: E402
from .state import GroupInfo  # noqa: E402

__all__ = [
    "CORE_KEYS", "ENTRY_KEYS", "EXTRA_ENTRY_KEYS", "GroupInfo", "MAX_BLOCK_DEPTH", "MAX_INT", "MAX_LAYERS",
    "SECTIONS", "load_spec", "loads_spec", "parse_spec",
]
