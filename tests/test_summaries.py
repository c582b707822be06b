"""Summary numbers checked against direct computations on small hand-made inputs."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import attnfig
from attnfig import AttentionInputError
from attnfig.summaries.patterns import classify_head

from conftest import random_attention

TOKENS = ["[CLS]", "the", "cat", ",", "sat", "[SEP]"]


# --- attention to special tokens ------------------------------------------------------------


def one_hot(target_key, layers=1, heads=1, n=6):
    weights = np.zeros((layers, heads, n, n))
    weights[..., target_key] = 1.0
    return weights


def test_all_attention_on_sep_is_one_to_sep_and_zero_elsewhere():
    stats = attnfig.special_token_attention(one_hot(5), TOKENS)
    assert stats["[SEP]"][0, 0] == 1.0
    assert stats["[CLS]"][0, 0] == 0.0 and stats["punctuation"][0, 0] == 0.0


def test_punctuation_self_next_previous():
    assert attnfig.special_token_attention(one_hot(3), TOKENS)["punctuation"][0, 0] == 1.0
    identity = np.eye(6)[None, None]
    stats = attnfig.special_token_attention(identity, TOKENS)
    assert stats["self"][0, 0] == 1.0 and stats["next"][0, 0] == 0.0
    shifted = np.zeros((1, 1, 6, 6))
    shifted[0, 0, np.arange(5), np.arange(1, 6)] = 1.0
    shifted[0, 0, 5, 5] = 1.0
    stats = attnfig.special_token_attention(shifted, TOKENS)
    assert stats["next"][0, 0] == 1.0  # averaged over the 5 queries that have a next token
    assert stats["previous"][0, 0] == 0.0


def test_special_token_attention_is_the_mean_over_queries_of_the_mass():
    weights = random_attention(2, 3, 6)
    stats = attnfig.special_token_attention(weights, TOKENS)
    np.testing.assert_allclose(stats["[CLS]"], weights[..., 0].mean(-1), rtol=1e-6)
    np.testing.assert_allclose(stats["[SEP]"], weights[..., 5].mean(-1), rtol=1e-6)


def test_corpus_average_and_plot_lines():
    first = attnfig.as_attention(one_hot(0, layers=3, heads=2), TOKENS)
    second = attnfig.as_attention(one_hot(5, layers=3, heads=2), TOKENS)
    stats = attnfig.special_token_attention([first, second])
    np.testing.assert_allclose(stats["[CLS]"], 0.5)
    ax = attnfig.plot_special_token_attention([first, second], spread="corpus")
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["[SEP]"].get_ydata(), [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(lines["[SEP]"].get_xdata(), [0, 1, 2])
    assert len(ax.collections) == 6  # one band per target
    assert ax.get_xlabel() == "Layer"


def test_plot_band_spans_the_interquartile_range_over_heads():
    weights = np.zeros((1, 4, 6, 6))
    for head, key in enumerate([0, 0, 5, 5]):
        weights[0, head, :, key] = 1.0
    ax = attnfig.plot_special_token_attention(weights, TOKENS, targets=["[CLS]"])
    (band,) = ax.collections
    y = band.get_paths()[0].vertices[:, 1]
    assert y.min() == pytest.approx(0.0) and y.max() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"`spread` must be one of \['heads', 'corpus', None\]"):
        attnfig.plot_special_token_attention(weights, TOKENS, spread="layers")


# --- entropy --------------------------------------------------------------------------------


def test_entropy_of_one_hot_rows_is_zero_and_of_uniform_rows_ln_n():
    weights = np.stack([one_hot(0)[0, 0], np.full((6, 6), 1 / 6)])[None]
    entropy = attnfig.head_entropy(weights)
    np.testing.assert_allclose(entropy, [[0.0, np.log(6)]], atol=1e-6)
    assert attnfig.uniform_entropy(weights) == pytest.approx(np.log(6))


def test_uniform_reference_of_a_causal_model_counts_visible_keys():
    weights = np.tril(np.ones((4, 4)))
    weights /= weights.sum(-1, keepdims=True)
    data = attnfig.as_attention(weights)
    assert data.is_causal
    expected = np.mean(np.log([1, 2, 3, 4]))
    assert attnfig.uniform_entropy(data) == pytest.approx(expected)
    assert attnfig.head_entropy(data)[0, 0] == pytest.approx(expected, rel=1e-6)


def test_entropy_map_draws_the_numbers_and_marks_uniform():
    weights = random_attention(3, 4, 6)
    ax = attnfig.plot_head_entropy(weights)
    np.testing.assert_allclose(ax.images[0].get_array(), attnfig.head_entropy(weights), rtol=1e-6)
    colorbar = ax.images[0].colorbar
    dashed = [line for line in colorbar.ax.get_lines() if line.get_linestyle() == "--"]
    assert dashed and dashed[0].get_ydata()[0] == pytest.approx(np.log(6))


# --- rollout --------------------------------------------------------------------------------


def test_rollout_of_two_known_layers():
    a1 = np.array([[1.0, 0.0], [1.0, 0.0]])
    a2 = np.array([[0.0, 1.0], [0.0, 1.0]])
    weights = np.stack([np.stack([a1, a1]), np.stack([a2, a2])])  # 2 layers, 2 identical heads
    m1 = 0.5 * a1 + 0.5 * np.eye(2)  # rows already sum to 1
    m2 = 0.5 * a2 + 0.5 * np.eye(2)
    np.testing.assert_allclose(attnfig.attention_rollout(weights), m2 @ m1)
    np.testing.assert_allclose(attnfig.attention_rollout(weights, start_layer=1), m2)
    np.testing.assert_allclose(attnfig.attention_rollout(weights).sum(-1), 1)


def test_rollout_averages_heads_before_mixing():
    h0, h1 = np.eye(3), np.full((3, 3), 1 / 3)
    weights = np.stack([h0, h1])[None]
    mixed = 0.5 * (h0 + h1) / 2 + 0.5 * np.eye(3)
    np.testing.assert_allclose(attnfig.attention_rollout(weights), mixed / mixed.sum(-1, keepdims=True))


def test_rollout_plots_as_heatmap_or_lines():
    weights = random_attention(3, 2, 6)
    ax = attnfig.plot_rollout(weights, TOKENS)
    np.testing.assert_allclose(ax.images[0].get_array(), attnfig.attention_rollout(weights), rtol=1e-6)
    fig, axis = plt.subplots()
    attnfig.plot_rollout(weights, TOKENS, kind="lines", ax=axis, min_weight=0)
    assert len(axis.collections[0].get_segments()) == 35  # every pair but the smallest value, drawn clear (opacity 0)
    with pytest.raises(AttentionInputError, match=r"`kind` must be one of \['heatmap', 'lines'\]"):
        attnfig.plot_rollout(weights, kind="bars")


# --- difference -----------------------------------------------------------------------------


def test_difference_is_first_minus_second_on_a_centred_diverging_scale():
    a, b = random_attention(2, 2, 6, seed=1), random_attention(2, 2, 6, seed=2)
    diff = attnfig.attention_difference(a, b)
    np.testing.assert_allclose(diff.weights, a - b, atol=1e-7)
    ax = attnfig.plot_difference(a, b, layer=1, head=0)
    norm = ax.images[0].norm
    assert norm.vcenter == 0 and norm.vmin == -norm.vmax
    fig = attnfig.difference_grid(a, b)
    image = fig.axes[0].images[0]
    assert image.norm.vcenter == 0 and image.cmap.name.startswith("RdBu")


def test_difference_needs_the_same_shape():
    with pytest.raises(AttentionInputError, match=r"same \[layers, heads, q, k\] shape.*\[2, 2, 6, 6\] and \[2, 2, 5, 5\]"):
        attnfig.attention_difference(random_attention(2, 2, 6), random_attention(2, 2, 5))


# --- head pattern types ---------------------------------------------------------------------

N = 16


def synthetic(kind):
    if kind == "diagonal":
        return np.eye(N)
    if kind == "vertical":
        return one_hot(0, n=N)[0, 0]
    if kind == "vertical+diagonal":
        return 0.5 * np.eye(N) + 0.5 * one_hot(0, n=N)[0, 0]
    if kind == "block":
        side = np.arange(N) >= N // 2
        same = (side[:, None] == side[None, :]).astype(float)
        return same / same.sum(-1, keepdims=True)
    return random_attention(1, 1, N, seed=7)[0, 0]


@pytest.mark.parametrize("kind", ["diagonal", "vertical", "vertical+diagonal", "block", "heterogeneous"])
def test_classifier_labels_synthetic_patterns(kind):
    assert classify_head(synthetic(kind), sentence_b_start=N // 2) == kind


def test_previous_token_attention_counts_as_diagonal():
    previous = np.eye(N, k=-1)
    previous[0, 0] = 1
    assert classify_head(previous) == "diagonal"


def test_pattern_table_and_labelled_grid():
    kinds = ["diagonal", "vertical", "block"]
    weights = np.stack([synthetic(k) for k in kinds])[None]
    data = attnfig.as_attention(weights, sentence_b_start=N // 2)
    table = attnfig.head_patterns(data)
    assert table.tolist() == [kinds]
    fig = attnfig.plot_head_patterns(data)
    assert not fig.axes[0].texts  # nothing written over the thumbnails
    frames = [c for c in fig.axes[0].collections if c.get_label() == "pattern frames"][0]
    colors = attnfig.summaries.patterns.pattern_colors()
    np.testing.assert_allclose(frames.get_edgecolors(), [colors[k] for k in kinds])
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["vertical", "diagonal", "block"]  # no V/D/B letters: the thumbnails carry none (issue 19)


# --- neuron view ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_neuron_view_scores_match_the_models_own_attention(tiny_models, kind):
    model, tokenizer = tiny_models[kind]
    view = attnfig.neuron_view(model, tokenizer, "the rabbit quickly hopped", layer=1, head=2, query=2)
    data = attnfig.from_model(model, tokenizer, "the rabbit quickly hopped")
    np.testing.assert_allclose(view.weights, data.weights[1, 2, 2], atol=1e-6)
    # scores are the logits before the softmax: log-weights up to one constant
    visible = np.isfinite(view.scores)
    logits = np.log(data.weights[1, 2, 2][visible].astype(np.float64))
    shift = view.scores[visible] - logits
    np.testing.assert_allclose(shift, shift[0], atol=1e-4)
    scaled = view.products.sum(-1) / np.sqrt(view.query_vector.size)
    np.testing.assert_allclose(scaled[visible], view.scores[visible], rtol=1e-6)  # float32 scores
    if kind == "gpt2":
        assert not visible[3:].any()


@pytest.mark.real_model
def test_neuron_view_on_real_minilm_and_its_figure(minilm):
    model, tokenizer = minilm
    view = attnfig.neuron_view(model, tokenizer, "the rabbit quickly hopped", "The turtle slowly crawled",
                               layer=2, head=3, query=2)
    assert view.query_vector.shape == (32,) and view.key_vectors.shape == (11, 32)
    fig = attnfig.plot_neuron_view(view)
    titles = [ax.get_title() or ax.get_title(loc="right") for ax in fig.axes if ax.get_title() or ax.get_title(loc="right")]
    assert titles == ["Query q (layer 2, head 3)", "Keys k", "q \u00d7 k", "q\u00b7k\n\u00d70.177", "Softmax"]


def test_neuron_view_rejects_bad_indices(tiny_models):
    model, tokenizer = tiny_models["bert"]
    with pytest.raises(AttentionInputError, match=r"`head` must be in \[0, 3\]"):
        attnfig.neuron_view(model, tokenizer, "a cat", head=9)
    with pytest.raises(AttentionInputError, match=r"`query` must be a token index in \[0, 3\]"):
        attnfig.neuron_view(model, tokenizer, "a cat", query=10)


def test_difference_of_different_prompts_needs_labels():
    a = attnfig.as_attention(random_attention(1, 1, 3), ["[CLS]", "rabbit", "[SEP]"])
    b = attnfig.as_attention(random_attention(1, 1, 3, seed=3), ["[CLS]", "turtle", "[SEP]"])
    with pytest.raises(AttentionInputError, match=r"different tokens.*pass `tokens=`"):
        attnfig.attention_difference(a, b)
    labelled = attnfig.attention_difference(a, b, tokens=["[CLS]", "noun", "[SEP]"])
    assert labelled.tokens == ("[CLS]", "noun", "[SEP]")


# --- attention flow -------------------------------------------------------------------------


def _networkx_flows(capacities, sink):
    """Max flow from every input token to `sink` with networkx, on the graph as the paper builds it."""
    nx = pytest.importorskip("networkx")
    layers, n, _ = capacities.shape
    graph = nx.DiGraph()
    graph.add_nodes_from((layer, token) for layer in range(layers + 1) for token in range(n))
    for layer in range(layers):
        for i in range(n):
            for j in range(n):
                graph.add_edge((layer, j), (layer + 1, i), capacity=capacities[layer, i, j])
    return np.array([nx.maximum_flow_value(graph, (0, source), (layers, sink)) for source in range(n)])


@pytest.mark.parametrize("seed", range(6))
def test_attention_flow_equals_networkx_maximum_flow(seed):
    rng = np.random.default_rng(seed)
    weights = rng.random((3, 2, 4, 4)) ** 3
    if seed % 2:  # sparse, causal-like weights saturate edges and need flow sent back
        weights = np.tril(weights) + 1e-9
    weights /= weights.sum(-1, keepdims=True)
    residual = [0.5, 0.2, 0.0][seed % 3]
    from attnfig.summaries.flow import residual_attention

    capacities = residual_attention(weights, residual=residual)
    expected = np.stack([_networkx_flows(capacities, sink) for sink in range(4)])
    flows = attnfig.attention_flow(weights, residual=residual, normalize=False)
    np.testing.assert_allclose(flows, expected, atol=1e-12)
    normalized = attnfig.attention_flow(weights, residual=residual)
    np.testing.assert_allclose(normalized, expected / expected.sum(-1, keepdims=True), atol=1e-12)
    np.testing.assert_allclose(attnfig.attention_flow(weights, residual=residual, query=-1), normalized[-1])


@pytest.mark.parametrize(("layers", "n", "peaked"), [(6, 12, False), (8, 10, True), (5, 16, True)])
def test_attention_flow_equals_networkx_on_bigger_graphs(layers, n, peaked):
    """Deeper, wider graphs; peaked causal weights saturate edges, so flow must be sent back down."""
    rng = np.random.default_rng(layers * n)
    weights = rng.random((layers, 2, n, n)) ** (8 if peaked else 1)
    if peaked:
        weights = np.tril(weights) + 1e-12
    weights /= weights.sum(-1, keepdims=True)
    from attnfig.summaries.flow import residual_attention

    capacities = residual_attention(weights, residual=0.1)
    sinks = [0, n // 2, n - 1]
    expected = np.stack([_networkx_flows(capacities, sink) for sink in sinks])
    flows = attnfig.attention_flow(weights, residual=0.1, normalize=False, query=sinks)
    np.testing.assert_allclose(flows, expected, atol=1e-12)


def test_attention_flow_of_one_layer_is_its_residual_attention():
    weights = np.random.default_rng(0).dirichlet(np.ones(5), size=(1, 3, 5))
    mixed = 0.5 * weights[0].mean(0) + 0.5 * np.eye(5)
    np.testing.assert_allclose(attnfig.attention_flow(weights, normalize=False), mixed)


def test_attention_flow_rejects_a_query_outside_the_tokens():
    with pytest.raises(attnfig.ArgumentError, match="`query` must be None"):
        attnfig.attention_flow(np.full((2, 1, 3, 3), 1 / 3), query=3)


def test_plot_rollout_draws_flow_rows_of_the_chosen_queries():
    weights = np.random.default_rng(1).dirichlet(np.ones(6), size=(2, 2, 6))
    ax = attnfig.plot_rollout(weights, TOKENS, method="flow", query=[0, 2])
    np.testing.assert_allclose(ax.images[0].get_array(), attnfig.attention_flow(weights, query=[0, 2]), rtol=1e-6)
    assert [t.get_text() for t in ax.get_yticklabels()] == [TOKENS[0], TOKENS[2]]
    assert ax.get_title().startswith("Attention flow")
    with pytest.raises(attnfig.AttentionInputError, match="`method`"):
        attnfig.plot_rollout(weights, TOKENS, method="max")


# --- head map -------------------------------------------------------------------------------


def _js_distance(p, q):
    try:
        from scipy.spatial.distance import jensenshannon
    except ImportError:  # by hand: sqrt of the mean Kullback-Leibler divergence to the middle
        middle = (p + q) / 2
        kl = lambda a: np.sum(np.where(a > 0, a * np.log(np.where(a > 0, a, 1) / middle), 0))  # noqa: E731
        return np.sqrt((kl(p) + kl(q)) / 2)
    return jensenshannon(p, q)


def test_head_distances_equal_a_direct_jensen_shannon_computation():
    rng = np.random.default_rng(0)
    first = rng.dirichlet(np.ones(4), size=(2, 3, 4))
    second = np.tril(rng.random((2, 3, 6, 6)) ** 4)  # causal rows with zeros, another length
    second /= second.sum(-1, keepdims=True)
    corpus = [attnfig.as_attention(first), attnfig.as_attention(second)]
    rows = [data.weights.reshape(6, *data.weights.shape[2:]).astype(np.float64) for data in corpus]
    expected = np.zeros((6, 6))
    for a in range(6):
        for b in range(6):
            values = [_js_distance(r[a, q], r[b, q]) for r in rows for q in range(r.shape[1])]
            expected[a, b] = np.mean(values)
    np.testing.assert_allclose(attnfig.head_distances(corpus), expected, atol=1e-7)


def test_head_distances_refuse_inputs_with_other_heads():
    with pytest.raises(attnfig.AttentionInputError, match="same layers and heads"):
        attnfig.head_distances([attnfig.as_attention(np.full((1, 2, 3, 3), 1 / 3)),
                                attnfig.as_attention(np.full((1, 3, 3, 3), 1 / 3))])


def test_classical_mds_reproduces_the_distances_of_points_in_the_plane():
    from attnfig.summaries.head_map import classical_mds

    points = np.random.default_rng(2).normal(size=(7, 2))
    distances = np.linalg.norm(points[:, None] - points[None], axis=-1)
    found = classical_mds(distances)
    np.testing.assert_allclose(np.linalg.norm(found[:, None] - found[None], axis=-1), distances, atol=1e-9)


def test_plot_head_map_colors_heads_by_layer_and_labels_those_that_fit():
    import matplotlib.pyplot as plt

    weights = np.random.default_rng(3).dirichlet(np.ones(5) * 0.3, size=(3, 2, 5))
    ax = attnfig.plot_head_map(weights)
    scatter = ax.collections[0]
    assert scatter.get_array().tolist() == [0, 0, 1, 1, 2, 2]
    assert ax.figure.axes[-1].get_ylabel() == "layer"
    ax.figure.canvas.draw()
    labels = [t for t in ax.texts if t.get_visible()]
    assert labels and {t.get_text() for t in ax.texts} == {"0-0", "0-1", "1-0", "1-1", "2-0", "2-1"}
    renderer = ax.figure.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(ax.figure)


@pytest.mark.parametrize("style", [("icml",), ("acl",), ("icml", "dark")])
def test_head_map_labels_stay_in_the_frame_off_other_markers_and_markers_read_on_the_background(style):
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    weights = np.random.default_rng(7).dirichlet(np.ones(9) * 0.4, size=(6, 6, 9))  # 36 crowded heads
    with attnfig.style(*style):
        fig, ax = plt.subplots(figsize=attnfig.figsize(style[0]), layout="constrained")
        attnfig.plot_head_map(weights, ax=ax)
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        frame = ax.get_window_extent(renderer)
        scatter = ax.collections[0]
        centers = scatter.get_offset_transform().transform(scatter.get_offsets())
        radius = renderer.points_to_pixels(np.sqrt(scatter.get_sizes()[0]) / 2)
        shown = [(i, t.get_window_extent(renderer)) for i, t in enumerate(ax.texts) if t.get_visible()]
        assert len(shown) >= 12
        for i, box in shown:
            assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
            others = np.delete(centers, i, axis=0)
            nearest_x = np.clip(others[:, 0], box.x0, box.x1)
            nearest_y = np.clip(others[:, 1], box.y0, box.y1)
            assert np.all(np.hypot(others[:, 0] - nearest_x, others[:, 1] - nearest_y) >= radius * 0.99), ax.texts[i]
        # every marker, the lowest layer's too, has an edge that stands out from the background
        background = np.array(to_rgb(ax.get_facecolor()))
        edges = scatter.get_edgecolors()
        assert scatter.get_linewidths()[0] > 0
        assert np.all(np.abs(edges[:, :3] - background).sum(axis=1) > 0.6)
        assert to_rgb(edges[0]) == to_rgb(mpl.rcParams["axes.edgecolor"])
        plt.close(fig)


@pytest.mark.parametrize("style", [("icml",), ("icml", "dark")])
def test_head_map_every_layer_fill_and_colorbar_swatch_stands_out_from_the_background(style):
    """In dark, viridis' first color (#440154, L* 15) on black read as hollow markers and an
    invisible "0" swatch: every layer's color keeps 30 L* from a dark face."""
    import matplotlib as mpl
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb
    from matplotlib.collections import QuadMesh
    from attnfig.views.contrast import lightness

    least = 30.0  # L*: layers keep attnfig.views.contrast.MIN_LINE_CONTRAST (40) from the face, as model_view

    weights = np.random.default_rng(7).dirichlet(np.ones(5), size=(6, 2, 5))
    with attnfig.style(*style):
        fig, ax = plt.subplots(figsize=attnfig.figsize(style[0]), layout="constrained")
        attnfig.plot_head_map(weights, ax=ax, labels=False)
        fig.canvas.draw()
        face = float(lightness(np.array(to_rgb(ax.get_facecolor()))))
        fills = ax.collections[0].get_facecolors()[:, :3]
        solids = [c for c in fig.axes[-1].collections if isinstance(c, QuadMesh)]  # the colorbar's swatches
        swatches = solids[0].get_facecolors()[:, :3]
        assert len(swatches) == 6
        assert len({tuple(c) for c in fills.round(6)}) == 6  # one color per layer
        if face < 50:
            assert np.abs(lightness(fills) - face).min() >= least - 0.5
            assert np.abs(lightness(swatches) - face).min() >= least - 0.5
        else:  # on white the style's colormap is drawn whole, as before
            np.testing.assert_allclose(fills[0], mpl.colormaps["viridis"](0.0)[:3], atol=1e-6)
        plt.close(fig)


