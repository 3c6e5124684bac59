"""A reader for the plain YAML most specs are written in, without PyYAML.

Importing PyYAML (its pure-Python loader comes with the C one, and compiles
regular expressions on import) costs about as much as the rest of ``cnncalc
analyze``'s start. Specs are block mappings and sequences of keys, numbers,
words and one-line ``[...]``/``{...}`` lists, which this module reads line by
line into the same YMap/YList values, with the same line and column for every
value, as :mod:`cnncalc.yamlio`'s composer over PyYAML's parser.

It never decides anything PyYAML would decide differently: :func:`load`
returns None — and the caller reads the text with PyYAML, which is the
reference for every message — for anything outside that plain subset: tags,
anchors and aliases (a text showing one is left to PyYAML before any
reading), block scalars with indicators or blank lines, multi-line or
escaped scalars, several documents, a scalar that could resolve to anything
but a decimal int, a dotted float, a boolean, null or a word, duplicate keys,
odd indentation, a character PyYAML refuses, nesting over the depth limit.
The one error it gives itself is the value limit (CNNCALC_MAX_YAML_NODES),
at the same value as PyYAML's composer, which counts in the same order: an
oversized document is not read twice. tests/test_yamlfast.py holds it to
PyYAML on every YAML file of the repository and on generated and damaged
documents.
"""

from __future__ import annotations

from .errors import Loc
from .yamlio import MAX_DEPTH, MAX_NODES, YList, YMap, too_many_values

