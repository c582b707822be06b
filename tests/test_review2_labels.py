"""Second figure review, reject 8: fanned-out highlight labels drop only the labels they
would touch, and warn only when they cannot be read as their tokens'."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

import attnfig
from attnfig.views.labels import LABEL_PITCH, MAX_LABEL_SHIFT, fit_labels, round_step
from conftest import random_attention

CROWDED = [52, 59, 66, 73]
N = 243


@pytest.mark.parametrize("pitch", [0.313, 0.37, 0.771])  # points per token: acl, icml, neurips columns
def test_regular_labels_are_dropped_only_where_they_would_touch_a_label_as_drawn(pitch):
    fontsize = 6.0
    fit = fit_labels(N, axis_points=N * pitch, fontsize=fontsize, keep=[0, N - 1], must=CROWDED)
    need = fit.fontsize * LABEL_PITCH / pitch  # positions a label needs
    offsets = np.zeros(len(fit.shown)) if fit.offsets is None else fit.offsets
    drawn = fit.shown + offsets / pitch  # where each label is drawn, in positions
    assert np.all(np.diff(drawn) >= need - 1e-6)  # no two shown labels touch
    gap = round_step(int(np.ceil(need)))
    for index in range(0, N, gap):  # every round-step label left out would touch a shown one
        if index not in fit.shown:
            assert np.abs(drawn - index).min() < need, index


def test_icml_column_keeps_the_round_label_before_the_fanned_out_group():
    fit = fit_labels(N, axis_points=N * 0.37, fontsize=5.0, keep=[0, N - 1], must=CROWDED)
    assert 20 in fit.shown.tolist()  # was dropped: 20 positions from 52, though 52's label is drawn at 39
    assert fit.crowded == tuple(CROWDED) and fit.legible


def test_labels_moved_far_from_their_tokens_or_overlapping_are_not_legible():
    close = fit_labels(N, axis_points=N * 0.37, fontsize=5.0, keep=[0, N - 1], must=range(100, 110))
    assert close.crowded and not close.overflow
    assert np.abs(close.offsets).max() > MAX_LABEL_SHIFT * close.fontsize * LABEL_PITCH
    assert not close.legible
    overlapping = fit_labels(N, axis_points=40, fontsize=5.0, keep=[0, N - 1], must=range(0, N, 20))
    assert overlapping.overflow and not overlapping.legible


@pytest.mark.parametrize("venue", ["icml", "acl"])
def test_heatmap_warns_only_when_highlight_labels_are_moved_far(venue):
    tokens = ["[CLS]"] + [f"w{i}" for i in range(1, N - 1)] + ["[SEP]"]
    with attnfig.style(venue):
        figure = Figure(figsize=attnfig.figsize(venue), layout="constrained")
        attnfig.heatmap(random_attention(1, 1, N), tokens, highlight=CROWDED, ax=figure.subplots())
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # was "closer together than a label's height" for legible labels
            figure.draw_without_rendering()
        figure = Figure(figsize=attnfig.figsize(venue), layout="constrained")
        attnfig.heatmap(random_attention(1, 1, N), tokens, highlight=list(range(100, 112)), ax=figure.subplots())
        with pytest.warns(UserWarning, match=r"highlighted tokens \[100, .*pt from their tokens"):
            figure.draw_without_rendering()
