"""Safe YAML loading that keeps the line and column of every value.

PyYAML's safe composer builds a node tree with positions; we convert it
ourselves into plain dicts, lists and scalars, remembering where each came
from. Only the standard YAML tags are accepted (a ``!!python/object`` tag is
an error), duplicate keys are an error, and alias expansion is bounded so a
"billion laughs" document fails fast instead of eating memory.
"""

from __future__ import annotations

import os

import yaml

from .errors import Loc, SpecError

try:  # libyaml is much faster; both report the same marks
    _Loader = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - PyYAML built without libyaml
    _Loader = yaml.SafeLoader

#: Limits that keep a hostile spec from hanging cnncalc (see README, "Limits").
MAX_FILE_BYTES = int(os.environ.get("CNNCALC_MAX_SPEC_BYTES", 10 * 1024 * 1024))
MAX_NODES = int(os.environ.get("CNNCALC_MAX_YAML_NODES", 2_000_000))

_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


class YMap(dict):
    """A mapping that remembers where it and each of its keys/values stand."""

    loc: Loc
    key_locs: dict
    value_locs: dict

    def loc_of(self, key) -> Loc:
        return self.value_locs.get(key, self.loc)


class YList(list):
    """A sequence that remembers where it and each item stand."""

    loc: Loc
    item_locs: list

    def loc_of(self, index: int) -> Loc:
        if 0 <= index < len(self.item_locs):
            return self.item_locs[index]
        return self.loc


def loc_of(value, default: Loc | None = None) -> Loc:
    return getattr(value, "loc", None) or default or Loc()


def _mark_loc(mark, file: str | None) -> Loc:
    if mark is None:
        return Loc(file)
    return Loc(file, mark.line + 1, mark.column + 1)


class _Converter:
    def __init__(self, file: str | None):
        self.file = file
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def convert(self, node):
        self.count += 1
        if self.count > MAX_NODES:
            raise SpecError(
                f"the YAML document expands to more than {MAX_NODES:,} values "
                "(an alias bomb?); set CNNCALC_MAX_YAML_NODES to raise the limit",
                loc=_mark_loc(node.start_mark, self.file),
            )
        loc = _mark_loc(node.start_mark, self.file)
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                raise SpecError(
                    f"YAML tag '{node.tag}' is not allowed; specs hold plain values only",
                    loc=loc,
                )
            try:
                return self.constructor.construct_object(node, deep=True)
            except yaml.YAMLError as exc:
                raise SpecError(f"bad YAML value: {exc}", loc=loc) from None
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise SpecError(f"YAML tag '{node.tag}' is not allowed", loc=loc)
            out = YList()
            out.loc = loc
            out.item_locs = []
            for item in node.value:
                out.item_locs.append(_mark_loc(item.start_mark, self.file))
                out.append(self.convert(item))
            return out
        if isinstance(node, yaml.MappingNode):
            if node.tag != "tag:yaml.org,2002:map":
                raise SpecError(f"YAML tag '{node.tag}' is not allowed", loc=loc)
            out = YMap()
            out.loc = loc
            out.key_locs = {}
            out.value_locs = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged = self.convert(value_node)
                    for part in merged if isinstance(merged, list) else [merged]:
                        if not isinstance(part, YMap):
                            raise SpecError("'<<' merges mappings only", loc=loc)
                        for k, v in part.items():
                            if k not in out:
                                out[k] = v
                                out.key_locs[k] = part.key_locs.get(k, part.loc)
                                out.value_locs[k] = part.value_locs.get(k, part.loc)
                    continue
                key = self.convert(key_node)
                key_loc = _mark_loc(key_node.start_mark, self.file)
                if isinstance(key, (list, dict)):
                    raise SpecError("a mapping key must be a plain value", loc=key_loc)
                if key in out:
                    first = out.key_locs[key]
                    raise SpecError(
                        f"duplicate key '{key}' (first defined on line {first.line})",
                        loc=key_loc,
                        field=str(key),
                    )
                out[key] = self.convert(value_node)
                out.key_locs[key] = key_loc
                out.value_locs[key] = _mark_loc(value_node.start_mark, self.file)
            return out
        raise SpecError(f"unsupported YAML node {type(node).__name__}", loc=loc)  # pragma: no cover


def load_text(text: str, file: str | None = None):
    """Parse YAML text into YMap/YList/scalars with locations."""
    if "\t" in text:
        # YAML forbids tabs in indentation; say so plainly instead of PyYAML's riddle.
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                raise SpecError(
                    "tab character used for indentation; YAML allows spaces only",
                    loc=Loc(file, number, len(line) - len(stripped) + 1),
                )
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "syntax error"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise SpecError(f"YAML syntax error: {problem}", loc=_mark_loc(mark, file)) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", loc=Loc(file)) from None
    if node is None:
        return None
    return _Converter(file).convert(node)


def read_spec_text(path) -> str:
    """Read a spec file as UTF-8 text with clear errors for everything that can go wrong."""
    name = str(path)
    if os.path.isdir(name):
        raise SpecError("is a directory, not a spec file", loc=Loc(name))
    try:
        size = os.path.getsize(name)
    except FileNotFoundError:
        raise SpecError("no such file", loc=Loc(name)) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", loc=Loc(name)) from None
    if size > MAX_FILE_BYTES:
        raise SpecError(
            f"file is {size:,} bytes; specs are limited to {MAX_FILE_BYTES:,} bytes "
            "(set CNNCALC_MAX_SPEC_BYTES to raise the limit)",
            loc=Loc(name),
        )
    try:
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", loc=Loc(name)) from None
    if b"\x00" in data:
        raise SpecError("is a binary file, not a YAML spec", loc=Loc(name))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError(
            f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            loc=Loc(name, line),
        ) from None
    return text


def load_file(path):
    name = str(path)
    return load_text(read_spec_text(name), name)
