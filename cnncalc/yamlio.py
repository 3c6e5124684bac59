"""Safe YAML loading that keeps the line and column of every value.

A spec in the plain subset most specs are written in is read by
:mod:`cnncalc.yamlfast` without importing PyYAML (same values, same
locations); every other text, and every text with a fault, comes here.
We read PyYAML's event stream (libyaml's parser when available: a state
machine, no recursion) and build plain dicts, lists and scalars ourselves
with an explicit stack, remembering where each value came from. Only the
standard YAML tags are accepted (a ``!!python/object`` tag is an error),
duplicate keys are an error, and two limits keep a hostile document from
hanging cnncalc or eating memory:

* ``MAX_NODES``: the number of values the document holds *with every alias
  expanded*. An alias reuses the anchored value (it is not copied), and its
  expanded size is added to the count, so a "billion laughs" document is
  refused after reading it once, in milliseconds.
* ``MAX_DEPTH``: how deeply collections nest (aliases included), so no later
  pass over the document can run out of stack.

Both are read from the environment at import (``cnncalc.env``; README,
"Limits and safety"). Every int, float, bool and null scalar is converted
here, not by PyYAML: its text is checked against the YAML 1.1 form and its
length bounded first (:func:`construct_scalar`).
"""

from __future__ import annotations

import os

from . import env
from .errors import Loc, SpecError
from .lazy import Pattern

#: The PyYAML loader class, chosen on first use (None: libyaml's when PyYAML has it).
#: PyYAML is imported only for a spec that cnncalc.yamlfast leaves to it.
_Loader = None


def _loader_class():
    import yaml

    if _Loader is not None:
        return _Loader
    try:  # libyaml is much faster; both report the same marks
        return yaml.CSafeLoader
    except AttributeError:  # pragma: no cover - PyYAML built without libyaml
        return yaml.SafeLoader

