"""Image comparison against checked-in baselines, one per view.

Regenerate after an intended change with ``ATTNFIG_UPDATE_BASELINES=1 pytest tests/test_images.py``
and look at every changed PNG before committing it.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import pytest
from matplotlib.testing.compare import compare_images
from matplotlib.testing.decorators import check_figures_equal

import attnfig

from conftest import random_attention

BASELINES = Path(__file__).parent / "baseline"
TOKENS = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]", "the", "turtle", "slowly", "crawled", "[SEP]"]
TOLERANCE = 2  # RMS over 0-255 pixel values


def _lines_axes():
    fig, ax = plt.subplots(figsize=(3, 3.5), layout="constrained")
    attnfig.lines(random_attention(2, 3, 11, seed=1), TOKENS, layer=1, sentence_b_start=6, ax=ax)
    return fig


def _heatmap_axes():
    fig, ax = plt.subplots(figsize=(3.5, 3), layout="constrained")
    attnfig.heatmap(random_attention(1, 2, 11, seed=2, causal=True), TOKENS, head=1, ax=ax)
    return fig


VIEWS = {
    "lines": _lines_axes,
    "head_view": lambda: attnfig.head_view(random_attention(2, 4, 11, seed=3), TOKENS, 6, layer=1),
    "model_view_lines": lambda: attnfig.model_view(random_attention(3, 4, 11, seed=4), TOKENS, 6),
    "model_view_heatmap": lambda: attnfig.model_view(random_attention(3, 4, 11, seed=5), kind="heatmap"),
    "heatmap": _heatmap_axes,
}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_view_matches_its_baseline(name, tmp_path):
    fig = VIEWS[name]()
    actual = tmp_path / f"{name}.png"
    fig.savefig(actual, dpi=72)
    expected = BASELINES / f"{name}.png"
    if os.environ.get("ATTNFIG_UPDATE_BASELINES") == "1":
        shutil.copyfile(actual, expected)
    assert expected.exists(), f"no baseline {expected}; run with ATTNFIG_UPDATE_BASELINES=1"
    result = compare_images(str(expected), str(actual), tol=TOLERANCE)
    assert result is None, result


@check_figures_equal(extensions=["png"])
def test_heatmap_equals_a_plain_imshow_with_token_ticks(fig_test, fig_ref):
    weights = random_attention(1, 1, 4)
    tokens = ["a", "b", "c", "d"]
    attnfig.heatmap(weights, tokens, ax=fig_test.subplots(), cbar=False)
    ax = fig_ref.subplots()
    ax.imshow(weights[0, 0], cmap=plt.rcParams["image.cmap"], vmin=0, vmax=weights.max(), interpolation="nearest",
              aspect="auto")
    ax.set_xticks(range(4), tokens, rotation=90)
    ax.set_yticks(range(4), tokens)
    ax.set_xlabel("key")
    ax.set_ylabel("query")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title("Layer 0, head 0")
