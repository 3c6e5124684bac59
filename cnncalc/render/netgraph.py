"""The network as a drawing sees it: boxes, edges with shapes, nested groups.

One model for every picture (Mermaid, DOT, the HTML report's SVG), built
from an analysis (:func:`from_analysis`) or from a diff (:func:`from_diff`,
added/removed/changed layers marked, optionally only the changed part with
some context). Node and group ids (``n3``, ``g2``) are made here, never from
spec text, so a renderer only has to escape labels.
"""

from __future__ import annotations

from ..graph import INPUT
from ..records import field, record


@record(frozen=False)
class GNode:
    id: str
    name: str
    type: str
    shape: str  # output shape text, 64×56×56
    params: int = 0
    macs: int = 0
    group: str | None = None  # id of the innermost group
    status: str = ""  # diff: added, removed, changed ('' = unchanged or no diff)
    index: int = 0  # the table's row number (0: the network input)
    detail: str = ""  # diff: what changed
    is_input: bool = False
    is_output: bool = False
    members: int = 1  # layers a collapsed group stands for


@record(frozen=False)
class GEdge:
    src: str
    dst: str
    label: str  # the shape carried
    elided: bool = False  # diff: layers left out between the two ends


@record(frozen=False)
class GGroup:
    id: str
    name: str
    kind: str
    parent: str | None  # id


@record(frozen=False)
class NetGraph:
    title: str
    nodes: list[GNode]
    edges: list[GEdge]
    groups: dict[str, GGroup] = field(default_factory=dict)  # by id, parents before children
    note: str = ""

    def children(self) -> tuple[dict, dict]:
        """(group id → child group ids, group id or None → node ids), in order."""
        sub: dict = {}
        members: dict = {}
        for g in self.groups.values():
            sub.setdefault(g.parent, []).append(g.id)
        for n in self.nodes:
            members.setdefault(n.group, []).append(n.id)
        return sub, members


def shape_text(shape) -> str:
    return "×".join(str(n) for n in shape)


def _group_ids(names_in_order, infos) -> dict[str, GGroup]:
    """Groups (by full name) in the order first met, with their ancestors."""
    out: dict[str, GGroup] = {}

    def add(name):
        if name is None or name in out:
            return
        info = infos.get(name)
        parent = info.parent if info is not None else None
        add(parent)
        out[name] = GGroup(f"g{len(out) + 1}", name, info.kind if info is not None else "group",
                           out[parent].id if parent is not None and parent in out else None)

    for name in names_in_order:
        add(name)
    return out


def from_analysis(analysis, depth: int | None = None) -> NetGraph:
    """The analysed network; with ``depth``, groups that deep or deeper as one box each."""
    graph = analysis.graph
    groups = _group_ids([r.node.parent for r in analysis.layers], graph.groups)
    ids = {INPUT: "n0"}
    nodes = [GNode("n0", "input", "input", shape_text(analysis.input_shape), is_input=True)]
    used = {s for r in analysis.layers for s in r.node.inputs}
    for r in analysis.layers:
        ids[r.name] = f"n{r.node.index}"
        parent = groups.get(r.node.parent) if r.node.parent is not None else None
        nodes.append(GNode(ids[r.name], r.name, r.type_name, shape_text(r.output_shape), r.params.trainable,
                           r.macs, parent.id if parent else None, index=r.node.index,
                           is_output=r.name not in used))
    shapes = {INPUT: shape_text(analysis.input_shape), **{r.name: shape_text(r.output_shape) for r in analysis.layers}}
    edges = [GEdge(ids[s], ids[r.name], shapes[s]) for r in analysis.layers for s in r.node.inputs]
    title = graph.name or graph.file or "network"
    out = NetGraph(title, nodes, edges, {g.id: g for g in groups.values()})
    if depth is not None:
        outputs = {grp.id: ids.get(graph.groups[name].output) for name, grp in groups.items()
                   if name in graph.groups and graph.groups[name].output}
        out = collapse(out, depth, outputs)
    return out


def from_diff(d, *, context: int | None = None) -> NetGraph:
    """The union of both versions: every row of the diff is a box (removed
    layers from the old side, the rest from the new), wired by the new
    network's inputs and, for removed layers, the old one's. With
    ``context``: only changed rows and layers up to ``context`` edges away
    from them; a dotted edge stands for the layers left out."""
    from ..compare import REMOVED, SAME

    nodes: list[GNode] = []
    old_ids, new_ids = {INPUT: "n0"}, {INPUT: "n0"}
    nodes.append(GNode("n0", "input", "input", "", is_input=True))
    records = []
    for k, row in enumerate(d.rows, 1):
        rec = row.new if row.new is not None else row.old
        nid = f"n{k}"
        if row.old is not None:
            old_ids[row.old.name] = nid
        if row.new is not None:
            new_ids[row.new.name] = nid
        status = "" if row.status == SAME else row.status
        detail = ", ".join(row.changes)
        if row.renamed:
            detail = ", ".join(x for x in (f"renamed {row.old.name} → {row.new.name}", detail) if x)
        nodes.append(GNode(nid, rec.name, rec.type, rec.shape_text, rec.params, rec.macs, status=status,
                           index=rec.index, detail=detail))
        records.append((nid, row, rec))
    shape_of = {nid: rec.shape_text for nid, _, rec in records}
    # a baseline saved before records carried their inputs: read it as a chain
    before = {}
    for layers in (d.old.layers, d.new.layers):
        previous = INPUT
        for rec in layers:
            before[id(rec)] = previous
            previous = rec.name

    def inputs_of(rec):
        return rec.inputs or (before[id(rec)],)

    edges, seen = [], set()
    for nid, row, rec in records:
        side = (row.old, old_ids) if row.status == REMOVED else (row.new, new_ids)
        for src in inputs_of(side[0]):
            sid = side[1].get(src)
            if sid is None or (sid, nid) in seen:
                continue
            seen.add((sid, nid))
            edges.append(GEdge(sid, nid, shape_of.get(sid, "")))
        if row.status != REMOVED and row.old is not None:  # removed inputs feeding a kept layer
            for src in inputs_of(row.old):
                sid = old_ids.get(src)
                if sid is not None and (sid, nid) not in seen and nodes[int(sid[1:])].status == REMOVED:
                    seen.add((sid, nid))
                    edges.append(GEdge(sid, nid, shape_of.get(sid, "")))
    used = {e.src for e in edges}
    for n in nodes[1:]:
        n.is_output = n.id not in used and n.status != REMOVED
    title = f"{d.old.label} → {d.new.label}"
    graph = NetGraph(title, nodes, edges)
    if context is not None:
        graph = _changed_part(graph, context)
    return graph