#: Limits that keep a hostile spec from hanging cnncalc (see README, "Limits").
#: The composer costs about 2 µs per value read (more on a busy machine), so
#: 150,000 values keep the worst case (a 2 MiB file of "0,0,0,…") near a
#: third of a second; a 25,000-layer spec written out in full fits.
MAX_FILE_BYTES = env.limit("CNNCALC_MAX_SPEC_BYTES")
MAX_NODES = env.limit("CNNCALC_MAX_YAML_NODES")
MAX_DEPTH = env.limit("CNNCALC_MAX_YAML_DEPTH")

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"
_MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = {
    _STR,
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_IMPLICIT_AS_TEXT = {"tag:yaml.org,2002:timestamp"}  # a bare date is just text in a spec


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


def too_many_values(loc: Loc) -> SpecError:
    """The document holds more than MAX_NODES values, the one at ``loc`` the first too many."""
    return SpecError(
        f"the YAML document expands to more than {MAX_NODES:,} values "
        "(an alias bomb?); set CNNCALC_MAX_YAML_NODES to raise the limit",
        loc=loc,
    )


class _Frame:
    """A collection being built: its value, location, anchor, expanded size
    and depth, and for a mapping the key waiting for its value."""

    __slots__ = ("value", "loc", "anchor", "is_seq", "size", "depth", "key", "key_loc", "has_key", "merges")

    def __init__(self, value, loc, anchor, is_seq):
        self.value = value
        self.loc = loc
        self.anchor = anchor
        self.is_seq = is_seq
        self.size = 1
        self.depth = 1
        self.key = None
        self.key_loc = None
        self.has_key = False
        self.merges = []


class _Composer:
    def __init__(self, loader, file: str | None):
        self.loader = loader
        self.file = file
        self.count = 0
        self.anchors: dict[str, tuple] = {}  # anchor → (value, expanded size, depth)
        self.resolved: dict = {}  # (text, implicit) → tag
        self.plain: dict = {}  # (text, implicit) → (value, tag) of untagged scalars (see node)
        self.constructed: dict = {}  # (tag, text) → value

    def loc(self, event) -> Loc:
        return _mark_loc(event.start_mark, self.file)

    def document(self):
        import yaml

        get = self.loader.get_event
        get()  # StreamStart
        if self.loader.check_event(yaml.StreamEndEvent):
            return None
        get()  # DocumentStart
        value = self.node()
        get()  # DocumentEnd
        if not self.loader.check_event(yaml.StreamEndEvent):
            event = get()
            raise SpecError(
                "the file holds more than one YAML document ('---'); a spec is one document",
                loc=self.loc(event),
            )
        return value

    def grow(self, size: int, loc: Loc) -> None:
        self.count += size
        if self.count > MAX_NODES:
            raise too_many_values(loc)

    def too_deep(self, loc: Loc):
        return _too_deep(loc)

    def scalar(self, event, loc: Loc):
        tag = event.tag
        if tag is None or tag == "!":
            # Specs repeat the same few scalars (16, 3, same, relu) thousands of
            # times: resolve each distinct one once.
            key = (event.value, event.implicit)
            tag = self.resolved.get(key)
            if tag is None:
                import yaml

                tag = self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                if tag in _IMPLICIT_AS_TEXT:
                    tag = _STR
                if len(self.resolved) < 4096:
                    self.resolved[key] = tag
        if tag not in _SCALAR_TAGS and tag != _MERGE:
            raise SpecError(f"YAML tag '{event.tag or tag}' is not allowed; specs hold plain values only", loc=loc)
        if tag in (_STR, _MERGE):
            return event.value, tag
        key = (tag, event.value)
        if key in self.constructed:  # ints, floats, booleans, null: immutable, safe to share
            return self.constructed[key], tag
        value = construct_scalar(tag, event.value, loc)
        if len(self.constructed) < 4096:
            self.constructed[key] = value
        return value, tag

    def node(self):
        """Build one node (and everything under it) without recursion.

        The loop runs once per YAML event (about 9 per layer of a spec), so
        it is written for speed: events are told apart by class identity,
        a location is built as a bare tuple, and an untagged scalar seen
        before (``16``, ``same``, ``relu``...) is one dictionary lookup. That
        cache holds what :meth:`scalar` returned for the same text and
        implicit flags, so :meth:`scalar` must stay a pure function of them
        for untagged scalars (it is: resolution and conversion look at
        nothing else)."""
        import yaml

        get_event = self.loader.get_event
        file = self.file
        new_loc = tuple.__new__
        anchors = self.anchors
        known = self.plain  # (text, implicit) → (value, tag) of untagged scalars
        scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
        seq_start, map_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
        seq_end, map_end = yaml.SequenceEndEvent, yaml.MappingEndEvent
        stack: list[_Frame] = []
        while True:
            event = get_event()
            kind = event.__class__
            mark = event.start_mark
            loc = new_loc(Loc, (file, mark.line + 1, mark.column + 1))
            tag = None
            if kind is scalar_event:
                self.count += 1
                if self.count > MAX_NODES:
                    self.grow(0, loc)
                hit = None
                if event.tag is None or event.tag == "!":
                    key = (event.value, event.implicit)
                    hit = known.get(key)
                if hit is None:
                    try:
                        hit = self.scalar(event, loc)
                    except SpecError as exc:  # name the key the bad value belongs to
                        if stack and stack[-1].has_key and exc.field is None:
                            raise exc.with_context(field=str(stack[-1].key[1])) from None
                        raise
                    if (event.tag is None or event.tag == "!") and len(known) < 4096:
                        known[key] = hit
                value, tag = hit
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1, 0)
                if not stack:
                    return value
                parent = stack[-1]
                parent.size += 1
                container = parent.value
                if parent.is_seq:
                    container.append(value)
                    container.item_locs.append(loc)
                    continue
                # a scalar is never too deep and never a collection key
            elif kind is map_start or kind is seq_start:
                is_seq = kind is seq_start
                if event.tag is not None and event.tag != "!" and event.tag != (_SEQ if is_seq else _MAP):
                    raise SpecError(f"YAML tag '{event.tag}' is not allowed; specs hold plain values only", loc=loc)
                if len(stack) >= MAX_DEPTH:
                    raise self.too_deep(loc)
                self.grow(1, loc)
                if is_seq:
                    container = YList()
                    container.item_locs = []
                else:
                    container = YMap()
                    container.key_locs, container.value_locs = {}, {}
                container.loc = loc
                stack.append(_Frame(container, loc, event.anchor, is_seq))
                continue
            else:
                if kind is map_end or kind is seq_end:
                    frame = stack.pop()
                    value, size, depth, loc = frame.value, frame.size, frame.depth, frame.loc
                    if frame.merges:
                        _merge_keys(value, frame.merges)
                    if frame.anchor is not None:
                        anchors[frame.anchor] = (value, size, depth)
                elif kind is alias_event:
                    if event.anchor not in anchors:
                        raise SpecError(f"unknown alias '*{event.anchor}' (no '&{event.anchor}' before it); to write "
                                        f"text that begins with '*', quote it: '*{event.anchor}'", loc=loc)
                    value, size, depth = anchors[event.anchor]
                    self.grow(size, loc)
                else:  # pragma: no cover - the parser yields nothing else inside a document
                    raise SpecError(f"unexpected YAML {kind.__name__}", loc=loc)
                if not stack:
                    return value
                parent = stack[-1]
                parent.size += size
                if depth >= parent.depth:
                    parent.depth = depth + 1
                if len(stack) + depth > MAX_DEPTH:
                    raise self.too_deep(loc)
                container = parent.value
                if parent.is_seq:
                    container.append(value)
                    container.item_locs.append(loc)
                    continue
                if not parent.has_key and isinstance(value, (list, dict)):
                    raise SpecError("a mapping key must be a plain value", loc=loc)

            # a mapping: this value is its next key, or the value of the waiting key
            if not parent.has_key:
                parent.key, parent.key_loc, parent.has_key = (tag, value), loc, True
                continue
            (key_tag, key), key_loc = parent.key, parent.key_loc
            parent.has_key = False
            if key_tag == _MERGE:
                parent.merges.append((value, loc))
                continue
            if key in container:
                first = container.key_locs[key]
                raise SpecError(
                    f"duplicate key '{key}' (first defined on line {first.line})",
                    loc=key_loc,
                    field=str(key),
                )
            container[key] = value
            container.key_locs[key] = key_loc
            container.value_locs[key] = loc


