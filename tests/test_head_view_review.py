"""Issue 19, the reviewer's read of the head view, the lines view and the neuron view at venue
size: height sized to the content, sentence marks that touch nothing, lines that read on a
dark background, one-row or compact head keys, neuron-view titles apart. Each test checks
artists, extents or colors of the drawn figure."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba

import attnfig
from attnfig.lint import figure_problems
from attnfig.views.readability import FAINT_ALPHA
from conftest import random_attention

PAIR = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]", "the", "turtle", "slowly", "crawled", "[SEP]"]


def teardown_function():
    plt.close("all")


def _lstar(rgb) -> np.ndarray:
    """CIELAB L* of sRGB colors, computed directly (the test's own formula)."""
    rgb = np.asarray(rgb, dtype=float)[..., :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    y = linear @ [0.2126, 0.7152, 0.0722]
    return np.where(y > 0.008856, 116 * np.cbrt(y) - 16, 903.3 * y)


def _contrast_of_lines(ax) -> np.ndarray:
    """|L*| between the Axes' background and each head line blended over it."""
    background = np.asarray(to_rgba(ax.get_facecolor())[:3])
    steps = []
    for collection in ax.collections:
        if collection.get_label().startswith("head"):
            rgba = collection.get_colors()
            blended = rgba[:, 3:] * rgba[:, :3] + (1 - rgba[:, 3:]) * background
            steps.append(np.abs(_lstar(blended) - _lstar(background)))
    return np.concatenate(steps)


# --- 1. the head view's height follows its token rows ------------------------------------------

def test_one_column_head_grid_of_eleven_tokens_is_sized_to_its_rows():
    with attnfig.style("acl"):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2)
    # Was 5.78 in (four rows of three 0.8 in panels), then 4.34 in with labels shrunk to 6.4 pt;
    # three rows of labels at the style's 8-pt ticks take 5.45 in, within 3 default heights.
    assert figure.get_figheight() <= min(5.6, 3 * attnfig.figsize("acl")[1])
    panels = [ax for ax in figure.axes if ax.get_title().startswith("Head")]
    assert len(panels) == 12 and len({round(ax.get_position().x0, 3) for ax in panels}) == 4  # 3 rows of 4
    figure.draw_without_rendering()
    for ax in panels[::4]:  # every token labelled on the outer panels (tests/test_lint.py checks the rest)
        assert len(ax.yaxis.get_major_locator().fit.shown) == len(PAIR)


# --- 2. sentence marks touch nothing ------------------------------------------------------------

def _mark_geometry(ax):
    renderer = ax.figure._get_renderer()
    (bars,) = [c for c in ax.collections if c.get_label() == "sentence marks"]
    segments = [bars.get_transform().transform(s) for s in bars.get_segments()]
    letters = [(t, t.get_window_extent(renderer)) for t in ax.texts if t.get_text() in ("A", "B") and t.get_visible()]
    return segments, letters


@pytest.mark.parametrize("venue", ["acl", "icml", "neurips"])
def test_sentence_letters_touch_neither_bars_nor_lines_nor_labels(venue):
    with attnfig.style(venue):
        figure = attnfig.head_view(random_attention(1, 3, len(PAIR)), PAIR, 6)
    figure.draw_without_rendering()
    ax = figure.axes[0]
    renderer = figure._get_renderer()
    segments, letters = _mark_geometry(ax)
    assert len(letters) == 4
    line_x = ax.transData.transform([[0.0, 0.0], [1.0, 0.0]])[:, 0]  # where the lines start and end
    labels = [t.get_window_extent(renderer) for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
    labels += [t.get_window_extent(renderer) for child in ax.child_axes for t in child.get_yticklabels()
               if t.get_visible() and t.get_text()]
    for text, box in letters:
        assert box.x1 < line_x[0] or box.x0 > line_x[1]  # beside the lines, not on them
        assert all(box.x1 < label.x0 or box.x0 > label.x1 or box.y1 < label.y0 or box.y0 > label.y1
                   for label in labels)
        for segment in segments:  # every bar piece ends before the letter's box
            x = segment[0, 0]
            if box.x0 <= x <= box.x1:
                low, high = sorted(segment[:, 1])
                assert high < box.y0 or low > box.y1, f"bar through {text.get_text()!r}"
    assert len(segments) == 8  # each of the four bars broken around its letter


def test_a_grid_marks_sentences_beside_its_outer_labels_only():
    with attnfig.style("acl"):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2)
    figure.draw_without_rendering()
    panels = [ax for ax in figure.axes if ax.get_title().startswith("Head")]
    for position, ax in enumerate(panels):
        col = position % 4
        segments, letters = _mark_geometry(ax)
        left = ax.get_window_extent().x0
        sides = {"left" if box.x1 < left + 1 else "right" for _, box in letters}
        expected = ({"left"} if col == 0 else set()) | ({"right"} if col == 3 else set())
        assert sides == expected
        assert len(segments) == 4 * len(expected)


# --- 3. lines read on a dark background -------------------------------------------------------

@pytest.mark.parametrize("kind", ["head_view", "lines_focus"])
def test_lines_reach_the_same_contrast_on_dark_as_on_white(kind):
    weights = random_attention(3, 12, len(PAIR), seed=4)
    steps = {}
    for mode in ("light", "dark"):
        with attnfig.style("acl", mode):
            if kind == "head_view":
                ax = attnfig.head_view(weights, PAIR, 6, layer=2, heads=[0, 3, 7]).axes[0]
            else:
                ax = attnfig.lines(weights, PAIR, sentence_b_start=6, layer=2, heads=[0, 3, 7], focus=2,
                                   ax=plt.figure().subplots())
        steps[mode] = _contrast_of_lines(ax)
    light, dark = steps["light"], steps["dark"]
    assert len(light) == len(dark)
    # Faint lines were near invisible on black (median step 0.7 L* against 3.3 on white).
    assert np.median(dark) >= 0.8 * np.median(light)
    assert np.percentile(dark, 10) >= 0.8 * np.percentile(light, 10)


def test_focus_marks_on_dark_are_as_visible_as_on_white():
    weights = random_attention(1, 3, len(PAIR), seed=1)
    alphas = {}
    for mode in ("light", "dark"):
        with attnfig.style(mode):
            ax = attnfig.lines(weights, PAIR, sentence_b_start=6, focus=2, ax=plt.figure().subplots())
        (marks,) = [c for c in ax.collections if c.get_label() == "focus weights"]
        alphas[mode] = marks.get_facecolors()[:, 3]
    np.testing.assert_allclose(alphas["light"], weights[0][:, 2, :].T.ravel(), rtol=1e-6)  # white: the weight
    faint = alphas["light"] < 0.3
    assert (alphas["dark"][faint] > alphas["light"][faint]).all()


def test_focus_lines_are_drawn_at_each_head_weight():
    weights = random_attention(1, 3, len(PAIR), seed=2)
    ax = attnfig.lines(weights, PAIR, sentence_b_start=6, focus=2)
    for collection in (c for c in ax.collections if c.get_label().startswith("head")):
        head = int(collection.get_label().split()[1])  # drawn weakest head first, not in head order
        row = weights[0, head, 2]
        visible = np.sort(row[row >= FAINT_ALPHA])  # fainter than half a level: not drawn
        np.testing.assert_allclose(np.sort(collection.get_colors()[:, 3]), visible, rtol=1e-6)  # was weight / 3


# --- 4. head keys in one row --------------------------------------------------------------------

@pytest.mark.parametrize("venue", ["acl", "icml", "neurips"])
def test_twelve_overlaid_heads_are_keyed_in_one_row(venue):
    with attnfig.style(venue):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2, layout="overlay")
    figure.draw_without_rendering()
    legend = figure.legends[0]
    texts = legend.get_texts()
    assert [t.get_text() for t in texts] == ["Layer 2, head"] + [str(h) for h in range(12)]
    assert len({round(t.get_window_extent().y0) for t in texts}) == 1  # was two rows of six
    handles = [h for h in legend.legend_handles if h.get_visible()]
    if texts[1].get_bbox_patch() is not None:  # the compact key: each number on its head's color
        for handle, text in zip(handles, texts[1:]):
            assert text.get_bbox_patch().get_facecolor() == pytest.approx(handle.get_facecolor())
        boxes = [t.get_bbox_patch().get_window_extent() for t in texts[1:]]
        assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))  # apart
        assert boxes[-1].x1 <= figure.bbox.x1 and boxes[0].x0 >= figure.bbox.x0
    assert figure_problems(figure) == []


