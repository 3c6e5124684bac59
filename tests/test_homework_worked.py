"""cnncalc run: the lectures' numeric examples, exact; matrix form; backward; bad input."""

from fractions import Fraction as Fr
from pathlib import Path

import pytest

from cnncalc.cli import main
from cnncalc.homework import kernels as K
from cnncalc.homework.worked import load_and_run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "homework"
X45 = [[1, Fr("0.9"), Fr("1.6"), Fr("0.3"), Fr("0.4")],
       [Fr("0.9"), Fr("0.2"), 0, Fr("0.5"), 3],
       [Fr("0.4"), Fr("0.2"), Fr("0.8"), Fr("0.6"), Fr("0.3")],
       [Fr("0.5"), Fr("0.8"), 1, Fr("0.7"), Fr("2.1")]]
P45 = [[Fr("0.4"), Fr("2.3"), 0, Fr("1.3"), 0],
       [Fr("1.9"), Fr("3.2"), Fr("2.1"), Fr("1.5"), 0],
       [Fr("2.3"), 0, Fr("3.8"), 0, Fr("4.3")],
       [Fr("1.5"), Fr("2.3"), Fr("1.5"), Fr("0.7"), Fr("2.1")]]


def D(rows):
    return [[Fr(str(v)) for v in r] for r in rows]


def status(*args):
    with pytest.raises(SystemExit) as info:
        main(list(map(str, args)))
    return info.value.code


def test_lecture_convolution_4x5_stride_1_and_2():
    run = load_and_run(EXAMPLES / "conv_4x5.yaml")
    assert run.outputs["stride1"] == [D([[2.1, 1.1, 2.1, 3.8], [1.5, 1.2, 1.4, 1.4], [1.7, 2, 2.5, 3.4]])]
    assert run.outputs["stride2"] == [D([[2.1, 2.1], [1.7, 2.5]])]  # dSample of the stride-1 map
    # "Example: Stride = 2 and Padding": a column of zeros on the right
    assert run.outputs["stride2_padded"] == [D([[2.1, 2.1, 3.4], [1.7, 2.5, 2.4]])]


def test_lecture_max_pool_values_and_index_map():
    y, idx, _ = K.max_pool2d([P45], (2, 2), (1, 1))
    assert y == [D([[3.2, 3.2, 2.1, 1.5], [3.2, 3.8, 3.8, 4.3], [2.3, 3.8, 3.8, 4.3]])]
    assert idx == [[[4, 3, 3, 3], [2, 4, 3, 4], [1, 2, 1, 2]]]  # the slide's index map, ties → first


def test_lecture_mean_pool():
    y = K.avg_pool2d([P45], (2, 2), (1, 1))
    # The slides show 2.05 for the first window; (0.4 + 2.3 + 1.9 + 3.2)/4 = 1.95. Every other entry agrees.
    assert y == [D([[1.95, 1.9, 1.225, 0.7], [1.85, 2.275, 1.85, 1.45], [1.525, 1.9, 1.5, 1.775]])]


def test_cli_prints_aligned_grids_with_lecture_indices(capsys):
    assert status("run", EXAMPLES / "pool_4x5.yaml") == 0
    out = capsys.readouterr().out
    assert "         1   2   3   4\n    1  3.2 3.2 2.1 1.5\n" in out
    assert "       1 2 3 4\n    1  4 3 3 3\n    2  2 4 3 4\n    3  1 2 1 2\n" in out
    assert "1.225" in out


def test_matrix_form_of_the_lecture_4x4_example(capsys):
    w = [[[[1, 0, -1], [2, 0, -2], [1, 0, -1]]]]
    c, shape = K.conv_matrix((1, 4, 4), w)
    assert shape == (1, 2, 2) and len(c) == 4 and len(c[0]) == 16
    assert c[0] == [1, 0, -1, 0, 2, 0, -2, 0, 1, 0, -1, 0, 0, 0, 0, 0]  # the kernel rows with zeros between
    assert c[3] == [0] * 5 + [1, 0, -1, 0, 2, 0, -2, 0, 1, 0, -1]
    assert status("run", EXAMPLES / "matrix_4x4.yaml", "--matrix") == 0
    out = capsys.readouterr().out
    assert "C is 4×16" in out and "Cᵀ (16×4)" in out
    assert out.count("✓") == 2 and "✗" not in out


def test_transposed_convolution_is_the_transpose_of_c():
    w = [[[[1, 2], [3, 4]]]]
    x = [[[1, -1], [2, 3]]]
    for stride, pad, op in [((1, 1), 0, 0), ((2, 2), 0, 0), ((2, 2), 1, 1), ((3, 3), 0, 2)]:
        pads = ((pad, pad), (pad, pad))
        y = K.conv_transpose2d(x, w, None, stride, pads, (1, 1), (op, op))
        c, out = K.conv_matrix(K.shape_of(y),
                               w, stride, pads)
        assert out == (1, 2, 2)
        assert K.reshape(K.matvec(K.transpose(c), K.flatten(x)), (1, len(y[0]), len(y[0][0]))) == y