def _merge_keys(value: YMap, merges: list) -> None:
    """Apply the ``<<:`` merges of a finished mapping: keys written in the
    mapping win over merged ones."""
    for merged, merge_loc in merges:
        for part in merged if isinstance(merged, list) else [merged]:
            if not isinstance(part, YMap):
                raise SpecError("'<<' merges mappings only", loc=merge_loc)
            for k, v in part.items():
                if k not in value:
                    value[k] = v
                    value.key_locs[k] = part.key_locs.get(k, part.loc)
                    value.value_locs[k] = part.value_locs.get(k, part.loc)


# -- scalars ----------------------------------------------------------------------
#
# PyYAML's own converters take any text a tag names (``!!int ""`` raises
# IndexError, ``!!bool maybe`` KeyError) and convert numbers of any length
# (a sexagesimal integer of 5,000 groups, a decimal of 200,000 digits: seconds
# of CPU on Python 3.10). Every int, float, bool and null is read here instead:
# the text is checked against the YAML 1.1 form first, its length is bounded,
# and only then converted.

#: Longest number accepted in a spec, in characters (a 10^18 limit needs 19
#: digits, 62 in binary; the field checks then apply the 10^18 rule).
MAX_NUMBER_CHARS = 100

_INT_FORMS = (
    (Pattern(r"0b[01]+"), lambda t: int(t[2:], 2)),
    (Pattern(r"0x[0-9a-fA-F]+"), lambda t: int(t[2:], 16)),
    (Pattern(r"0[0-7]+"), lambda t: int(t, 8)),
    (Pattern(r"0|[1-9][0-9]*"), int),
    (Pattern(r"[1-9][0-9]*(?::[0-5]?[0-9])+"), lambda t: _sexagesimal(t, int)),
)
_FLOAT = Pattern(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:e[-+]?[0-9]+)?")
_FLOAT_SEXAGESIMAL = Pattern(r"[0-9]+(?::[0-5]?[0-9])+\.[0-9]*")
_BOOLS = {"yes": True, "no": False, "true": True, "false": False, "on": True, "off": False, "y": True, "n": False}
_NULLS = ("", "~", "null", "Null", "NULL")