_BOOLS = {
    "yes": True, "Yes": True, "YES": True, "no": False, "No": False, "NO": False,
    "true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False,
    "on": True, "On": True, "ON": True, "off": False, "Off": False, "OFF": False,
}
_NULLS = ("~", "null", "Null", "NULL")
_DIGITS = "0123456789"
_WORD_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_$")
_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
#: characters a plain word may hold here (anything else: PyYAML decides)
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+/*()=;%$ ")
_FLOW_STOP = ",[]{}"


class _Decline(Exception):
    """Outside the subset: PyYAML reads the text."""


def _number(text: str):
    """A decimal int or a float with a dot (YAML 1.1 as PyYAML resolves
    them), or _Decline for any other text starting with a digit or sign."""
    body = text[1:] if text[0] in "+-" else text
    if not body or len(text) > 40:
        raise _Decline
    if body.isdigit() and body.isascii():
        if len(body) > 1 and body[0] == "0":
            raise _Decline  # octal in YAML 1.1
        return int(text)
    whole, dot, rest = body.partition(".")
    if not dot or not whole or not (whole.isdigit() and whole.isascii()):
        raise _Decline
    fraction, e, exponent = rest.lower().partition("e")
    if fraction and not (fraction.isdigit() and fraction.isascii()):
        raise _Decline
    if e and not (exponent[:1] in ("+", "-") and exponent[1:].isdigit() and exponent[1:].isascii()):
        raise _Decline
    value = float(text)
    if value - value != 0:  # infinite: PyYAML's path says a spec number must be finite
        raise _Decline
    return value


def _is_amount(text: str) -> bool:
    """Digits, an optional '.' and digits, then letters only (``5M``,
    ``2.5GiB``, ``1e``): text for PyYAML, whose int, float and timestamp
    forms all need something else after the digits."""
    if text[0] == "0":
        return False  # 0x..., 0b...: PyYAML's hexadecimal and binary ints
    i = 0
    n = len(text)
    while i < n and text[i] in _DIGITS:
        i += 1
    if i < n and text[i] == ".":
        i += 1
        j = i
        while i < n and text[i] in _DIGITS:
            i += 1
        if i == j:
            return False
    rest = text[i:]
    return bool(rest) and rest.isascii() and rest.isalpha()


def _plain(text: str, block: bool = False):
    """The value of a plain scalar as PyYAML's resolver and cnncalc's
    constructor make it, for the forms this reader takes: in a block, any
    printable text starting with a letter, '_' or '$' (a description), in a
    flow collection words of letters, digits and ``_.-+/*()=;%$``."""
    if text in _BOOLS:
        return _BOOLS[text]
    if text in _NULLS:
        return None
    first = text[0]
    if first in _DIGITS or first in "+-":
        if first in _DIGITS and _is_amount(text):
            return text  # 5M, 64MiB, 2.5G: text to YAML, read by the budget's own parser
        if first != "-" or (len(text) > 1 and text[1] in _DIGITS):
            return _number(text)
        raise _Decline
    if first not in _WORD_START:
        raise _Decline
    if block:
        if ": " in text or " #" in text or "\t" in text or text.endswith(":"):
            raise _Decline
    elif not _WORD_CHARS.issuperset(text) or ":" in text:
        raise _Decline
    return text


_KEYS: dict[str, object] = {}  # key text → its value: specs repeat a few dozen keys thousands of times


def _key(text: str):
    """A block or flow mapping key: a plain word of letters, digits and '_', or decimal digits."""
    try:
        return _KEYS[text]
    except KeyError:
        pass
    value = _new_key(text)
    if len(_KEYS) < 4096:
        _KEYS[text] = value
    return value


def _new_key(text: str):
    if text.isdigit() and text.isascii():
        return _number(text)  # an index: overrides: {0: ...}
    if not text or len(text) > 128 or text[0] not in _WORD_START or text[0] == "$" or not _KEY_CHARS.issuperset(text):
        raise _Decline  # (YAML limits a simple key to 1,024 characters)
    return _plain(text)


class _Reader:
    def __init__(self, file):
        self.file = file
        self.count = 0

    def grow(self, loc: Loc) -> None:
        """Count one value read at ``loc``: past the limit, the error PyYAML's
        composer gives, at the same value (it counts in the same order), so
        that an oversized document is not read a second time."""
        self.count += 1
        if self.count > MAX_NODES:
            raise too_many_values(loc)

    def new_map(self, loc) -> YMap:
        self.grow(loc)
        out = YMap()
        out.loc, out.key_locs, out.value_locs = loc, {}, {}
        return out

    def new_list(self, loc) -> YList:
        self.grow(loc)
        out = YList()
        out.loc, out.item_locs = loc, []
        return out

    def quoted(self, line: str, start: int) -> tuple[str, int]:
        """A one-line quoted scalar at ``start``: its text and the index after it."""
        quote = line[start]
        i = start + 1
        parts = []
        while True:
            end = line.find(quote, i)
            if end < 0:
                raise _Decline  # spans lines, or unclosed
            parts.append(line[i:end])
            if quote == "'" and line[end + 1:end + 2] == "'":
                parts.append("'")
                i = end + 2
                continue
            text = "".join(parts)
            if quote == '"' and "\\" in text:
                raise _Decline  # escapes: PyYAML reads them
            return text, end + 1

    def cached_flow(self, line: str, start: int, number: int, depth: int):
        """:meth:`flow`, read once per distinct text: specs repeat the same
        ``{out_channels: 16, kernel_size: 3}`` on many lines, so the first
        reading is kept as a template (columns relative to the line) and
        later lines only build the values and locations."""
        rest = line[start:]
        known = _FLOW_TEMPLATES.get(rest)
        if known is None:
            saved = self.count
            value, end = self.flow(line, start, number, depth)
            known = (_template(value), end - start, self.count - saved)
            if len(_FLOW_TEMPLATES) < 4096:
                _FLOW_TEMPLATES[rest] = known
            return value, end
        template, length, count = known
        if depth + template.depth > MAX_DEPTH:
            raise _Decline
        if self.count + count > MAX_NODES:  # the limit falls inside: read it value by value
            return self.flow(line, start, number, depth)
        self.count += count
        return _build(template, self.file, number, start), start + length

    def flow(self, line: str, start: int, number: int, depth: int):
        """A one-line flow collection at ``start``: the value and the index after it."""
        file = self.file
        n = len(line)
        stack: list[list] = []  # [container, is_map, waiting key, its loc], innermost last
        i = start
        want_value = True
        while True:
            while i < n and line[i] == " ":
                i += 1
            ch = line[i] if i < n else ""
            top = stack[-1] if stack else None
            if not want_value:  # after an entry: ',' or the end of the collection
                if ch == ",":
                    i += 1
                    while i < n and line[i] == " ":
                        i += 1
                    if i >= n or line[i] in ",]}":
                        raise _Decline  # an empty entry
                    want_value = True
                    continue
                if ch == ("}" if top[1] else "]") and top[2] is None:
                    done = stack.pop()[0]
                    i += 1
                    if not stack:
                        return done, i
                    continue
                raise _Decline
            loc = Loc(file, number, i + 1)
            if top is not None and top[1] and top[2] is None:  # a flow mapping's key
                end = i
                while end < n and line[end] in _KEY_CHARS:
                    end += 1
                if end >= n - 1 or line[end] != ":" or line[end + 1] != " ":
                    raise _Decline
                top[2], top[3] = _key(line[i:end]), loc
                self.grow(loc)
                if top[2] in top[0]:
                    raise _Decline  # duplicate
                i = end + 1
                continue
            if ch in ("[", "{"):
                if depth + len(stack) >= MAX_DEPTH:
                    raise _Decline
                container = self.new_list(loc) if ch == "[" else self.new_map(loc)
                if top is not None:
                    _add(top, container, loc)
                stack.append([container, ch == "{", None, None])
                i += 1
                while i < n and line[i] == " ":
                    i += 1
                if i < n and line[i] == ("}" if ch == "{" else "]"):
                    want_value = False  # empty: closed next turn
                continue
            if top is None:
                raise _Decline
            if ch in ("'", '"'):
                value, i = self.quoted(line, i)
            else:
                if not ch or ch in _FLOW_STOP or ch in "#&*!|>%@`?:":
                    raise _Decline
                end = i
                while end < n and line[end] not in _FLOW_STOP:
                    end += 1
                text = line[i:end].rstrip(" ")
                if "#" in text or ":" in text:
                    raise _Decline
                value = _plain(text)
                i = end
            self.grow(loc)
            _add(top, value, loc)
            want_value = False


class _Template:
    """A flow collection read once: columns relative to its line's start."""

    __slots__ = ("is_map", "col", "entries", "depth")

    def __init__(self, is_map, col, entries, depth):
        self.is_map, self.col, self.entries, self.depth = is_map, col, entries, depth


#: rest of a line from a flow collection's '[' or '{' → (template, length, values counted)
_FLOW_TEMPLATES: dict[str, tuple] = {}


def _template(value) -> _Template:
    base = value.loc.col

    def make(v):
        if isinstance(v, YMap):
            entries = [(k, v.key_locs[k].col - base, make(x), v.value_locs[k].col - base) for k, x in v.items()]
            children = [e[2] for e in entries]
        elif isinstance(v, YList):
            entries = [(make(x), loc.col - base) for x, loc in zip(v, v.item_locs)]
            children = [e[0] for e in entries]
        else:
            return v  # a scalar: immutable, shared by every reading
        depth = 1 + max((c.depth for c in children if c.__class__ is _Template), default=0)
        return _Template(isinstance(v, YMap), v.loc.col - base, entries, depth)

    return make(value)


def _build(template: _Template, file, number: int, start: int):
    """The values and locations of ``template`` read at column ``start`` (0-based) of line ``number``."""
    new_loc = tuple.__new__
    base = start + 1

    def build(t):
        loc = new_loc(Loc, (file, number, base + t.col))
        if t.is_map:
            out = YMap()
            out.loc = loc
            out.key_locs = key_locs = {}
            out.value_locs = value_locs = {}
            for key, key_col, child, value_col in t.entries:
                out[key] = build(child) if child.__class__ is _Template else child
                key_locs[key] = new_loc(Loc, (file, number, base + key_col))
                value_locs[key] = new_loc(Loc, (file, number, base + value_col))
        else:
            out = YList()
            out.loc = loc
            out.item_locs = item_locs = []
            for child, col in t.entries:
                out.append(build(child) if child.__class__ is _Template else child)
                item_locs.append(new_loc(Loc, (file, number, base + col)))
        return out

    return build(template)


def _add(top: list, value, loc) -> None:
    """Put a value into the flow collection ``top`` (after its key, in a mapping)."""
    container, is_map, key, key_loc = top
    if not is_map:
        container.append(value)
        container.item_locs.append(loc)
        return
    container[key] = value
    container.key_locs[key] = key_loc
    container.value_locs[key] = loc
    top[2] = top[3] = None


def _content_end(line: str, start: int) -> int:
    """Where the text of a line ends: before a comment (' #') and trailing spaces."""
    cut = line.find(" #", start)
    end = len(line) if cut < 0 else cut
    while end > start and line[end - 1] == " ":
        end -= 1
    return end


def load(text: str, file: str | None = None):
    """The spec's YAML as yamlio.load_text reads it, or None where PyYAML must."""
    try:
        return _load(text, file)
    except (_Decline, IndexError, ValueError, RecursionError):
        return None


def _printable(text: str) -> bool:
    """Only characters PyYAML's reader accepts, and no line breaks but '\\n'.
    Python's printable characters are a subset of YAML's (no controls, no
    \\x85, \\u2028, \\u2029 — YAML breaks lines there too — no byte-order
    mark, surrogate or non-character)."""
    return text.replace("\n", "").isprintable()


#: text that shows an anchor, alias, tag or merge key where a value starts: PyYAML reads it
_NOT_PLAIN = (": &", ": *", ": !", "- &", "- *", "- !", "[&", "[*", "[!", "{&", "{*", "{!", ", &", ", *", ", !",
              "\n&", "\n*", "\n!", "<<")


def _load(text: str, file):
    if not _printable(text) or text[:1] in "&*!" or any(marker in text for marker in _NOT_PLAIN):
        return None
    reader = _Reader(file)
    root = None
    stack: list[list] = []  # open block collections, innermost last: [container, is_map, column]
    pending = None  # a key written with no value on its line: (mapping, key, key loc, line, column after ':', key column)
    lines = text.split("\n")
    number = 0
    while number < len(lines):
        line = lines[number]
        number += 1
        stripped = line.lstrip(" ")
        if not stripped or stripped[0] == "#":
            continue
        indent = len(line) - len(stripped)
        if stripped.startswith(("---", "...", "%")):
            return None  # document markers, directives
        is_item = stripped == "-" or stripped.startswith("- ")
        if pending is not None and not (indent > pending[5] or (indent == pending[5] and is_item)):
            _put(reader, pending[0], pending[1], pending[2], None, Loc(file, pending[3], pending[4]))
            pending = None
        if pending is not None:  # the first line of that key's value: a nested collection
            if len(stack) >= MAX_DEPTH:
                return None
            loc = Loc(file, number, indent + 1)
            value = reader.new_list(loc) if is_item else reader.new_map(loc)
            _put(reader, pending[0], pending[1], pending[2], value, loc, count=False)
            pending = None
            stack.append([value, not is_item, indent])
        else:
            # close what this line is left of (and a sequence written at its key's column, on a key)
            while stack and (stack[-1][2] > indent or (stack[-1][2] == indent and not stack[-1][1] and not is_item)):
                stack.pop()
            if not stack:
                if root is not None:
                    return None
                loc = Loc(file, number, indent + 1)
                root = reader.new_list(loc) if is_item else reader.new_map(loc)
                stack.append([root, not is_item, indent])
            elif stack[-1][2] != indent:
                return None  # between two levels
        top = stack[-1]
        column = indent
        if is_item:
            if top[1] or stripped == "-":
                return None  # a dash where a key belongs; an item on the lines below
            column = indent + 2
            while column < len(line) and line[column] == " ":
                column += 1
            if _mapping_colon(line, column) < 0:  # a scalar or a flow collection
                value, loc = _inline_value(reader, line, column, number, len(stack))
                top[0].append(value)
                top[0].item_locs.append(loc)
                continue
            if len(stack) >= MAX_DEPTH:  # '- key: ...' starts a mapping whose keys stand at this column
                return None
            loc = Loc(file, number, column + 1)
            inner = reader.new_map(loc)
            top[0].append(inner)
            top[0].item_locs.append(loc)
            top = [inner, True, column]
            stack.append(top)
        elif not top[1]:
            return None  # a key where a dash belongs
        colon = _mapping_colon(line, column)
        if colon < 0:
            return None
        key_loc = Loc(file, number, column + 1)
        key = _key(line[column:colon])
        reader.grow(key_loc)
        if key in top[0]:
            return None  # a duplicate: PyYAML's path says so
        start = colon + 1
        while start < len(line) and line[start] == " ":
            start += 1
        if start >= len(line) or line[start] == "#":
            pending = (top[0], key, key_loc, number, colon + 2, column)
            continue
        if line[start] in ">|":  # a block scalar: the lines below, more indented than the key
            loc = Loc(file, number, start + 1)
            value, number = _block_scalar(line, start, lines, number, column, text.endswith("\n"))
            reader.grow(loc)
            _put(reader, top[0], key, key_loc, value, loc, count=False)
            continue
        value, loc = _inline_value(reader, line, start, number, len(stack))
        _put(reader, top[0], key, key_loc, value, loc, count=False)
    if pending is not None:
        _put(reader, pending[0], pending[1], pending[2], None, Loc(file, pending[3], pending[4]))
    return root


def _block_scalar(line: str, start: int, lines: list[str], number: int, parent: int, final_break: bool):
    """A folded (``>``) or literal (``|``) scalar with clip chomping whose
    lines all stand at one indentation: its text and the number of the last
    line read. Indentation indicators, chomping indicators, comments after the
    indicator, blank or more-indented lines inside, trailing spaces: PyYAML."""
    if line[start + 1:].strip(" "):
        raise _Decline
    body: list[str] = []
    indent = None
    end = number
    while end < len(lines):
        text = lines[end]
        stripped = text.lstrip(" ")
        here = len(text) - len(stripped)
        if not stripped:
            break
        if here <= parent:
            break
        if indent is None:
            indent = here
        if here != indent or text.endswith(" "):
            raise _Decline
        body.append(stripped)
        end += 1
    if not body:
        raise _Decline
    after = end
    while after < len(lines) and not lines[after].strip(" "):
        after += 1
    if after < len(lines) and len(lines[after]) - len(lines[after].lstrip(" ")) > parent:
        raise _Decline  # a blank line inside the scalar
    if after >= len(lines) and end >= len(lines) and not final_break:
        raise _Decline
    return (" " if line[start] == ">" else "\n").join(body) + "\n", end


def _put(reader: _Reader, mapping: YMap, key, key_loc: Loc, value, loc: Loc, count: bool = True) -> None:
    if count:
        reader.grow(loc)
    mapping[key] = value
    mapping.key_locs[key] = key_loc
    mapping.value_locs[key] = loc


def _mapping_colon(line: str, start: int) -> int:
    """The index of the ':' of 'key:' starting at ``start``, or -1 when the
    text there is no simple key followed by ': ' or ':' at the end."""
    i = line.find(":", start)
    if i <= start or not _KEY_CHARS.issuperset(line[start:i]):
        return -1
    if i + 1 < len(line) and line[i + 1] != " ":
        return -1
    return i


def _inline_value(reader: _Reader, line: str, start: int, number: int, depth: int):
    """The scalar or flow collection starting at ``start`` and filling the
    rest of the line (up to a comment): its value and location."""
    loc = Loc(reader.file, number, start + 1)
    ch = line[start]
    if ch in "[{":
        value, end = reader.cached_flow(line, start, number, depth)
    elif ch in "'\"":
        value, end = reader.quoted(line, start)
        reader.grow(loc)
    else:
        end = _content_end(line, start)
        value = _plain(line[start:end], block=True)
        reader.grow(loc)
    rest = line[end:]
    after = rest.lstrip(" ")
    if after and not (after[0] == "#" and len(after) < len(rest)):
        raise _Decline  # something after the value
    return value, loc