def test_lecture_backprop_3x3_input_2x2_kernel():
    """δX = full convolution of δh with the flipped kernel; δW = Conv(X | δh) — the scribe notes' sums."""
    run = load_and_run(EXAMPLES / "backprop_3x3.yaml", backward=True)
    X = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]
    W = [[1, 2], [3, 4]]
    dh = [[1, -1], [2, Fr(1, 2)]]
    dX = [[0] * 3 for _ in range(3)]
    dW = [[0] * 2 for _ in range(2)]
    for i in range(2):
        for j in range(2):
            for a in range(2):
                for b in range(2):
                    dX[i + a][j + b] += W[a][b] * dh[i][j]
                    dW[a][b] += X[i + a][j + b] * dh[i][j]
    assert run.grads["h"] == [dX]
    # δW22 = X22·δh11 + X23·δh12 + X32·δh21 + X33·δh22 (the notes)
    assert dW[1][1] == 5 * 1 + 6 * -1 + 8 * 2 + 9 * Fr(1, 2)
    x = [[[Fr(v) for v in r] for r in X]]
    _, got_dw, got_db, _ = K.conv2d_backward(x, [[W]], [dh])
    assert got_dw == [[dW]] and got_db == [sum(map(sum, dh))]


def test_strided_padded_backward_matches_the_chain_rule():
    x = [[[Fr(i * 5 + j - 7, 3) for j in range(5)] for i in range(6)]]
    w = [[[[1, -2, 3], [0, 1, Fr(1, 2)], [2, 0, -1]]]]
    for stride, pads, dil in [((2, 2), ((1, 1), (1, 1)), (1, 1)), ((2, 3), ((0, 1), (2, 0)), (1, 1)),
                              ((1, 1), ((2, 2), (2, 2)), (2, 2))]:
        z = K.conv2d(x, w, None, stride, pads, dil)
        dz = [[[Fr(i - j + 1) for j in range(len(z[0][0]))] for i in range(len(z[0]))]]
        dx, dw, _, _ = K.conv2d_backward(x, w, dz, stride, pads, dil)
        # dot-product test: <δZ, conv(x')> is linear in x'; check against the scatter rule directly
        h, wd = 6, 5
        want = [[0] * wd for _ in range(h)]
        for i, row in enumerate(dz[0]):
            for j, g in enumerate(row):
                for a in range(3):
                    for b in range(3):
                        u = i * stride[0] + a * dil[0] - pads[0][0]
                        v = j * stride[1] + b * dil[1] - pads[1][0]
                        if 0 <= u < h and 0 <= v < wd:
                            want[u][v] += w[0][0][a][b] * g
        assert dx == [want], (stride, pads, dil)


def test_pool_backward_routes_to_maximisers():
    y, idx, pos = K.max_pool2d([P45], (2, 2), (1, 1))
    dy = [[[1] * 4 for _ in range(3)]]
    dx = K.max_pool2d_backward((1, 4, 5), pos, dy)
    # 3.8 at (3,3) is the maximiser of four windows; 3.2 at (2,2) of three
    assert dx[0][2][2] == 4 and dx[0][1][1] == 3 and sum(map(sum, dx[0])) == 12


# -- bad input -----------------------------------------------------------------------------

GOOD = """\
values:
  - [1, 2, 3]
  - [4, 5, 6]
  - [7, 8, 9]
layers:
  - conv: {out_channels: 1, kernel_size: 2, bias: false}
    weights: [[1, 0], [0, 1]]
"""


@pytest.mark.parametrize(
    "old,new,line,words",
    [
        ("  - [4, 5, 6]", "  - [4, 5]", 3, "ragged"),
        ("  - [4, 5, 6]", "  - [4, five, 6]", 3, "not a number"),
        ("weights: [[1, 0], [0, 1]]", "weights: [[1, 0, 1], [0, 1, 0]]", 7, "needs 2×2"),
        ("weights: [[1, 0], [0, 1]]", "weights: [[1, 0], [0]]", 7, "ragged"),
        ("weights: [[1, 0], [0, 1]]", "weights: [[1, x], [0, 1]]", 7, "not a number"),
        ("    weights: [[1, 0], [0, 1]]\n", "", 6, "needs the kernel values"),
    ],
)
def test_bad_numbers_name_file_and_line(spec_file, capsys, old, new, line, words):
    path = spec_file(GOOD.replace(old, new))
    assert status("run", path) == 2
    err = capsys.readouterr().err
    assert f"spec.yaml:{line}:" in err and words in err and "Traceback" not in err


def test_values_disagreeing_with_input_and_missing_grad(spec_file, capsys):
    assert status("run", spec_file("input: [1, 4, 4]\n" + GOOD)) == 2
    assert "'input' says 1×4×4" in capsys.readouterr().err
    assert status("run", spec_file(GOOD), "--backward") == 2
    assert "grad_output" in capsys.readouterr().err
    assert status("run", spec_file(GOOD + "grad_output: [[1, 2, 3]]\n"), "--backward") == 2
    assert "grad_output has shape 1×1×3 but the network output is 1×2×2" in capsys.readouterr().err


def test_a_layer_without_a_handler_runs_through_its_kernel_and_one_without_either_is_refused(
        spec_file, capsys, monkeypatch):
    # every registered type runs (tests/test_homework_generic.py); a dedicated handler is optional
    from cnncalc.executor.kernel import KERNELS, kernel_for
    from cnncalc.homework import steps
    from cnncalc.homework.generic import NOTE
    from cnncalc.layers.base import REGISTRY

    monkeypatch.delitem(steps.HANDLERS, "flatten")  # a layer type with no step-by-step handler (a new one, say)
    assert status("run", spec_file(GOOD + "  - flatten\n")) == 0
    assert NOTE in capsys.readouterr().out
    kernel_for(REGISTRY["flatten"]())  # (registers the kernels)
    monkeypatch.delitem(KERNELS, "flatten")  # … and no kernel either
    assert status("run", spec_file(GOOD + "  - flatten\n")) == 2
    err = capsys.readouterr().err
    assert "cannot compute 'flatten' layers" in err and "spec.yaml:" in err and "Traceback" not in err