def _sexagesimal(text: str, kind):
    value = kind(0)
    for part in text.split(":"):
        value = value * 60 + kind(part)
    return value


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def construct_scalar(tag: str, text: str, loc: Loc):
    """The value of one int, float, bool or null scalar; SpecError with its
    line for anything that is not that type's YAML 1.1 form or is too long."""
    kind = tag.rsplit(":", 1)[-1]
    if kind in ("int", "float") and len(text) > MAX_NUMBER_CHARS:
        raise SpecError(
            f"bad YAML value {_short(text)!r}: a number of {len(text):,} characters is too large "
            f"(a spec number has at most {MAX_NUMBER_CHARS} characters; integers go up to 10^18)",
            loc=loc,
        )
    if kind == "bool":
        value = _BOOLS.get(text.lower())
        if value is None:
            raise SpecError(f"bad YAML value {_short(text)!r} for !!bool: write true or false", loc=loc)
        return value
    if kind == "null":
        if text not in _NULLS:
            raise SpecError(f"bad YAML value {_short(text)!r} for !!null: write null or ~", loc=loc)
        return None
    body = text.replace("_", "")
    sign = -1 if body[:1] == "-" else 1
    body = body[1:] if body[:1] in "+-" else body
    if kind == "int":
        for form, convert in _INT_FORMS:
            if form.fullmatch(body):
                return sign * convert(body)
        raise SpecError(f"bad YAML value {_short(text)!r} for !!int: not an integer", loc=loc)
    low = body.lower()
    if low in (".inf", ".nan") or (_FLOAT.fullmatch(low) and "e" in low and float(low) == float("inf")):
        raise SpecError(f"bad YAML value {_short(text)!r}: a spec number must be finite (no infinity or NaN)", loc=loc)
    if _FLOAT.fullmatch(low) and any(c.isdigit() for c in low):
        return sign * float(low)
    if _FLOAT_SEXAGESIMAL.fullmatch(low):
        return sign * _sexagesimal(low, float)
    raise SpecError(f"bad YAML value {_short(text)!r} for !!float: not a number", loc=loc)


#: libyaml 0.2.5 (PyYAML 6.0.4 and later) refuses flow collections nested
#: deeper than this on its own, whatever CNNCALC_MAX_YAML_DEPTH says.
LIBYAML_MAX_DEPTH = 1000


def _too_deep(loc: Loc, parser_limit: bool = False) -> SpecError:
    if parser_limit and MAX_DEPTH >= LIBYAML_MAX_DEPTH:
        return SpecError(
            f"the YAML document nests more than {LIBYAML_MAX_DEPTH:,} levels deep, the YAML parser's own "
            f"limit (CNNCALC_MAX_YAML_DEPTH={MAX_DEPTH:,} cannot raise it)",
            loc=loc,
        )
    return SpecError(
        f"the YAML document nests more than {MAX_DEPTH} levels deep; "
        "set CNNCALC_MAX_YAML_DEPTH to raise the limit",
        loc=loc,
    )