def test_lines_focus_numbers_its_mark_columns_instead_of_a_wrapped_legend():
    with attnfig.style("acl"):
        figure, ax = plt.subplots(figsize=attnfig.figsize("acl"), layout="constrained")
        attnfig.lines(random_attention(3, 12, len(PAIR)), PAIR, sentence_b_start=6, layer=2, focus=2, ax=ax)
    figure.draw_without_rendering()
    assert ax.get_legend() is None  # the legend wrapped onto two rows under a narrow Axes
    key = [t for t in ax.texts if t.get_gid() == "focus key"]
    assert [t.get_text() for t in key] == [str(h) for h in range(12)] + ["head"]
    (marks,) = [c for c in ax.collections if c.get_label() == "focus weights"]
    columns = marks.get_offset_transform().transform(marks.get_offsets()[:12])[:, 0]
    centers = [(t.get_window_extent().x0 + t.get_window_extent().x1) / 2 for t in key[:12]]
    np.testing.assert_allclose(centers, columns, atol=1.5)  # each number over its column
    boxes = [t.get_window_extent() for t in key]
    assert all(a.x1 < b.x0 for a, b in zip(boxes[:11], boxes[1:12]))
    assert figure_problems(figure) == []


# --- 5. the neuron view's titles stand apart ----------------------------------------------------