# --- attention sinks ------------------------------------------------------------------------


def test_sink_share_is_the_mean_of_the_first_keys_column_over_a_corpus():
    rng = np.random.default_rng(4)
    first = np.tril(rng.random((2, 3, 5, 5)))
    second = np.tril(rng.random((2, 3, 7, 7)))
    corpus = [attnfig.as_attention(w / w.sum(-1, keepdims=True)) for w in (first, second)]
    expected = np.mean([data.weights[..., 0].mean(-1) for data in corpus], axis=0)
    np.testing.assert_allclose(attnfig.special_token_attention(corpus)["first"], expected, rtol=1e-6)


def test_sink_share_is_drawn_only_when_asked():
    weights = np.random.default_rng(5).dirichlet(np.ones(6), size=(3, 2, 6))
    assert "first" not in [line.get_label() for line in attnfig.plot_special_token_attention(weights, TOKENS).get_lines()]
    import matplotlib.pyplot as plt

    ax = attnfig.plot_special_token_attention(weights, TOKENS, targets=["first", "[SEP]"], ax=plt.figure().subplots())
    assert [line.get_label() for line in ax.get_lines()] == ["first", "[SEP]"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), weights[..., 0].mean(axis=(1, 2)), rtol=1e-6)


def _drawn_head_map(venue, weights):
    fig = plt.figure(figsize=attnfig.figsize(venue, aspect=1.2), layout="constrained")
    ax = attnfig.plot_head_map(weights, ax=fig.add_subplot())
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    scatter = ax.collections[0]
    centers = scatter.get_offset_transform().transform(scatter.get_offsets())
    shown = [(i, t, t.get_window_extent(renderer)) for i, t in enumerate(ax.texts) if t.get_visible()]
    return fig, ax, renderer, centers, shown


