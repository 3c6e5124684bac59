"""Malformed specs: one clear SpecError with location, layer and field."""

import pytest

from cnncalc import SpecError, analyze, loads_spec


def error_of(text):
    with pytest.raises(SpecError) as info:
        analyze(loads_spec(text, "t.yaml"))
    return info.value


@pytest.mark.parametrize(
    "text,line,field,fragment",
    [
        ("input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: 8, kernal_size: 3}\n", 3, "kernal_size", "did you mean 'kernel_size'"),
        ("input: [3, 32, 32]\nlayers:\n  - convv: {out_channels: 8}\n", 3, "type", "did you mean 'conv'"),
        ("input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: -8, kernel_size: 3}\n", 3, "out_channels", "≥ 1"),
        ("input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: 0, kernel_size: 3}\n", 3, "out_channels", "≥ 1"),
        ("input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: '8', kernel_size: 3}\n", 3, "out_channels", "a string"),
        ("input: [3, 32, 32]\nlayers:\n  - conv: {out_channels: 8}\n", 3, "kernel_size", "missing required"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 9}\n", 3, "kernel_size", "⌊(8 + 0 + 0 − 9) / 1⌋ + 1"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 3, groups: 2}\n", 3, "groups", "does not divide"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 3, padding: sam}\n", 3, "padding", "did you mean 'same'"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 8, kernel_size: [3, 3, 3]}\n", 3, "kernel_size", "2 spatial axes"),
        ("input: [3, 8, 8, 8, 8]\nlayers:\n  - relu\n", 1, "input", "spatial axes"),
        ("input: [3, 8, 8]\nlayers:\n  - dense: {out_features: 10}\n", 3, None, "flatten"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 3}\n    name: a\n  - relu:\n    name: a\n", 6, "name", "already used"),
        ("input: [3, 8, 8]\nlayers:\n  - relu\n    inputs: nope\n", None, None, ""),
        ("input: [3, 8, 8]\nlayers:\n  - relu:\n    inputs: reluu\n", 4, "inputs", "unknown input"),
        ("input: [3, 8, 8]\nlayers:\n  - relu:\n    repeat: 0\n", 4, "repeat", "≥ 1"),
        ("input: [3, 8, 8]\nlayers: []\n", 2, "layers", "empty"),
        ("input: [3, 8, 8]\n", 1, None, "missing 'layers:'"),
        ("layers:\n  - relu\n", 1, "input", "missing 'input:'"),
        ("- relu\n", 1, None, "a list"),
        ("", 1, None, "empty"),
        ("input: [3, 8, 8]\nlayers:\n  - conv: {out_channels: 8, kernel_size: 3}\n  - conv: {out_channels: 8, kernel_size: 3}\n    extra: 1\n", 5, "extra", "unexpected key"),
        ("input: [3, 8, 8]\nlayerz:\n  - relu\n", 2, "layerz", "did you mean 'layers'"),
        ("input: [3, 8, 8]\nlayers:\n  - relu\n  - relu\n    bad: [\n", None, None, "YAML syntax error"),
        ("input: [3, 8, 8]\nlayers:\n\t- relu\n", 3, None, "tab"),
        ("input: [3, 8, 8]\ninput: [3, 8, 8]\nlayers:\n  - relu\n", 2, "input", "duplicate key"),
        ("input: !!python/object:os.system [3]\nlayers:\n  - relu\n", 1, None, "not allowed"),
        ("input: [3, 8, 8]\ndefaults:\n  conv: {kernel_size: 3, activation: rellu}\nlayers:\n  - conv: {out_channels: 4}\n", 3, "activation", "did you mean 'relu'"),
    ],
)
def test_bad_spec(text, line, field, fragment):
    try:
        err = error_of(text)
    except Exception as exc:  # the YAML syntax case where 'inputs' parses as text
        raise AssertionError(f"raised {type(exc).__name__}: {exc}") from exc
    message = str(err)
    assert message.startswith("t.yaml:")
    assert fragment in message
    if line is not None:
        assert err.line == line, message
    if field is not None:
        assert err.field == field, message


def test_cycle_is_reported():
    text = "input: [3, 8, 8]\nlayers:\n  - relu:\n    name: a\n    inputs: b\n  - relu:\n    name: b\n    inputs: a\n"
    err = error_of(text)
    assert "cycle" in str(err) and "a → b → a" in str(err)


def test_alias_bomb_is_refused(monkeypatch):
    import cnncalc.yamlio as yamlio

    monkeypatch.setattr(yamlio, "MAX_NODES", 10_000)
    levels = ["a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 9):
        levels.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i-1}"] * 10) + "]")
    err = error_of("\n".join(levels) + "\ninput: [1, 4]\nlayers:\n  - relu\n")
    assert "alias bomb" in str(err)


def test_huge_repeat_is_refused_quickly():
    err = error_of("input: [3, 8, 8]\nlayers:\n  - relu:\n    repeat: 1000000000000\n")
    assert "more than" in str(err) and err.field == "repeat"


def test_yaml_slips_show_the_line_with_a_caret_and_what_to_write():
    from cnncalc import loads_spec

    cases = {
        "input: [1, 8, 8]\nlayers:\n  - relu\n    name: x\n": ("write '- relu:'", "    name: x", 9),
        "input: [1, 8, 8]\nlayers:\n  - conv: out_channels: 4\n": ("'{out_channels: ...}' in braces", "out_channels: 4", 23),
        "input:[1, 8, 8]\nlayers: [relu]\n": ("'input: [1, 8, 8]'", "input:[1, 8, 8]", 7),
        "name: *star*\ninput: [1, 8, 8]\nlayers: [relu]\n": ("quote text", "name: *star*", 12),
        "input: [1, 8, 8\nlayers: [relu]\n": ("the '[' opened on line 1, column 8 is not closed; add ']'", "input: [1, 8, 8", 8),
        "input: [1, 8, 8]\nlayers:\n\t- relu\n": ("indent with spaces", "- relu", 1),
    }
    for text, (hint, shown, col) in cases.items():
        with pytest.raises(SpecError) as info:
            loads_spec(text, "t.yaml")
        assert hint in str(info.value), (text, str(info.value))
        lines = info.value.excerpt.splitlines()
        assert shown in info.value.excerpt and lines[-1].index("^") - lines[-1].index("|") - 1 == col, (text, info.value.excerpt)


def test_a_long_line_is_excerpted_around_the_column():
    from cnncalc import loads_spec

    text = "input: [1, 8, 8]\nlayers: [relu]\nname: " + "x" * 100_000 + ": y\n"
    with pytest.raises(SpecError) as info:
        loads_spec(text, "t.yaml")
    shown, caret = info.value.excerpt.splitlines()
    assert len(shown) < 200 and shown.endswith(": y") and caret.index("^") == shown.index(": y")
