"""A tiny, safe evaluator for block-parameter arithmetic — never ``eval``.

Inside a block body a value may be

* ``$name`` — the parameter's value, whatever its type (int, bool, string, list);
* ``$(expression)`` — integer arithmetic and logic on parameters:
  integers, parameter names, ``true``/``false``, ``+ - * // %``, ``/`` (only
  when it divides exactly), unary ``-``, comparisons ``== != < <= > >=``,
  ``and``, ``or``, ``not`` and parentheses, e.g. ``$(4 * width)`` or
  ``$(stride == 1 and inp == out)``.

The grammar is a small recursive-descent (precedence-climbing) parser over a
handful of tokens; there are no calls, attributes or names other than the
parameters, so a spec cannot run code.
"""

from __future__ import annotations

from .errors import FieldError, did_you_mean

# The tokens, scanned by hand rather than by a regular expression (importing re
# and compiling one costs a few ms of a start that reads a block): a name is
# [A-Za-z_][A-Za-z0-9_]*, a number a run of decimal digits (str.isdecimal, as
# re's \d), spaces are str.isspace (as re's \s).
_NAME_START = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_NAME_CHARS = _NAME_START | frozenset("0123456789")
_OPERATORS_2 = ("//", "==", "!=", "<=", ">=")
_OPERATORS_1 = frozenset("-+*/%()<>")
_KEYWORDS = {"and", "or", "not", "true", "false"}
#: binding power of binary operators (higher binds tighter)
_BINARY = {"or": 1, "and": 2, "==": 4, "!=": 4, "<": 4, "<=": 4, ">": 4, ">=": 4, "+": 5, "-": 5, "*": 6, "//": 6, "/": 6, "%": 6}
MAX_LENGTH = 200
#: Largest integer an expression may hold at any step (a literal, a parameter
#: or a result): twice the digits of the 10^18 field limit, so ``w * w`` of
#: two fields works while ``w * w`` repeated through nested blocks, whose
#: digits would double at every level, stops at the first step beyond it.
MAX_VALUE = 10**36


class ExprError(FieldError):
    pass


def is_reference(value) -> bool:
    """True for strings that the block expander must substitute."""
    return isinstance(value, str) and value.startswith("$")


def substitute(value: str, params: dict, field: str | None = None):
    """The value of ``$name`` or ``$(expression)`` given the parameters."""
    text = value[1:].strip()
    if text.startswith("(") and text.endswith(")"):
        return evaluate(text[1:-1], params, field)
    if not _is_name(text):
        raise ExprError(
            field,
            f"{value!r} is neither $name nor $(expression); write arithmetic in parentheses, e.g. $(4 * width)",
        )
    return _lookup(text, params, field)


def _lookup(name, params, field):
    if name not in params:
        known = sorted(params)
        raise ExprError(
            field,
            f"unknown block parameter '{name}'{did_you_mean(name, known)}; "
            f"the block's parameters are: {', '.join(known) or '(none)'}",
        )
    return params[name]


def _is_name(text: str) -> bool:
    return text[:1] in _NAME_START and all(c in _NAME_CHARS for c in text)


def _tokens(text: str, field):
    if len(text) > MAX_LENGTH:
        raise ExprError(field, f"expression longer than {MAX_LENGTH} characters")
    out, pos = [], 0
    text = text.rstrip()
    end = len(text)
    while pos < end:
        c = text[pos]
        if c.isspace():
            pos += 1
            continue
        stop = pos + 1
        if c.isdecimal():
            while stop < end and text[stop].isdecimal():
                stop += 1
            number = text[pos:stop]
            if len(number.lstrip("0")) > len(str(MAX_VALUE)):
                raise ExprError(field, f"the number {number[:20]}… in the expression is too large (beyond 10^36)")
            out.append(("num", int(number)))
        elif c in _NAME_START:
            while stop < end and text[stop] in _NAME_CHARS:
                stop += 1
            out.append(("name", text[pos:stop]))
        elif text.startswith(_OPERATORS_2, pos):
            stop = pos + 2
            out.append(("op", text[pos:stop]))
        elif c in _OPERATORS_1:
            out.append(("op", c))
        else:
            raise ExprError(field, f"cannot read the expression {text!r} at {text[pos:].strip()!r}")
        pos = stop
    return out


