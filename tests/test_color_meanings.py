"""Issue 19, third review A, B and E: head colors far apart, overlaid heads in legend colors, one
meaning per color across figures.

Distances are CAM02-UCS (`attnfig.views.uniform`, checked against colorspacious' values),
deficiencies simulated with Machado et al.'s (2009) matrices at 50% severity on linear RGB.
"""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba, to_rgba_array

import attnfig
from attnfig.views import uniform
from attnfig.views.colors import head_colors
from attnfig.views.readability import FAINT_ALPHA
from conftest import random_attention

PAIR = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]", "the", "turtle", "slowly", "crawled", "[SEP]"]
DEUTERANOMALY_50 = [[0.547494, 0.607765, -0.155259], [0.181692, 0.781742, 0.036566], [-0.01041, 0.027275, 0.983136]]
PROTANOMALY_50 = [[0.458064, 0.679578, -0.137642], [0.092785, 0.846313, 0.060902], [-0.007494, -0.016807, 1.024301]]


def cam02_ucs(colors, cvd=None) -> np.ndarray:
    """CAM02-UCS of sRGB colors; `cvd` (3x3) simulates a deficiency on linear RGB first."""
    if cvd is None:
        return uniform.cam02_ucs(colors)
    rgb = to_rgba_array(colors)[:, :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    seen = np.clip(linear @ np.asarray(cvd).T, 0, 1)
    return uniform.cam02_ucs(np.where(seen <= 0.0031308, 12.92 * seen, 1.055 * seen ** (1 / 2.4) - 0.055))


def min_distance(colors, cvd=None) -> float:
    ucs = cam02_ucs(colors, cvd)
    distances = np.linalg.norm(ucs[:, None] - ucs[None], axis=-1) + 1e9 * np.eye(len(ucs))
    return float(distances.min())


def distances_between(first, second) -> np.ndarray:
    return np.linalg.norm(cam02_ucs(first)[:, None] - cam02_ucs(second)[None], axis=-1)


def test_cam02_ucs_matches_colorspacious():
    # colorspacious 1.1.2: cspace_convert(to_rgb(color), "sRGB1", "CAM02-UCS")
    expected = [[100.0, -1.91, -1.15], [48.97, -12.82, -23.82], [76.78, -8.68, 29.65], [52.33, 37.79, -4.58]]
    np.testing.assert_allclose(cam02_ucs(["white", "#1f77b4", "#bcbd22", "#d20087"]), expected, atol=0.01)
    assert cam02_ucs(["black"])[0] == pytest.approx([0, 0, 0], abs=1e-6)


# --- A. twelve (and twenty) head colors far apart, in every style and for common deficiencies --------

@pytest.mark.parametrize("names", [("light",), ("icml",), ("icml", "dark")])
def test_head_colors_are_far_apart(names):
    with attnfig.style(*names):
        colors = head_colors(range(20))
    assert min_distance(colors[:12]) >= 21.0  # was 16.0: tab10's pink #e377c2 and #ff00ff (head 9)
    assert min_distance(colors) >= 17.0  # was 12.3: olive #bcbd22 and #e6ab02
    for cvd in (DEUTERANOMALY_50, PROTANOMALY_50):
        assert min_distance(colors, cvd) >= 9.0  # tab10's own floor; was 3.9 and 4.7 for 20 heads
    np.testing.assert_allclose(colors[:7], to_rgba_array(["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                                          "#8c564b", "#e377c2"]))  # BertViz's tab10


# --- A. overlapping heads: one line per pair, in its strongest head's color ----------------------------

def _fan(strengths, tokens=11):
    """Attention whose heads send `strengths[h]` of every row to [CLS] and the rest to the query itself."""
    strengths = np.asarray(strengths, float)
    weights = np.zeros((len(strengths), tokens, tokens))
    weights[:, :, 0] = strengths[:, None]
    weights[:, np.arange(1, tokens), np.arange(1, tokens)] = 1 - strengths[:, None]
    weights[:, 0, 0] = 1.0
    return weights[None].astype(np.float32)


def _on_fan(query: int, n: int, x: float = 0.3125):
    """A point of the line from `query` to [CLS], half-way between two rows (off the self lines)."""
    query_y = (query + 0.5) / n
    return x, query_y + x * (0.5 / n - query_y)


def test_twelve_overlaid_heads_draw_each_pair_once_in_its_strongest_head():
    weights = random_attention(1, 12, len(PAIR), seed=3)
    ax = attnfig.lines(weights, PAIR, ax=plt.figure(figsize=attnfig.figsize("icml")).subplots())
    legend = ax.get_legend()
    assert legend.get_texts()[0].get_text() == "Layer 0, head"
    colors = head_colors(range(12))
    seen = set()
    n = len(PAIR)
    for collection in [c for c in ax.collections if isinstance(c, LineCollection)]:
        head = int(collection.get_label().split()[1])
        for segment, color in zip(collection.get_segments(), collection.get_colors()):
            q, k = (int(round(y * n - 0.5)) for y in (segment[0, 1], segment[1, 1]))
            assert head == int(np.argmax(weights[0, :, q, k]))  # the head sending the pair the most weight
            np.testing.assert_allclose(color[:3], colors[head, :3])
            alphas = weights[0, :, q, k] / 12
            composite = 1 - np.prod(1 - alphas[alphas >= FAINT_ALPHA])  # as all heads' drawn lines over each other
            assert color[3] == pytest.approx(composite, rel=1e-4)
            assert (q, k) not in seen  # one line per pair
            seen.add((q, k))
    assert len(seen) > 100


def _pixel_near(fig, ax, x, y):
    """The RGB (0-1) of the most inked pixel within 2 px of data point (x, y)."""
    fig.canvas.draw()
    image = np.asarray(fig.canvas.buffer_rgba())[..., :3] / 255
    px, py = ax.transData.transform((x, y))
    row, col = int(round(image.shape[0] - py)), int(round(px))
    window = image[row - 2:row + 3, col - 2:col + 3].reshape(-1, 3)
    background = np.asarray(to_rgba(ax.get_facecolor())[:3])
    return window[np.argmax(np.abs(window - background).sum(axis=1))]


def _same_hue(pixel, color, background) -> float:
    """Cosine between pixel - background and color - background: 1 when the pixel is `color` at some opacity."""
    ink, pure = pixel - background, np.asarray(color[:3]) - background
    return float(ink @ pure / np.linalg.norm(ink) / np.linalg.norm(pure))


@pytest.mark.parametrize("names", [("icml",), ("acl",), ("icml", "dark")])
def test_cls_fan_shows_the_strongest_heads_color(names):
    strengths = np.full(12, 0.3)
    strengths[[0, 7]] = [0.61, 0.87]  # review3's layer 2: head 0 sends 0.61 to [CLS], head 7 0.87
    with attnfig.style(*names):
        fig = plt.figure(figsize=attnfig.figsize("icml" if "dark" in names else names[0]), layout="constrained")
        ax = attnfig.lines(_fan(strengths), PAIR, ax=fig.subplots())
        background = np.asarray(to_rgba(ax.get_facecolor())[:3])
        pixel = _pixel_near(fig, ax, *_on_fan(8, len(PAIR)))  # query "slowly" -> key [CLS]
        olive = head_colors([7])[0]
    assert np.abs(pixel - background).sum() > 0.3  # the line shows
    assert _same_hue(pixel, olive, background) > 0.995  # was a mauve blend of every head


# --- B. a few overlaid heads: side by side, each fan visible in its own color ---------------------------

@pytest.mark.parametrize("names", [("icml",), ("icml", "dark")])
def test_few_overlaid_heads_each_show_their_fan(names):
    strengths = np.full(8, 0.3)
    strengths[[0, 7]] = [0.61, 0.87]
    with attnfig.style(*names):
        fig = attnfig.head_view(_fan(strengths), PAIR, 6, layout="overlay", heads=[0, 3, 7])
        ax = fig.axes[0]
        assert fig.legends[0].get_texts()[0].get_text() == "Layer 0, head"
        fans = {}
        for collection in [c for c in ax.collections if isinstance(c, LineCollection)]:
            to_cls = [(segment, color) for segment, color in zip(collection.get_segments(), collection.get_colors())
                      if round(segment[1, 1] * len(PAIR) - 0.5) == 0]
            fans[collection.get_label()] = to_cls
        key_ends = {label: {round(s[1, 1], 4) for s, _ in lines} for label, lines in fans.items()}
        assert len(set.union(*key_ends.values())) == 3  # one lane per head: no head hides another
        (head0,) = key_ends["head 0"]
        if names == ("icml",):  # side by side, opacity = weight (was weight / 3)
            assert {round(c[3], 3) for _, c in fans["head 0"]} == {0.61, 1.0}  # [CLS] itself: 1
        background = np.asarray(to_rgba(ax.get_facecolor())[:3])
        x, y = _on_fan(8, len(PAIR))
        pixel = _pixel_near(fig, ax, x, y + head0 - 0.5 / len(PAIR))  # head 0's lane
    assert np.abs(pixel - background).sum() > 0.4  # head 0's blue reads, on black too
    assert _same_hue(pixel, head_colors([0])[0], background) > 0.995


# --- E. one meaning per color across figures ------------------------------------------------------------

@pytest.mark.parametrize("names", [("light",), ("icml", "dark"), ("colorblind",)])
def test_no_two_figure_kinds_share_a_color_for_different_meanings(names):
    from attnfig.summaries.patterns import pattern_colors
    from attnfig.summaries.special_tokens import TARGETS, target_colors

    with attnfig.style(*names):
        heads = head_colors(range(20))
        patterns = np.array([c for p, c in pattern_colors().items() if p != "heterogeneous"])
        targets = target_colors(TARGETS)
        corpus = [attnfig.as_attention(random_attention(3, 4, 7, seed=s), PAIR[:7]) for s in range(2)]
        ax = attnfig.plot_special_token_attention(corpus, ax=plt.figure().subplots())
        drawn = {line.get_label(): to_rgba(line.get_color()) for line in ax.lines}
        model_view = attnfig.model_view(random_attention(3, 4, 7), PAIR[:7])
        layer_colors = [c.get_colors()[0, :3] for c in model_view.axes[0].collections if isinstance(c, LineCollection)]
        rollout = attnfig.plot_rollout(random_attention(3, 4, 7), PAIR[:7], kind="lines", ax=plt.figure().subplots())
        rollout_colors = np.unique(np.concatenate([c.get_colors()[:, :3] for c in rollout.collections
                                                   if isinstance(c, LineCollection)]), axis=0)
        image = attnfig.plot_image_attention(np.full((1, 1, 5, 5), 0.2), np.zeros((8, 8, 3)), grid=(2, 2),
                                             mode="threshold", ax=plt.figure().subplots())
        outline = image.collections[0].get_colors()[0]
        foreground = to_rgba(plt.rcParams["text.color"])
        cmap = plt.get_cmap(plt.rcParams["image.cmap"])
    for name, color in drawn.items():  # each target keeps its color whichever are drawn
        np.testing.assert_allclose(color, targets[TARGETS.index(name)])
    categories = np.vstack([patterns, targets])
    assert distances_between(categories, heads).min() >= 13  # was 0: "vertical" and "[CLS]" were head 0's blue
    assert min_distance(categories) >= 13  # pattern types and targets differ from each other too
    # layers: samples of the sequential colormap, first layer darkest on white; one value: the foreground
    samples = cmap(np.linspace(0, 1, 256))[:, :3]
    for color in layer_colors:
        assert np.abs(samples - color).max(axis=1).min() < 0.02
    assert len(layer_colors) == 3 and not np.allclose(layer_colors[0], layer_colors[2])
    assert np.diag(distances_between(np.array(layer_colors), heads[:3])).min() > 5  # layer l was head l's color
    np.testing.assert_allclose(rollout_colors, [foreground[:3]])
    np.testing.assert_allclose(outline[:3], foreground[:3])
    plt.close("all")
