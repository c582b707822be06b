"""Figure review, rejects 1, 2, 6 and 10: highlight on long inputs and merged words, generated
queries' title and scale, rollout's thinned labels."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from matplotlib.figure import Figure

import attnfig
from attnfig.lint import figure_problems
from conftest import random_attention

LONG = ["[CLS]"] + [f"w{i}" for i in range(1, 242)] + ["[SEP]"]
CROWDED = [52, 59, 66, 73]  # 7 tokens apart: far closer than a label's height at column width


def _labels(axis_labels):
    return [t.get_text() for t in axis_labels if t.get_text()]


@pytest.mark.parametrize("venue", ["icml", "acl"])
def test_crowded_highlights_are_all_labelled_without_overlap_and_marked_off_the_cells(venue):
    with attnfig.style(venue):
        figure = Figure(figsize=attnfig.figsize(venue), layout="constrained")
        ax = attnfig.heatmap(random_attention(1, 1, len(LONG)), LONG, highlight=CROWDED, ax=figure.subplots())
        import warnings
        with warnings.catch_warnings():  # moved apart by about a label's height: legible, nothing said
            warnings.simplefilter("error")
            figure.draw_without_rendering()
        wanted = {f"{i} w{i}" for i in CROWDED}
        for labels in (ax.get_yticklabels(), ax.get_xticklabels()):
            shown = {t.get_text(): t for t in labels if t.get_text()}
            assert wanted <= set(shown)  # was only 52 and 73 (icml), 52 (acl)
            assert all(shown[w].get_fontweight() in ("bold", 700) for w in wanted)  # highlighted: bold
        assert not [p for p in figure_problems(figure) if "overlap" in p]
        box = ax.get_window_extent()
        rows, cols = [c for c in ax.collections if c.get_label() == "highlight"]
        for marks, along, edge in ((rows, 0, box.x0), (cols, 1, box.y0)):
            centers = marks.get_offset_transform().transform(marks.get_offsets())
            half = np.sqrt(marks.get_sizes()[0]) / 2 * figure.dpi / 72
            assert np.all(centers[:, along] + half <= edge + 0.5)  # outside the map: no cell covered
        centers = rows.get_offset_transform().transform(rows.get_offsets())[:, 1]
        expected = ax.transData.transform(np.column_stack([np.zeros(4), CROWDED]))[:, 1]
        np.testing.assert_allclose(centers, expected)  # each points at its own row


def test_highlights_that_fit_are_not_moved_and_nothing_is_said():
    tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
    ax = attnfig.heatmap(random_attention(1, 1, 5), tokens, highlight=[1, 2])
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ax.figure.draw_without_rendering()
    assert _labels(ax.get_yticklabels()) == tokens
    assert ax.yaxis.get_major_locator().fit.offsets is None


def test_highlight_with_merged_subwords_marks_the_words_of_the_tokens_as_given():
    tokens = ["[CLS]", "hop", "##ped", "the", "quick", "##ly", "fox", "[SEP]"]
    weights = random_attention(1, 1, len(tokens))
    ax = attnfig.heatmap(weights, tokens, merge_subwords=True, highlight=[2, 5, 6])  # ##ped, ##ly, fox
    ax.figure.draw_without_rendering()
    words = [t for t in ax.get_yticklabels()]
    marked = [t.get_text() for t in words if t.get_fontweight() in ("bold", 700)]  # highlighted: bold
    assert marked == ["hopped", "quickly", "fox"]  # was "the", "[SEP]" and an error for 6
    rows, _ = [c for c in ax.collections if c.get_label() == "highlight"]
    merged = attnfig.merge_subword_tokens(attnfig.as_attention(weights, tokens))
    assert [merged.tokens[int(y)] for y in rows.get_offsets()[:, 1]] == ["hopped", "quickly", "fox"]


def test_merged_long_input_labels_words_by_the_position_of_their_first_token():
    tokens = ["[CLS]"] + [piece for i in range(1, 121) for piece in (f"w{i}", "##x")] + ["[SEP]"]
    with attnfig.style("icml"):
        figure = Figure(figsize=attnfig.figsize("icml"), layout="constrained")
        ax = attnfig.heatmap(random_attention(1, 1, len(tokens)), tokens, merge_subwords=True, highlight=[102],
                             ax=figure.subplots())
        figure.draw_without_rendering()
    labels = _labels(ax.get_yticklabels())
    assert "101 w51x" in labels  # token 102 ("##x") is in the word starting at token 101
    for label in labels:
        number, word = label.split(" ")
        assert word == "[CLS]" and number == "0" or word == "[SEP]" or tokens[int(number)] == word[:-1]


def _generation():
    tokens = ["a", "b", "c", "d", "e", "f"]
    data = attnfig.as_attention(random_attention(1, 1, 6, causal=True), tokens)
    return dataclasses.replace(data, generated_start=3)


def test_generated_queries_are_titled_and_share_the_full_maps_color_scale():
    data = _generation()
    full = attnfig.heatmap(data, head=0)
    generated = attnfig.heatmap(data, head=0, queries="generated", ax=Figure().subplots())
    assert "generated queries" in generated.get_title() and "generated" not in full.get_title()
    assert data.weights[0, 0, 3:].max() < 0.99  # the shown rows alone would scale to less
    assert generated.images[0].norm.vmax == pytest.approx(full.images[0].norm.vmax) == pytest.approx(1.0)
    assert generated.images[0].norm.vmin == full.images[0].norm.vmin == 0.0
    assert attnfig.heatmap(data, head=0, queries="generated", vmax=0.5, ax=Figure().subplots()).images[0].norm.vmax == 0.5


def test_generated_queries_are_numbered_by_their_position_in_the_sequence():
    tokens = [f"t{i}" for i in range(200)]
    data = dataclasses.replace(attnfig.as_attention(random_attention(1, 1, 200, causal=True), tokens),
                               generated_start=120)
    with attnfig.style("icml"):
        figure = Figure(figsize=attnfig.figsize("icml"), layout="constrained")
        ax = attnfig.heatmap(data, head=0, queries="generated", ax=figure.subplots())
        figure.draw_without_rendering()
    labels = _labels(ax.get_yticklabels())
    assert labels and all(f"t{label.split(' ')[0]}" == label.split(" ")[1] for label in labels)


@pytest.mark.parametrize("exclude_special", [False, True])
def test_rollout_numbers_thinned_labels_like_the_heatmap(exclude_special):
    tokens = ["[CLS]"] + ["the", "it"] * 120 + ["[SEP]"]
    with attnfig.style("icml"):
        figure = Figure(figsize=attnfig.figsize("icml"), layout="constrained")
        ax = attnfig.plot_rollout(random_attention(2, 1, len(tokens)), tokens, exclude_special=exclude_special,
                                  ax=figure.subplots())
        figure.draw_without_rendering()
    for labels in (_labels(ax.get_yticklabels()), _labels(ax.get_xticklabels())):
        assert len(labels) > 3
        for label in labels:  # was "the", "it": duplicates that cannot be told apart
            number, token = label.split(" ")
            assert tokens[int(number)] == token  # original positions, also with special tokens left out


@pytest.mark.parametrize("view", ["lines", "head_view"])
def test_lines_and_head_view_mark_the_word_holding_each_highlight_and_focus_under_merge_subwords(view):
    """`highlight` and `focus` count the tokens as given, as in the heatmap: after merging
    "hop ##ped" the token "far" (position 4) is word 3, not whatever word 4 is."""
    tokens = ["[CLS]", "the", "hop", "##ped", "far", "[SEP]"]
    weights = np.random.default_rng(0).dirichlet(np.ones(6), size=(1, 2, 6))
    if view == "lines":
        ax = attnfig.lines(weights, tokens, merge_subwords=True, highlight=[4], focus=3,
                           ax=Figure(figsize=(3, 3)).subplots())
        figure = ax.figure
    else:
        figure = attnfig.head_view(weights, tokens, merge_subwords=True, highlight=[4], focus=3, layout="overlay")
        ax = figure.axes[0]
    figure.canvas.draw()
    bold = {t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_fontweight() in ("bold", 700)}
    assert bold == {"hopped", "far"}  # focus=3 is "##ped": the word "hopped"; highlight=[4] the word "far"
    (bands,) = [c for c in ax.collections if c.get_label() == "highlight"]
    far = [t for t in ax.get_yticklabels() if t.get_text() == "far"][0]
    rows = {round(p.get_extents().y0 + p.get_extents().height / 2, 6) for p in bands.get_paths()}
    assert round(far.get_position()[1], 6) in rows  # the band lies on "far"'s row
