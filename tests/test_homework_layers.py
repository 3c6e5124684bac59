"""cnncalc run beyond convolution and max/mean pooling: the lectures' resampling, unpooling,
fractional-stride, global, K-max and ℓ2 examples, forward and backward, each checked against a
hand computation written here; --matrix for the linear layers; --notation presets."""

from fractions import Fraction as Fr
from pathlib import Path

import pytest

from cnncalc.cli import main
from cnncalc.homework import taps as T
from cnncalc.homework.worked import load_and_run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "homework"


def status(*args):
    with pytest.raises(SystemExit) as info:
        main(list(map(str, args)))
    return info.value.code


def run_text(spec_file, text, **kw):
    return load_and_run(spec_file(text), **kw)


def test_downsample_backward_is_usample_note_002():
    # x1 … x9 = 1 … 9: dSample(X | 2) keeps x1, x3, x7, x9; ∂R/∂x = uSample(∂R/∂z | 2).
    run = load_and_run(EXAMPLES / "downsample_3x3.yaml", backward=True)
    assert run.outputs["Z"] == [[[1, 3], [7, 9]]]
    assert run.input_grad == [[[1, 0, 2], [0, 0, 0], [3, 0, 4]]]


def test_upsample_backward_is_dsample_note_002():
    run = load_and_run(EXAMPLES / "upsample_2x2.yaml", backward=True)
    assert run.outputs["Z"] == [[[1, 0, 2], [0, 0, 0], [3, 0, 4]]]
    # ∂R/∂x1 = ∂R/∂z1, ∂R/∂x2 = ∂R/∂z3, ∂R/∂x3 = ∂R/∂z7, ∂R/∂x4 = ∂R/∂z9 (z numbered row by row)
    assert run.input_grad == [[[1, 3], [7, 9]]]


def test_fractional_stride_half_and_three_halves(capsys):
    run = load_and_run(EXAMPLES / "fractional_stride.yaml", backward=True)
    # uSample([[1, 2], [3, 4]] | 2) = [[1,0,2],[0,0,0],[3,0,4]], padded by 1 → 5×5; W = [[1, 0], [1, 1]]:
    # Z[i,j] = P[i][j] + P[i+1][j] + P[i+1][j+1] on the padded map P.
    assert run.outputs["half"] == [[[1, 1, 2, 2], [0, 1, 0, 2], [3, 3, 4, 4], [0, 3, 0, 4]]]
    # S = 3/2: the same unit-stride map at rows/columns 1 and 4
    assert run.outputs["three_halves"] == [[[1, 2], [0, 4]]]
    # δZ = I: Z[1,1] used P[2][2] = x11 through W22, Z[2,2] used P[4][4] = x22 through W11
    assert run.input_grad == [[[1, 0], [0, 1]]]
    assert status("run", EXAMPLES / "fractional_stride.yaml", "--matrix") == 0
    out = capsys.readouterr().out
    assert "C is 16×4" in out and out.count("✓") == 2 and "✗" not in out
    assert "upsample, then convolve" not in out


