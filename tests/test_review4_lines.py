"""Issue 19, fourth review G, A' and C': a long head view on dark tells the light one's story (no
lattice of binned lines), the focus view draws every line in a key colour, and the focus key is
sized to the room it has."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba

import attnfig
from attnfig.lint import figure_problems
from attnfig.views.colors import font_points, head_colors
from attnfig.views.lines import FOCUS_MARK_SIZE, FOCUS_MARK_STEP
from conftest import random_attention
from test_head_view_review import _lstar as _lightness  # the tests' own L* formula

PAIR = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]", "the", "turtle", "slowly", "crawled", "[SEP]"]


def teardown_function():
    plt.close("all")


# --- G. a long head view on dark: weak lines faint, strong lines strong, as on white ---------------

def _fan_attention(n: int = 243, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """One head as MiniLM's layer 2 head 3 on a long text: each query sends a share to [CLS]
    (median 0.06, up to 0.9: a fan of strong lines), most of the rest to the next nine tokens
    (nearly parallel lines, which binning summed into bright ones) and a little everywhere."""
    rng = np.random.default_rng(seed)
    fan = np.clip(np.exp(rng.normal(np.log(0.06), 1.5, size=n)), 0, 0.9)
    weights = rng.dirichlet(np.full(n, 0.05), size=n) * 0.2
    for query in range(n):
        weights[query, (query + np.arange(1, 10)) % n] += rng.dirichlet(np.ones(9)) * 0.8
    weights *= (1 - fan)[:, None]
    weights[:, 0] += fan
    return weights[None, None].astype(np.float32), fan


def _contrast_shares(figure) -> tuple[np.ndarray, object]:
    """Each pixel's share of the line colour's full lightness contrast with the background, inside
    the lines' Axes, from the rendered canvas."""
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255
    ax = figure.axes[0]
    x0, y0, x1, y1 = ax.get_window_extent().extents.astype(int)
    height = pixels.shape[0]
    background = _lightness(np.asarray(to_rgba(ax.get_facecolor())[:3]))
    full = abs(_lightness(head_colors([0])[0][:3]) - background)
    shares = np.abs(_lightness(pixels) - background) / full
    return shares[height - y1:height - y0, x0:x1], ax


def _fan_shares(shares: np.ndarray, ax, fan_queries, n: int) -> np.ndarray:
    """The strongest share within 2 px of each query's line to [CLS], at x = 0.4 of the Axes."""
    height = shares.shape[0]
    values = []
    for query in fan_queries:
        x, y = 0.4, (query + 0.5) / n + 0.4 * (0.5 / n - (query + 0.5) / n)
        px, py = ax.transAxes.transform((x, 1 - y)) - ax.get_window_extent().p0
        row, col = int(round(height - py)), int(round(px))
        values.append(shares[row - 2:row + 3, col - 2:col + 3].max())
    return np.array(values)


def test_a_long_head_view_on_dark_keeps_the_light_ones_weak_and_strong_lines():
    """Dark drew the ink of 243 tokens' lines binned into 87 bins: a bright lattice where weak
    lines were as bright as the [CLS] fan (19.6% of the area saturated against 1.0%)."""
    weights, fan = _fan_attention()
    n = weights.shape[-1]
    tokens = ["[CLS]"] + [f"w{i}" for i in range(n - 1)]
    strongest = np.argsort(fan)[-20:]
    measured = {}
    for mode in ("light", "dark"):
        with attnfig.style("icml", mode):
            figure = attnfig.head_view(weights, tokens, heads=[0], figsize=(3.25, 4.0))
            figure.set_dpi(mpl.rcParams["savefig.dpi"])  # as saved: 300 dpi
            shares, ax = _contrast_shares(figure)
        inner = shares[4:-4, 4:-4]
        measured[mode] = dict(strong=(inner > 0.75).mean(), median=np.median(inner),
                              fan=np.median(_fan_shares(shares, ax, strongest, n)))
    light, dark = measured["light"], measured["dark"]
    assert ax.images  # dark: the lines' ink, composited, then raised once
    # as much strongly inked area (was 2.4 times as much)
    assert 0.5 * light["strong"] <= dark["strong"] <= 1.5 * light["strong"]
    assert abs(dark["median"] - light["median"]) <= 0.06  # the weak lines as faint (was 0.28 against 0.40)
    # the [CLS] fan stands out of the weak lines as much as on white
    assert dark["fan"] / dark["median"] >= 0.8 * light["fan"] / light["median"]


def test_lines_ink_past_the_budget_draws_the_strongest_lines_exactly_and_conserves_mass():
    from attnfig.views.density import INK_BUDGET, lines_ink

    n, height, width = 243, 600, 400
    assert n * n * width > INK_BUDGET  # past the budget: binned before
    weights, _ = _fan_attention(n)
    weights = weights[0, 0].astype(float)
    ink = lines_ink(weights, height, width, 1.0)
    rise = ((np.arange(n) + 0.5)[None, :] - (np.arange(n) + 0.5)[:, None]) * height / n
    mass = (weights * np.sqrt(1 + (rise / width) ** 2)).sum()
    assert ink.sum() == pytest.approx(width * mass, rel=0.02)  # every line's ink, in every column
    # A strong line to [CLS] lies where it is, one line wide (binning moved it to its bin's centre).
    query = int(np.argmax(weights[1:, 0])) + 1
    column = width // 2
    y = ((query + 0.5) + 0.5 * (0.5 - (query + 0.5))) * height / n
    window = ink[int(y) - 1:int(y) + 2, column].sum()
    assert window >= 0.8 * weights[query, 0]


