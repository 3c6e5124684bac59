"""Spec node names from ONNX node names and weight names.

PyTorch's exporter names a node after the modules on the call stack, one
scope component per module, e.g. ``/layer1/layer1.0/conv1/Conv``. Each
component is the module's name *unqualified*: its last non-numeric atom and
any numeric atoms after it (``layer1.0`` for ``layer1.0``, ``downsample.0``
for ``layer2.0.downsample.0``). Every module adds exactly one atom to its
parent's name, so the full name is the parent's name plus the last atom of
the component: ``layer1`` → ``layer1.0`` → ``layer1.0.conv1``.
"""

from __future__ import annotations

def scope_of(node_name: str) -> tuple[str, str] | None:
    """(full module name, last component) of an exporter node name such as
    ``/layer1/layer1.0/conv1/Conv``, or None when it has no scope."""
    if not node_name.startswith("/"):
        return None
    parts = [p for p in node_name.split("/")[1:-1] if p]
    full: list[str] = []
    for part in parts:
        full.append(part.split(".")[-1])
    return ".".join(full), (parts[-1] if parts else "")


def module_of_weight(weight_name: str) -> str | None:
    """``layer1.0.conv1`` for a parameter named ``layer1.0.conv1.weight``."""
    for suffix in (".weight", ".bias", ".running_mean", ".running_var"):
        if weight_name.endswith(suffix):
            stem = weight_name[: -len(suffix)]
            if stem and not stem.startswith("onnx::") and "::" not in stem:
                return stem
    return None


def unqualified(name: str) -> str:
    """The exporter's unqualified form of a full module name (see the module doc)."""
    atoms = name.split(".")
    for i in range(len(atoms) - 1, -1, -1):
        if not atoms[i].isdigit():
            return ".".join(atoms[i:])
    return name


def printable(text: str) -> str:
    """Text from a model file, safe for a terminal, a log or a YAML comment:
    control and other non-printable characters written as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
