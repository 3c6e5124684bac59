"""Named string choices: what ``class X(str, Enum)`` gives, without ``enum``.

Every option vocabulary on ``cnncalc analyze``'s path (the counting
conventions, the output formats and charts, the table's columns, the
optimizers) is a fixed set of strings. ``enum`` builds such a class in about
90 µs and is a module of its own (with ``functools``) outside pip's wrapper,
about 2 ms of a 20 ms start, for the handful of features cnncalc uses:

* members are instances of the class and of ``str``, equal to and hashing as
  their value (``Convention.FVCORE == "fvcore"``), shown as their value by
  ``str()``, f-strings and ``json``;
* ``Choice("value")`` is the member, or ``ValueError``; ``Choice["NAME"]`` the
  member by name, or ``KeyError``; a member passed in is returned as is;
* ``.name`` and ``.value``; iteration, ``len`` and ``in`` in definition order;
  ``__members__``; the repr ``<Convention.FVCORE: 'fvcore'>``;
* members are singletons, also through ``copy`` and ``pickle``; the class
  takes no new attributes and cannot be subclassed once it has members.

``tests/test_choices.py`` holds these to ``enum``'s behaviour.
"""

from __future__ import annotations

from types import MappingProxyType


class _ChoicesType(type):
    def __new__(mcls, name, bases, namespace):
        members = {key: value for key, value in namespace.items()
                   if not key.startswith("_") and key.isupper() and value.__class__ is str}
        for base in bases:
            if getattr(base, "_members", None):
                raise TypeError(f"{name}: cannot extend {base.__name__}, which has members")
        body = {key: value for key, value in namespace.items() if key not in members}
        cls = super().__new__(mcls, name, bases, body)
        by_name, by_value = {}, {}
        for key, value in members.items():
            if value in by_value:
                raise ValueError(f"{name}: {key} and {by_value[value]._name} have the same value {value!r}")
            member = str.__new__(cls, value)
            member._name = key
            by_name[key] = by_value[value] = member
            type.__setattr__(cls, key, member)
        type.__setattr__(cls, "_members", by_name)
        type.__setattr__(cls, "_by_value", by_value)
        return cls

    def __call__(cls, value):
        member = cls._by_value.get(value) if isinstance(value, str) else None
        if member is None:
            raise ValueError(f"{value!r} is not a valid {cls.__qualname__}")
        return member

    def __getitem__(cls, name):
        return cls._members[name]

    def __iter__(cls):
        return iter(cls._members.values())

    def __reversed__(cls):
        return reversed(cls._members.values())

    def __len__(cls) -> int:
        return len(cls._members)

    def __contains__(cls, value) -> bool:
        return isinstance(value, str) and value in cls._by_value

    def __setattr__(cls, name, value):
        if name in cls.__dict__.get("_members", ()):
            raise AttributeError(f"cannot reassign member {name!r}")
        super().__setattr__(name, value)

    def __delattr__(cls, name):
        if name in cls.__dict__.get("_members", ()):
            raise AttributeError(f"cannot delete member {name!r}")
        super().__delattr__(name)

    @property
    def __members__(cls):
        return MappingProxyType(cls._members)

    def __repr__(cls) -> str:
        return f"<choices {cls.__qualname__!r}>"


class Choice(str, metaclass=_ChoicesType):
    """A base for a set of named strings: ``class Chart(Choice): PARAMS = "params"``."""

    @property
    def name(self) -> str:
        return self._name

    @property
    def value(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return format(str.__str__(self), spec)

    def __repr__(self) -> str:
        return f"<{self.__class__.__qualname__}.{self._name}: {str.__str__(self)!r}>"

    def __reduce_ex__(self, protocol):
        return self.__class__, (str.__str__(self),)

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    __hash__ = str.__hash__
