"""Issue 19, fourth review E' and H: the highlight color means only "highlight", a layer has one color
in every figure that colors layers, and the head map's labels are legible and unambiguous.

Distances are CAM02-UCS (`attnfig.views.uniform`, checked against colorspacious in
test_color_meanings.py).
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection, PatchCollection, PathCollection

import attnfig
from attnfig.summaries.patterns import PATTERNS
from attnfig.summaries.special_tokens import TARGETS
from attnfig.views.colors import category_colors, head_colors
from attnfig.views.labels import highlight_color
from attnfig.views.uniform import cam02_ucs
from conftest import random_attention

PAIR = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]", "the", "turtle", "slowly", "crawled", "[SEP]"]
STYLES = [("light",), ("icml",), ("icml", "dark"), ("colorblind",)]


def distances(first, second) -> np.ndarray:
    return np.linalg.norm(cam02_ucs(first)[:, None] - cam02_ucs(second)[None], axis=-1)


# --- E'1. the highlight color: no hue at all, so no head's or category's ------------------------------

def chroma(colors) -> np.ndarray:
    """CIELAB chroma: 0 for a grey, black or white."""
    from attnfig.views.colors import cielab

    lab = cielab(np.atleast_2d(colors)[:, :3])
    return np.hypot(lab[:, 1], lab[:, 2])


@pytest.mark.parametrize("names", STYLES)
def test_highlight_color_has_no_hue_and_is_far_from_every_head_and_category_color(names):
    """A cyan chosen far from the heads was still 13 units from head 8, whose faint lines its band
    matched (fifth review); a grey is a hue no head has."""
    with attnfig.style(*names):
        highlight = highlight_color()[None, :3]
        heads = head_colors(range(20))[:, :3]
        categories = category_colors(len(PATTERNS) - 1 + len(TARGETS))[:, :3]  # heterogeneous is grey
    assert chroma(highlight)[0] < 1
    assert chroma(heads).min() > 15  # every head has a hue
    assert distances(highlight, heads).min() >= 20  # was 0.0 (head 3's red), then 13.4 (a cyan beside head 8)
    assert distances(highlight, categories).min() >= 20


@pytest.mark.parametrize("names", [("icml",), ("icml", "dark")])
def test_head_view_highlight_band_is_grey_and_its_labels_bold(names):
    with attnfig.style(*names):
        fig = attnfig.head_view(random_attention(3, 12, 11), PAIR, layer=2, highlight=[2])
        fig.canvas.draw()
    bands = [c for ax in fig.axes for c in ax.collections
             if isinstance(c, PatchCollection) and c.get_label() == "highlight"]
    assert len(bands) == 12  # one per head panel
    band_rgb = np.unique(np.concatenate([b.get_facecolors()[:, :3] for b in bands]).round(6), axis=0)
    assert len(band_rgb) == 1 and chroma(band_rgb)[0] < 1
    labels = [t for ax in fig.axes for axis in [ax.yaxis] + [c.yaxis for c in ax.child_axes]
              for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
    bold = {t.get_text() for t in labels if t.get_fontweight() in ("bold", 700)}
    assert bold == {"rabbit"}
    plt.close(fig)


# --- E'2. one color per layer, in model_view and plot_head_map -----------------------------------------

@pytest.mark.parametrize("names", STYLES)
def test_model_view_and_head_map_give_a_layer_the_same_color(names):
    weights = random_attention(6, 3, 6)
    with attnfig.style(*names):
        view = attnfig.model_view(weights, PAIR[:6])
        mv = {c.get_label(): np.unique(c.get_colors()[:, :3].round(6), axis=0)
              for c in view.axes[0].collections if isinstance(c, LineCollection)}
        ax = attnfig.plot_head_map(weights, PAIR[:6], ax=plt.figure().subplots(), labels=False)
        scatter = next(c for c in ax.collections if isinstance(c, PathCollection))
        scatter.figure.canvas.draw()
        head_map = scatter.get_facecolors()[:, :3]
    assert len(mv) == 6
    for layer in range(6):
        (line_color,) = mv[f"layer {layer}"]  # one color per layer's lines
        np.testing.assert_allclose(head_map[layer * 3:(layer + 1) * 3], np.tile(line_color, (3, 1)), atol=2e-3)
    # and the layers are told apart: neighbouring layers differ
    steps = np.diag(distances(head_map[::3], head_map[::3]), 1)
    assert steps.min() > 9  # CAM02-UCS between neighbouring layers: 13.8 light, 16.7 dark, 9.5 colorblind (cividis)
    plt.close("all")


def test_head_map_layer_subset_keeps_each_layer_color():
    data = attnfig.as_attention(random_attention(6, 3, 6), PAIR[:6])
    with attnfig.style("icml"):
        whole = attnfig.plot_head_map(data, ax=plt.figure().subplots(), labels=False)
        part = attnfig.plot_head_map(data.select(layers=[4, 5]), ax=plt.figure().subplots(), labels=False)
        mv = attnfig.model_view(data.select(layers=[4, 5]))
    for ax in (whole, part):
        ax.figure.canvas.draw()
    whole_colors = whole.collections[0].get_facecolors()
    part_colors = part.collections[0].get_facecolors()
    np.testing.assert_allclose(part_colors, whole_colors[12:], atol=2e-3)  # layers 4 and 5 keep their colors
    lines = [c for c in mv.axes[0].collections if isinstance(c, LineCollection)]
    mv.canvas.draw()
    np.testing.assert_allclose(lines[-1].get_colors()[0, :3], whole_colors[15, :3], atol=2e-3)
    plt.close("all")


# --- H. head map labels: at least 5 pt, each clearly nearer its own marker -----------------------------

@pytest.mark.parametrize("names", [("icml",), ("icml", "dark"), ("acl",)])
def test_head_map_labels_are_legible_and_name_one_marker(names):
    from attnfig.summaries.head_map import _distances

    rng = np.random.default_rng(3)
    # a dense cluster (heads nearly alike) beside a few far-off heads
    weights = rng.dirichlet(np.full(8, 60.0), size=(6, 12, 8)).astype(np.float32)
    weights[0, :4] = rng.dirichlet(np.full(8, 0.3), size=(4, 8))
    with attnfig.style(*names):
        fig = plt.figure(figsize=attnfig.figsize(names[0]), layout="constrained")
        ax = attnfig.plot_head_map(weights, [f"t{i}" for i in range(8)], ax=fig.subplots())
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        scatter = ax.collections[0]
        centers = scatter.get_offset_transform().transform(scatter.get_offsets())
        shown = [(i, t) for i, t in enumerate(ax.texts) if t.get_visible()]
        assert shown  # some labels fit
        for index, text in shown:
            assert text.get_fontsize() >= 5.0 - 1e-9  # was 4.8 at icml
            box = text.get_window_extent(renderer)
            near = _distances(box, centers)
            own = near[index]
            others = np.delete(near, index)
            clearance = renderer.points_to_pixels(0.5 * text.get_fontsize())  # any other marker half a size farther
            assert others.min() >= own + clearance - 1e-6, text.get_text()
    plt.close(fig)
