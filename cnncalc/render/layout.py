"""A layered (Sugiyama-style) layout of a network for the HTML report.

The four classic steps, kept small (as grandalf's and dagre's are):

1. **Layers** by longest path from the input: a layer sits one below its
   deepest input, so a plain chain (VGG) is one layer per row.
2. **Dummy nodes** on every edge that spans more than one layer, so long
   edges (ResNet's shortcuts, U-Net's skips, DenseNet's concatenations) are
   routed around boxes instead of through them.
3. **Ordering** within each layer by barycentre sweeps (down, then up),
   keeping the order with the fewest crossings.
4. **Coordinates**: each layer in turn is placed as close as possible to
   where its neighbours pull it, without overlaps and keeping the order — a
   weighted isotonic regression solved exactly by pool-adjacent-violators.
   A *spine* edge (a node's first input that is also that input's first
   consumer: the main path) pulls hardest, dummies yield, so the main path
   is a straight column, shortcuts run beside it and parallel branches
   (Inception) stand side by side.

Sizes and coordinates are in SVG pixels; the input is node ids in
topological order and edges (source before target).
"""

from __future__ import annotations

from ..records import record

DUMMY_WIDTH = 12
MAX_DUMMIES = 200_000  # bounded work and output, whatever the wiring
SPINE, REAL, DUMMY, LOOSE = 1000.0, 1.0, 0.02, 0.001  # how hard a node holds to its target


@record(frozen=False)
class Layout:
    x: dict  # id → centre x
    y: dict  # id → top y
    width: float
    height: float
    routes: list  # per input edge, in order: [(x, y), ...] from the source's bottom to the target's top
    layer: dict  # id → layer number


def _crossings(upper_pos: dict, lower: list, preds: list) -> int:
    """Crossings between two adjacent layers: pairs of edges whose ends are
    in opposite orders (inversions, counted with a Fenwick tree)."""
    pairs = sorted((upper_pos[u], j) for j, v in enumerate(lower) for u in preds[v] if u in upper_pos)
    if len(pairs) < 2:
        return 0
    n = len(lower)
    tree = [0] * (n + 1)
    count = 0
    for seen, (_, j) in enumerate(pairs):
        k, at_most = j + 1, 0
        while k > 0:
            at_most += tree[k]
            k -= k & -k
        count += seen - at_most  # earlier edges ending further right
        k = j + 1
        while k <= n:
            tree[k] += 1
            k += k & -k
    return count


