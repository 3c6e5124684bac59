"""The Python API renders as the command line does, and the README's example runs."""

import json
import re
import subprocess
import sys

import pytest
from conftest import ROOT, SPECS, CliRunner

import cnncalc
from cnncalc.cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _cli_json(*args):
    result = CliRunner().invoke(cli, ["analyze", *map(str, args), "--format", "json"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_readme_python_example_runs_and_its_comments_hold(monkeypatch):
    section = README[README.index("## Python API"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)
    # every "expression  # value" line states what the expression is
    for line in code.splitlines():
        match = re.match(r"^(\S[^=#]*?)\s+#\s+(\(.*\)|\[.*\]|\d+)$", line)
        if match:
            assert eval(match.group(1), namespace) == eval(match.group(2)), line


def test_to_dict_and_to_json_equal_the_cli_json():
    text = _cli_json(SPECS / "resnet18.yaml", "--batch", "4")
    result = cnncalc.analyze(str(SPECS / "resnet18.yaml"), batch=4)
    assert result.to_json() == text
    assert json.loads(json.dumps(result.to_dict())) == json.loads(text)


def test_str_and_summary_print_the_cli_table(capsys):
    result = cnncalc.analyze("lenet5")
    cli_table = CliRunner().invoke(cli, ["analyze", "lenet5"]).stdout
    assert str(result) == cli_table
    result.summary()
    assert capsys.readouterr().out == cli_table
    assert repr(result).startswith("<Analysis lenet5: 12 layers") and "61,706 parameters" in repr(result)


def test_dict_yaml_text_path_and_name_are_one_spec():
    text = (SPECS / "lenet5.yaml").read_text()
    import yaml

    as_dict = yaml.safe_load(text)
    results = [cnncalc.analyze(x) for x in (as_dict, text, str(SPECS / "lenet5.yaml"), SPECS / "lenet5.yaml",
                                            "lenet5", cnncalc.loads_spec(as_dict))]
    dicts = [r.to_dict() for r in results]
    for d in dicts:
        d.pop("spec")
        for layer in d["layers"]:
            layer.pop("line")  # a dict has no line numbers
    assert all(d == dicts[0] for d in dicts)


def test_errors_are_the_clis():
    bad = {"input": [1, 8, 8], "layers": [{"conv": {"out_channels": 2, "kernal_size": 3}}]}
    with pytest.raises(cnncalc.SpecError, match=r"<dict>: layer 1 'conv1' \(conv\), field 'kernal_size'.*did you mean"):
        cnncalc.analyze(bad)
    with pytest.raises(cnncalc.CnncalcError, match="no bundled spec of that name"):
        cnncalc.analyze("vgg17")
    with pytest.raises(cnncalc.SpecError, match="plain values"):
        cnncalc.loads_spec({"input": [1, 8], "layers": [object()]})
    with pytest.raises(cnncalc.CnncalcError, match="channels first with commas"):
        cnncalc.analyze("lenet5", input_shape="1,32x32")


def test_deep_dict_is_refused_without_recursion():
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(cnncalc.SpecError, match="nests more than"):
        cnncalc.loads_spec({"input": [1, 8], "layers": deep})


def test_html_is_a_table_with_every_spec_text_escaped():
    spec = {"name": "<script>alert(1)</script>", "input": [1, 8, 8],
            "layers": [{"conv": {"out_channels": 2, "kernel_size": 3}, "name": "a<b>&c"}]}
    html = cnncalc.analyze(spec)._repr_html_()
    assert html.startswith('<div class="cnncalc"><table>') and "<script>" not in html
    assert "&lt;script&gt;" in html and "a&lt;b&gt;&amp;c" in html and "<td" in html


def test_import_cnncalc_stays_light():
    code = "import sys, cnncalc; print(any(m in sys.modules for m in ('numpy', 'rich')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
