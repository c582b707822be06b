"""Issue 19, a reviewer's read of the summary figures at venue size: head patterns, pattern
shares, the entropy colorbar, difference titles, long-heatmap labels and head colors.

Each test draws the figure at ``attnfig.figsize(venue)`` under ``attnfig.style(venue)`` and
checks what a reader sees: text extents, tick labels, titles and colors."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from matplotlib.figure import Figure

import attnfig
from attnfig.lint import figure_problems
from conftest import random_attention


def _extents(texts, renderer):
    return [(t.get_text(), t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text()]


def _touching(extents) -> list[tuple[str, str]]:
    return [(a, b) for (a, box_a), (b, box_b) in combinations(extents, 2) if box_a.overlaps(box_b)]


def _inside(box, figure) -> bool:
    canvas = figure.bbox
    return (box.x0 >= canvas.x0 - 0.5 and box.x1 <= canvas.x1 + 0.5
            and box.y0 >= canvas.y0 - 0.5 and box.y1 <= canvas.y1 + 0.5)


# --- head patterns ---------------------------------------------------------------------------

@pytest.mark.parametrize("sized", [True, False])
def test_head_pattern_grid_fills_the_column_with_legible_head_numbers(sized):
    corpus = [attnfig.as_attention(random_attention(6, 12, n, seed=n)) for n in (9, 11, 13)]  # lengths differ
    with attnfig.style("acl"):
        figure = attnfig.plot_head_patterns(corpus, **({"figsize": attnfig.figsize("acl")} if sized else {}))
        renderer = figure._get_renderer()
        figure.draw(renderer)
        ax = figure.axes[0]
        assert ax.get_position().width > 0.6  # was 0.35: the title's overflow became side padding
        heads = _extents(ax.get_xticklabels(), renderer)
        assert len(heads) >= 6 and not _touching(heads)  # was "01234567891011"
        title = figure.legends[0].get_title()
        assert "lengths differ" in title.get_text() and _inside(title.get_window_extent(renderer), figure)
        assert figure_problems(figure) == []


def test_head_numbers_thin_to_every_other_when_the_grid_is_narrow():
    with attnfig.style("acl"):
        figure = attnfig.model_view(random_attention(2, 12, 5), kind="heatmap", figsize=(1.6, 1.0))
        renderer = figure._get_renderer()
        figure.draw(renderer)
    heads = _extents(figure.axes[0].get_xticklabels(), renderer)
    assert 2 <= len(heads) < 12 and not _touching(heads)
    shown = [int(text) for text, _ in heads]
    assert len(set(np.diff(shown))) == 1  # evenly thinned: 0, 2, 4... or 0, 3, 6...


# --- pattern shares --------------------------------------------------------------------------

@pytest.mark.parametrize("layout", [None, "constrained"])
def test_pattern_share_legend_sits_beside_the_bars_in_stack_order(layout):
    weights = np.tile(np.eye(5, dtype=np.float32), (6, 4, 1, 1))
    weights[1, :2] = 0
    weights[1, :2, :, 0] = 1  # two vertical heads in layer 1
    weights[3, 0] = 0.2  # one uniform (heterogeneous) head in layer 3
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout=layout)
        ax = attnfig.plot_pattern_shares(weights, ax=figure.subplots())
        renderer = figure._get_renderer()
        figure.draw(renderer)
    legend = ax.get_legend().get_window_extent(renderer)
    assert _inside(legend, figure)  # was cut at the top of a figure without a layout engine
    bars = [bar.get_window_extent(renderer) for container in ax.containers for bar in container]
    assert not any(legend.overlaps(bar) for bar in bars)
    stacked = [container.get_label() for container in ax.containers]  # bottom to top
    assert [t.get_text() for t in ax.get_legend().get_texts()] == stacked[::-1]


# --- entropy colorbar ------------------------------------------------------------------------

@pytest.mark.parametrize("venue", ["acl", "neurips"])
def test_entropy_colorbar_reads_nice_numbers_and_a_separate_uniform_mark(venue):
    weights = random_attention(6, 12, 11)  # uniform entropy ln 11 = 2.40: it read "0, 1, 2.40\nuniform"
    with attnfig.style(venue):
        figure = Figure(figsize=attnfig.figsize(venue), layout="constrained")
        attnfig.plot_head_entropy(weights, ax=figure.subplots())
        renderer = figure._get_renderer()
        figure.draw(renderer)
    colorbar = figure.axes[1]
    labels = _extents(colorbar.get_yticklabels(), renderer)
    texts = [text for text, _ in labels]
    assert texts[-1] == "uniform" and texts.count("uniform") == 1
    ticks = colorbar.get_yticks()
    assert ticks[-1] == pytest.approx(np.log(11), abs=1e-4)
    values = [float(text) for text in texts[:-1]]  # every other label a plain number...
    np.testing.assert_allclose(values, ticks[:-1], atol=1e-9)
    steps = np.diff(values)
    assert len(values) >= 3 and np.allclose(steps, steps[0])  # ...evenly spaced from 0...
    assert steps[0] / 10 ** np.floor(np.log10(steps[0])) in (1, 2, 2.5, 5)  # ...by a nice step
    assert len({len(text.partition(".")[2]) for text in texts[:-1]}) == 1  # one number of decimals
    assert not _touching(labels)


# --- difference titles -----------------------------------------------------------------------

def test_difference_titles_say_what_minus_what():
    weights = random_attention(2, 3, 4)
    first = attnfig.as_attention(weights, ["[CLS]", "a", "cat", "[SEP]"])
    second = attnfig.as_attention(weights[:, ::-1].copy(), ["[CLS]", "a", "dog", "[SEP]"])
    tokens = ["[CLS]", "a", "noun", "[SEP]"]
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.plot_difference(first, second, tokens, layer=1, head=2, ax=figure.subplots())
        assert ax.get_title() == "cat \u2212 dog, layer 1, head 2"  # was "Layer 1, head 2: first − second"
        ax = attnfig.plot_difference(weights, weights, layer=1, head="mean", names=("tuned", "base"),
                                     ax=Figure(figsize=attnfig.figsize("acl")).subplots())
        assert ax.get_title().replace("\n", ", ") == "tuned \u2212 base, layer 1, mean of heads"
        grid = attnfig.difference_grid(first, second, tokens, figsize=attnfig.figsize("acl"))
        assert grid.get_suptitle() == "cat \u2212 dog"
        long = ("a fine-tuned checkpoint of the model", "the base checkpoint of the model")
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.plot_difference(weights, weights, names=long, ax=figure.subplots())
        renderer = figure._get_renderer()
        figure.draw(renderer)
    assert ax.get_title().endswith("\nlayer 0, head 0") and _inside(ax.title.get_window_extent(renderer), figure)
    with pytest.raises(attnfig.ArgumentError, match="`names` must be two strings"):
        attnfig.plot_difference(weights, weights, names="tuned")


def test_difference_labels_thinned_to_fit_carry_positions_and_keep_the_largest_difference_unmarked():
    """At acl, 40 tokens are thinned: each label says its position (two "[SEP]" told apart), and the
    row and the column of the largest |difference| (7, 13: off the round steps) are labelled, not marked."""
    tokens = ["[CLS]"] + [f"w{i}" for i in range(1, 19)] + ["[SEP]"] + [f"v{i}" for i in range(20, 39)] + ["[SEP]"]
    first = np.full((1, 1, 40, 40), 1 / 40)
    second = first.copy()
    second[0, 0, 7, [11, 12, 13]] += [-0.01, -0.02, 0.03]  # largest |difference| at (7, 13)
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.plot_difference(first, second, tokens, ax=figure.subplots())
        figure.draw(figure._get_renderer())
        rows = [t.get_text() for t in ax.get_yticklabels()]
        cols = [t.get_text() for t in ax.get_xticklabels()]
        assert len(rows) < 40 and len(cols) < 40  # thinned
        assert "19 [SEP]" in rows and "39 [SEP]" in rows  # the two [SEP] are told apart
        assert all(text.split(" ", 1)[0].isdigit() for text in rows + cols)
        assert "7 w7" in rows and "13 w13" in cols  # the largest |difference|'s row and column
        colors = {t.get_text(): t.get_color() for t in ax.get_yticklabels() + ax.get_xticklabels()}
        assert colors["7 w7"] == colors["13 w13"] == colors["0 [CLS]"]  # in the label color, not the highlight one
        assert not [c for c in ax.collections if c.get_label() == "highlight"]



def test_a_special_token_exactly_a_gap_from_a_kept_label_is_kept_whatever_the_rounding():
    """acl's difference map (59.17 pt for 11 rows, max |difference| in row 7): "5 [SEP]" was dropped
    for "4 hopped", because row 7 came back from the points-to-positions round trip as 6.9999999."""
    from attnfig.views.labels import _thinned

    assert _thinned(11, 59.171895000000006 / 11, 6.0, (0, 5, 10), (7,)).shown.tolist() == [0, 2, 5, 7, 10]

# --- long heatmaps ---------------------------------------------------------------------------

@pytest.mark.parametrize("venue", ["acl", "icml", "neurips"])
def test_long_heatmap_labels_the_same_tokens_on_both_axes(venue):
    tokens = ["[CLS]"] + [f"w{i}" for i in range(241)] + ["[SEP]"]
    with attnfig.style(venue):
        figure = Figure(figsize=attnfig.figsize(venue), layout="constrained")
        ax = attnfig.heatmap(random_attention(1, 1, len(tokens)), tokens, ax=figure.subplots())
        figure.draw_without_rendering()
    rows = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    cols = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 3 < len(rows) < len(tokens)
    # Nested (rule 5): every labelled row is a labelled column (was every 26th token on y, every
    # 13th on x at acl), and x's round step divides y's, so both run on the same positions.
    assert set(rows) <= set(cols)
    row_step, col_step = ax.yaxis.get_major_locator().fit.step, ax.xaxis.get_major_locator().fit.step
    assert row_step % col_step == 0
    assert all(int(c.split()[0]) % col_step == 0 for c in cols if c not in rows and c.split()[1] != "[SEP]")
    assert figure_problems(figure) == []


def test_an_axis_with_room_for_every_label_keeps_them_all_beside_a_thinned_partner():
    """Rule 5 only joins thinned axes: every token that fits is labelled, a superset of the partner's."""
    tokens = ["[CLS]"] + [f"w{i}" for i in range(18)] + ["[SEP]"]
    with attnfig.style("acl"):
        figure = Figure(figsize=(1.6, 4.5), layout="constrained")
        ax = attnfig.heatmap(random_attention(1, 1, len(tokens)), tokens, ax=figure.subplots(), cbar=False)
        figure.draw_without_rendering()
    rows = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    cols = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert rows == tokens
    assert 2 <= len(cols) < len(tokens)
    assert set(ax.get_xticks()) <= set(ax.get_yticks())  # every labelled column is a labelled row
    assert figure_problems(figure) == []


