"""Frozen records that are cheap to define: :func:`record` is
``@dataclass(frozen=True)`` with the equality, hash and repr inherited from
:class:`Record` instead of compiled for each class.

dataclass compiles every method it generates from source; for a frozen
dataclass with equality that is six functions, and those three are most of
the cost. ``cnncalc analyze`` defines the classes of the layer families a
spec uses, and of the analysis, at start-up: this halves that part of it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass


class Record:
    """Equality, hash and repr over the fields of a frozen dataclass, written
    once here instead of compiled for every class: see :func:`record`."""

    __slots__ = ()

    def _key(self) -> tuple:
        key = _KEYS.get(self.__class__) or _key_of(self.__class__)
        return key(self)

    def __eq__(self, other):
        if other is self:
            return True
        if other.__class__ is self.__class__:
            key = _KEYS.get(self.__class__) or _key_of(self.__class__)
            return key(self) == key(other)
        return NotImplemented

    def __hash__(self):
        return hash((_KEYS.get(self.__class__) or _key_of(self.__class__))(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr)
        return f"{self.__class__.__qualname__}({shown})"


_KEYS: dict[type, object] = {}  # Record class → function of an instance: the tuple of its compared fields


def _key_of(cls):
    from operator import attrgetter

    names = tuple(f.name for f in dataclasses.fields(cls) if f.compare)
    if not names:
        key = _no_fields
    elif len(names) == 1:
        one = attrgetter(names[0])
        key = lambda record: (one(record),)  # noqa: E731
    else:
        key = attrgetter(*names)  # a tuple of the values, in C
    _KEYS[cls] = key
    return key


def _no_fields(record) -> tuple:
    return ()


def record(cls):
    """``@dataclass(frozen=True)`` for a :class:`Record` subclass (every layer
    type and field kind): the same fields, ``__init__`` and immutability, with
    the equality, hash and repr inherited from Record. dataclass compiles each
    generated method from source, and those three are most of the cost of a
    class: a spec imports the classes of the layer families it uses at
    start-up, so this halves that part of ``cnncalc analyze``'s start."""
    if "__doc__" not in cls.__dict__ or cls.__doc__ is None:
        cls.__doc__ = cls.__name__  # else dataclass computes one with inspect.signature
    return dataclass(frozen=True, eq=False, repr=False)(cls)