@pytest.mark.parametrize("venue", ["acl", "icml", "neurips"])
def test_neuron_view_titles_and_scales_do_not_overlap(venue):
    rng = np.random.default_rng(0)
    n, size = len(PAIR), 32
    query, keys = rng.normal(size=size), rng.normal(size=(n, size))
    scaling = 1 / np.sqrt(size)
    scores = keys @ query * scaling
    weights = np.exp(scores - scores.max())
    view = attnfig.NeuronView(query, keys, query * keys, scores, weights / weights.sum(), tuple(PAIR), 2, 2, 3,
                              scaling)
    with attnfig.style(venue):
        figure = attnfig.plot_neuron_view(view)
    assert figure_problems(figure) == []  # "×0.177" ran into "softmax" at acl
    renderer = figure._get_renderer()
    titles = [ax.title.get_window_extent(renderer) for ax in figure.axes if ax.get_title()]
    assert all(a.x1 < b.x0 or b.x1 < a.x0 or a.y1 < b.y0 or b.y1 < a.y0
               for i, a in enumerate(titles) for b in titles[i + 1:])
    keys = next(ax for ax in figure.axes if ax.get_title().startswith("Keys"))
    assert [t.get_text() for t in keys.get_yticklabels() if t.get_visible()] == PAIR  # every key labelled


# --- 6. a block of the pair, as a grid -----------------------------------------------------------

def test_a_grid_of_one_block_is_sized_to_the_block_with_one_label_size():
    with attnfig.style("acl"):
        block = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2, direction="a->b")
    # 6 by 5 tokens, not 11 (was 5.78 in, as the whole pair): three rows of 6 labels at the
    # style's 8-pt ticks, well under the whole pair's 5.45 in.
    assert block.get_figheight() < 3.5
    block.draw_without_rendering()
    ax = block.axes[3]  # the last column: query labels on the first panel of its row, keys here
    queries = block.axes[0].yaxis.get_major_locator().fit
    keys = ax.child_axes[0].yaxis.get_major_locator().fit
    assert len(queries.shown) == 6 and len(keys.shown) == 5
    query_sizes = {t.get_fontsize() for t in block.axes[0].get_yticklabels() if t.get_visible()}
    key_sizes = {t.get_fontsize() for t in ax.child_axes[0].get_yticklabels() if t.get_visible()}
    assert len(query_sizes) == 1 and key_sizes == query_sizes  # the shorter column was in a larger size
    assert figure_problems(block) == []