def test_axes_with_different_tokens_keep_their_own_labels():
    queries = [f"q{i}" for i in range(60)]
    keys = [f"k{i}" for i in range(200)]
    weights = random_attention(1, 1, 200)[:, :, :60]
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl", aspect=0.8), layout="constrained")
        ax = attnfig.heatmap(attnfig.as_attention(weights, queries, key_tokens=keys, normalized=True),
                             ax=figure.subplots())
        figure.draw_without_rendering()
    assert not ax.yaxis.get_major_locator().thinned_by_partner
    assert not ax.xaxis.get_major_locator().thinned_by_partner


# --- head colors -----------------------------------------------------------------------------

def test_head_colors_are_the_same_in_every_light_and_dark_style():
    from attnfig.views.colors import contrast_ratio, head_colors

    palettes = {}
    for names in [("light",), ("paper",), ("icml",), ("acl",), ("neurips",), ("dark",), ("icml", "dark")]:
        with attnfig.style(*names):
            palettes[names] = head_colors(range(20))
    reference = palettes[("light",)]
    for names, colors in palettes.items():
        np.testing.assert_array_equal(colors, reference, err_msg=str(names))  # heads 11+ differed on dark
    assert len({tuple(c) for c in reference.round(3)}) == 20
    for color in reference:
        assert contrast_ratio(color, "black") >= 3.0 and contrast_ratio(color, "white") >= 1.9
