"""Failures the fuzzer found, kept as plain examples."""

from __future__ import annotations

import pytest

from cnncalc import SpecError, analyze, loads_spec


def test_softmax_dim_must_be_an_axis_of_the_sample():
    with pytest.raises(SpecError, match=r"dim=2 but one sample has 2 axes") as info:
        analyze(loads_spec("input: [1, 1]\nlayers:\n  - softmax: {dim: 2}\n", "t.yaml"))
    assert info.value.field == "dim" and info.value.line == 3
    assert analyze(loads_spec("input: [1, 4]\nlayers:\n  - log_softmax: {dim: 1}\n")).layers[0].output_shape == (1, 4)


@pytest.mark.parametrize(
    "layers",
    [
        "  - avg_pool: {kernel_size: 1, stride: 3}\n  - add:\n    inputs: [input, input]\n",
        "  - lp_pool: {kernel_size: 2}\n",
        "  - max_pool: {kernel_size: 2, stride: 3}\n",
    ],
)
def test_pooling_gradient_has_the_input_shape_when_windows_skip_the_last_cells(layers):
    """[1, 5] with stride 3 (or [1, 3] with kernel 2): no window reaches the
    last cell; its gradient is zero, and the gradient still has 5 (3) cells."""
    np = pytest.importorskip("numpy")
    from cnncalc.executor.network import Network

    size = 3 if "lp_pool" in layers else 5
    result = analyze(loads_spec(f"input: [1, {size}]\nlayers:\n{layers}"), batch=2)
    net = Network(result, seed=0)
    x = net.random_input()
    outputs = net.forward(x)
    dx = net.backward({name: np.ones_like(y) for name, y in outputs.items()})
    assert dx.shape == x.shape
    if "add" not in layers:
        assert np.all(dx[..., -1] == 0)


@pytest.mark.parametrize("pool", ["{kernel_size: 1, padding: 1}", "{kernel_size: 2, dilation: 5, padding: 3}"])
def test_max_pool_window_of_padding_only_gets_no_gradient(pool):
    np = pytest.importorskip("numpy")
    from cnncalc.executor.verify import verify

    text = f"input: [1, 1]\nlayers:\n  - max_pool: {pool}\n    name: p\n  - max_unpool: {{pool: p}}\n"
    report = verify(analyze(loads_spec(text), batch=2), seed=0)
    assert report.ok, report.failures


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_non_finite_stride_is_a_spec_error(value):
    with pytest.raises(SpecError, match="finite") as info:
        analyze(loads_spec(f"input: [1, 8]\nlayers:\n  - conv: {{out_channels: 1, kernel_size: 1, stride: {value}}}\n"))
    assert info.value.field == "stride" and info.value.line == 3


def test_non_finite_numbers_are_spec_errors():
    with pytest.raises(SpecError, match="finite") as info:
        analyze(loads_spec("input: [1, 8]\nlayers:\n  - dropout: {p: .nan}\n"))
    assert info.value.field == "p"


@pytest.mark.parametrize("layer", ["crop: {cropping: 0}", "downsample: {factor: 1}", "upsample: {scale_factor: 1, mode: zeros}"])
def test_identity_sized_resampling_is_a_new_tensor(layer):
    """With nothing cropped or resampled the kernel must still return a new
    array: the training-memory estimate counts the output and the input
    apart when both are kept (here the input by the first leaky_relu)."""
    pytest.importorskip("numpy")
    from cnncalc.executor.verify import verify

    text = f"input: [1, 4]\nlayers:\n  - leaky_relu\n  - {layer}\n    inputs: [input]\n  - leaky_relu\n"
    report = verify(analyze(loads_spec(text), batch=2), seed=0)
    assert report.ok, (report.failures, report.held)
