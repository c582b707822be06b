"""Bad arguments to every figure function: attnfig's own error, naming the argument; never a
raw TypeError/IndexError or a silently wrong figure (issue #12, BertViz keywords of #11)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import attnfig
from attnfig import ArgumentError, AttentionInputError

from conftest import random_attention

TOKENS = ["[CLS]", "the", "rabbit", "[SEP]"]


@pytest.fixture(scope="module")
def weights():
    return random_attention(layers=2, heads=3, tokens=4, seed=1)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- empty selections and bad types -----------------------------------------------------


@pytest.mark.parametrize("call, argument", [
    (lambda w: attnfig.lines(w, TOKENS, heads=[]), "heads"),
    (lambda w: attnfig.head_view(w, TOKENS, heads=[]), "heads"),
    (lambda w: attnfig.head_view(w, TOKENS, include_layers=[]), "include_layers"),
    (lambda w: attnfig.model_view(w, TOKENS, include_heads=[]), "include_heads"),
    (lambda w: attnfig.model_view(w, TOKENS, include_layers=[]), "include_layers"),
])
def test_empty_selections_name_the_argument(weights, call, argument):
    with pytest.raises(AttentionInputError, match=rf"`{argument}` is empty: select at least one of \[0, 1"):
        call(weights)


def test_empty_palette_is_refused(weights):
    with pytest.raises(ArgumentError, match=r"`palette` is an empty list"):
        attnfig.lines(weights, TOKENS, palette=[])


def test_palette_of_non_colors_is_refused(weights):
    with pytest.raises(ArgumentError, match=r"`palette` must be a palette name or a list of matplotlib colors"):
        attnfig.head_view(weights, TOKENS, palette=["not-a-color"])


def test_residual_of_the_wrong_type_is_refused(weights):
    with pytest.raises(ArgumentError, match=r"`residual` must be a finite real number, but 'x' was passed"):
        attnfig.plot_rollout(weights, TOKENS, residual="x")


def test_unknown_colormap_is_refused(weights):
    with pytest.raises(ArgumentError, match=r"`cmap` must be a matplotlib Colormap or the name of one"):
        attnfig.heatmap(weights, TOKENS, cmap="no-such-map")


# --- colour limits ------------------------------------------------------------------------


@pytest.mark.parametrize("limits, message", [
    (dict(vmin=0.8, vmax=0.2), r"`vmin` \(0.8\) must be less than `vmax` \(0.2\)"),
    (dict(vmin=0.5, vmax=0.5), r"`vmin` \(0.5\) must be less than `vmax` \(0.5\)"),
    (dict(vmin=float("nan")), r"`vmin` must be a finite real number, but nan was passed"),
    (dict(vmax="a"), r"`vmax` must be a finite real number, but 'a' was passed"),
])
def test_colour_limits_out_of_order_or_not_numbers_are_refused(weights, limits, message):
    for call in (lambda: attnfig.heatmap(weights, TOKENS, **limits),
                 lambda: attnfig.model_view(weights, TOKENS, kind="heatmap", **limits)):
        with pytest.raises(ArgumentError, match=message):
            call()


def test_difference_vmax_zero_is_refused(weights):
    with pytest.raises(ArgumentError, match=r"`vmax` is the half-width .* must be > 0, but 0 was passed"):
        attnfig.plot_difference(weights, weights[::-1], TOKENS, vmax=0)


def test_difference_grid_limits_must_straddle_zero(weights):
    with pytest.raises(ArgumentError, match=r"`center` \(0.0\) must lie strictly between `vmin` \(0.1\)"):
        attnfig.difference_grid(weights, weights[::-1], TOKENS, vmin=0.1, vmax=0.5)


def test_difference_grid_is_always_centred_on_zero(weights):
    with pytest.raises(ArgumentError, match=r"`difference_grid` got an unexpected keyword argument 'center'"):
        attnfig.difference_grid(weights, weights[::-1], TOKENS, center=5)


# --- titles name the index drawn ---------------------------------------------------------


def test_heatmap_title_names_the_head_drawn_not_the_negative_index(weights):
    ax = attnfig.heatmap(weights, TOKENS, layer=-1, head=-1)
    assert ax.get_title() == "Layer 1, head 2"
    np.testing.assert_allclose(ax.images[0].get_array(), weights[1, 2])


def test_rollout_title_names_the_first_layer_taken(weights):
    assert attnfig.plot_rollout(weights, TOKENS, start_layer=-1).get_title() == "Attention rollout, layers 1\u20131"


def test_difference_title_names_the_layer_and_head_drawn(weights):
    ax = attnfig.plot_difference(weights, weights[::-1], TOKENS, layer=-1, head=-2)
    assert ax.get_title() == "first \u2212 second, layer 1, head 1"
    np.testing.assert_allclose(ax.images[0].get_array(), weights[1, 1] - weights[0, 1], atol=1e-6)


# --- tokens -------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, b"x", {"a": 1}, 3])
def test_tokens_that_are_not_strings_are_refused(weights, bad):
    with pytest.raises(AttentionInputError, match=r"`tokens` must hold strings .* entry 1 is"):
        attnfig.head_view(weights, ["[CLS]", bad, "b", "[SEP]"])


@pytest.mark.parametrize("call", [
    lambda w, t: attnfig.plot_special_token_attention(w, t),
    lambda w, t: attnfig.plot_difference(w, w[::-1], t),
    lambda w, t: attnfig.difference_grid(w, w[::-1], t),
])
def test_tokens_given_as_a_generator_are_read_once(weights, call):
    result = call(weights, (token for token in TOKENS))
    figure = result if isinstance(result, plt.Figure) else result.figure
    assert figure.axes


def test_tokens_generator_for_attention_data(weights):
    data = attnfig.as_attention(weights)
    assert attnfig.as_attention(data, (t for t in TOKENS)).tokens == tuple(TOKENS)


# --- keywords -----------------------------------------------------------------------------


@pytest.mark.parametrize("call, name", [
    (lambda w: attnfig.lines(w, TOKENS, colour="red"), "lines"),
    (lambda w: attnfig.head_view(w, TOKENS, foo=1), "head_view"),
    (lambda w: attnfig.model_view(w, TOKENS, foo=1), "model_view"),
    (lambda w: attnfig.model_view(w, TOKENS, kind="heatmap", foo=1), "model_view"),
    (lambda w: attnfig.heatmap(w, TOKENS, foo=1), "heatmap"),
    (lambda w: attnfig.plot_difference(w, w[::-1], TOKENS, foo=1), "plot_difference"),
    (lambda w: attnfig.plot_head_entropy(w, TOKENS, foo=1), "plot_head_entropy"),
    (lambda w: attnfig.plot_rollout(w, TOKENS, foo=1), "plot_rollout"),
    (lambda w: attnfig.plot_rollout(w, TOKENS, kind="lines", foo=1), "plot_rollout"),
    (lambda w: attnfig.plot_special_token_attention(w, TOKENS, foo=1), "plot_special_token_attention"),
    (lambda w: attnfig.plot_head_patterns(w, TOKENS, foo=1), "plot_head_patterns"),
])
def test_unknown_keywords_name_the_function_and_its_arguments(weights, call, name):
    with pytest.raises(ArgumentError, match=rf"`{name}` got an unexpected keyword argument '(foo|colour)'.* It takes \["):
        call(weights)


def test_unknown_keyword_suggests_the_close_name(weights):
    with pytest.raises(ArgumentError, match=r"'colour' \(did you mean 'color'\?\)"):
        attnfig.lines(weights, TOKENS, colour="red")


def test_artist_keywords_and_their_aliases_still_reach_the_artist(weights):
    ax = attnfig.lines(weights, TOKENS, lw=3, zorder=5)
    assert ax.collections[0].get_linewidths()[0] == 3 and ax.collections[0].get_zorder() == 5
    ax = attnfig.heatmap(weights, TOKENS, alpha=0.5, interpolation="bilinear")
    assert ax.images[0].get_alpha() == 0.5 and ax.images[0].get_interpolation() == "bilinear"
    fig = attnfig.head_view(weights, TOKENS, top_k=1, linestyle="--")
    assert sum(len(c.get_segments()) for c in fig.axes[0].collections) == 3 * 4


# --- BertViz's keywords --------------------------------------------------------------------


@pytest.mark.parametrize("view", [attnfig.head_view, attnfig.model_view])
@pytest.mark.parametrize("action", ["view", "return"])
def test_html_action_returns_the_figure(weights, view, action):
    assert isinstance(view(weights, TOKENS, html_action=action), plt.Figure)


@pytest.mark.parametrize("view", [attnfig.head_view, attnfig.model_view])
def test_unknown_html_action_is_refused(weights, view):
    with pytest.raises(ArgumentError, match=r"`html_action` must be one of \['view', 'return'\], but 'show'"):
        view(weights, TOKENS, html_action="show")


def test_head_view_include_heads_keeps_those_heads(weights):
    fig = attnfig.head_view(weights, TOKENS, include_heads=[2, 0])
    ax = fig.axes[0]
    # every kept head drawn (weakest first, `drawing_order`), keyed in the order given
    assert sorted(c.get_label() for c in ax.collections if c.get_label().startswith("head")) == ["head 0", "head 2"]
    assert [t.get_text() for t in fig.legends[0].get_texts()][1:] == ["2", "0"]  # after the "Layer 0, head" title


def test_head_patterns_frames_follow_the_kept_thumbnails(weights):
    from matplotlib.colors import to_rgba

    from attnfig.summaries.patterns import pattern_colors

    everything = attnfig.head_patterns(weights)
    fig = attnfig.plot_head_patterns(weights, TOKENS, include_layers=[1], include_heads=[2])
    frames = next(c for c in fig.axes[0].collections if c.get_label() == "pattern frames")
    assert len(frames.get_paths()) == 1
    assert tuple(frames.get_edgecolors()[0]) == to_rgba(pattern_colors(None)[everything[1, 2]])
