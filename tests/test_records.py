"""``cnncalc.records`` against ``dataclasses``: every class here is defined
twice, once with each, and the two must behave the same in every way the
package uses (construction, defaults, equality, hash, repr, immutability,
inheritance, ``__post_init__``, ``fields`` and ``replace``)."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from cnncalc import records


def _both(build):
    """The class ``build(decorator, field)`` defines, with dataclasses and with records."""
    return (
        build(lambda **kw: dataclasses.dataclass(frozen=kw.get("frozen", True), repr=kw.get("repr", True)),
              dataclasses.field),
        build(lambda **kw: records.record(frozen=kw.get("frozen", True), repr=kw.get("repr", True)), records.field),
    )


def _point(deco, field):
    @deco()
    class Point:
        kind: ClassVar[str] = "point"
        x: int
        y: int = 0
        tags: tuple = field(default=(), compare=False)
        notes: list = field(default_factory=list, repr=False, compare=False)

    return Point


def _outcome(fn):
    try:
        return ("ok", fn())
    except Exception as e:  # noqa: BLE001 - the kind of failure is what is compared
        return ("raises", type(e).__name__ if not isinstance(e, AttributeError) else "AttributeError")


@pytest.mark.parametrize("call", [
    lambda P: P(1), lambda P: P(1, 2), lambda P: P(x=1, y=2), lambda P: P(1, y=3, tags=("a",)),
    lambda P: P(), lambda P: P(1, 2, (), [], 5), lambda P: P(1, z=2), lambda P: P(1, x=1),
])
def test_construction_is_the_same(call, init_path):
    d, r = _both(_point)

    def state(P):
        p = call(P)
        return (p.x, p.y, p.tags, p.notes)

    assert _outcome(lambda: state(d)) == _outcome(lambda: state(r))


def test_equality_hash_repr_and_immutability_are_the_same(init_path):
    d, r = _both(_point)
    for P in (d, r):
        a, b, c = P(1, 2, ("t",)), P(1, 2), P(2, 2)
        assert a == b and a != c and hash(a) == hash(b)
        assert a.notes == [] and a.notes is not b.notes  # a fresh list from the factory each time
        assert P.kind == "point" and P.y == 0
        with pytest.raises(AttributeError):
            a.x = 5
        with pytest.raises(AttributeError):
            del a.x
    assert repr(r(1, 2, ("t",))) == repr(d(1, 2, ("t",))).replace(d.__qualname__, r.__qualname__)
    assert repr(r(1)) == "_point.<locals>.Point(x=1, y=0, tags=())"
    assert r(1) != d(1)  # different classes never compare equal
    with pytest.raises(records.FrozenInstanceError):
        r(1).y = 2
    assert issubclass(records.FrozenInstanceError, AttributeError)


def test_fields_replace_and_inheritance(init_path):
    def build(deco, field):
        @deco()
        class Base:
            a: int
            b: int = 1

        @deco()
        class Child(Base):
            c: str = "c"
            b: int = 7  # redefined: keeps its place, takes the new default

            def __post_init__(self):
                object.__setattr__(self, "seen", self.a + self.b)

        return Child

    d, r = _both(build)
    assert [f.name for f in dataclasses.fields(d)] == [f.name for f in records.fields(r)] == ["a", "b", "c"]
    assert [f.default for f in records.fields(r)] == [records.MISSING, 7, "c"]
    for P, replace in ((d, dataclasses.replace), (r, records.replace)):
        p = P(1)
        assert (p.a, p.b, p.c, p.seen) == (1, 7, "c", 8)
        q = replace(p, b=2)
        assert (q.a, q.b, q.c, q.seen) == (1, 2, "c", 3)  # __post_init__ ran again
    assert records.fields(r(1)) == records.fields(r)
    with pytest.raises(TypeError):
        records.fields(object())


def test_mutable_records_are_unhashable_and_assignable(init_path):
    d, r = _both(lambda deco, field: deco(frozen=False)(type("M", (), {"__annotations__": {"a": "int"}})))
    for M in (d, r):
        m = M(1)
        m.a = 2
        assert m == M(2) and m != M(3)
        with pytest.raises(TypeError):
            hash(m)


def test_definition_errors_are_the_same():
    def non_default_after_default(deco, field):
        @deco()
        class Bad:
            a: int = 1
            b: int

        return Bad

    def mutable_default(deco, field):
        @deco()
        class Bad:
            a: list = []  # noqa: RUF012

        return Bad

    for build in (non_default_after_default, mutable_default):
        outcomes = []
        for deco, field in ((lambda **kw: dataclasses.dataclass(frozen=True), dataclasses.field),
                            (lambda **kw: records.record(), records.field)):
            outcomes.append(_outcome(lambda: build(deco, field)(1)))
        assert outcomes[0] == outcomes[1] and outcomes[0][0] == "raises"


def test_the_init_is_compiled_once_a_class_is_used_more_than_a_few_times():
    @records.record
    class Lazy:
        a: int
        b: list = records.field(default_factory=list)

    lazy = Lazy.__init__
    made = [Lazy(i) for i in range(records.COMPILE_AFTER)]
    assert Lazy.__init__ is lazy  # not compiled yet
    made.append(Lazy(99))
    compiled = Lazy.__init__
    assert compiled is not lazy and Lazy(2).a == 2 and Lazy.__init__ is compiled
    assert compiled.__qualname__.endswith("Lazy.__init__")
    assert [m.a for m in made] == [*range(records.COMPILE_AFTER), 99] and len({id(m.b) for m in made}) == len(made)


@pytest.fixture(params=["generic", "compiled"])
def init_path(request, monkeypatch):
    """Run a test with every record's __init__ generic, or compiled from the first instance."""
    monkeypatch.setattr(records, "COMPILE_AFTER", 10**9 if request.param == "generic" else 0)
    return request.param


def test_every_layer_type_is_a_record_with_spec_fields():
    from cnncalc.layers.base import REGISTRY
    from cnncalc.layers.fields import layer_fields

    for type_name, cls in sorted(REGISTRY.items()):
        names = [f.name for f in records.fields(cls)]
        assert set(f.name for f in layer_fields(cls)) <= set(names), type_name
        assert "type_name" not in names and "formulas" not in names  # ClassVars are no fields
