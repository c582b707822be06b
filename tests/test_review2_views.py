"""Review 2's rejects of the head view and the lines view: no grey head color, the lines
view names its layer and draws the strongest head on top, head views sized so that every
token is labelled (a norm's extra title line, one block of a pair), and a dense head view on
a dark background composited before its opacities are raised (no solid field)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba, to_rgba_array

import attnfig
from conftest import random_attention

PAIR = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]", "the", "turtle", "slowly", "crawled", "[SEP]"]
STYLES = [("icml",), ("acl",), ("neurips",), ("icml", "dark")]


def teardown_function():
    plt.close("all")


def _lab(rgb) -> np.ndarray:
    """CIELAB of sRGB colors (the test's own formula)."""
    rgb = np.asarray(rgb, dtype=float)[..., :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.2126, 0.0193], [0.3576, 0.7152, 0.1192], [0.1805, 0.0722, 0.9505]])
    xyz = xyz / [0.95047, 1.0, 1.08883]
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


# --- reject 2: no grey among the head colors --------------------------------------------------

@pytest.mark.parametrize("names", [("light",), ("icml",), ("acl",), ("neurips",), ("dark",), ("icml", "dark")])
def test_head_palette_has_no_grey_and_twenty_distinct_colors(names):
    from attnfig.views.colors import head_colors

    with attnfig.style(*names):
        colors = head_colors(range(20))
    lab = _lab(colors)
    assert np.hypot(lab[:, 1], lab[:, 2]).min() > 15  # head 7 was tab10's grey (chroma 0)
    distances = np.linalg.norm(lab[:, None] - lab[None], axis=-1) + 1e3 * np.eye(20)
    assert distances.min() > 20
    np.testing.assert_allclose(colors[[0, 3]], to_rgba_array(["#1f77b4", "#d62728"]))  # the others keep theirs


def test_colorblind_style_and_a_given_palette_are_kept():
    from attnfig.views.colors import head_colors

    with attnfig.style("colorblind"):
        assert to_rgba(head_colors([6])[0]) == to_rgba("#CC79A7")  # Okabe-Ito's cycle is kept,
        assert to_rgba(head_colors([7])[0]) == to_rgba("#CC6677")  # but not its black: no head is black or grey
    np.testing.assert_allclose(head_colors([0, 1], ["grey", "red"]), to_rgba_array(["grey", "red"]))


def test_overlay_head_seven_is_not_grey():
    figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2, layout="overlay",
                               heads=[0, 3, 7])
    (collection,) = [c for c in figure.axes[0].collections if c.get_label() == "head 7"]
    lab = _lab(collection.get_colors()[0])
    assert np.hypot(lab[1], lab[2]) > 15


# --- reject 1: the lines view names its layer and draws the strongest head on top ----------------

def test_lines_legend_names_the_layer():
    ax = attnfig.lines(random_attention(3, 12, len(PAIR)), PAIR, layer=2, ax=plt.figure().subplots())
    (legend,) = [c for c in ax.get_children() if isinstance(c, plt.matplotlib.legend.Legend)]
    assert legend.get_texts()[0].get_text() == "Layer 2, head"  # was "Head"


def test_overlapping_heads_are_drawn_weakest_first():
    tokens = len(PAIR)
    weights = random_attention(1, 4, tokens, seed=5)
    weights[0, 1] = 0.0
    weights[0, 1, :, 0] = 1.0  # head 1: every query on the first key, the strongest lines
    weights[0, 2] = 1.0 / tokens  # head 2: uniform, the faintest lines
    ax = attnfig.lines(weights, ax=plt.figure().subplots())
    heads = [int(c.get_label().split()[1]) for c in ax.collections if c.get_label().startswith("head")]
    totals = (weights[0] ** 2).sum(axis=(1, 2))
    assert heads == list(np.argsort(totals, kind="stable")) and heads[-1] == 1 and heads[0] == 2
    from attnfig.views.lines import _LinePlan, drawing_order

    plan = _LinePlan(weights[0], np.ones_like(weights[0], bool), 1.0, False, (0, 1, 2, 3), np.zeros((4, 4)),
                     (), (), np.zeros(1), np.zeros(1), 0, None, None)
    assert drawing_order(plan)[-1] == 1 and drawing_order(plan)[0] == 2


def test_head_grid_panels_keep_their_single_head():
    figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2)
    for head, ax in enumerate(figure.axes):
        (collection,) = [c for c in ax.collections if c.get_label().startswith("head")]
        assert collection.get_label() == f"head {head}"


# --- rejects 3 and 4: every token labelled ----------------------------------------------------

def _shown(figure) -> tuple[int, int]:
    figure.draw_without_rendering()
    ax = figure.axes[0]
    return (len(ax.yaxis.get_major_locator().fit.shown),
            len(ax.child_axes[0].yaxis.get_major_locator().fit.shown))


@pytest.mark.parametrize("names", [("icml",), ("icml", "dark")])
def test_a_norm_head_view_labels_as_many_tokens_as_an_attention_one(names):
    weights = random_attention(3, 12, len(PAIR), seed=3)
    norms = attnfig.as_attention(weights * 2.0, PAIR, sentence_b_start=6, normalized=False)
    with attnfig.style(*names):
        of_norms = attnfig.head_view(norms, layer=2)
        assert "opacity" in of_norms._suptitle.get_text()
        # was 5 of 11 at icml, acl and dark; the attention head view of the same size shows all 11
        assert _shown(of_norms) == (len(PAIR), len(PAIR))


@pytest.mark.parametrize("names", STYLES)
def test_one_block_of_a_pair_labels_every_token(names):
    with attnfig.style(*names):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR), seed=3), PAIR, 6, layer=2, direction="a->b")
    assert _shown(figure) == (6, 5)  # was 3 of 6 queries at icml and dark


# --- reject 10: a dense head view on dark is not a solid field ----------------------------------

def _lightness_shares(figure, background: float) -> np.ndarray:
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255
    ax = figure.axes[0]
    x0, y0, x1, y1 = ax.get_window_extent().extents.astype(int)
    height = pixels.shape[0]
    inner = pixels[height - y1 + 5:height - y0 - 5, x0 + 5:x1 - 5]
    red = _lab(np.array([0xd6, 0x27, 0x28]) / 255)[0]
    return np.abs(_lab(inner)[..., 0] - background) / abs(red - background)


def test_a_dense_head_view_on_dark_keeps_its_faint_background_faint():
    weights = random_attention(1, 4, 200, seed=7)
    tokens = ["[CLS]"] + [f"w{i}" for i in range(199)]
    shares = {}
    for mode, background in (("light", 100.0), ("dark", 0.0)):
        with attnfig.style("icml", mode):
            figure = attnfig.head_view(weights, tokens, heads=[3], figsize=(3.25, 4.0))
            figure.set_dpi(100)
            shares[mode] = _lightness_shares(figure, background)
    assert figure.axes[0].images  # composited, then raised once
    # Raised one line at a time, the faint lines compounded into a field: the darkest tenth of
    # the dark view was as strong as the median of the light one.
    assert np.percentile(shares["dark"], 10) <= np.percentile(shares["light"], 10) + 0.05
