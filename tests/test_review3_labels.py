"""Third figure review: the heatmap's x axis nests its labels in y's (rule 5) instead of copying
y's thinning, so every regular label that fits on the longer axis is drawn; measured on the
drawn tick labels' window extents."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import attnfig
from attnfig.views.labels import LABEL_PITCH, MIN_FONT_POINTS, nested_step
from conftest import random_attention

HIGHLIGHT = [52, 59, 66, 73]
N = 243


def _drawn(axis, renderer):
    """{token position: (start, end) along the axis in pixels} of the drawn tick labels."""
    along = 0 if axis.axis_name == "x" else 1
    spans = {}
    for label in (axis.get_ticklabels()):
        if label.get_text():
            box = label.get_window_extent(renderer)
            spans[int(label.get_text().split()[0])] = (box.x0, box.x1) if along == 0 else (box.y0, box.y1)
    return spans


@pytest.fixture(params=["icml", "acl", "neurips"])
def long_heatmap(request):
    tokens = ["[CLS]"] + [f"w{i}" for i in range(1, N - 1)] + ["[SEP]"]
    with attnfig.style(request.param):
        figure = Figure(figsize=attnfig.figsize(request.param), layout="constrained", dpi=100)
        ax = attnfig.heatmap(random_attention(1, 1, N), tokens, highlight=HIGHLIGHT, ax=figure.subplots())
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
    return request.param, ax, canvas.get_renderer()


def test_x_keeps_every_regular_label_that_fits_beside_y_labels(long_heatmap):
    venue, ax, renderer = long_heatmap
    xs, ys = _drawn(ax.xaxis, renderer), _drawn(ax.yaxis, renderer)
    assert set(ys) <= set(xs)  # a token labelled on the rows is labelled on the columns
    assert set(HIGHLIGHT) <= set(ys)
    size = ax.get_xticklabels()[0].get_fontsize()
    assert size >= MIN_FONT_POINTS
    starts = sorted(xs.values())
    assert all(b[0] - a[1] > 0 for a, b in zip(starts, starts[1:]))  # no text on text
    # Where each left-out label of x's regular step would be drawn, it would touch a drawn one.
    pixels_per_token = ax.get_window_extent(renderer).width / N
    need = size * LABEL_PITCH * 100 / 72  # pixels a label needs along the axis
    rows = ax.yaxis.get_major_locator().fit
    step = nested_step(need / pixels_per_token, rows.step)  # x's round step, dividing y's
    assert rows.step % step == 0 and (step < rows.step) == (venue == "icml")
    centers = np.array([(a + b) / 2 for a, b in xs.values()])
    x0 = ax.transData.transform((0, 0))[0]
    for index in range(0, N, step):
        if index not in xs:
            where = x0 + index * pixels_per_token
            assert np.abs(centers - where).min() < need, (venue, index)


@pytest.mark.parametrize("venue, expected", [("icml", {100}), ("acl", {25, 100, 225})])
def test_round_labels_the_reviewer_found_missing_are_drawn(venue, expected):
    tokens = ["[CLS]"] + [f"w{i}" for i in range(1, N - 1)] + ["[SEP]"]
    with attnfig.style(venue):
        figure = Figure(figsize=attnfig.figsize(venue), layout="constrained", dpi=100)
        ax = attnfig.heatmap(random_attention(1, 1, N), tokens, highlight=HIGHLIGHT, ax=figure.subplots())
        canvas = FigureCanvasAgg(figure)
        canvas.draw()
    renderer = canvas.get_renderer()
    xs, ys = _drawn(ax.xaxis, renderer), _drawn(ax.yaxis, renderer)
    assert expected <= set(xs) and not expected & set(ys)  # y leaves them out rightly: they would touch
