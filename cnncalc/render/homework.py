"""Machine formats of the homework reports: ``cnncalc grade`` (json, csv,
markdown, junit) and ``cnncalc compare`` (json, csv, markdown). The terminal
text stays in :mod:`cnncalc.cli.homework`; here only data in, text out."""

from __future__ import annotations

import csv
import io
import json

from . import Format

GRADE_SCHEMA = "cnncalc.grade/1"
COMPARE_SCHEMA = "cnncalc.compare/1"


def _md(text) -> str:
    return str(text).replace("|", "\\|").replace("<", "&lt;").replace("\n", " ")


def _loc(loc):
    return None if loc is None else {"file": loc.file, "line": loc.line, "column": loc.col}


def grade_to_dict(g, path: str) -> dict:
    from ..homework.grade import answer_text

    return {
        "schema": GRADE_SCHEMA,
        "spec": path,
        "score": {"right": g.right, "total": g.total},
        "all_right": g.all_right,
        "marks": [
            {"layer": m.where, "key": m.key, "answer": answer_text(m.answer), "correct": str(m.correct), "ok": m.ok,
             "how": m.how or None, "location": _loc(m.loc)}
            for m in g.marks
        ],
    }


def render_grade(g, path: str, fmt) -> str:
    fmt = Format(fmt)
    data = grade_to_dict(g, path)
    if fmt is Format.JSON:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["layer", "key", "answer", "correct", "ok", "how", "file", "line"])
        for m in data["marks"]:
            loc = m["location"] or {}
            writer.writerow([m["layer"], m["key"], m["answer"], m["correct"], "true" if m["ok"] else "false",
                             m["how"] or "", loc.get("file") or "", loc.get("line") or ""])
        return out.getvalue()
    if fmt is Format.MARKDOWN:
        lines = [f"### cnncalc grade `{_md(path)}`: {g.right}/{g.total}", "",
                 "| | layer | answer | correct | how |", "|:-:|:--|--:|--:|:--|"]
        for m in data["marks"]:
            lines.append(f"| {'✅' if m['ok'] else '❌'} | {_md(m['layer'])} {_md(m['key'])} | {_md(m['answer'])} | "
                         f"{_md(m['correct'])} | {_md(m['how'] or '')} |")
        return "\n".join(lines) + "\n"
    if fmt is Format.JUNIT:
        import xml.etree.ElementTree as ET

        root = ET.Element("testsuites", name="cnncalc grade")
        suite = ET.SubElement(root, "testsuite", name=str(path))
        for m in data["marks"]:
            attrs = {"classname": "cnncalc.grade", "name": f"{m['layer']} {m['key']}"}
            if m["location"] and m["location"]["line"]:
                attrs.update(file=str(m["location"]["file"]), line=str(m["location"]["line"]))
            case = ET.SubElement(suite, "testcase", **attrs)
            if not m["ok"]:
                ET.SubElement(case, "failure", type="WrongAnswer",
                              message=f"answer {m['answer']}, correct {m['correct']}")
        for element in (root, suite):
            element.set("tests", str(g.total))
            element.set("failures", str(g.total - g.right))
            element.set("errors", "0")
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
    raise ValueError(f"grade has no {fmt.value} format")


def render_compare(rows, a: dict, b: dict, fmt) -> str:
    """``a``/``b``: {"name", "spec"}; rows: cnncalc.homework.compare.Row (texts as shown, exact ratios)."""
    fmt = Format(fmt)
    if fmt is Format.JSON:
        data = {"schema": COMPARE_SCHEMA, "a": a, "b": b,
                "rows": [{"quantity": r.quantity, "a": r.a, "b": r.b, "ratio_a_over_b": r.ratio} for r in rows]}
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt is Format.CSV:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["quantity", a["name"], b["name"], "ratio_a_over_b"])
        for r in rows:
            writer.writerow([r.quantity, r.a, r.b, r.ratio])
        return out.getvalue()
    if fmt is Format.MARKDOWN:
        lines = [f"### cnncalc compare: A = `{_md(a['name'])}`, B = `{_md(b['name'])}`", "",
                 "| | A | B | A / B |", "|:--|--:|--:|--:|"]
        lines += [f"| {_md(r.quantity)} | {_md(r.a)} | {_md(r.b)} | {_md(r.ratio)} |" for r in rows]
        return "\n".join(lines) + "\n"
    raise ValueError(f"compare has no {fmt.value} format")
