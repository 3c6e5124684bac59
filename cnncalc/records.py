"""Records: the classes cnncalc defines with ``@record`` in place of
``@dataclass``, defined without compiling anything at import.

``dataclasses`` compiles every method it generates from source (six for a
frozen class with equality) and imports ``inspect``, ``ast`` and ``dis`` to do
it: for ``cnncalc analyze`` that was about 15 ms of a 60 ms process, most of it
spent on classes the run never instantiates. Here equality, hash, repr and
immutability are plain functions shared by every record; ``__init__`` reads
the fields generically for a class's first few instances and is compiled for
the class's fields only once it is used more (see :func:`_lazy_init`).

The subset of dataclasses used in the package, with the same meaning:
``@record`` (frozen, the default) / ``@record(frozen=False)``; ``field(default=,
default_factory=, compare=, hash=, repr=, init=, metadata=)``; ``fields()``,
``replace()``, ``MISSING``, ``FrozenInstanceError``; annotations (strings
under ``from __future__ import annotations``) declare fields, ``ClassVar``
ones excepted; fields are inherited from record bases; ``__post_init__`` runs
after ``__init__``. tests/test_records.py holds them to dataclasses' behaviour.
"""

from __future__ import annotations

from keyword import iskeyword
from types import MappingProxyType

__all__ = ["MISSING", "Field", "FrozenInstanceError", "Record", "field", "fields", "record", "replace"]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


#: no default (a required field)
MISSING = _Missing()