def test_unpooling_nearest_and_bed_of_nails_note_004(spec_file):
    run = load_and_run(EXAMPLES / "unpool_2x2.yaml", backward=True)
    assert run.outputs["nearest"] == [[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]
    assert run.outputs["nails"] == [[[1, 0, 2, 0], [0, 0, 0, 0], [3, 0, 4, 0], [0, 0, 0, 0]]]
    # the output is 'nails': its gradient is δY at each block's first cell
    assert run.input_grad == [[[1, 3], [9, 11]]]
    # nearest: each block's gradients add up: 1+2+5+6 = 14, 3+4+7+8 = 22, 9+10+13+14 = 46, 11+12+15+16 = 54
    text = EXAMPLES.joinpath("unpool_2x2.yaml").read_text().replace("    inputs: input\n", "    inputs: input\n"
                                                                    "  - add: {}\n    inputs: [nearest, nails]\n")
    run = run_text(spec_file, text, backward=True)
    assert run.input_grad == [[[14 + 1, 22 + 3], [46 + 9, 54 + 11]]]


def test_max_unpool_uses_the_switches_note_004():
    run = load_and_run(EXAMPLES / "max_unpool.yaml", backward=True)
    assert run.outputs["pool"] == [[[5, 6], [7, 8]]]
    assert run.outputs["rest"] == [[[1, 2], [3, 4]]]
    # the figure: 1, 2, 3, 4 back where 5, 6, 7, 8 were
    assert run.outputs["unpool"] == [[[0, 0, 2, 0], [0, 1, 0, 0], [0, 0, 0, 0], [3, 0, 0, 4]]]
    # δ through max_unpool reads δY at the switches (2,2)=6, (1,3)=3, (4,1)=13, (4,4)=16; the 1×1
    # conv passes it on; max pooling routes it back to the same switches
    assert run.grads["unpool"] == [[[6, 3], [13, 16]]]
    assert run.input_grad == [[[0, 0, 3, 0], [0, 6, 0, 0], [0, 0, 0, 0], [13, 0, 0, 16]]]


def test_global_average_and_max_pooling():
    run = load_and_run(EXAMPLES / "global_pool.yaml", backward=True)
    # means: 45/9 = 5 and (0 − 1 + 2 + 6 + 1 + 0 + 3 + 3 − 2)/9 = 12/9 = 4/3
    assert T.flatten(run.outputs["gap"]) == [5, Fr(4, 3)]
    assert T.flatten(run.outputs["gmp"]) == [9, 6]
    # the output is gmp: δ goes to the maxima (9 at (3,3), 6 at (2,1))
    assert run.input_grad == [[[0, 0, 0], [0, 0, 0], [0, 0, 1]], [[0, 0, 0], [2, 0, 0], [0, 0, 0]]]


def test_global_average_backward_spreads_evenly(spec_file):
    text = EXAMPLES.joinpath("global_pool.yaml").read_text().split("  - global_max_pool")[0]
    run = run_text(spec_file, text + "grad_output: [9, 18]\n", backward=True)
    assert run.input_grad == [[[1] * 3] * 3, [[2] * 3] * 3]


def test_kmax_pooling_keeps_order():
    run = load_and_run(EXAMPLES / "kmax_pool.yaml", backward=True)
    # [1, 7, 3, 9, 2, 5] → 7, 9, 5 (in order); [4, 0, 4, 8, 6, 1] → 4, 8, 6 (the first 4 of the tie)
    assert run.outputs["kmax"] == [[[7, 9, 5], [4, 8, 6]]]
    assert run.input_grad == [[[0, 1, 0, 2, 0, 3], [4, 0, 0, 5, 6, 0]]]


def test_l2_pooling_exact_and_backward():
    run = load_and_run(EXAMPLES / "l2_pool.yaml", backward=True)
    assert run.outputs["l2"] == [[[5, 3], [7, 2]]]  # √(9+16), √(1+4+4), √(4+9+36), √(1+1+1+1)
    # ∂‖x‖/∂x = x / ‖x‖
    assert run.input_grad == [[[Fr(3, 5), Fr(4, 5), Fr(1, 3), Fr(2, 3)], [0, 0, Fr(2, 3), 0],
                                [Fr(2, 7), Fr(3, 7), Fr(1, 2), Fr(1, 2)], [Fr(6, 7), 0, Fr(1, 2), Fr(1, 2)]]]


def test_l2_pooling_irrational_is_marked(spec_file, capsys):
    text = "values: [[1, 1], [1, 0]]\nlayers:\n  - lp_pool: {norm_type: 2, kernel_size: 2}\n"
    assert status("run", spec_file(text)) == 0
    out = capsys.readouterr().out
    assert "1.732051" in out and "≈" in out  # √3


def test_nearest_and_bilinear_upsampling(spec_file):
    run = load_and_run(EXAMPLES / "upsample_modes.yaml", backward=True)
    assert run.outputs["nearest"] == [[[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 4, 4], [3, 3, 4, 4]]]
    # PyTorch's bilinear ×2 (align_corners false): rows and columns sample at −¼ (clamped to 0), ¼, ¾, 1¼ …
    q = Fr(1, 4)
    assert run.outputs["bilinear"] == [[[1, 1 + q, 2 - q, 2], [1 + 2 * q, 1 + 3 * q, 2 + q, 2 + 2 * q],
                                        [3 - 2 * q, 3 - q, 3 + q, 3 + 2 * q], [3, 3 + q, 4 - q, 4]]]
    # δ at the two corners only: each corner output copies its corner input
    assert run.input_grad == [[[1, 0], [0, 1]]]


@pytest.mark.parametrize("example", ["downsample_3x3", "upsample_2x2", "unpool_2x2", "upsample_modes",
                                     "global_pool", "fractional_stride", "pool_4x5"])
def test_matrix_of_every_linear_layer_checks_out(example, capsys):
    assert status("run", EXAMPLES / f"{example}.yaml", "--matrix") == 0
    out = capsys.readouterr().out
    assert "as a matrix product" in out and "✓" in out and "✗" not in out


def test_transposed_convolution_backward_is_the_convolution(spec_file):
    # y = Cᵀx for the 4×4 example's kernel; δx = C δy, the convolution of δy with the same kernel
    text = ("values: [[1, 2], [3, 4]]\nlayers:\n  - conv_transpose: {out_channels: 1, kernel_size: 2, stride: 2, "
            "bias: false}\n    weights: [[1, 2], [3, 4]]\n"
            "grad_output: [[1, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0], [1, 0, 0, 2]]\n")
    run = run_text(spec_file, text, backward=True)
    # stride 2, kernel 2: the blocks do not overlap; δx[i][j] = Σ W ⊙ (its 2×2 block of δy)
    assert run.input_grad == [[[1, 2], [3, 8]]]
    assert list(run.outputs.values())[-1] == [[[1, 2, 2, 4], [3, 4, 6, 8], [3, 6, 4, 8], [9, 12, 12, 16]]]


def test_flatten_dense_and_activations(spec_file):
    text = ("values: [[1, -2], [3, -4]]\nlayers:\n  - leaky_relu: {negative_slope: 0.5}\n  - flatten\n"
            "  - dense: {out_features: 2}\n    weights: [[1, 0, 1, 0], [0, 1, 0, 1]]\n    biases: [0.5, 0]\n"
            "grad_output: [1, 2]\n")
    run = run_text(spec_file, text, backward=True)
    assert T.flatten(list(run.outputs.values())[-1]) == [Fr(9, 2), -3]  # [1, −1, 3, −2] → 1 + 3 + ½, −1 − 2
    # δ(flatten) = Wᵀ[1, 2] = [1, 2, 1, 2]; leaky_relu′ is ½ where x < 0
    assert run.input_grad == [[[1, 1], [1, 1]]]


def test_gradients_add_where_branches_meet(spec_file):
    text = ("values: [[1, 2], [3, 4]]\nlayers:\n  - relu: {}\n    name: a\n  - relu6: {}\n    name: b\n    inputs: input\n"
            "  - add: {}\n    inputs: [a, b]\ngrad_output: [[1, 1], [1, 1]]\n")
    run = run_text(spec_file, text, backward=True)
    assert list(run.outputs.values())[-1] == [[[2, 4], [6, 8]]]
    assert run.input_grad == [[[2, 2], [2, 2]]]


def test_notation_presets(capsys):
    assert status("run", EXAMPLES / "backprop_3x3.yaml", "--backward", "--notation", "004") == 0
    out = capsys.readouterr().out
    assert "δX22 = W22·δh11 + W21·δh12 + W12·δh21 + W11·δh22" in out  # the scribe notes' line
    assert status("run", EXAMPLES / "matrix_4x4.yaml", "--matrix", "--notation", "000") == 0
    out = capsys.readouterr().out
    assert "x₀,₀" in out and "       0  1  2  3\n" in out  # numbered from 0
    assert status("run", EXAMPLES / "backprop_3x3.yaml", "--backward", "--notation", "002") == 0
    assert "δX22 = W22·δZ11" in capsys.readouterr().out
    # note 002's backpropagation slides number the 3×3 map x1 … x9 and the kernel w1 … w4
    assert status("run", EXAMPLES / "backprop_3x3.yaml", "--backward", "--notation", "002flat") == 0
    out = capsys.readouterr().out
    assert "δx2 = w2·δz1 + w1·δz2" in out and "δx3 = w2·δz2" in out


def test_max_unpool_right_after_its_pool(spec_file, capsys):
    text = ("values: [[1, 2], [4, 3]]\nlayers:\n  - max_pool: {kernel_size: 2}\n    name: p\n"
            "  - max_unpool: {pool: p}\n    name: u\n")
    run = run_text(spec_file, text)
    assert run.outputs["u"] == [[[0, 0], [4, 0]]]
    assert status("run", spec_file(text), "--notation", "002") == 0
    assert "(2,1)" in capsys.readouterr().out  # the switch, numbered from 1


def test_locally_connected_has_a_kernel_per_position(spec_file):
    text = ("values: [[1, 2, 3], [4, 5, 6], [7, 8, 9]]\nlayers:\n"
            "  - locally_connected: {out_channels: 1, kernel_size: 2}\n"
            "    weights: [[[[1, 0], [0, 1]], [[0, 1], [1, 0]]], [[[1, 1], [0, 0]], [[0, 0], [1, 1]]]]\n"
            "    biases: [[0, 1], [0, 0]]\ngrad_output: [[1, 0], [0, 2]]\n")
    run = run_text(spec_file, text, backward=True)
    # x11 + x22, x13 + x22 + 1, x21 + x22, x32 + x33 (each position its own 2×2 kernel)
    assert list(run.outputs.values())[-1] == [[[6, 9], [9, 17]]]
    # δ flows back through the (1,1) kernel once and the (2,2) kernel twice
    assert run.input_grad == [[[1, 0, 0], [0, 1, 0], [0, 2, 2]]]


def test_causal_1d_convolution_and_kmax(spec_file):
    run = load_and_run(EXAMPLES / "causal_1d.yaml", backward=True)
    # z_t = x_{t−2} − 2·x_{t−1} + x_t with two zeros before the series [1, 3, 2, 5, 4, 0]
    assert run.outputs["causal"] == [[[1, 1, -3, 4, -4, -3]]]
    assert run.outputs["kmax"] == [[[1, 4]]]  # the two largest, 4 and the first 1, in order
    # δz = [1, 0, 0, 1, 0, 0]; δx_j = Σ_t δz_t·w_{j − t + 2};  δw_a = Σ_t δz_t·x_{t + a − 2}
    assert run.input_grad == [[[1, 1, -2, 1, 0, 0]]]


def test_1d_signals_with_channels_strides_and_upsampling(spec_file):
    text = ("input: [2, 4]\nvalues: [[1, 2, 3, 4], [0, 1, 0, 1]]\nlayers:\n"
            "  - conv: {out_channels: 1, kernel_size: 2, stride: 2, bias: false}\n    weights: [[1, 1], [10, 0]]\n"
            "  - upsample: {scale_factor: 2, mode: linear}\n  - downsample: {factor: 2}\n"
            "grad_output: [1, 1]\n")
    run = run_text(spec_file, text, backward=True)
    outs = list(run.outputs.values())
    assert outs[0] == [[[3, 7]]]  # 1 + 2 + 10·0, 3 + 4 + 10·0
    assert outs[1] == [[[3, 4, 6, 7]]]  # linear ×2: 3, ¾·3 + ¼·7, ¼·3 + ¾·7, 7
    assert outs[2] == [[[3, 6]]]
    # δ: [1, 0, 1, 0] into the upsample → [1 + ¼, ¾] → the conv spreads each over its window
    assert run.input_grad == [[[Fr(5, 4), Fr(5, 4), Fr(3, 4), Fr(3, 4)]], [[Fr(25, 2), 0, Fr(15, 2), 0]]]


def test_pool_backprop_note_002():
    run = load_and_run(EXAMPLES / "pool_backprop_3x3.yaml", backward=True)
    assert run.outputs["max"] == [[[9, 9], [8, 7]]]
    # ∂R/∂y2 = ∂R/∂ŷ1 + ∂R/∂ŷ2 = 1 + 2, ∂R/∂y7 = ∂R/∂ŷ3 = 3, ∂R/∂y9 = ∂R/∂ŷ4 = 4
    assert run.grads["max"] == [[[0, 3, 0], [0, 0, 0], [3, 0, 4]]]
    # mean: each y gets ¼ of every window it is in
    q = Fr(1, 4)
    assert run.grads["mean"] == [[[q, 3 * q, 2 * q], [4 * q, 10 * q, 6 * q], [3 * q, 7 * q, 4 * q]]]
    assert run.input_grad == [[[q, 15 * q, 2 * q], [1, Fr(5, 2), Fr(3, 2)], [Fr(15, 4), Fr(7, 4), 5]]]


def test_multichannel_convolution_note_002():
    run = load_and_run(EXAMPLES / "multichannel.yaml", backward=True)
    # Z_k[1,1] = Σ_c sum(W_k[c] ⊙ X[c] window): k1 = (1 + 1) + (1 + 2) = 5; k2 = (1 + 2) + (−2 + 0) = 1
    assert run.outputs["Z"][0][0][0] == 5 and run.outputs["Z"][1][0][0] == 1
    # δX_1[2,2] = 1·W1[1][2,2] + 1·W1[1][1,1] + 1·W2[1][2,1] + 1·W2[1][1,2] = 1 + 1 + 0 + 1
    assert run.input_grad[0][1][1] == 3


def test_a_matrix_too_large_to_print_is_described(spec_file, capsys):
    rows = "[" + ", ".join(["[" + ", ".join(map(str, range(12))) + "]"] * 8) + "]"
    text = (f"values: {rows}\nlayers:\n  - conv: {{out_channels: 1, kernel_size: 3, bias: false}}\n"
            "    weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1]]\n  - upsample: {scale_factor: 2}\n")
    assert status("run", spec_file(text), "--matrix") == 0
    out = capsys.readouterr().out
    assert "C has 5,760 entries, too large to print" in out  # 60 outputs × 96 inputs
    assert "M is 240×60, too large to print (14,400 entries" in out
    assert "… (44 more outputs, the same way)" in out