def excerpt(text: str, line: int, col: int | None, *, before: int = 0) -> str:
    """The spec's line ``line`` (and ``before`` lines above it) with a gutter
    and a caret under column ``col``, for the error message::

        4 |     name: x
          |         ^

    Control characters are shown as '?' and tabs as one space (so the caret
    stays under its column)."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines):
        return ""

    def clean(s: str) -> str:
        return "".join(" " if ch == "\t" else ch if ch.isprintable() else "?" for ch in s)

    # a long line (a minified spec, a hostile one) is shown as a window around the column
    start = max(0, (col or 1) - 1 - EXCERPT_WIDTH // 2) if col is not None else 0

    def window(s: str) -> str:
        s = clean(s)
        if len(s) <= EXCERPT_WIDTH and start == 0:
            return s
        part = s[start:start + EXCERPT_WIDTH]
        return ("…" if start else "") + part + ("…" if start + EXCERPT_WIDTH < len(s) else "")

    width = len(str(line))
    out = [f"  {n:>{width}} | {window(lines[n - 1])}" for n in range(max(1, line - before), line + 1)]
    if col is not None:
        out.append(f"  {'':>{width}} | {' ' * (col - 1 - start + (1 if start else 0))}^")
    return "\n".join(out)


#: Characters of a spec line an error excerpt shows (a window around the column).
EXCERPT_WIDTH = 120


_BARE_ITEM = Pattern(r"^(\s*)-\s+([A-Za-z_][\w.]*)\s*(#.*)?$")
_NO_SPACE = Pattern(r"^\s*(?:-\s+)?([A-Za-z_][\w.]*):(?![\s/]|$)(\S.*)$")


def _hint(problem: str, context: str, lines: list[str], line: int, col: int, context_mark) -> tuple[str, int]:
    """What to write instead, for the YAML slips people make most; and how many
    lines above the error the excerpt should show."""
    here = lines[line - 1] if 1 <= line <= len(lines) else ""
    previous = next(((n, lines[n - 1]) for n in range(line - 1, 0, -1) if lines[n - 1].strip()
                     and not lines[n - 1].lstrip().startswith("#")), (None, ""))
    if "mapping values are not allowed" in problem:
        for n in range(line, max(0, line - 3), -1):  # 'key:value' a line or two above, or here
            match = _NO_SPACE.match(lines[n - 1]) if n <= len(lines) else None
            if match:
                key, value = match.groups()
                return (f"line {n} has no space after the colon of '{key}:'; YAML needs one: "
                        f"'{key}: {value}'"), line - n
        bare = _BARE_ITEM.match(previous[1])
        if bare and len(here) - len(here.lstrip()) > len(bare.group(1)):
            word = bare.group(2)
            return (f"'- {word}' on line {previous[0]} is a bare layer, so it cannot take the fields below it; "
                    f"write '- {word}:' (with a colon) and keep the fields indented under it, "
                    f"or '- {{{word}: {{}}, name: ...}}'"), line - previous[0]
        if here[: col - 1].count(": ") >= 1:
            key = here[: col - 1].split(": ")[-1].strip().lstrip("- ")
            return (f"a value cannot itself be 'key: value' on the same line; write "
                    f"'{{{key}: ...}}' in braces, or put '{key}: ...' on a line of its own, indented"), 0
        return "a ': ' starts a mapping value, which is not allowed here; quote the text if it is text", 0
    if "expected ',' or ']'" in problem or "expected ',' or '}'" in problem:
        bracket, closing = ("[", "]") if "]" in problem else ("{", "}")
        if context_mark is not None:
            return (f"the '{bracket}' opened on line {context_mark.line + 1}, column {context_mark.column + 1} "
                    f"is not closed; add '{closing}' at the end of it"), 0
        return f"a '{bracket}' is not closed; add '{closing}'", 0
    if "alias" in context or "anchor" in context:
        return ("'*' and '&' start YAML aliases and anchors; quote text that begins with them, "
                "e.g. name: '*conv*'"), 0
    if "'\\t'" in problem or "\t" in here:
        return "YAML allows spaces only for indentation and between tokens; replace the tab with spaces", 0
    if "could not find expected ':'" in problem:
        return "each line of a mapping needs 'key: value' (a colon and a space); is a ':' missing?", 0
    return "", 0


def _yaml_error(exc, text: str, file: str | None) -> SpecError:
    """Translate PyYAML's error into cnncalc's words at the boundary, with a
    hint for the common slips (a bare layer followed by its fields, a missing
    space after a colon, a value that is itself 'key: value', an unclosed
    bracket, an unquoted '*' or '&', a tab) and the line with a caret.

    PyYAML 6.0.4 (libyaml 0.2.5's parser) stops deeply nested flow collections
    itself ("exceeded maximum nesting depth") before our composer sees them:
    the user gets the same message as from our own depth limit, with the
    variable that raises it."""
    import yaml

    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or "syntax error"
        if "nesting depth" in problem:
            return _too_deep(_mark_loc(mark, file), parser_limit=True)
        loc = _mark_loc(mark, file)
        hint, before = "", 0
        if loc.line is not None:
            hint, before = _hint(problem, exc.context or "", text.splitlines(), loc.line, loc.col,
                                 exc.context_mark)
        if exc.context:
            problem = f"{problem} ({exc.context})"
        err = SpecError(f"YAML syntax error: {problem}" + (f"; {hint}" if hint else ""), loc=loc)
        if hint.startswith("the '") and exc.context_mark is not None:  # an unclosed bracket: show where it opened
            err.excerpt = excerpt(text, exc.context_mark.line + 1, exc.context_mark.column + 1)
        elif loc.line is not None:
            err.excerpt = excerpt(text, loc.line, loc.col, before=before)
        return err
    position = getattr(exc, "position", None)
    if isinstance(position, int):  # a ReaderError: a character YAML does not allow
        line = text.count("\n", 0, position) + 1
        col = position - (text.rfind("\n", 0, position) + 1) + 1
        reason = getattr(exc, "reason", None) or "unacceptable character"
        char = getattr(exc, "character", None)
        what = f" {char!r}" if isinstance(char, str) else ""
        err = SpecError(f"YAML error: {reason}{what}", loc=Loc(file, line, col))
        err.excerpt = excerpt(text, line, col)
        return err
    return SpecError(f"YAML error: {exc}", loc=Loc(file, 1, 1))


def load_text(text: str, file: str | None = None):
    """Parse YAML text into YMap/YList/scalars with locations."""
    if "\t" in text:
        # YAML forbids tabs in indentation; say so plainly instead of PyYAML's riddle.
        for number, line in enumerate(text.splitlines(), 1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                err = SpecError(
                    "tab character used for indentation; YAML allows spaces only: indent with spaces",
                    loc=Loc(file, number, len(line) - len(stripped) + 1),
                )
                err.excerpt = excerpt(text, number, len(line) - len(stripped) + 1)
                raise err
    from .yamlfast import load

    try:
        value = load(text, file)  # the plain subset most specs are written in, without importing PyYAML
    except SpecError as err:  # over the value limit: the composer's error, at the same value
        if err.loc.line is not None:
            err.excerpt = excerpt(text, err.loc.line, err.loc.col)
        raise
    if value is not None:
        return value
    import yaml

    loader = _loader_class()(text)
    try:
        return _Composer(loader, file).document()
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, text, file) from None
    except SpecError as err:  # the composer's own (unknown alias, duplicate key, tag): show the line too
        if err.loc.line is not None and not getattr(err, "excerpt", None):
            err.excerpt = excerpt(text, err.loc.line, err.loc.col)
        raise
    finally:
        loader.dispose()


def read_spec_text(path) -> str:
    """Read a spec file as UTF-8 text with clear errors for everything that can go wrong."""
    return read_text_file(path)


def read_text_file(path, *, what: str = "spec", limit: int | None = None,
                   variable: str = "CNNCALC_MAX_SPEC_BYTES") -> str:
    """A regular file's UTF-8 text, read with a bound: directories, FIFOs,
    devices and sockets are refused before opening (a FIFO would block, a
    device read forever), and a file over ``limit`` bytes before reading it."""
    import stat

    name = str(path)
    limit = MAX_FILE_BYTES if limit is None else limit
    try:
        st = os.stat(name)
    except FileNotFoundError:
        raise SpecError("no such file", loc=Loc(name)) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", loc=Loc(name)) from None
    if stat.S_ISDIR(st.st_mode):
        raise SpecError(f"is a directory, not a {what} file", loc=Loc(name))
    if not stat.S_ISREG(st.st_mode):
        kind = ("a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a character device"
                if stat.S_ISCHR(st.st_mode) else "a block device" if stat.S_ISBLK(st.st_mode)
                else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise SpecError(f"is {kind}, not a {what} file; give the path of a regular file", loc=Loc(name))
    if st.st_size > limit:
        raise SpecError(
            f"file is {st.st_size:,} bytes; {what}s are limited to {limit:,} bytes "
            f"(set {variable} to raise the limit)",
            loc=Loc(name),
        )
    try:
        with open(name, "rb") as handle:
            # Bounded even when the size lied (a file growing while we read).
            data = handle.read(limit + 1)
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", loc=Loc(name)) from None
    if len(data) > limit:
        raise SpecError(
            f"file is larger than the limit of {limit:,} bytes for {what}s (set {variable} to raise the limit)",
            loc=Loc(name),
        )
    if b"\x00" in data:
        at = data.index(b"\x00")
        line = data.count(b"\n", 0, at) + 1
        col = at - (data.rfind(b"\n", 0, at) + 1) + 1
        raise SpecError(f"is a binary file, not a YAML spec (a NUL byte at offset {at})" if what == "spec" else
                        f"is a binary file, not a {what} (a NUL byte at offset {at})", loc=Loc(name, line, col))
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0  # a byte-order mark, as "utf-8-sig" (not imported for it)
    try:
        text = data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        at = bom + exc.start  # the offset in the file
        line = data[:at].count(b"\n") + 1
        raise SpecError(
            f"is not UTF-8 text (byte 0x{data[at]:02x} at offset {at})",
            loc=Loc(name, line),
        ) from None
    return text


def load_file(path):
    name = str(path)
    return load_text(read_spec_text(name), name)


def from_data(value, file: str | None = "<dict>"):
    """Plain Python data (dicts, lists, str/int/float/bool/None) → the
    YMap/YList the spec reader takes, for ``loads_spec({...})``. No line
    numbers exist, so every location is the ``file`` label; the same limits
    as for YAML text apply (MAX_NODES values, MAX_DEPTH nesting), and keys
    must be plain values. Built with an explicit stack, never recursion."""
    loc = Loc(file)
    count = 0

    def new(item, depth):
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise SpecError(f"the spec holds more than {MAX_NODES:,} values; set CNNCALC_MAX_YAML_NODES "
                            "to raise the limit", loc=loc)
        if isinstance(item, dict):
            if depth >= MAX_DEPTH:
                raise _too_deep(loc)
            out = YMap()
            out.loc, out.key_locs, out.value_locs = loc, {}, {}
            return out
        if isinstance(item, (list, tuple)):
            if depth >= MAX_DEPTH:
                raise _too_deep(loc)
            out = YList()
            out.loc, out.item_locs = loc, []
            return out
        if item is None or isinstance(item, (str, int, float, bool)):
            return item
        raise SpecError(f"a spec holds plain values (mappings, lists, strings, numbers, booleans, null), "
                        f"not {type(item).__name__}", loc=loc)

    root = new(value, 0)
    stack = [(value, root, 0)] if isinstance(root, (YMap, YList)) else []
    while stack:
        source, target, depth = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            if isinstance(target, YMap) and not (key is None or isinstance(key, (str, int, float, bool))):
                raise SpecError(f"a mapping key must be a plain value, got {type(key).__name__}", loc=loc)
            built = new(item, depth + 1)
            if isinstance(target, YMap):
                target[key] = built
                target.key_locs[key] = target.value_locs[key] = loc
            else:
                target.append(built)
                target.item_locs.append(loc)
            if isinstance(built, (YMap, YList)):
                stack.append((item, built, depth + 1))
    return root