def _changed_part(graph: NetGraph, context: int) -> NetGraph:
    """Changed nodes and their neighbourhood; edges between kept nodes that
    pass only through left-out nodes become one dotted (elided) edge."""
    changed = {n.id for n in graph.nodes if n.status}
    if not changed:
        return NetGraph(graph.title, [], [], note="no layer was added, removed or changed")
    adj: dict[str, set] = {}
    for e in graph.edges:
        adj.setdefault(e.src, set()).add(e.dst)
        adj.setdefault(e.dst, set()).add(e.src)
    keep = set(changed)
    frontier = set(changed)
    for _ in range(context):
        frontier = {m for n in frontier for m in adj.get(n, ())} - keep
        keep |= frontier
    outs: dict[str, list[GEdge]] = {}
    for e in graph.edges:
        outs.setdefault(e.src, []).append(e)
    edges, seen = [], {(e.src, e.dst) for e in graph.edges}
    for e in graph.edges:
        if e.src not in keep:
            continue
        if e.dst in keep:
            edges.append(e)
            continue
        # follow left-out nodes to the next kept ones (bounded: each node once)
        stack, visited = [e.dst], set()
        while stack:
            cur = stack.pop()
            if cur in visited:
                continue
            visited.add(cur)
            for nxt in outs.get(cur, ()):
                if nxt.dst in keep:
                    if (e.src, nxt.dst) not in seen:
                        seen.add((e.src, nxt.dst))
                        edges.append(GEdge(e.src, nxt.dst, e.label, elided=True))
                else:
                    stack.append(nxt.dst)
    nodes = [n for n in graph.nodes if n.id in keep]
    return NetGraph(graph.title, nodes, edges, note=f"only the changed layers and {context} "
                    f"layer{'s' if context != 1 else ''} around them; dotted: layers left out")


def collapse(g: NetGraph, depth: int | None, outputs: dict | None = None) -> NetGraph:
    """Groups at nesting level ``depth`` and deeper drawn as one box each
    (their sums; the output shape of the layer the group stands for), as
    ``--depth`` does for the table. ``outputs``: group id → node id whose
    shape the group's box shows (default: its last member)."""
    if depth is None or not g.groups:
        return g
    level = {}
    for gid, grp in g.groups.items():  # parents come before children
        level[gid] = 0 if grp.parent is None else level[grp.parent] + 1

    def top_folded(gid):
        """The outermost group at ``depth`` or deeper that contains ``gid`` (or None)."""
        chain = []
        while gid is not None:
            chain.append(gid)
            gid = g.groups[gid].parent
        for cand in reversed(chain):
            if level[cand] >= depth:
                return cand
        return None

    owner = {n.id: top_folded(n.group) if n.group is not None else None for n in g.nodes}
    nodes, boxes, rep = [], {}, {}
    for n in g.nodes:
        gid = owner[n.id]
        if gid is None:
            nodes.append(n)
            rep[n.id] = n.id
            continue
        box = boxes.get(gid)
        if box is None:
            grp = g.groups[gid]
            box = GNode(f"c{gid}", grp.name, grp.kind, n.shape, 0, 0, grp.parent, index=n.index, members=0)
            boxes[gid] = box
            nodes.append(box)
        box.params += n.params
        box.macs += n.macs
        box.members += 1
        box.shape = n.shape  # the last member's, unless told otherwise
        if n.status and not box.status:
            box.status = "changed"
        rep[n.id] = box.id
    if outputs:
        by_id = {n.id: n for n in g.nodes}
        for gid, box in boxes.items():
            if outputs.get(gid) in by_id:
                box.shape = by_id[outputs[gid]].shape
    for box in boxes.values():
        box.detail = f"{box.members} layers"
    edges, seen = [], set()
    for e in g.edges:
        a, b = rep[e.src], rep[e.dst]
        if a == b or (a, b) in seen:
            continue
        seen.add((a, b))
        edges.append(GEdge(a, b, e.label, e.elided))
    used = {e.src for e in edges}
    for n in nodes:
        n.is_output = n.id not in used and not n.is_input
    kept = {gid: grp for gid, grp in g.groups.items() if level[gid] < depth}
    return NetGraph(g.title, nodes, edges, kept, g.note)
