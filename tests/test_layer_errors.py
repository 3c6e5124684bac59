"""Bad input for the layers of the lecture catalogue: one SpecError naming
file, line, layer and field; exit status 2 from the CLI, no traceback."""

import subprocess
import sys

import pytest

from cnncalc import SpecError, analyze, loads_spec

POOL_NET = (
    "input: [4, 8, 8]\nlayers:\n"
    "  - max_pool: {kernel_size: 2}\n    name: p1\n"
    "  - avg_pool: {kernel_size: 2}\n    name: a1\n"
)

CASES = [
    # (spec text, line, field, fragment of the message)
    ("input: [1, 8]\nlayers:\n  - conv_transpose: {out_channels: 1, kernel_size: 3, stride: 2, output_padding: 2}\n",
     3, "output_padding", "smaller than the stride (2) or the dilation (1)"),
    ("input: [1, 8, 8]\nlayers:\n  - conv_transpose: {out_channels: 1, kernel_size: 3, stride: [2, 1], dilation: [1, 2], output_padding: [1, 2]}\n",
     3, "output_padding", "on axis W is 2"),
    ("input: [1, 2]\nlayers:\n  - conv_transpose: {out_channels: 1, kernel_size: 2, padding: 2}\n",
     3, "padding", "removes too much"),
    ("input: [3, 8]\nlayers:\n  - conv_transpose: {out_channels: 4, kernel_size: 2, groups: 2}\n",
     3, "groups", "does not divide the 3 input channels"),
    ("input: [1, 8]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 3, stride: 1/0}\n",
     3, "stride", "S2/S1 with positive integers"),
    ("input: [1, 8]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 3, stride: -1/2}\n",
     3, "stride", "S2/S1 with positive integers"),
    ("input: [1, 8]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 3, stride: 1.5/2}\n",
     3, "stride", "S2/S1 with positive integers"),
    ("input: [1, 8]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 3, stride: 0.3333}\n",
     3, "stride", "'1/3'"),
    ("input: [1, 8]\nlayers:\n  - conv: {out_channels: 1, kernel_size: 3,\n      stride: 0}\n",
     4, "stride", "≥ 1"),
    (POOL_NET + "  - max_unpool: {pool: p2}\n", 7, "pool", "max_pool layers before it: p1"),
    (POOL_NET + "  - max_unpool: {pool: p11}\n", 7, "pool", "did you mean 'p1'"),
    (POOL_NET + "  - max_unpool: {pool: a1}\n", 7, "pool", "'a1' is a avg_pool layer; max_unpool needs a max_pool"),
    ("input: [4, 8, 8]\nlayers:\n  - max_unpool: {pool: p1}\n  - max_pool: {kernel_size: 2}\n    name: p1\n",
     3, "pool", "no layer named 'p1' comes before"),
    (POOL_NET + "  - max_unpool: {pool: p1}\n", 7, "pool", "does not match the output [4, 4, 4]"),
    ("input: [4, 8, 8]\nlayers:\n  - max_unpool: {}\n", 3, "pool", "missing required"),
    ("input: [4, 10]\nlayers:\n  - zero_pad: {padding: same}\n", 3, "padding", "takes cell counts, not a mode"),
    ("input: [4, 10]\nlayers:\n  - kmax_pool: {k: 11}\n", 3, "k", "K = 11 is larger than the 10 values"),
    ("input: [4, 10]\nlayers:\n  - kmax_pool: {k: 3, axis: 1}\n", 3, "axis", "does not exist"),
    ("input: [4, 10, 6]\nlayers:\n  - crop: {cropping: [[1, 1], [3, 3]]}\n", 3, "cropping", "on axis W removes 3 + 3 = 6 of 6"),
    ("input: [4, 10]\nlayers:\n  - crop: {cropping: -1}\n", 3, "cropping", "≥ 0"),
    ("input: [4, 10]\nlayers:\n  - zero_pad: {padding: [1, 2]}\n", 3, "padding", "1 spatial axis"),
    ("input: [4, 10]\nlayers:\n  - upsample: {scale_factor: 2, mode: bilinear}\n", 3, "mode", "use 'linear'"),
    ("input: [4, 10]\nlayers:\n  - upsample: {mode: bicubical}\n", 3, "mode", "one of zeros"),
    ("input: [4, 10]\nlayers:\n  - lp_pool: {kernel_size: 2, norm_type: 0}\n", 3, "norm_type", "> 0"),
]


@pytest.mark.parametrize("text,line,field,fragment", CASES)
def test_bad_layer(text, line, field, fragment):
    with pytest.raises(SpecError) as info:
        analyze(loads_spec(text, "t.yaml"))
    err = info.value
    message = str(err)
    assert message.startswith(f"t.yaml:{line}:"), message
    assert fragment in message, message
    assert err.field == field, message
    assert err.layer_index is not None and err.layer_name is not None, message


def test_cli_exit_status_two_without_traceback(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(POOL_NET + "  - max_unpool: {pool: a1}\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "cnncalc", "analyze", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert f"{path}:7:" in proc.stderr and "(max_unpool)" in proc.stderr and "field 'pool'" in proc.stderr
