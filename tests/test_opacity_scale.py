"""Line opacity that reads: rollout and flow lines scaled to their largest value, norms said and scaled
in the model view, and rollout/flow refused for values that are not attention weights."""
from __future__ import annotations

import dataclasses

import matplotlib.pyplot as plt
import numpy as np
import pytest

import attnfig
from attnfig.errors import AttentionInputError
from attnfig.summaries.rollout import METHOD_LABELS
from matplotlib.collections import LineCollection

TOKENS = ["[CLS]", "a", "b", "c", "d", "[SEP]"]


def weights(seed=0, layers=3, heads=2, n=6):
    return np.random.default_rng(seed).dirichlet(np.ones(n), size=(layers, heads, n))


def norms(seed=1, scale=0.5):
    """Norm-like values (rows do not sum to 1), as `attention_norms` marks them."""
    data = attnfig.as_attention(weights(seed) * scale * 6, TOKENS, normalized=False)
    return dataclasses.replace(data, value_label="norm")


def line_alphas(ax) -> dict[tuple[float, float], float]:
    """Opacity of every drawn line, by its (left y, right y)."""
    found = {}
    for collection in ax.collections:
        if isinstance(collection, LineCollection):
            for segment, color in zip(collection.get_segments(), collection.get_colors()):
                found[(round(segment[0][1], 6), round(segment[1][1], 6))] = float(color[3])
    return found


@pytest.mark.parametrize("method", ["rollout", "flow"])
def test_rollout_and_flow_lines_run_from_clear_at_the_smallest_to_opaque_at_the_largest_and_say_it(method):
    fig, ax = plt.subplots()
    attnfig.plot_rollout(weights(), TOKENS, kind="lines", method=method, ax=ax)
    values = attnfig.attention_rollout(weights()) if method == "rollout" else attnfig.attention_flow(weights())
    alphas = line_alphas(ax)
    y = (np.arange(6) + 0.5) / 6
    low, high = values.min(), values.max()
    expected = {(round(y[q], 6), round(y[k], 6)): (values[q, k] - low) / (high - low) for q in range(6) for k in range(6)}
    assert max(alphas.values()) == pytest.approx(1.0, abs=1e-6)
    for pair, alpha in alphas.items():  # opacity = (value - min) / (max - min) of the values shown, line by line
        assert alpha == pytest.approx(expected[pair], abs=1e-6)
    assert ax.get_xlabel() == f"opacity: {METHOD_LABELS[method]} from {low:.2g} (clear) to {high:.2g} (opaque)"
    plt.close(fig)


def test_one_query_of_the_flow_is_scaled_over_that_query_s_range_of_flows():
    fig, ax = plt.subplots()
    attnfig.plot_rollout(weights(), TOKENS, kind="lines", method="flow", query=2, ax=ax)
    row = attnfig.attention_flow(weights(), query=2)
    assert max(line_alphas(ax).values()) == pytest.approx(1.0, abs=1e-6)
    assert f"from {row.min():.2g} (clear) to {row.max():.2g} (opaque)" in ax.get_xlabel()
    plt.close(fig)


def test_nearly_uniform_flow_lines_are_not_a_lattice_the_weakest_clear_and_the_median_faint():
    """Flows of a near-uniform attention lie within a narrow band: scaled to the maximum alone every
    line was at least half opaque. Over the range shown, the weakest line is clear (not drawn)."""
    near_uniform = np.random.default_rng(4).dirichlet(np.full(6, 30.0), size=(3, 2, 6))
    values = attnfig.attention_flow(near_uniform)
    assert values.min() > 0.4 * values.max()  # the narrow band the reviewer saw (0.07-0.17)
    fig, ax = plt.subplots()
    attnfig.plot_rollout(near_uniform, TOKENS, kind="lines", method="flow", ax=ax)
    alphas = np.array(list(line_alphas(ax).values()))
    assert alphas.max() == pytest.approx(1.0, abs=1e-6)
    assert len(alphas) < values.size  # the smallest flow is clear: no line drawn for it
    low, high = values.min(), values.max()
    assert np.median(alphas) == pytest.approx(np.median(((values - low) / (high - low))[values > low]), abs=0.1)
    assert np.median(alphas) < 0.5
    plt.close(fig)


@pytest.mark.parametrize("call", [
    lambda data: attnfig.plot_rollout(data),
    lambda data: attnfig.plot_rollout(data, kind="lines", method="flow"),
    lambda data: attnfig.attention_rollout(data),
    lambda data: attnfig.attention_flow(data, query=0),
])
def test_rollout_and_flow_of_norms_are_refused_with_advice(call):
    with pytest.raises(AttentionInputError, match=r"norms.*attnfig\.heatmap"):
        call(norms())
    plt.close("all")


@pytest.mark.parametrize("scale", [0.3, 3.0])
def test_model_view_lines_of_norms_scale_opacity_to_the_largest_norm_and_say_norm(scale):
    data = norms(scale=scale)
    fig = attnfig.model_view(data)
    ax = fig.axes[0]
    rgba = np.concatenate([c.get_colors() for c in ax.collections if isinstance(c, LineCollection)])
    assert rgba[:, 3].max() == pytest.approx(1.0, abs=1e-6)
    largest = float(data.weights.max())
    texts = [t.get_text() for t in fig.findobj(plt.Text)]
    assert any("norm" in t and f"max {largest:.2g}" in t for t in texts), texts
    plt.close(fig)


def test_model_view_lines_of_weights_keep_opacity_equal_to_the_weight_and_no_note():
    data = attnfig.as_attention(weights(), TOKENS)
    fig = attnfig.model_view(data)
    rgba = np.concatenate([c.get_colors() for c in fig.axes[0].collections if isinstance(c, LineCollection)])
    assert rgba[:, 3].max() == pytest.approx(float(data.weights.max()), abs=1e-6)
    assert not any("opacity" in t.get_text() for t in fig.findobj(plt.Text))
    plt.close(fig)


@pytest.mark.parametrize("scale", [0.05, 0.5])
def test_lines_and_head_view_of_norms_share_one_scale_across_heads_and_say_norm(scale):
    """A norm's opacity is its value over the layer's largest norm (every head on one scale),
    below 1 as above it; the figure says "norm" and the value drawn opaque."""
    data = norms(scale=scale)
    layer_max = float(data.weights[1].max())
    weakest = int(np.argmin(data.weights[1].max(axis=(1, 2))))  # the head whose own maximum is smallest
    fig, ax = plt.subplots()
    attnfig.lines(data, layer=1, heads=[weakest], ax=ax)
    alphas = np.array(list(line_alphas(ax).values()))
    assert alphas.max() == pytest.approx(float(data.weights[1, weakest].max()) / layer_max, rel=1e-5)
    assert ax.get_title() == f"Line opacity \u221d norm, max {layer_max:.2g} (opaque)"
    grid = attnfig.head_view(data, layer=1, layout="grid")
    assert f"Line opacity \u221d norm, max {layer_max:.2g} (opaque)" in grid.get_suptitle()
    plt.close("all")