def evaluate(text: str, params: dict, field: str | None = None):
    """Evaluate an expression over ``params``; ints and bools only."""
    tokens = _tokens(text, field)
    if not tokens:
        raise ExprError(field, "empty expression $()")
    parser = _Parser(tokens, params, field, text)
    value = parser.expression(0)
    if parser.pos != len(tokens):
        raise ExprError(field, f"unexpected {tokens[parser.pos][1]!r} in $({text})")
    return value


class _Parser:
    def __init__(self, tokens, params, field, text):
        self.tokens, self.params, self.field, self.text, self.pos = tokens, params, field, text, 0

    def fail(self, message):
        raise ExprError(self.field, f"{message} in $({self.text})")

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else (None, None)

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def atom(self):
        kind, value = self.take()
        if kind == "num":
            return value
        if kind == "name":
            if value in ("true", "false"):
                return value == "true"
            if value == "not":
                return not self.truth(self.expression(3))
            if value in _KEYWORDS:
                self.fail(f"unexpected '{value}'")
            found = _lookup(value, self.params, self.field)
            if isinstance(found, bool):
                return found
            if _is_int(found):
                return self.bounded(found, f"parameter '{value}'")
            self.fail(f"parameter '{value}' is {found!r}, not an integer or boolean")
        if (kind, value) == ("op", "-"):
            return -self.integer(self.expression(7), "-")
        if (kind, value) == ("op", "("):
            inner = self.expression(0)
            if self.take() != ("op", ")"):
                self.fail("missing ')'")
            return inner
        self.fail("expression ends too early" if kind is None else f"unexpected {value!r}")

    def expression(self, min_power):
        left = self.atom()
        while True:
            kind, op = self.peek()
            if kind not in ("op", "name") or op not in _BINARY or _BINARY[op] <= min_power:
                return left
            self.take()
            right = self.expression(_BINARY[op])
            left = self.apply(op, left, right)

    def truth(self, value):
        if not isinstance(value, bool):
            self.fail(f"expected true or false, got {value!r}")
        return value

    def integer(self, value, op):
        if not _is_int(value):
            self.fail(f"'{op}' needs integers, got {value!r}")
        return value

    def apply(self, op, a, b):
        if op in ("and", "or"):
            a, b = self.truth(a), self.truth(b)
            return (a and b) if op == "and" else (a or b)
        if op in ("==", "!="):
            return (a == b) if op == "==" else (a != b)
        a, b = self.integer(a, op), self.integer(b, op)
        if op in ("<", "<=", ">", ">="):
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if op in ("//", "/", "%") and b == 0:
            self.fail("division by zero")
        if op == "/" and a % b:
            self.fail(f"{a} / {b} is not an integer (use // to round down)")
        if op == "*" and a.bit_length() + b.bit_length() > 2 * MAX_VALUE.bit_length():
            self.fail(f"the product {_short(a)} * {_short(b)} is too large (beyond 10^36)")
        result = _ARITHMETIC[op](a, b)  # only the operation asked for (``w + 0`` must not divide by 0)
        return self.bounded(result, f"the result of '{op}'")

    def bounded(self, value, what):
        if abs(value) > MAX_VALUE:
            self.fail(f"{what} is {_short(value)}, too large (beyond 10^36)")
        return value


_ARITHMETIC = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "//": lambda a, b: a // b,
    "/": lambda a, b: a // b,  # exact: checked above
    "%": lambda a, b: a % b,
}


def _short(n: int) -> str:
    """An integer for a message: in full up to 24 digits, else its size."""
    if abs(n) < 10**24:
        return str(n)
    return f"a number of about {abs(n).bit_length() * 3 // 10} digits"


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
