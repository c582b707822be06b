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
from attnfig.views.colors import font_points, head_colors
from conftest import random_attention

PAIR = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]", "the", "turtle", "slowly", "crawled", "[SEP]"]


def teardown_function():
    plt.close("all")


def _lightness(rgb) -> np.ndarray:
    """CIELAB L* of sRGB colors in [0, 1] (the test's own formula)."""
    rgb = np.asarray(rgb, dtype=float)[..., :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = linear @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(y > 216 / 24389, 116 * np.cbrt(y) - 16, y * 24389 / 27)


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
