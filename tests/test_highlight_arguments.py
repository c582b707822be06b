"""`highlight=`, `focus=` and `heads=` beside `span=`: checked once, clear errors, negative positions from the end."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest

import attnfig
from attnfig.errors import ArgumentError

N = 300
TOKENS = [f"t{i}" for i in range(N)]
WEIGHTS = np.full((1, 2, N, N), 1 / N, dtype=np.float32)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def shown_labels(axis):
    # thinned labels read "<position> <token>": the token is the last word
    return {label.get_text().split(" ")[-1] for label in axis.get_ticklabels() if label.get_visible() and label.get_text()}


VIEWS = {
    "lines": lambda **kw: attnfig.lines(WEIGHTS, TOKENS, **kw).yaxis,
    "heatmap": lambda **kw: attnfig.heatmap(WEIGHTS, TOKENS, ax=plt.figure().subplots(), **kw).yaxis,  # one Axes each
}


@pytest.mark.parametrize("view", VIEWS)
@pytest.mark.parametrize("highlight, message", [
    ([np.nan], r"an integer token position, but nan \(float\)"),
    (["a"], r"an integer token position, but 'a' \(str\)"),
    ([[1]], r"an integer token position, but \[1\] \(list\)"),
    ([1.7], r"an integer token position, but 1.7 \(float\)"),
    ([True], r"True \(bool\)"),
    ("01", r"a list of integer token positions, but '01' \(str\)"),
    (b"01", r"a list of integer token positions"),
    (np.array([[1]]), r"a list of integer token positions"),
    ([N], rf"position {N} is outside the {N} tokens: use 0 to {N - 1}, or -{N} to -1"),
    ([-N - 1], rf"position {-N - 1} is outside"),
])
def test_bad_highlights_get_an_argument_error(view, highlight, message):
    with pytest.raises(ArgumentError, match=rf"`highlight` (must be|position).*{message}|{message}"):
        VIEWS[view](highlight=highlight)


@pytest.mark.parametrize("view", VIEWS)
def test_negative_highlights_count_from_the_end_and_are_labelled(view):
    plain = shown_labels(VIEWS[view]())
    assert "t297" not in plain  # thinned away without a highlight
    assert {"t297", "t5"} <= shown_labels(VIEWS[view](highlight=[-3, 5]))
    assert "t297" in shown_labels(VIEWS[view](highlight=np.int64(-3)))
    assert shown_labels(VIEWS[view](highlight=None)) == plain


@pytest.mark.parametrize("view", VIEWS)
def test_highlights_with_a_span_are_original_positions(view):
    labels = shown_labels(VIEWS[view](span=(250, 300), highlight=[-3]))
    assert "t297" in labels  # labelled "297 t297" (shown_labels keeps the token)


def test_focus_with_a_span_is_checked_before_it_is_shifted():
    with pytest.raises(ArgumentError, match=r"`focus` must be an integer token position, but nan \(float\)"):
        attnfig.lines(WEIGHTS, TOKENS, span=(0, 10), focus=np.nan)
    ax = attnfig.lines(WEIGHTS, TOKENS, span=(290, 300), focus=-1)
    bold = [label.get_text() for label in ax.get_yticklabels() if label.get_fontweight() == "bold"]
    assert bold == ["299 t299"]


def test_one_head_with_a_span_is_an_integer_like_everywhere():
    ax = attnfig.lines(WEIGHTS, TOKENS, span=(0, 10), heads=1)
    assert len(ax.collections) + len(ax.images) == 1
    with pytest.raises(attnfig.errors.AttentionInputError, match=r"`heads` must be an integer"):
        attnfig.lines(WEIGHTS, TOKENS, span=(0, 10), heads="1")
