"""cnncalc.choices.Choice against ``class X(str, Enum)``: the same answers to
everything cnncalc and its users ask of a set of named strings."""

from __future__ import annotations

import copy
import json
import pickle
from enum import Enum

import click
import pytest
from click.testing import CliRunner

from cnncalc.choices import Choice
from cnncalc.conventions import Convention
from cnncalc.render import Chart, Format
from cnncalc.render.table import Column
from cnncalc.training import Optimizer


class Light(Choice):
    RED = "red"
    DARK_GREEN = "dark green"
    AMBER = "amber"

    def shout(self) -> str:
        return self.value.upper()

    @property
    def short(self) -> str:
        return self.value[:1]


class Heavy(str, Enum):
    RED = "red"
    DARK_GREEN = "dark green"
    AMBER = "amber"

    def __str__(self) -> str:
        return self.value

    def shout(self) -> str:
        return self.value.upper()

    @property
    def short(self) -> str:
        return self.value[:1]


def test_members_are_strings_equal_to_their_values():
    for light, heavy in zip(Light, Heavy):
        assert isinstance(light, Light) and isinstance(light, str)
        assert light == heavy == heavy.value == light.value
        assert hash(light) == hash(heavy) == hash(light.value)
        assert (light.name, light.value) == (heavy.name, heavy.value)
        assert str(light) == str(heavy) and type(str(light)) is str and type(light.value) is str
        assert f"{light}|{light:>12}|{light!s}" == f"{heavy}|{heavy:>12}|{heavy!s}"
        assert json.dumps({"x": light}) == json.dumps({"x": heavy})
        assert light.shout() == heavy.shout() and light.short == heavy.short
        assert repr(light) == repr(heavy).replace("Heavy", "Light")
        assert {light: 1}[light.value] == 1 and {light.value: 1}[light] == 1


def test_the_class_iterates_and_looks_up_as_an_enum():
    assert [m.name for m in Light] == [m.name for m in Heavy]
    assert [m.name for m in reversed(Light)] == [m.name for m in reversed(Heavy)]
    assert len(Light) == len(Heavy) == 3
    assert list(Light.__members__) == list(Heavy.__members__)
    assert Light("amber") is Light.AMBER and Light(Light.AMBER) is Light.AMBER
    assert Light["DARK_GREEN"] is Light.DARK_GREEN
    assert "red" in Light and Light.RED in Light and "blue" not in Light and 3 not in Light
    for bad in ("blue", "RED", None, 3, ["red"]):
        with pytest.raises(ValueError) as light_error:
            Light(bad)
        with pytest.raises(ValueError) as heavy_error:
            Heavy(bad)
        assert str(light_error.value) == str(heavy_error.value).replace("Heavy", "Light")
    with pytest.raises(KeyError):
        Light["red"]


def test_members_stay_singletons():
    for member in Light:
        assert copy.copy(member) is member and copy.deepcopy(member) is member
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            assert pickle.loads(pickle.dumps(member, protocol)) is member


def test_members_are_fixed():
    with pytest.raises(AttributeError):
        Light.RED = "blue"
    with pytest.raises(AttributeError):
        del Light.RED
    with pytest.raises(TypeError):
        type("MoreLight", (Light,), {"BLUE": "blue"})
    with pytest.raises(ValueError):
        type("Twice", (Choice,), {"ONE": "x", "TWO": "x"})


def test_click_offers_and_returns_the_values():
    @click.command()
    @click.option("--light", type=click.Choice([m.value for m in Light], case_sensitive=False), default=Light.RED)
    def command(light):
        click.echo(Light(light).name)

    assert CliRunner().invoke(command, ["--light", "AMBER"]).output == "AMBER\n"
    assert CliRunner().invoke(command, []).output == "RED\n"


@pytest.mark.parametrize("choices", [Convention, Format, Chart, Column, Optimizer])
def test_cnncalcs_vocabularies_are_choices(choices):
    assert issubclass(choices, Choice) and len(choices) >= 3
    for member in choices:
        assert choices(member.value) is member and str(member) == member.value
