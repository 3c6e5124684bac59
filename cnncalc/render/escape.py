"""Text from a spec (names, descriptions, file paths, the values quoted in
error messages) escaped for each output format, one function per format.

A spec or a baseline file may come from a stranger (a pull request in CI), so
none of its text reaches a terminal, a CI log, XML, CSV or Markdown as it is:

* :func:`visible` — terminals and logs: control characters (C0, DEL, C1),
  Unicode line/paragraph separators and bidirectional overrides are shown as
  ``\\n``, ``\\x1b``, ``\\u202e``; a name can no longer start a new line (so no
  ``::error`` workflow command), move the cursor or open an OSC 8 hyperlink.
* :func:`rich_markup` — text placed in a string rich parses as markup:
  :func:`visible`, then ``[`` escaped, so ``[link=…]`` is shown, not obeyed.
* :func:`github_data` / :func:`github_property` — GitHub workflow commands:
  ``%`` → ``%25``, CR → ``%0D``, LF → ``%0A`` (and ``:`` ``,`` in properties),
  after :func:`visible` for the other control characters.
  :func:`line_text` — a whole line of terminal or log output (and a plain
  line of the github format): :func:`visible`, and a line that would start
  with ``::`` gets its first colon as ``%3A``.
* :func:`xml_text` — JUnit XML: :func:`visible`, and the other characters
  XML 1.0 forbids (U+FFFE/U+FFFF, lone surrogates) shown as ``\\ufffe``;
  ElementTree escapes ``<`` ``&`` ``"``.
* :func:`json_text` — JSON: the C1 controls, separators and overrides that
  JSON leaves raw written as ``\\uXXXX`` (the parsed data is unchanged).
* :func:`csv_cell` — CSV: :func:`visible`, then a cell starting with ``=``,
  ``+``, ``-``, ``@``, tab or CR gets a leading ``'`` (OWASP's advice against
  formula injection).
* :func:`markdown_text` — Markdown tables and PR comments: :func:`visible`,
  then Markdown and HTML punctuation backslash-escaped (``| < > [ ] * ` & ~ \\``).
"""

from __future__ import annotations

from ..lazy import Pattern

# C0 controls (tab included), DEL, C1 controls, line/paragraph separators,
# bidirectional embeddings/overrides/isolates, and the byte-order mark.
_INVISIBLE = Pattern("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\x1b"}


def _show(match) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def hidden(char: str) -> bool:
    """True for a character :func:`visible` would show as an escape (a
    control, a separator, a direction override): for renderers that replace
    such characters in their own way (DOT and Mermaid labels)."""
    return _INVISIBLE.fullmatch(char) is not None


def visible(text) -> str:
    """``text`` with every control or direction-changing character shown as an escape."""
    text = str(text)
    if text.isprintable():  # no control, separator or format (bidi) character: nothing to show
        return text
    return _INVISIBLE.sub(_show, text)


def rich_markup(text) -> str:
    """Safe inside a rich markup string: visible, with ``[`` escaped."""
    from rich.markup import escape

    return escape(visible(text))


def github_data(text) -> str:
    """The message of a workflow command (after its second ``::``)."""
    text = str(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return visible(text)


def github_property(text) -> str:
    """A property value of a workflow command (``file=``, ``title=``)."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


def line_text(text) -> str:
    """A whole line of terminal or log output (a table title, a line of
    ``grade``): visible, and never read as a workflow command by a CI runner
    (which trims leading blanks and obeys any line starting with ``::``)."""
    text = visible(text)
    stripped = text.lstrip()
    if stripped.startswith("::"):
        text = text[: len(text) - len(stripped)] + "%3A" + stripped[1:]
    return text


github_line = line_text  # a plain line of the github format


_XML_INVALID = Pattern("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def xml_text(text) -> str:
    """Text for an XML 1.0 attribute or element: visible (no line of it can
    pass for a log line), and the characters XML forbids shown as escapes."""
    return _XML_INVALID.sub(lambda m: f"\\x{ord(m.group(0)):02x}" if ord(m.group(0)) < 0x100
                            else f"\\u{ord(m.group(0)):04x}", visible(text))


_JSON_RAW = Pattern("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def json_text(dumped: str) -> str:
    """A JSON document (``json.dumps(..., ensure_ascii=False)``) with the
    characters JSON leaves raw but terminals obey (DEL, C1 controls, line
    separators, direction overrides) written as ``\\uXXXX`` escapes: the same
    data for a parser, nothing hidden for a reader or a log."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group(0)):04x}", dumped)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text) -> str:
    """A CSV cell holding spec text: visible, and never read as a spreadsheet formula."""
    raw = str(text)
    shown = visible(raw)
    if raw.startswith(_FORMULA_START) or shown.startswith(_FORMULA_START):
        return "'" + shown
    return shown


_MARKDOWN = Pattern(r"([\\`*\[\]<>|&~])")


def markdown_text(text) -> str:
    """Spec text inside Markdown (a table cell, a heading, a PR comment)."""
    return _MARKDOWN.sub(r"\\\1", visible(text))


def markdown_code(text) -> str:
    """Spec text inside a Markdown code span: visible, backticks and pipes replaced."""
    return visible(text).replace("`", "'").replace("|", "\\|")


def xml_tree(root) -> None:
    """Escape a whole ElementTree in place, for renderers that build it from
    spec text: every attribute through :func:`xml_text`, every text and tail
    line by line through :func:`line_text` and :func:`xml_text` (line breaks
    of a multi-line failure message stay, none of them starts a command)."""
    for element in root.iter():
        for key, value in element.attrib.items():
            element.set(key, xml_text(value))
        for attr in ("text", "tail"):
            value = getattr(element, attr)
            if value and not (value.isprintable() and not value.lstrip().startswith("::")):
                setattr(element, attr, "\n".join(xml_text(line_text(line)) for line in value.split("\n")))


def csv_row(cells) -> list:
    """A CSV row: numbers as they are, every text cell through :func:`csv_cell`."""
    return [cell if isinstance(cell, (int, float)) or cell is None else csv_cell(cell) for cell in cells]