_NO_METADATA = MappingProxyType({})


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record (as dataclasses.FrozenInstanceError)."""


class Field:
    """One field of a record: its name, default (or factory) and whether it
    takes part in ``__init__``, equality, hash and repr."""

    __slots__ = ("name", "type", "default", "default_factory", "init", "repr", "compare", "hash", "metadata")

    def __init__(self, default, default_factory, init, repr, compare, hash, metadata):
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type = None
        self.default = default
        self.default_factory = default_factory
        self.init = init
        self.repr = repr
        self.compare = compare
        self.hash = hash
        self.metadata = _NO_METADATA if not metadata else MappingProxyType(dict(metadata))

    def _named(self, name: str, annotation) -> Field:
        copy = Field.__new__(Field)
        copy.name, copy.type = name, annotation
        copy.default, copy.default_factory, copy.init = self.default, self.default_factory, self.init
        copy.repr, copy.compare, copy.hash, copy.metadata = self.repr, self.compare, self.hash, self.metadata
        return copy

    def __repr__(self) -> str:
        return f"Field(name={self.name!r}, default={self.default!r}, compare={self.compare!r})"


def field(*, default=MISSING, default_factory=MISSING, init=True, repr=True, compare=True, hash=None,
          metadata=None) -> Field:
    """A field with settings, as ``dataclasses.field``."""
    return Field(default, default_factory, init, repr, compare, hash, metadata)


def fields(class_or_instance) -> tuple[Field, ...]:
    """The fields of a record class or instance, in ``__init__`` order."""
    try:
        return tuple(class_or_instance.__record_fields__.values())
    except AttributeError:
        raise TypeError("must be called with a record type or instance") from None


def replace(obj, **changes):
    """A copy of ``obj`` with ``changes``: a new instance through ``__init__``
    (so ``__post_init__`` runs again), as ``dataclasses.replace``."""
    for f in obj.__record_fields__.values():
        if not f.init:
            if f.name in changes:
                raise ValueError(f"field {f.name} is declared with init=False, it cannot be specified with replace()")
            continue
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return obj.__class__(**changes)


# --- the shared methods -------------------------------------------------------

_EQ_KEYS: dict[type, object] = {}  # record class → function of an instance: the tuple of its compared fields
_HASH_KEYS: dict[type, object] = {}


def _key_function(names: tuple[str, ...]):
    from operator import attrgetter

    if not names:
        return _no_fields
    if len(names) == 1:
        one = attrgetter(names[0])
        return lambda record: (one(record),)  # noqa: E731
    return attrgetter(*names)  # a tuple of the values, in C


def _no_fields(record) -> tuple:
    return ()


def _eq_key(cls):
    key = _EQ_KEYS[cls] = _key_function(tuple(f.name for f in cls.__record_fields__.values() if f.compare))
    return key


def _hash_key(cls):
    names = tuple(f.name for f in cls.__record_fields__.values() if (f.compare if f.hash is None else f.hash))
    key = _HASH_KEYS[cls] = _key_function(names)
    return key


def _eq(self, other):
    if other is self:
        return True
    if other.__class__ is self.__class__:
        key = _EQ_KEYS.get(self.__class__) or _eq_key(self.__class__)
        return key(self) == key(other)
    return NotImplemented


def _hash(self):
    return hash((_HASH_KEYS.get(self.__class__) or _hash_key(self.__class__))(self))


def _repr(self) -> str:
    shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in self.__record_fields__.values() if f.repr)
    return f"{self.__class__.__qualname__}({shown})"


def _frozen_setattr(self, name, value):
    raise FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_delattr(self, name):
    raise FrozenInstanceError(f"cannot delete field {name!r}")


class Record:
    """A base with the shared equality, hash and repr (``@record`` gives them
    to any class; subclassing Record also gives empty ``__slots__``)."""

    __slots__ = ()
    __eq__ = _eq
    __hash__ = _hash
    __repr__ = _repr


# --- the decorator ------------------------------------------------------------


def _is_classvar(annotation) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar", "t.ClassVar"))
    return repr(annotation).startswith("typing.ClassVar")


def record(cls=None, /, *, frozen: bool = True, eq: bool = True, repr: bool = True):
    """``@dataclass(frozen=True)`` without compiling at class creation (see
    the module's docstring); ``@record(frozen=False)`` for a mutable one."""

    def wrap(cls):
        return _process(cls, frozen, eq, repr)

    return wrap if cls is None else wrap(cls)


def _process(cls, frozen: bool, eq: bool, want_repr: bool):
    found: dict[str, Field] = {}
    for base in cls.__mro__[-1:0:-1]:
        inherited = base.__dict__.get("__record_fields__")
        if inherited:
            found.update(inherited)
    own = cls.__dict__.get("__annotations__", {})
    for name, annotation in own.items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        if isinstance(value, Field):
            f = value._named(name, annotation)
        else:
            if value.__class__ in (list, dict, set):
                raise ValueError(f"mutable default {value.__class__} for field {name} is not allowed: use default_factory")
            f = Field(value, MISSING, True, True, True, None, None)._named(name, annotation)
        if f.default is MISSING:
            if name in cls.__dict__:
                delattr(cls, name)  # a field() without a default: no class attribute, as dataclasses
        elif value is not f.default:
            setattr(cls, name, f.default)
        found[name] = f
    cls.__record_fields__ = found
    ordered = [f for f in found.values() if f.init]
    seen_default = False
    for f in ordered:
        if f.default is MISSING and f.default_factory is MISSING:
            if seen_default:
                raise TypeError(f"non-default argument {f.name!r} follows default argument")
        else:
            seen_default = True

    # (a method already inherited from a record base is not set again: setting a
    # class's special method is not free, and most records are layers of one base)
    own_dict = cls.__dict__
    if want_repr and "__repr__" not in own_dict and cls.__repr__ is not _repr:
        cls.__repr__ = _repr
    if eq and "__eq__" not in own_dict and cls.__eq__ is not _eq:
        cls.__eq__ = _eq
    class_hash = own_dict.get("__hash__", MISSING)
    if class_hash is MISSING or (class_hash is None and "__eq__" in own_dict):  # no hash of its own
        if eq and frozen:
            if cls.__hash__ is not _hash:
                cls.__hash__ = _hash
        elif eq:
            cls.__hash__ = None
    if frozen:
        for base in cls.__mro__[1:]:
            if "__record_fields__" in base.__dict__ and base.__setattr__ is not _frozen_setattr:
                raise TypeError("cannot inherit frozen record from a non-frozen one")
        if cls.__setattr__ is not _frozen_setattr:
            cls.__setattr__ = _frozen_setattr
            cls.__delattr__ = _frozen_delattr
    if "__doc__" not in own_dict or cls.__doc__ is None:
        cls.__doc__ = cls.__name__
    cls.__init__ = _lazy_init(cls, frozen)
    return cls


#: instantiations of a record class through the generic ``__init__`` before its own is compiled
COMPILE_AFTER = 16


def _lazy_init(cls, frozen: bool):
    """An ``__init__`` that reads the fields generically for a class's first
    :data:`COMPILE_AFTER` instances, then compiles the class's own (as fast
    as dataclasses'), installs it and uses it: compiling costs about 70 µs a
    class, and ``cnncalc analyze`` makes most of its classes a few times only."""
    calls = 0

    def __init__(self, *args, **kwargs):
        nonlocal calls
        calls += 1
        if calls <= COMPILE_AFTER:
            _init_generic(cls, frozen, self, args, kwargs)
            return
        real = _compile_init(cls, frozen)
        type.__setattr__(cls, "__init__", real)
        real(self, *args, **kwargs)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _init_generic(cls, frozen: bool, self, args: tuple, kwargs: dict) -> None:
    """What the compiled ``__init__`` does, for any record class (the same
    errors for a wrong call)."""
    fields = cls.__record_fields__
    params = [f for f in fields.values() if f.init]
    if len(args) > len(params):
        raise TypeError(f"{cls.__qualname__}.__init__() takes {len(params) + 1} positional arguments "
                        f"but {len(args) + 1} were given")
    values = {f.name: value for f, value in zip(params, args)}
    for name, value in kwargs.items():
        if name in values:
            raise TypeError(f"{cls.__qualname__}.__init__() got multiple values for argument {name!r}")
        f = fields.get(name)
        if f is None or not f.init:
            raise TypeError(f"{cls.__qualname__}.__init__() got an unexpected keyword argument {name!r}")
        values[name] = value
    assign = object.__setattr__ if frozen else setattr
    for f in fields.values():
        name = f.name
        if name in values:
            value = values[name]
        elif f.default is not MISSING:
            value = f.default
        elif f.default_factory is not MISSING:
            value = f.default_factory()
        elif f.init:
            raise TypeError(f"{cls.__qualname__}.__init__() missing 1 required positional argument: {name!r}")
        else:
            continue
        assign(self, name, value)
    if hasattr(cls, "__post_init__"):
        self.__post_init__()


def _compile_init(cls, frozen: bool):
    namespace: dict[str, object] = {"_MISSING": MISSING, "_set": object.__setattr__}
    params, body = ["self"], []
    for f in cls.__record_fields__.values():
        n = f.name
        if not n.isidentifier() or iskeyword(n):  # annotations of the package's classes: never input
            raise TypeError(f"field name {n!r} of {cls.__qualname__} is not an identifier")
        if f.init:
            if f.default is not MISSING:
                namespace[f"_d_{n}"] = f.default
                params.append(f"{n}=_d_{n}")
            elif f.default_factory is not MISSING:
                namespace[f"_f_{n}"] = f.default_factory
                params.append(f"{n}=_MISSING")
                body.append(f"  if {n} is _MISSING: {n} = _f_{n}()")
            else:
                params.append(n)
            value = n
        elif f.default is not MISSING:
            namespace[f"_d_{n}"] = f.default
            value = f"_d_{n}"
        elif f.default_factory is not MISSING:
            namespace[f"_f_{n}"] = f.default_factory
            value = f"_f_{n}()"
        else:
            continue
        body.append(f"  _set(self, {n!r}, {value})" if frozen else f"  self.{n} = {value}")
    if hasattr(cls, "__post_init__"):
        body.append("  self.__post_init__()")
    source = f"def __init__({', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(source, namespace)  # noqa: S102 - names and defaults come from the class, never from input
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    return init
