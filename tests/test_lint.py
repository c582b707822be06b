"""The figure lint: every view and summary figure, in each venue style at that venue's size.

Each figure is drawn from the seed pair through the real MiniLM model and must pass
`attnfig.lint.figure_problems`: no text outside the canvas, no text on text, every token
labelled where the label rule says it fits, the drawing spanning the width. Adding a
figure to the lint is one line in FIGURES.
"""
from __future__ import annotations

import functools

import numpy as np
import pytest
from matplotlib.figure import Figure

import attnfig
from attnfig.lint import figure_problems

pytestmark = pytest.mark.real_model

# style names -> figure size: the venue's column, or the style's own figure size
STYLES = {
    "paper": ("paper",),
    "neurips": ("neurips",),
    "icml": ("icml",),
    "acl": ("acl",),
    "dark": ("icml", "dark"),
}


def _axes(draw):
    """An axes-level function drawn into a figure of the venue's column size."""

    def make(data):
        import matplotlib as mpl

        figure = Figure(figsize=mpl.rcParams["figure.figsize"], layout="constrained")
        draw(data, figure.subplots())
        return figure

    return make


def _neuron_view(data):
    rng = np.random.default_rng(0)
    n, size = len(data.tokens), 32
    query, keys = rng.normal(size=size), rng.normal(size=(n, size))
    scores = keys @ query / np.sqrt(size)
    weights = np.exp(scores - scores.max())
    view = attnfig.NeuronView(query, keys, query * keys, scores, weights / weights.sum(), data.tokens, 2, 4, 3)
    return attnfig.plot_neuron_view(view)


@functools.lru_cache(maxsize=None)
def _norms():
    """Norm-based attention of the seed pair, layers 2 and 5, from the real MiniLM."""
    from conftest import SEED_PAIR, SEED_TEXT

    return attnfig.attention_norms(*attnfig.load_model("minilm"), SEED_TEXT, SEED_PAIR, layers=[2, 5])


def _other(data):
    """A second attention set over the same tokens (the seed's heads in another order)."""
    import dataclasses

    return dataclasses.replace(data, weights=data.weights[:, ::-1].copy())


FIGURES = {
    "head_view": lambda data: attnfig.head_view(data, layer=2),
    "head_view_focus": lambda data: attnfig.head_view(data, layer=2, heads=[0, 3, 7], focus=2),
    "model_view_lines": lambda data: attnfig.model_view(data),
    "model_view_heatmap": lambda data: attnfig.model_view(data, kind="heatmap"),
    "heatmap": _axes(lambda data, ax: attnfig.heatmap(data, layer=4, head=3, ax=ax)),
    "lines_focus": _axes(lambda data, ax: attnfig.lines(data, layer=2, heads=[0, 3, 7], focus=2, ax=ax)),
    "rollout": _axes(lambda data, ax: attnfig.plot_rollout(data, ax=ax)),
    "attention_flow": _axes(lambda data, ax: attnfig.plot_rollout(data, method="flow", ax=ax)),
    "attention_norms": _axes(lambda data, ax: attnfig.heatmap(_norms(), layer=2, head=0, ax=ax)),
    "attention_norms_model_view": lambda data: attnfig.model_view(_norms(), kind="heatmap"),
    "head_map": _axes(lambda data, ax: attnfig.plot_head_map([data, _other(data)], ax=ax)),
    "entropy": _axes(lambda data, ax: attnfig.plot_head_entropy(data, ax=ax)),
    "special_tokens": _axes(lambda data, ax: attnfig.plot_special_token_attention(data, ax=ax)),
    "patterns": lambda data: attnfig.plot_head_patterns(data),
    "difference": _axes(lambda data, ax: attnfig.plot_difference(data, _other(data), layer=2, ax=ax)),
    "difference_grid": lambda data: attnfig.difference_grid(data, _other(data)),
    "neuron_view": _neuron_view,
}


@pytest.mark.parametrize("style_name", list(STYLES))
@pytest.mark.parametrize("figure_name", list(FIGURES))
def test_figure_passes_the_lint(seed_attention, figure_name, style_name):
    with attnfig.style(*STYLES[style_name]):
        figure = FIGURES[figure_name](seed_attention)
        assert figure_problems(figure) == []