@pytest.mark.parametrize("venue", ["icml", "neurips"])
def test_focus_key_numbers_never_shrink_below_the_label_rule_and_stay_apart(venue):
    """The focus key's head numbers shrank to 3.6 pt at icml; at the label rule's floor (5 pt) they
    number every n-th column instead, each over its own column, none touching."""
    from attnfig.views.labels import MIN_FONT_POINTS

    with attnfig.style(venue):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, sentence_b_start=6, layer=2, focus=2)
    smallest = MIN_FONT_POINTS
    figure.draw_without_rendering()
    key = [t for ax in figure.axes for t in ax.texts if t.get_gid() == "focus key"]
    numbers = [t for t in key if t.get_text() != "head"]
    assert min(t.get_fontsize() for t in key) >= smallest - 1e-9
    assert numbers[0].get_text() == "0" and len(numbers) >= 4
    boxes = sorted((t.get_window_extent() for t in numbers), key=lambda b: b.x0)
    assert all(a.x1 < b.x0 for a, b in zip(boxes, boxes[1:]))
    assert figure_problems(figure) == []


def test_a_span_note_wider_than_the_lines_wraps_clear_of_the_column_headings():
    """At acl's figsize the span note ran over "query" and "key" (found by the #17 audit)."""
    weights = np.random.default_rng(3).dirichlet(np.ones(30) * 0.3, size=(1, 4, 30))
    tokens = [f"w{i}" for i in range(30)]
    with attnfig.style("acl"):
        figure = attnfig.head_view(weights, tokens, span=(5, 12), figsize=attnfig.figsize("acl"))
        title = figure.axes[0].get_title()
        assert "outside the span" in title and title.count("\n") >= 1
        assert figure_problems(figure) == []
    plt.close("all")


# --- the panels' titles: placed once, where matplotlib's automatic placement puts them ----------

def test_head_grid_titles_sit_where_matplotlib_would_place_them(monkeypatch):
    from attnfig.views import head_view as module

    data = random_attention(2, 12, len(PAIR))  # twelve heads: a grid of panels
    with attnfig.style("icml"):
        given = attnfig.head_view(data, PAIR, 6, layer=1)
        monkeypatch.setattr(module, "_title_y", lambda fontsize: None)  # left to matplotlib, moved at every draw
        placed = attnfig.head_view(data, PAIR, 6, layer=1)
    extents = []
    for figure in (given, placed):
        figure.draw_without_rendering()
        renderer = figure._get_renderer()
        panels = [ax for ax in figure.axes if ax.get_title().startswith("head")]
        assert len(panels) == 12
        extents.append([(ax.get_position().bounds, ax.title.get_window_extent(renderer).bounds) for ax in panels])
    assert extents[0] == extents[1]


def test_head_grid_titles_follow_the_styles_title_height():
    with attnfig.style("icml"), plt.rc_context({"axes.titley": 1.08}):
        figure = attnfig.head_view(random_attention(2, 12, len(PAIR)), PAIR, 6, layer=1)
    panels = [ax for ax in figure.axes if ax.get_title().startswith("head")]
    assert [ax.title.get_position()[1] for ax in panels] == [1.08] * 12


def test_head_grid_titles_are_left_to_matplotlib_when_the_pad_is_under_their_descent():
    with attnfig.style("icml"), plt.rc_context({"axes.titlepad": 0.5}):
        figure = attnfig.head_view(random_attention(2, 12, len(PAIR)), PAIR, 6, layer=1)
    figure.draw_without_rendering()
    panels = [ax for ax in figure.axes if ax.get_title().startswith("head")]
    renderer = figure._get_renderer()
    # matplotlib lifted each title so that its descent clears the Axes' top edge
    assert all(ax.title.get_window_extent(renderer).y0 >= ax.bbox.y1 - 1e-6 for ax in panels)
