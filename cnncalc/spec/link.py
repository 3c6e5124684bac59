"""Stage 4: the resolved nodes → the graph's node list in topological order
(stable: spec order where the inputs allow); self-inputs and cycles are
errors."""

from __future__ import annotations

from types import MappingProxyType

from ..errors import SpecError
from ..graph import INPUT, Node
from .resolve import _resolve
from .state import _Ctx


def _link(ctx: _Ctx, file) -> list[Node]:
    """Resolve ``inputs`` (default: the previous node) and order the nodes
    topologically; unknown names and cycles are errors."""
    pending = ctx.nodes
    resolved: list[tuple] = []
    for i, p in enumerate(pending, 1):
        inputs = tuple(_resolve(ctx, ref, p, i) for ref in p.inputs)
        for src in inputs:
            if src == p.name:
                raise SpecError(
                    "a layer cannot take its own output as input",
                    loc=p.inputs_loc or p.loc,
                    field="inputs",
                    layer_index=i,
                    layer_name=p.name,
                )
        resolved.append((p, inputs))
    resolved = _with_pieces(ctx, resolved)
    order = _topological([(p.name, inputs) for p, inputs in resolved])
    if order is None:
        cycle = _find_cycle({p.name: inputs for p, inputs in resolved})
        first = next(p for p, _ in resolved if p.name == cycle[0])
        raise SpecError(
            "the inputs form a cycle: " + " → ".join([*cycle, cycle[0]]),
            loc=first.inputs_loc or first.loc,
            field="inputs",
            layer_name=first.name,
        )
    by_name = {p.name: (p, inputs) for p, inputs in resolved}
    nodes = []
    for i, name in enumerate(order, 1):
        p, inputs = by_name[name]
        nodes.append(
            Node(
                name=p.name,
                layer=p.layer,
                inputs=tuple(inputs),
                index=i,
                loc=p.loc,
                field_locs=MappingProxyType(p.field_locs),
                parent=p.parent,
                extra=MappingProxyType(p.extra),
            )
        )
    return nodes


def _with_pieces(ctx: _Ctx, resolved: list) -> list:
    """``resolved`` with each piece node (cnncalc.spec.resolve._piece) right after the node it comes from."""
    if not ctx.pieces:
        return resolved
    after: dict[str, list] = {}
    for p in sorted(ctx.pieces.values(), key=lambda p: getattr(p.layer, "start", 0)):  # in the order of the axis
        after.setdefault(p.inputs[0].name, []).append((p, (p.inputs[0].name,)))
    out = []
    for item in resolved:
        out.append(item)
        out.extend(after.get(item[0].name, ()))
    return out


def _topological(edges):
    """Kahn's algorithm, stable: keeps spec order where the inputs allow."""
    names = [n for n, _ in edges]
    deps = {n: [s for s in inputs if s != INPUT] for n, inputs in edges}
    position = {n: i for i, n in enumerate(names)}
    if all(position[s] < position[n] for n in names for s in deps[n]):
        return names  # already in order: the common case
    import heapq

    waiting = {n: len(set(d)) for n, d in deps.items()}
    users: dict[str, list[str]] = {}
    for n, d in deps.items():
        for s in set(d):
            users.setdefault(s, []).append(n)
    ready = [position[n] for n in names if waiting[n] == 0]
    heapq.heapify(ready)
    out = []
    while ready:
        n = names[heapq.heappop(ready)]
        out.append(n)
        for u in users.get(n, []):
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, position[u])
    return out if len(out) == len(names) else None


def _find_cycle(deps):
    """One cycle of the input graph, as a list of names (iterative DFS, so a
    cycle through thousands of layers cannot exhaust the stack)."""
    state: dict[str, int] = {}
    for root in deps:
        if root in state:
            continue
        path: list[str] = []
        stack = [(root, iter(deps.get(root, ())))]
        state[root] = 1
        path.append(root)
        while stack:
            n, it = stack[-1]
            for s in it:
                if s == INPUT or s not in deps:
                    continue
                if state.get(s) == 1:
                    return path[path.index(s):]
                if s not in state:
                    state[s] = 1
                    path.append(s)
                    stack.append((s, iter(deps.get(s, ()))))
                    break
            else:
                stack.pop()
                path.pop()
                state[n] = 2
    return [next(iter(deps))]  # pragma: no cover
