"""The reviewer's pass at venue sizes: each test failed before its fix."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import attnfig
from attnfig.summaries.neuron import NeuronView
from attnfig.views.colors import contrast_ratio, head_colors

from conftest import random_attention

# "The unquestionably remarkable tortoise outpaced the overconfident hare", as WordPiece splits it.
LONG = ["[CLS]", "the", "un", "##quest", "##ion", "##ably", "remarkable", "tor", "##to", "##ise", "out", "##pace",
        "##d", "the", "over", "##con", "##fi", "##dent", "hare", "[SEP]"]


def shown_labels(axis) -> list[str]:
    axis.axes.figure.draw_without_rendering()
    return [token(t.get_text()) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]


def token(label: str) -> str:
    """The token of a tick label; thinned labels read "<position> <token>"."""
    return label.split(" ", 1)[-1]


# --- 1. the focused query is always labelled ---------------------------------------------------

@pytest.mark.parametrize("focus", [1, 3, 12])  # next to [CLS] (a crowded kept label), mid-word, odd spot
def test_the_focused_query_keeps_its_label_when_labels_thin(focus):
    weights = random_attention(layers=1, heads=2, tokens=len(LONG))
    with attnfig.style("acl"):
        ax = Figure(figsize=attnfig.figsize("acl"), layout="constrained").subplots()
        attnfig.lines(weights, LONG, ax=ax, focus=focus, prettify_tokens=False)
    labels = shown_labels(ax.yaxis)
    assert len(labels) < len(LONG)  # the labels really were thinned
    assert LONG[focus] in labels and "[SEP]" in labels
    assert ("[CLS]" in labels) == (focus != 1)  # a kept label crowding the focused one gives way
    bold = [token(t.get_text()) for t in ax.yaxis.get_ticklabels() if t.get_fontweight() == "bold"]
    assert bold == [LONG[focus]]


def test_head_view_keeps_the_focused_query_label():
    weights = random_attention(layers=1, heads=12, tokens=len(LONG))
    with attnfig.style("acl"):
        figure = attnfig.head_view(weights, LONG, focus=3, figsize=attnfig.figsize("acl"), prettify_tokens=False)
    assert "##quest" in shown_labels(figure.axes[0].yaxis)


# --- 2. the neuron view's score panel says it is scaled -----------------------------------------

def test_neuron_view_titles_the_scaled_score_and_its_numbers_match():
    query = np.array([3.0, 2.0, 1.5, 0.5])
    keys = np.array([[2.5, 3.0, 1.953333333333333, 2.0], [0.1, -0.2, 0.3, 0.0]])
    products = query * keys
    scaling = 0.177
    scores = products.sum(-1) * scaling
    weights = np.exp(scores) / np.exp(scores).sum()
    view = NeuronView(query, keys, products, scores, weights, ("[CLS]", "hare"), 0, 2, 3, scaling)
    assert products.sum(-1)[0] == pytest.approx(17.43)  # the reviewer's q.k
    figure = attnfig.plot_neuron_view(view)
    by_title = {ax.get_title(): ax for ax in figure.axes if ax.get_title()}
    score_ax = by_title["q\u00b7k\n\u00d70.177"]  # what the panel shows: q.k times the scaling
    np.testing.assert_allclose(score_ax.images[0].get_array().ravel(), [17.43 * 0.177, scores[1]])
    np.testing.assert_allclose(by_title["q \u00d7 k"].images[0].get_array(), products)  # element-wise
    labels = [ax.get_xlabel() for ax in figure.axes]
    assert "q \u00d7 k\n(row sum: q\u00b7k)" in labels  # two lines: the panel is narrow
    assert "q \u00b7 k" not in by_title  # the old title, which named the unscaled product


# --- 3. head legends read row by row --------------------------------------------------------------

def legend_reading_order(legend) -> list[str]:
    legend.figure.draw_without_rendering()
    renderer = legend.figure._get_renderer()
    boxes = [(t.get_window_extent(renderer), t.get_text()) for t in legend.get_texts()]
    rows = sorted({round(box.y0) for box, _ in boxes}, reverse=True)
    return [text for row in rows for box, text in sorted(boxes, key=lambda b: b[0].x0) if round(box.y0) == row]


@pytest.mark.parametrize("venue", ["acl", "icml", "neurips"])
def test_head_legends_read_row_by_row_in_index_order(venue):
    weights = random_attention(layers=1, heads=12, tokens=7)
    with attnfig.style(venue):
        figure = attnfig.head_view(weights, ["[CLS]", "a", "b", "c", "d", "e", "[SEP]"], figsize=attnfig.figsize(venue),
                                   layout="overlay")
        ax = Figure(figsize=attnfig.figsize(venue)).subplots()
        attnfig.lines(weights, ["[CLS]", "a", "b", "c", "d", "e", "[SEP]"], ax=ax)
    expected = [str(h) for h in range(12)]
    assert [t for t in legend_reading_order(figure.legends[0]) if t.isdigit()] == expected
    assert [t for t in legend_reading_order(ax.get_legend()) if t.isdigit()] == expected
    columns = figure.legends[0]._ncols - 1  # full rows: 12 heads never leave a short row of 3 (title aside)
    assert 12 % columns == 0


def test_row_major_orders_handles_for_column_filling():
    from attnfig.views.lines import row_major

    assert row_major(range(12), 6) == [0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]


# --- 4. dark alone saves at 300 dpi and keeps every head visible -----------------------------------

@pytest.mark.parametrize("mode", ["dark", "light"])
def test_display_styles_alone_save_at_300_dpi(mode, tmp_path):
    weights = random_attention(layers=1, heads=2, tokens=5)
    with attnfig.style(mode):
        figure = attnfig.heatmap(weights, ["[CLS]", "a", "b", "c", "[SEP]"]).figure
    path, = attnfig.save(figure, tmp_path / "dark.png")
    width = Image.open(path).size[0]
    assert width == pytest.approx(figure.get_figwidth() * 300, abs=2)
    plt.close("all")


def test_dark_head_palette_keeps_every_head_visible():
    with attnfig.style("dark"):
        colors = head_colors(range(20))
        figure = attnfig.head_view(random_attention(layers=1, heads=12, tokens=5), ["[CLS]", "a", "b", "c", "[SEP]"],
                                   layout="overlay")
    background = "black"
    assert min(contrast_ratio(c, background) for c in colors) >= 3.0
    swatches = [h.get_facecolor() for h in figure.legends[0].legend_handles if h.get_visible()]
    assert min(contrast_ratio(c, background) for c in swatches) >= 3.0
    with attnfig.style("paper"):  # light backgrounds give every head the same color as dark ones
        np.testing.assert_array_equal(head_colors(range(20)), colors)


# --- 5. colorbar ticks span the scale --------------------------------------------------------------

def test_model_view_heatmap_colorbar_ticks_reach_the_top_of_the_scale():
    weights = random_attention(layers=6, heads=12, tokens=11)
    weights[0, 2] = np.eye(11) * 0.98 + 0.02 / 11  # one sharp head: the scale reaches ~0.98
    with attnfig.style("acl"):
        figure = attnfig.model_view(weights, kind="heatmap", figsize=attnfig.figsize("acl"))
    figure.draw_without_rendering()
    colorbar = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"][0]
    low, high = sorted(colorbar.get_ylim())
    ticks = [t for t in colorbar.get_yticks() if low <= t <= high]
    step = np.diff(ticks).min()
    assert high - max(ticks) <= step / 2 and min(ticks) - low <= step / 2
    assert max(ticks) >= 0.9 * high
    labels = [t.get_text() for t in colorbar.get_yticklabels() if t.get_text()]
    assert len(labels) == len(ticks) >= 3


# --- 6. misuse gets attnfig's own errors -------------------------------------------------------------

def test_save_accepts_the_axes_an_axes_level_function_returns(tmp_path):
    ax = attnfig.heatmap(random_attention(layers=1, heads=1, tokens=3), ["a", "b", "c"])
    path, = attnfig.save(ax, tmp_path / "axes.png")
    assert Image.open(path).size == tuple(round(v * ax.figure.dpi) for v in ax.figure.get_size_inches())
    plt.close("all")


def test_save_refuses_what_is_not_a_figure(tmp_path):
    with pytest.raises(attnfig.SaveError, match=r"needs a matplotlib Figure .* but None"):
        attnfig.save(None, tmp_path / "none.png")
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("function", ["lines", "heatmap", "plot_rollout", "plot_difference", "plot_head_entropy",
                                      "plot_special_token_attention"])
def test_ax_that_is_not_an_axes_is_refused(function):
    weights = random_attention(layers=2, heads=2, tokens=4)
    tokens = ["[CLS]", "a", "b", "[SEP]"]
    call = {"plot_difference": lambda **kw: attnfig.plot_difference(weights, weights[::-1].copy(), tokens, **kw),
            "plot_head_entropy": lambda **kw: attnfig.plot_head_entropy(weights, tokens, **kw)}.get(
        function, lambda **kw: getattr(attnfig, function)(weights, tokens, **kw))
    with pytest.raises(attnfig.ArgumentError, match=r"`ax` must be a matplotlib Axes .* but 'x' \(str\)"):
        call(ax="x")
    with pytest.raises(attnfig.ArgumentError, match="A Figure is not an Axes"):
        call(ax=Figure())


def test_duplicate_heads_are_refused():
    weights = random_attention(layers=1, heads=4, tokens=4)
    for call in (lambda: attnfig.head_view(weights, heads=[3, 3]), lambda: attnfig.lines(weights, heads=[3, 3]),
                 lambda: attnfig.model_view(weights, include_heads=[1, 1])):
        with pytest.raises(attnfig.AttentionInputError, match=r"lists \[\d\] more than once.*e\.g\. \[\d\]"):
            call()


def test_load_model_of_a_hub_name_is_a_model_folder_error():
    with pytest.raises(attnfig.ModelFolderError, match="No model folder at 'bert-base-uncased'.*offline"):
        attnfig.load_model("bert-base-uncased")


def test_from_model_refuses_a_number_for_text(minilm):
    model, tokenizer = minilm
    with pytest.raises(attnfig.ArgumentError, match=r"`text` must be a string or a list of strings.*5 \(int\)"):
        attnfig.from_model(model, tokenizer, 5)


# --- 7. load_model reads image and speech model folders -----------------------------------------------

@pytest.mark.parametrize("name", ["vit", "whisper"])
def test_load_model_gives_an_image_or_speech_model_its_processor(name, tmp_path):
    from attnfig.testing import build_family_model

    model, processor = build_family_model(name)
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded, loaded_processor = attnfig.load_model(tmp_path)
    assert type(loaded_processor).__name__ == type(processor).__name__
    rng = np.random.default_rng(0)
    value = (rng.integers(0, 256, (32, 32, 3)).astype(np.uint8) if name == "vit"
             else rng.standard_normal(16000).astype(np.float32))
    expected, got = attnfig.from_model(model, processor, value), attnfig.from_model(loaded, loaded_processor, value)
    if name == "whisper":
        expected, got = expected.encoder, got.encoder
    np.testing.assert_allclose(got.weights, expected.weights, atol=1e-5)
    assert got.tokens == expected.tokens