def _box_distances(box, centers):
    return np.hypot(centers[:, 0] - np.clip(centers[:, 0], box.x0, box.x1),
                    centers[:, 1] - np.clip(centers[:, 1], box.y0, box.y1))


CROWDED_HEADS = np.random.default_rng(11).dirichlet(np.ones(9) * 0.4, size=(6, 12, 9))  # 72 heads, as MiniLM


@pytest.mark.parametrize("venue", ["acl", "neurips"])
def test_head_map_labels_keep_a_gap_and_each_is_nearest_its_own_marker(venue):
    with attnfig.style(venue):
        fig, ax, renderer, centers, shown = _drawn_head_map(venue, CROWDED_HEADS)
        gap = renderer.points_to_pixels(0.25 * shown[0][1].get_fontsize())
        for n, (i, text, box) in enumerate(shown):
            for _, other_text, other in shown[n + 1:]:  # never "5-74-8": a gap of a quarter font size
                assert not box.padded(gap / 2).overlaps(other.padded(gap / 2)), (text.get_text(), other_text.get_text())
            distances = _box_distances(box, centers)
            assert np.argmin(distances) == i and np.sum(distances <= distances[i]) == 1, text.get_text()
        plt.close(fig)


def test_head_map_markers_are_sized_to_the_axes_and_the_number_of_heads():
    def diameter(venue, weights):
        with attnfig.style(venue):
            fig = plt.figure(figsize=attnfig.figsize(venue, aspect=1.2), layout="constrained")
            points = np.sqrt(attnfig.plot_head_map(weights, ax=fig.add_subplot(), labels=False).collections[0].get_sizes()[0])
            plt.close(fig)
            return points

    few = np.random.default_rng(12).dirichlet(np.ones(9), size=(2, 3, 9))
    assert diameter("acl", CROWDED_HEADS) < diameter("acl", few)  # many heads: smaller markers
    assert diameter("acl", CROWDED_HEADS) < diameter("neurips", CROWDED_HEADS)  # a smaller figure: smaller markers
    assert diameter("acl", CROWDED_HEADS) * 25.4 / 72 < 1.6  # millimetres on a 3.3 in figure
