"""lines(): one LineCollection per head, alphas from weights, colors from the palette."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba_array

import attnfig
from attnfig import AttentionInputError
from attnfig.views.readability import FAINT_ALPHA

from conftest import random_attention

TOKENS = ["[CLS]", "the", "rabbit", "[SEP]", "a", "turtle", "[SEP]"]


def line_collections(ax):
    return [c for c in ax.collections if isinstance(c, LineCollection) and c.get_label().startswith("head")]


def test_one_collection_per_head_and_only_visible_lines():
    weights = random_attention(layers=2, heads=3, tokens=7)
    ax = attnfig.lines(weights, TOKENS, layer=1)
    collections = line_collections(ax)
    assert len(collections) == 3
    assert sorted(c.get_label() for c in collections) == [f"head {h}" for h in range(3)]
    for collection in collections:  # drawn weakest head first (`drawing_order`), each labelled
        head = int(collection.get_label().split()[1])
        expected = int((weights[1, head] / 3 >= FAINT_ALPHA).sum())
        assert len(collection.get_segments()) == expected


def test_heads_side_by_side_have_alpha_weight_and_colors_follow_the_palette():
    weights = random_attention(layers=1, heads=2, tokens=7)
    ax = attnfig.lines(weights, TOKENS, min_weight=0)  # two heads' lanes fit: their lines never overlap
    cycle = to_rgba_array(mpl.rcParams["axes.prop_cycle"].by_key()["color"][:2])
    for head, collection in enumerate(line_collections(ax)):
        colors = collection.get_colors()
        np.testing.assert_allclose(colors[:, :3], np.tile(cycle[head, :3], (len(colors), 1)))
        segments = collection.get_segments()
        y_query = np.array([s[0, 1] for s in segments])
        y_key = np.array([s[1, 1] for s in segments])
        q = np.round(y_query * 7 - 0.5).astype(int)
        k = np.round(y_key * 7 - 0.5).astype(int)
        np.testing.assert_allclose(colors[:, 3], weights[0, head, q, k], rtol=1e-6)  # was weight / 2, overlapping
        assert len({round(s[0, 1] * 7 % 1, 6) for s in segments}) == 1  # one lane, off the token's centre
        assert round(segments[0][0, 1] * 7 % 1, 6) != 0.5


def test_style_palette_changes_the_colors():
    with mpl.rc_context({"axes.prop_cycle": mpl.cycler(color=["#123456", "#abcdef"])}):
        ax = attnfig.lines(random_attention(1, 2, 7), TOKENS, min_weight=0)
    assert np.allclose(line_collections(ax)[1].get_colors()[0, :3], to_rgba_array("#abcdef")[0, :3])


def test_palette_argument_takes_a_list():
    ax = attnfig.lines(random_attention(1, 2, 7), TOKENS, palette=["red", "blue"], min_weight=0)
    assert np.allclose(line_collections(ax)[1].get_colors()[0, :3], [0, 0, 1])


def test_tick_labels_are_the_prettified_tokens_on_both_sides():
    tokens = ["[CLS]", "\u0120hop", "##ped", "[SEP]"]
    ax = attnfig.lines(random_attention(1, 1, 4), tokens)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["[CLS]", "hop", "##ped", "[SEP]"]
    right = ax.child_axes[0]
    assert [t.get_text() for t in right.get_yticklabels()] == ["[CLS]", "hop", "##ped", "[SEP]"]


def test_focus_keeps_only_the_lines_of_one_query():
    weights = random_attention(1, 3, 7)
    ax = attnfig.lines(weights, TOKENS, focus=2, min_weight=0)
    query_y = (2 + 0.5) / 7
    for collection in line_collections(ax):
        segments = np.array(collection.get_segments())
        assert len(segments) == 7
        # from the query's row, in the head's lane (heads side by side, as without focus)
        np.testing.assert_allclose(segments[:, 0, 1], segments[0, 0, 1])
        assert abs(segments[0, 0, 1] - query_y) < 0.5 / 7
    bold = [t.get_text() for t in ax.get_yticklabels() if t.get_fontweight() == "bold"]
    assert bold == ["rabbit"]


@pytest.mark.parametrize(
    "direction, queries, keys",
    [("a->a", 4, 4), ("a->b", 4, 3), ("b->a", 3, 4), ("b->b", 3, 3), ("all", 7, 7)],
)
def test_direction_keeps_exactly_one_block(direction, queries, keys):
    weights = random_attention(1, 2, 7)
    ax = attnfig.lines(weights, TOKENS, sentence_b_start=4, direction=direction, min_weight=0)
    assert len(ax.get_yticklabels()) == queries
    assert len(ax.child_axes[0].get_yticklabels()) == keys
    for collection in line_collections(ax):
        assert len(collection.get_segments()) == queries * keys
    shown_queries = [t.get_text() for t in ax.get_yticklabels()]
    expected = {"a": TOKENS[:4], "b": TOKENS[4:], "all": TOKENS}[direction.split("->")[0]]
    assert shown_queries == expected


def test_top_k_keeps_the_strongest_keys_per_query():
    weights = random_attention(1, 1, 7)
    ax = attnfig.lines(weights, TOKENS, top_k=2, min_weight=0)
    (collection,) = line_collections(ax)
    assert len(collection.get_segments()) == 14


def test_draws_into_the_given_axes_without_touching_pyplot():
    fig, (left, right) = plt.subplots(1, 2)
    other = plt.figure()
    returned = attnfig.lines(random_attention(1, 2, 7), TOKENS, ax=left)
    assert returned is left
    assert line_collections(left) and not line_collections(right)
    assert plt.gcf() is other and not other.axes


def test_kwargs_reach_the_line_collection():
    ax = attnfig.lines(random_attention(1, 1, 7), TOKENS, linewidth=3.5, linestyle="--")
    (collection,) = line_collections(ax)
    assert collection.get_linewidth()[0] == 3.5


def test_long_sequences_thin_labels_and_rasterize():
    tokens = [f"t{i}" for i in range(512)]
    fig, ax = plt.subplots(figsize=(4, 6))
    attnfig.lines(random_attention(1, 12, 512), tokens, ax=ax)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert 10 < len(labels) < 100 and labels[0] == "0 t0"  # thinned labels say their positions
    step = int(labels[1].split()[0])
    assert labels == [f"{i} t{i}" for i in range(0, 512, step)]
    assert all(c.get_rasterized() for c in line_collections(ax))
    total = sum(len(c.get_segments()) for c in line_collections(ax))
    assert total < 0.05 * 12 * 512 * 512


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"direction": "a->c", "sentence_b_start": 4}, r"`direction` must be one of \['all', 'a->a'"),
        ({"direction": "a->b"}, r"needs a sentence pair: pass `sentence_b_start`"),
        ({"focus": 9}, r"`focus` position 9 is outside the 7 tokens: use 0 to 6"),
        ({"layer": 3}, r"`layer` 3 is not in the attention"),
        ({"heads": [5]}, r"`head` 5 is not in the attention"),
        ({"top_k": 0}, r"`top_k` must be a positive integer"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(AttentionInputError, match=message):
        attnfig.lines(random_attention(1, 2, 7), TOKENS, **kwargs)