def _isotonic(targets: list, weights: list, seps: list) -> list:
    """x minimising Σ w·(x − t)² with x[i+1] − x[i] ≥ seps[i] (pool adjacent violators)."""
    offsets = [0.0]
    for s in seps:
        offsets.append(offsets[-1] + s)
    blocks = []  # [value, weight, count]
    for t, w, c in zip(targets, weights, offsets):
        blocks.append([t - c, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks[-1]
            blocks[-1] = [(v1 * w1 + v2 * w2) / (w1 + w2), w1 + w2, n1 + n2]
    out = []
    for value, _, count in blocks:
        out.extend([value] * count)
    return [v + c for v, c in zip(out, offsets)]


def _median(values: list) -> float:
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def layered(ids: list, sizes: dict, edges: list, *, hgap: float = 28, vgap: float = 34,
            margin: float = 20, sweeps: int | None = None, above: dict | None = None,
            below: dict | None = None, cluster: dict | None = None) -> Layout:
    """Lay out ``ids`` (topological order) with ``sizes`` (id → (w, h)) and
    ``edges`` [(source, target)], sources before targets. ``above`` /
    ``below``: extra room (px) a node wants over / under its layer (for the
    labels and borders of the groups it opens or closes). ``cluster``: id →
    innermost group; a node that shares its group with a consumer but with
    none of its inputs is moved down next to that consumer (U-Net's crops
    join their decoder block instead of waiting beside the encoder)."""
    n = len(ids)
    index = {v: i for i, v in enumerate(ids)}
    preds = [[] for _ in range(n)]
    succs = [[] for _ in range(n)]
    for s, t in edges:
        preds[index[t]].append(index[s])
        succs[index[s]].append(index[t])
    # 1. layers by longest path
    layer = [0] * n
    for v in range(n):
        if preds[v]:
            layer[v] = max(layer[u] for u in preds[v]) + 1
    if cluster:
        for v in range(n - 1, -1, -1):
            if not succs[v] or not preds[v]:
                continue
            lowest = min(layer[w] for w in succs[v]) - 1
            mine = cluster.get(ids[v])
            if lowest > layer[v] and mine is not None and any(cluster.get(ids[w]) == mine for w in succs[v]) \
                    and not any(cluster.get(ids[u]) == mine for u in preds[v]):
                layer[v] = lowest
    # the main path: a node's first input that has it as its first consumer
    first_consumer = [min(s) if s else -1 for s in succs]
    spine_edge = {(preds[v][0], v) for v in range(n) if preds[v] and first_consumer[preds[v][0]] == v}
    # 2. dummy nodes: every edge becomes a chain of unit edges
    width = [float(sizes[v][0]) for v in ids]
    height = [float(sizes[v][1]) for v in ids]
    kind = [REAL] * n
    up = [[] for _ in range(n)]  # unit-edge neighbours one layer up / down (real and dummy)
    down = [[] for _ in range(n)]
    chains = []
    spans = sum(layer[index[t]] - layer[index[s]] - 1 for s, t in edges)
    routed = spans <= MAX_DUMMIES  # past that (thousands of layers all wired together): straight edges
    for s, t in edges:
        a, b = index[s], index[t]
        chain = [a]
        strength = SPINE if (a, b) in spine_edge else DUMMY
        for k in range(layer[a] + 1, layer[b] if routed else layer[a] + 1):
            d = len(layer)
            layer.append(k)
            width.append(DUMMY_WIDTH)
            height.append(0.0)
            kind.append(strength)
            up.append([])
            down.append([])
            chain.append(d)
        chain.append(b)
        for p, q in zip(chain, chain[1:]):
            down[p].append(q)
            up[q].append(p)
        chains.append(chain)
    total = len(layer)
    spine_up = [None] * total
    spine_down = [None] * total
    for (a, b), chain in zip(((index[s], index[t]) for s, t in edges), chains):
        if (a, b) in spine_edge:
            for p, q in zip(chain, chain[1:]):
                spine_down[p], spine_up[q] = q, p
    depth = max(layer) + 1 if layer else 0
    layers = [[] for _ in range(depth)]
    for v in range(total):
        layers[layer[v]].append(v)  # real nodes in topological order, dummies after, by edge
    # 3. ordering: barycentre sweeps, keeping the best
    if sweeps is None:
        sweeps = 12 if total < 600 else 6 if total < 3000 else 2 if total < 20000 else 0

    def count_all(order):
        pos = [dict((v, i) for i, v in enumerate(row)) for row in order]
        return sum(_crossings(pos[i - 1], order[i], up) for i in range(1, depth) if len(order[i]) > 1
                   or len(order[i - 1]) > 1)

    if any(len(row) > 1 for row in layers):
        best = [row[:] for row in layers]
        best_count = count_all(best)
        order = [row[:] for row in layers]
        for sweep in range(sweeps):
            rng = range(1, depth) if sweep % 2 == 0 else range(depth - 2, -1, -1)
            for i in rng:
                ref = order[i - 1] if sweep % 2 == 0 else order[i + 1]
                if len(order[i]) < 2:
                    continue
                pos = {v: k for k, v in enumerate(ref)}
                nbrs = up if sweep % 2 == 0 else down
                current = {v: k for k, v in enumerate(order[i])}

                def key(v):
                    ps = [pos[u] for u in nbrs[v] if u in pos]
                    return (sum(ps) / len(ps), current[v]) if ps else (current[v], current[v])
                order[i].sort(key=key)
            c = count_all(order)
            if c < best_count:
                best, best_count = [row[:] for row in order], c
            if best_count == 0:
                break
        layers = best
    # 4. coordinates
    gap_of = [hgap if kind[v] == REAL else hgap / 2 for v in range(total)]
    x = [0.0] * total
    for row in layers:
        acc = 0.0
        for k, v in enumerate(row):
            if k:
                acc += (width[row[k - 1]] + width[v]) / 2 + max(gap_of[row[k - 1]], gap_of[v])
            x[v] = acc
        shift = acc / 2
        for v in row:
            x[v] -= shift

    def place(row, nbrs, spine):
        targets, weights = [], []
        for v in row:
            s = spine[v]
            if s is not None:
                targets.append(x[s])
                weights.append(SPINE)
                continue
            ns = nbrs[v]
            real = [x[u] for u in ns if kind[u] == REAL and u < n]
            if real and v < n:
                targets.append(_median(real))
                weights.append(REAL)
            elif ns:
                targets.append(_median([x[u] for u in ns]))
                weights.append(kind[v] if v >= n else REAL)
            else:
                targets.append(x[v])
                weights.append(LOOSE)
        seps = [(width[a] + width[b]) / 2 + max(gap_of[a], gap_of[b]) for a, b in zip(row, row[1:])]
        for v, value in zip(row, _isotonic(targets, weights, seps)):
            x[v] = value

    passes = 8 if total < 3000 else 2
    for p in range(passes):
        if p % 2 == 0:
            for i in range(1, depth):
                place(layers[i], up, spine_up)
        else:
            for i in range(depth - 2, -1, -1):
                place(layers[i], down, spine_down)
    if depth > 1:  # last, a downward pass: the output follows its inputs
        for i in range(1, depth):
            place(layers[i], up, spine_up)
    left = min((x[v] - width[v] / 2 for v in range(total)), default=0.0)
    right = max((x[v] + width[v] / 2 for v in range(total)), default=0.0)
    xs = {}
    for v in range(total):
        x[v] = round(x[v] - left + margin, 1)
    above, below = above or {}, below or {}
    tops, y_acc = [], margin
    for row in layers:
        y_acc += max((above.get(ids[v], 0) for v in row if v < n), default=0)
        tops.append(y_acc)
        y_acc += max((height[v] for v in row), default=0.0) + vgap
        y_acc += max((below.get(ids[v], 0) for v in row if v < n), default=0)
    row_height = [max((height[v] for v in row), default=0.0) for row in layers]
    ys = [0.0] * total
    for i, row in enumerate(layers):
        for v in row:
            ys[v] = tops[i] + (row_height[i] - height[v]) / 2
    for v in range(n):
        xs[ids[v]] = x[v]
    routes = []
    for chain in chains:
        a, b = chain[0], chain[-1]
        points = [(x[a], ys[a] + height[a])]
        for d in chain[1:-1]:
            points.append((x[d], tops[layer[d]] + row_height[layer[d]] / 2))
        points.append((x[b], ys[b]))
        routes.append(points)
    return Layout(
        x=xs,
        y={ids[v]: ys[v] for v in range(n)},
        width=round(right - left + 2 * margin, 1),
        height=round(y_acc - vgap + margin, 1) if layers else 2 * margin,
        routes=routes,
        layer={ids[v]: layer[v] for v in range(n)},
    )