# --- A'. the focus view: every line in a key colour ------------------------------------------------

STYLES = [("icml",), ("acl",), ("neurips",), ("icml", "dark")]


def _focus_view(names, seed: int = 0):
    weights = random_attention(3, 12, len(PAIR), seed=seed)
    with attnfig.style(*names):
        figure = attnfig.head_view(weights, PAIR, sentence_b_start=6, layer=2, focus=3)
        figure.set_dpi(mpl.rcParams["savefig.dpi"])
        figure.canvas.draw()
    return figure, weights


@pytest.mark.parametrize("names", STYLES)
def test_focus_lines_are_drawn_in_key_colours_only(names):
    """The focus view drew 12 heads' lines over each other (no lanes, no strongest head): the
    lines came out #9fb0b9, #c48cb8, ... colours the key does not show."""
    figure, weights = _focus_view(names)
    ax = figure.axes[0]
    (marks,) = [c for c in ax.collections if c.get_label() == "focus weights"]
    key = {h: tuple(np.round(c[:3], 6)) for h, c in enumerate(marks.get_edgecolors()[:12])}  # a column per head
    drawn = {}
    for collection in (c for c in ax.collections if isinstance(c, LineCollection) and c.get_label().startswith("head")):
        head = int(collection.get_label().split()[1])
        for segment, color in zip(collection.get_segments(), collection.get_colors()):
            assert tuple(np.round(color[:3], 6)) == key[head]
            place = tuple(np.round(segment.ravel(), 6))
            assert place not in drawn, f"heads {drawn.get(place)} and {head} draw one line over the other"
            drawn[place] = head
    assert len(drawn) >= len(PAIR)
    # On the pixels: every inked pixel between the lines' ends is a key colour at some opacity.
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3] / 255
    background = np.asarray(to_rgba(ax.get_facecolor())[:3])
    box = ax.get_window_extent()
    column = int(box.x0 + 0.7 * box.width)
    strip = pixels[int(pixels.shape[0] - box.y1):int(pixels.shape[0] - box.y0), column]
    ink = strip - background
    inked = ink[np.linalg.norm(ink, axis=1) > 0.08]
    assert len(inked) > 20
    pure = np.array(list(key.values())) - background
    cosines = (inked @ pure.T) / np.linalg.norm(inked, axis=1)[:, None] / np.linalg.norm(pure, axis=1)[None]
    assert cosines.max(axis=1).min() > 0.99  # each pixel lies on one key colour's line from the background


# --- C'. the focus key sized to the room it has ----------------------------------------------------

@pytest.mark.parametrize("names", STYLES)
def test_focus_key_numbers_every_column_at_the_tick_size_where_the_width_allows(names):
    """The key's numbers were 5.0 pt at icml, dark and neurips (ticks 6 and 7 pt), every other
    column numbered; at neurips the key kept icml's pitch with 4 in of the width empty."""
    from attnfig.views.labels import MIN_FONT_POINTS

    figure, _ = _focus_view(names)
    ax = figure.axes[0]
    with attnfig.style(*names):
        tick = font_points("ytick.labelsize")
    key = [t for t in ax.texts if t.get_gid() == "focus key"]
    numbers = [t for t in key if t.get_text() != "head"]
    assert [t.get_text() for t in numbers] == [str(h) for h in range(12)]  # every column
    sizes = {round(t.get_fontsize(), 6) for t in key}
    assert len(sizes) == 1 and min(sizes) >= MIN_FONT_POINTS
    if names[0] != "acl":  # acl's 8-pt ticks: the lines keep 0.5 in, numbers 6.2 pt
        assert sizes == {tick}
    (marks,) = [c for c in ax.collections if c.get_label() == "focus weights"]
    columns = marks.get_offset_transform().transform(marks.get_offsets()[:12])[:, 0]
    boxes = [t.get_window_extent() for t in numbers]
    np.testing.assert_allclose([(b.x0 + b.x1) / 2 for b in boxes], columns, atol=1.5)  # over its column
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))
    assert ax.get_window_extent().width >= 0.15 * figure.bbox.width  # the lines keep their room (acl: 0.18)
    assert figure_problems(figure) == []


def test_focus_key_pitch_grows_with_the_width():
    pitches = {}
    for venue in ("icml", "neurips"):
        figure, _ = _focus_view((venue,))
        (marks,) = [c for c in figure.axes[0].collections if c.get_label() == "focus weights"]
        columns = marks.get_offset_transform().transform(marks.get_offsets()[:12])[:, 0]
        pitches[venue] = np.diff(columns).mean() / figure.dpi * 72
    with attnfig.style("neurips"):
        tick = font_points("ytick.labelsize")
    assert pitches["neurips"] > FOCUS_MARK_STEP * FOCUS_MARK_SIZE * tick + 0.5  # was the marks' own pitch
