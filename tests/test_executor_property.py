"""Property: for random small valid specs, ``verify`` passes every check
(shapes, parameter sizes, multiplications, kept-for-backward bytes, and the
float64 gradient check)."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cnncalc import SpecError
from cnncalc.executor.verify import verify
from conftest import analyze_text

small = st.integers(1, 3)


def _axes(draw, nd, lo=1, hi=3):
    return "[" + ", ".join(str(draw(st.integers(lo, hi))) for _ in range(nd)) + "]"


@st.composite
def layer(draw, nd):
    kind = draw(st.sampled_from(["conv", "conv", "tconv", "max_pool", "avg_pool", "bn", "act", "local", "pad",
                                 "up", "adaptive"]))
    if kind == "conv":
        g = draw(st.sampled_from([1, 1, 2]))
        pad = draw(st.sampled_from(["same", "valid", "1", f"[{', '.join('[0, 1]' for _ in range(nd))}]"]))
        return (f"conv: {{out_channels: {2 * draw(small)}, kernel_size: {_axes(draw, nd)}, stride: {_axes(draw, nd, 1, 2)}, "
                f"dilation: {_axes(draw, nd, 1, 2)}, groups: {g}, padding: {pad}}}")
    if kind == "tconv":
        return (f"conv_transpose: {{out_channels: {draw(small)}, kernel_size: {_axes(draw, nd)}, "
                f"stride: {_axes(draw, nd, 1, 2)}}}")
    if kind in ("max_pool", "avg_pool"):
        return (f"{kind}: {{kernel_size: {_axes(draw, nd, 1, 2)}, stride: {_axes(draw, nd, 1, 2)}, "
                f"ceil_mode: {draw(st.booleans())}}}".replace("True", "true").replace("False", "false"))
    if kind == "bn":
        return "batch_norm"
    if kind == "act":
        return draw(st.sampled_from(["relu", "tanh", "sigmoid", "leaky_relu", "silu", "elu", "dropout: {p: 0.2}"]))
    if kind == "local":
        return f"locally_connected: {{out_channels: {draw(small)}, kernel_size: {_axes(draw, nd, 1, 2)}}}"
    if kind == "pad":
        return f"zero_pad: {{padding: {draw(st.integers(0, 1))}}}"
    if kind == "up":
        return f"upsample: {{scale_factor: {draw(st.integers(1, 2))}, mode: {draw(st.sampled_from(['nearest', 'zeros']))}}}"
    return f"adaptive_avg_pool: {{output_size: {_axes(draw, nd, 1, 3)}}}"


@st.composite
def small_spec(draw):
    nd = draw(st.integers(1, 3))
    size = [draw(st.integers(3, 7 if nd < 3 else 4)) for _ in range(nd)]
    layers = [draw(layer(nd)) for _ in range(draw(st.integers(1, 4)))]
    head = draw(st.sampled_from([[], ["flatten", "dense: {out_features: 3}"], ["global_max_pool"]]))
    return f"input: [{draw(small)}, {', '.join(map(str, size))}]\nlayers:\n" + "".join(
        f"  - {x}\n" for x in layers + head
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_spec(), st.integers(1, 3))
def test_random_small_specs_verify(text, batch):
    try:
        analysis = analyze_text(text, batch=batch)
    except SpecError:
        assume(False)
    report = verify(analysis, seed=batch, gradcheck=True)
    assert report.ok, f"{text}\n" + "\n".join(str(r) for r in report.layers if not r.ok)
