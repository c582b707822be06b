"""head_view, model_view and heatmap: figures, artists, labels, BertViz's arguments."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

import attnfig
from attnfig import AttentionInputError

from conftest import random_attention

SEED_TOKENS = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]",
               "the", "turtle", "slowly", "crawled", "[SEP]"]


def hf_output(layers=3, heads=4, tokens=11, causal=False):
    import torch

    weights = torch.from_numpy(random_attention(layers, heads, tokens, causal=causal))
    return tuple(weights[i : i + 1] for i in range(layers))


# --- head_view ------------------------------------------------------------------------------


def test_head_view_takes_bertviz_arguments_and_returns_a_figure():
    fig = attnfig.head_view(hf_output(), SEED_TOKENS, 6)
    assert isinstance(fig, Figure)
    assert plt.get_fignums() == [fig.number]  # made through pyplot, as seaborn does (issue #18)
    (ax,) = [a for a in fig.axes if a.collections]
    assert len([c for c in ax.collections if c.get_label().startswith("head")]) == 4
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Layer 0, head", "0", "1", "2", "3"]


def test_head_view_layer_heads_and_include_layers_use_original_indices():
    fig = attnfig.head_view(hf_output(layers=6), SEED_TOKENS, include_layers=[2, 4], layer=4, heads=[1, 3])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["Layer 4, head", "1", "3"]
    ax = fig.axes[0]
    assert sorted(c.get_label() for c in ax.collections if c.get_label().startswith("head")) == ["head 1", "head 3"]
    with pytest.raises(AttentionInputError, match=r"`layer` 1 is not in the attention.*\[2, 4\]"):
        attnfig.head_view(hf_output(layers=6), SEED_TOKENS, include_layers=[2, 4], layer=1)


def test_head_view_encoder_decoder_has_three_panels_with_decoder_queries_on_cross():
    enc = random_attention(2, 2, 5)
    dec = random_attention(2, 2, 3, causal=True)
    cross = np.random.default_rng(0).random((2, 2, 3, 5))
    cross /= cross.sum(-1, keepdims=True)
    fig = attnfig.head_view(encoder_attention=enc, decoder_attention=dec, cross_attention=cross,
                            encoder_tokens=list("abcde"), decoder_tokens=list("xyz"))
    panels = [a for a in fig.axes if a.collections]
    assert [a.get_title() for a in panels] == ["Encoder", "Decoder", "Cross"]
    cross_ax = panels[2]
    assert [t.get_text() for t in cross_ax.get_yticklabels()] == list("xyz")
    assert [t.get_text() for t in cross_ax.child_axes[0].get_yticklabels()] == list("abcde")


def test_head_view_needs_some_attention():
    with pytest.raises(AttentionInputError, match="No attention was passed"):
        attnfig.head_view()
    with pytest.raises(AttentionInputError, match="not both"):
        attnfig.head_view(random_attention(), encoder_attention=random_attention())


def test_head_view_display_mode_dark_applies_to_that_figure_only():
    fig = attnfig.head_view(hf_output(), SEED_TOKENS, display_mode="dark")
    assert mpl.colors.to_hex(fig.get_facecolor()) == "#000000"
    assert mpl.colors.to_hex(fig.axes[0].get_yticklabels()[0].get_color()) == "#ffffff"
    assert mpl.rcParams["figure.facecolor"] == "white"
    with pytest.raises(attnfig.StyleNotFoundError, match=r"`display_mode` must be one of \['light', 'dark', None\]"):
        attnfig.head_view(hf_output(), SEED_TOKENS, display_mode="dim")


def test_head_view_passes_focus_and_direction_to_lines():
    fig = attnfig.head_view(hf_output(), SEED_TOKENS, 6, direction="b->a", min_weight=0)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == SEED_TOKENS[6:]
    assert all(len(c.get_segments()) == 5 * 6 for c in ax.collections)


# --- model_view -----------------------------------------------------------------------------


def test_model_view_lines_one_collection_per_layer_colored_per_layer():
    weights = random_attention(3, 4, 11)
    fig = attnfig.model_view(weights, SEED_TOKENS, 6)
    (ax,) = fig.axes
    collections = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert [c.get_label() for c in collections] == ["layer 0", "layer 1", "layer 2"]
    from attnfig.views.colors import layer_colors

    sequential = layer_colors(3)  # the style's image.cmap, first layer to last (the palette means heads)
    for layer, collection in enumerate(collections):
        assert np.allclose(collection.get_colors()[:, :3], sequential[layer, :3])
        np.testing.assert_allclose(np.sort(collection.get_colors()[:, 3]),
                                   np.sort(weights[layer][weights[layer] >= 0.5 / 255]), rtol=1e-6)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2", "3"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    assert ax.get_xlabel() == "Head" and ax.get_ylabel() == "Layer"


def test_model_view_include_layers_and_heads_label_original_indices():
    fig = attnfig.model_view(hf_output(layers=6, heads=12), SEED_TOKENS, include_layers=[1, 5],
                             include_heads=[0, 7, 11], kind="heatmap")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "7", "11"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["1", "5"]


def test_model_view_heatmap_is_one_image_on_one_shared_scale_with_one_colorbar():
    weights = random_attention(3, 4, 11)
    fig = attnfig.model_view(weights, kind="heatmap")
    grid, colorbar_ax = fig.axes
    (image,) = grid.images
    assert image.norm.vmin == 0 and image.norm.vmax == pytest.approx(weights.max())
    data = image.get_array()
    gap = round(0.15 * 11)
    np.testing.assert_array_equal(data[:11, :11], weights[0, 0])
    np.testing.assert_array_equal(data[11 + gap : 22 + gap, 11 + gap : 22 + gap], weights[1, 1])
    assert data.mask[:, 11:11 + gap].all()  # gaps are transparent
    assert colorbar_ax.get_ylabel() == "attention weight"


def test_model_view_heatmap_masks_the_causal_upper_triangle():
    fig = attnfig.model_view(random_attention(2, 2, 5, causal=True), kind="heatmap")
    data = fig.axes[0].images[0].get_array()
    upper = np.triu(np.ones((5, 5), bool), 1)
    assert data.mask[:5, :5][upper].all() and not data.mask[:5, :5][~upper].any()


def test_model_view_rejects_unknown_kind():
    with pytest.raises(AttentionInputError, match=r"`kind` must be one of \['lines', 'heatmap'\], but 'bars'"):
        attnfig.model_view(random_attention(), kind="bars")


def test_model_view_encoder_decoder_has_a_grid_per_part():
    fig = attnfig.model_view(encoder_attention=random_attention(2, 2, 5),
                             decoder_attention=random_attention(2, 2, 3, causal=True),
                             kind="heatmap")
    assert [a.get_title() for a in fig.axes if a.images] == ["Encoder", "Decoder"]
    assert len(fig.axes) == 3  # two grids, one shared colorbar


# --- heatmap --------------------------------------------------------------------------------


def test_heatmap_one_image_queries_down_keys_across():
    weights = random_attention(2, 3, 11)
    fig, ax = plt.subplots(figsize=(5, 5))
    returned = attnfig.heatmap(weights, SEED_TOKENS, layer=1, head=2, ax=ax)
    assert returned is ax
    (image,) = ax.images
    np.testing.assert_array_equal(image.get_array(), weights[1, 2])
    assert [t.get_text() for t in ax.get_yticklabels()] == SEED_TOKENS
    assert [t.get_text() for t in ax.get_xticklabels()] == SEED_TOKENS
    assert ax.get_title() == "Layer 1, head 2"
    assert len(fig.axes) == 2  # the colorbar


def test_heatmap_seaborn_keywords():
    weights = random_attention(1, 2, 4)
    ax = attnfig.heatmap(weights, head="mean", cmap="magma", vmin=0.1, vmax=0.6, cbar=False,
                         annot=True, fmt=".1f")
    (image,) = ax.images
    assert image.cmap.name.startswith("magma") and (image.norm.vmin, image.norm.vmax) == (0.1, 0.6)
    np.testing.assert_allclose(image.get_array(), weights[0].mean(0), rtol=1e-6)
    texts = [t.get_text() for t in ax.texts]
    assert texts == [format(v, ".1f") for v in weights[0].mean(0).ravel()]
    assert len(ax.figure.axes) == 1


def test_heatmap_masks_the_causal_upper_triangle_instead_of_showing_zeros():
    ax = attnfig.heatmap(random_attention(1, 1, 6, causal=True))
    data = ax.images[0].get_array()
    assert data.mask[np.triu_indices(6, 1)].all()
    assert not data.mask[np.tril_indices(6)].any()


def test_heatmap_default_colormap_follows_the_style():
    with attnfig.style("colorblind"):
        ax = attnfig.heatmap(random_attention(1, 1, 4))
    assert ax.images[0].cmap.name.startswith("cividis")


def test_heatmap_user_mask_and_bad_mask_shape():
    mask = np.eye(4, dtype=bool)
    ax = attnfig.heatmap(random_attention(1, 1, 4), mask=mask)
    assert ax.images[0].get_array().mask[np.diag_indices(4)].all()
    with pytest.raises(AttentionInputError, match=r"`mask` must have the heatmap's shape \[4, 4\]"):
        attnfig.heatmap(random_attention(1, 1, 4), mask=np.eye(3, dtype=bool))


def test_heatmap_thins_labels_at_512_tokens():
    tokens = [f"t{i}" for i in range(512)]
    fig, ax = plt.subplots(figsize=(5, 5))
    attnfig.heatmap(random_attention(1, 1, 512), tokens, ax=ax, cbar=False)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert 10 < len(labels) < 64
    step = int(labels[1].split()[0])  # thinned labels read "<position> <token>"
    assert labels[:2] == ["0 t0", f"{step} t{step}"]


def test_heatmap_draws_into_the_given_axes_without_touching_pyplot():
    fig, (left, right) = plt.subplots(1, 2)
    other = plt.figure()
    attnfig.heatmap(random_attention(1, 1, 4), ax=right, cbar=False)
    assert right.images and not left.images and not other.axes


def test_robust_ends_the_color_scale_at_the_98th_percentile():
    weights = random_attention(2, 2, 32)
    ax = attnfig.heatmap(weights, robust=True, cbar=False)
    assert ax.images[0].norm.vmax == pytest.approx(np.percentile(weights[0, 0], 98))
    assert ax.images[0].norm.vmin == 0
    fig = attnfig.model_view(weights, kind="heatmap", robust=True)
    assert fig.axes[0].images[0].norm.vmax == pytest.approx(np.percentile(weights, 98))


def test_model_view_heatmap_cells_stay_crisp_unless_smaller_than_a_pixel(tmp_path):
    few = attnfig.model_view(random_attention(2, 2, 16), kind="heatmap")
    attnfig.save(few, tmp_path / "few.png")
    assert few.axes[0].images[0].get_interpolation() == "nearest"
    assert few.axes[0].images[0].get_array().shape == (16 * 2 + 2, 16 * 2 + 2)  # every cell, whole
    many = attnfig.model_view(random_attention(12, 12, 256), kind="heatmap")
    attnfig.save(many, tmp_path / "many.png")
    box = many.axes[0].images[0].get_window_extent()
    assert many.axes[0].images[0].get_array().shape == (int(box.height), int(box.width))  # one value a pixel


def test_model_view_display_mode_dark_and_light():
    dark = attnfig.model_view(random_attention(2, 2, 4), display_mode="dark")
    assert mpl.colors.to_hex(dark.get_facecolor()) == "#000000"
    assert mpl.colors.to_hex(dark.axes[0].xaxis.label.get_color()) == "#ffffff"
    with attnfig.style("dark"):
        light = attnfig.model_view(random_attention(2, 2, 4), display_mode="light")
    assert mpl.colors.to_hex(light.get_facecolor()) == "#ffffff"
    assert mpl.colors.to_hex(light.axes[0].xaxis.label.get_color()) == "#000000"


def test_views_default_to_the_first_layer_and_head_of_a_selection():
    weights = np.random.default_rng(0).dirichlet(np.ones(4), size=(3, 4, 4))
    selected = attnfig.as_attention(weights).select(layers=[2], heads=[1, 3])
    ax = attnfig.heatmap(selected)
    assert ax.get_title() == "Layer 2, head 1"
    np.testing.assert_allclose(np.ma.getdata(ax.images[0].get_array()), weights[2, 1], atol=1e-6)
    ax = attnfig.lines(selected, ax=plt.figure().gca())
    assert ax.collections
