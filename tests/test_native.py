"""Native to matplotlib (issue #18, and #19's exact sizes): pyplot figures, `figure=`, layout at
draw time, a lint that changes nothing, seaborn's heatmap names."""
from __future__ import annotations

import dataclasses
import gc
import inspect
import io
import tracemalloc
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import seaborn
from matplotlib.colors import LogNorm, PowerNorm
from PIL import Image

import attnfig
import attnfig.lint
from attnfig.errors import ArgumentError
from attnfig.views.figures import closing_new_figures

from conftest import random_attention

TOKENS = "[CLS] the quick brown rabbit quickly hopped over the lazy sleeping turtle near riverbank [SEP]".split()
ATTENTION = random_attention(3, 2, len(TOKENS))
VENUES = ("icml", "acl", "neurips")
SMALL = random_attention(2, 2, 5)


def _png(fig, **kwargs) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", **kwargs)
    return buffer.getvalue()


def _new_axes(size):
    return plt.figure(figsize=size, layout="constrained").subplots()


def _neuron_view():
    rng = np.random.default_rng(0)
    q, k = rng.normal(size=16), rng.normal(size=(8, 16))
    scores = k @ q / 4
    weights = np.exp(scores - scores.max())
    return attnfig.NeuronView(q, k, q * k, scores, weights / weights.sum(), tuple(TOKENS[:8]), 1, 0, 2)


def _figure_kinds():
    """Every figure kind: the drawing function of `attnfig.__all__` it calls, and a maker that
    draws it on a new figure of the size given (figure-level functions make it, axes-level ones
    get an Axes of a constrained-layout pyplot figure)."""
    data = attnfig.as_attention(ATTENTION, TOKENS, sentence_b_start=8)
    other = dataclasses.replace(data, weights=data.weights[:, ::-1].copy())
    norms = dataclasses.replace(data, weights=data.weights * 3.7, value_label="norm", normalized=False)
    generated = dataclasses.replace(attnfig.as_attention(random_attention(2, 2, 12, causal=True), TOKENS[:12]),
                                    is_causal=True, generated_start=8)
    vit = np.random.default_rng(0).dirichlet(np.ones(17), size=(1, 4, 17))
    image = np.random.default_rng(1).uniform(size=(32, 32, 3))
    f = attnfig
    return {
        "head_view": (f.head_view, lambda s: f.head_view(data, layer=1, highlight=[4], figsize=s)),
        "head_view_focus": (f.head_view, lambda s: f.head_view(data, layer=1, heads=[0, 1], focus=3, figsize=s)),
        "head_view_generated": (f.head_view, lambda s: f.head_view(generated, layer=1, figsize=s)),
        "model_view_lines": (f.model_view, lambda s: f.model_view(data, figsize=s)),
        "model_view_heatmap_norms": (f.model_view, lambda s: f.model_view(norms, kind="heatmap", figsize=s)),
        "heatmap": (f.heatmap, lambda s: f.heatmap(data, layer=2, head=0, ax=_new_axes(s)).figure),
        "heatmap_generated_rows": (f.heatmap, lambda s: f.heatmap(generated, layer=1, head=0, queries="generated",
                                                                  ax=_new_axes(s)).figure),
        "lines_generated": (f.lines, lambda s: f.lines(generated, layer=1, ax=_new_axes(s)).figure),
        "entropy": (f.plot_head_entropy, lambda s: f.plot_head_entropy(data, ax=_new_axes(s)).figure),
        "special_tokens": (f.plot_special_token_attention,
                           lambda s: f.plot_special_token_attention(data, ax=_new_axes(s)).figure),
        "rollout": (f.plot_rollout, lambda s: f.plot_rollout(data, ax=_new_axes(s)).figure),
        "flow": (f.plot_rollout, lambda s: f.plot_rollout(data, method="flow", ax=_new_axes(s)).figure),
        "head_patterns": (f.plot_head_patterns, lambda s: f.plot_head_patterns(data, figsize=s)),
        "pattern_shares": (f.plot_pattern_shares, lambda s: f.plot_pattern_shares(data, ax=_new_axes(s)).figure),
        "head_map": (f.plot_head_map, lambda s: f.plot_head_map([data, other], ax=_new_axes(s)).figure),
        "difference": (f.plot_difference, lambda s: f.plot_difference(data, other, layer=1, ax=_new_axes(s)).figure),
        "difference_grid": (f.difference_grid, lambda s: f.difference_grid(data, other, figsize=s)),
        "neuron_view": (f.plot_neuron_view, lambda s: f.plot_neuron_view(_neuron_view(), figsize=s)),
        "image_attention": (f.plot_image_attention,
                            lambda s: f.plot_image_attention(vit, image, grid=(4, 4), ax=_new_axes(s)).figure),
        "image_attention_grid": (f.image_attention_grid,
                                 lambda s: f.image_attention_grid(vit, image, grid=(4, 4), figsize=s)),
    }


KINDS = sorted(_figure_kinds())


def _drawing_functions():
    """The public functions that draw: those that take `ax` or `figure`, or return a Figure or Axes."""
    functions = {name: getattr(attnfig, name) for name in attnfig.__all__}
    return {name for name, function in functions.items() if inspect.isfunction(function) and (
        {"ax", "figure"} & set(inspect.signature(function).parameters)
        or any(kind in str(inspect.signature(function).return_annotation) for kind in ("Figure", "Axes")))}


def _whole_pixels(venue):
    """The venue's figure size rounded to whole pixels at its ``savefig.dpi`` (what `save` writes)."""
    dpi = plt.rcParams["savefig.dpi"]
    return tuple(round(inches * dpi) / dpi for inches in attnfig.figsize(venue))


def test_figure_level_functions_make_pyplot_figures_and_draw_into_a_given_subfigure():
    fig = attnfig.head_view(ATTENTION, TOKENS, layer=1)
    assert plt.gcf() is fig and plt.get_fignums() == [fig.number]
    paper = plt.figure(figsize=(6.75, 3), layout="constrained")
    left, right = paper.subfigures(1, 2)
    assert attnfig.head_view(ATTENTION, TOKENS, layer=1, figure=left) is left
    assert attnfig.model_view(ATTENTION, TOKENS, kind="heatmap", figure=right) is right
    assert plt.get_fignums() == [fig.number, paper.number]  # nothing else opened
    assert len(left.axes) == 1 and len(right.axes) == 2 and len(paper.axes) == 3
    with pytest.raises(ArgumentError, match="figure"):
        attnfig.model_view(ATTENTION, figure=paper.axes[0])
    with pytest.raises(ArgumentError, match="figsize"):
        attnfig.head_view(ATTENTION, layer=0, figure=left, figsize=(2, 2))


def test_many_figures_in_a_loop_keep_memory_flat():
    def one():
        with closing_new_figures():
            attnfig.head_view(SMALL, TOKENS[:5], layer=0)

    from matplotlib.figure import Figure

    def live_figures():
        return sum(isinstance(o, Figure) for o in gc.get_objects())

    for _ in range(5):  # warm caches
        one()
    gc.collect()
    figures_before = live_figures()
    tracemalloc.start()
    start = tracemalloc.get_traced_memory()[0]
    for _ in range(100):
        one()
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - start
    tracemalloc.stop()
    assert plt.get_fignums() == [] and live_figures() == figures_before
    # Measured alone: ~0.1 MB over 100 figures; after other tests up to ~8 MB, matplotlib's bounded
    # text-metrics caches filling up. 100 figures kept open hold over 100 MB.
    assert grown < 20_000_000


def test_closing_new_figures_closes_on_errors_too():
    with pytest.raises(ZeroDivisionError), closing_new_figures():
        attnfig.head_view(ATTENTION, TOKENS, layer=0)
        1 / 0  # noqa: B018 (raises inside the context)
    assert plt.get_fignums() == []


@pytest.mark.parametrize("venue", VENUES)
def test_plain_savefig_keeps_the_query_label_on_the_canvas(venue):
    with attnfig.style(venue):
        fig = plt.figure(figsize=attnfig.figsize(venue), layout="constrained")
        ax = attnfig.heatmap(ATTENTION, TOKENS, layer=2, head=0, ax=fig.subplots())
    _png(fig)
    renderer = fig._get_renderer()
    assert ax.yaxis.label.get_window_extent(renderer).x0 >= -0.5
    assert fig.get_tightbbox(renderer).x0 >= -0.5 / 72


def test_the_figure_kinds_cover_every_drawing_function():
    covered = {function.__name__ for function, _ in _figure_kinds().values()}
    assert covered == _drawing_functions() and len(covered) >= 15


@pytest.mark.parametrize("venue", VENUES)
@pytest.mark.parametrize("kind", KINDS)
def test_plain_savefig_lint_of_every_figure_kind(kind, venue):
    """What a plain ``fig.savefig`` draws at the venue's size and ``savefig.dpi``: nothing off the
    canvas, no text on text (a square image leaves part of a column's width empty)."""
    with attnfig.style(venue):
        fig = _figure_kinds()[kind][1](attnfig.figsize(venue))
        fig.set_dpi(plt.rcParams["savefig.dpi"])  # savefig lays the figure out at this dpi
        assert attnfig.lint.figure_problems(fig, min_width_share=0.5) == []


@pytest.mark.parametrize("kind", KINDS)
def test_save_gives_the_plain_savefig_picture_and_the_lint_changes_nothing(kind, tmp_path):
    """A figure drawn again (by the lint, a savefig, `save`) gives the bytes of its first draw,
    and `save` writes what a plain ``fig.savefig`` shows (at a size in whole pixels, so that
    `save` has nothing to round)."""
    with attnfig.style("acl"):
        fig = _figure_kinds()[kind][1](_whole_pixels("acl"))
        first = _png(fig)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            problems = attnfig.lint.figure_problems(fig, min_width_share=0.5)
        assert _png(fig) == first
        (path,) = attnfig.save(fig, tmp_path / "saved.png")
        assert attnfig.lint.figure_problems(fig, min_width_share=0.5) == problems
    assert np.array_equal(np.asarray(Image.open(path)), np.asarray(Image.open(io.BytesIO(first))))


@pytest.mark.parametrize("venue", VENUES)
def test_a_title_wider_than_the_figure_keeps_the_venue_size_in_every_format(venue, tmp_path):
    import pypdfium2

    width, height = attnfig.figsize(venue)
    with attnfig.style(venue):
        fig = attnfig.head_view(ATTENTION, TOKENS, layer=1, figsize=(width, height))
        fig.axes[0].set_title("a title much wider than one column of any venue, on purpose " * 2)
        png, pdf, svg = attnfig.save(fig, tmp_path / "wide", formats=["png", "pdf", "svg"])
        dpi = plt.rcParams["savefig.dpi"]
    assert Image.open(png).size == (round(width * dpi), round(height * dpi))
    page_width, page_height = pypdfium2.PdfDocument(str(pdf))[0].get_size()
    assert page_width == pytest.approx(width * 72, abs=72 / dpi) and page_height == pytest.approx(height * 72, abs=72 / dpi)
    head = svg.read_text()[:2000]
    assert f'width="{round(width * dpi) / dpi * 72:g}pt"' in head.replace(".0pt", "pt") or f"{width * 72:.1f}" in head


def _seaborn_colors(matrix, **kwargs):
    ax = seaborn.heatmap(matrix, ax=plt.figure().subplots(), **kwargs)
    return ax.collections[0].to_rgba(ax.collections[0].get_array().reshape(matrix.shape))


def _attnfig_colors(**kwargs):
    ax = attnfig.heatmap(ATTENTION, TOKENS, layer=1, head=1, ax=plt.figure().subplots(), **kwargs)
    image = ax.images[0]
    return image.to_rgba(np.ma.masked_invalid(ATTENTION[1, 1].astype(float)))


@pytest.mark.parametrize("options", [
    {"norm": PowerNorm(0.5)},
    {"norm": LogNorm()},
    {"center": 0.1},
    {"center": 0.1, "vmin": 0.0, "vmax": 0.5},
    {"vmax": 0.3},
], ids=["power", "log", "center", "center-limits", "vmax"])
def test_heatmap_colors_match_seaborn_for_the_same_norm_and_center(options):
    matrix = ATTENTION[1, 1].astype(float)
    copy = {k: (type(v)(**{"gamma": v.gamma} if isinstance(v, PowerNorm) else {}) if k == "norm" else v)
            for k, v in options.items()}
    theirs = _seaborn_colors(matrix, cmap="viridis", **copy, **({} if "vmin" in options or "norm" in options
                                                                    or "center" in options else {"vmin": 0.0}))
    ours = _attnfig_colors(cmap="viridis", **options)
    assert np.abs(ours - theirs).max() <= 0.02  # seaborn resamples the colormap into 256 steps


def test_heatmap_takes_seaborn_tick_label_annotation_and_line_options():
    n = len(TOKENS)
    ax = attnfig.heatmap(ATTENTION, TOKENS, layer=1, head=0, xticklabels=3, yticklabels=False, annot=True,
                         fmt=".1f", annot_kws={"size": 4, "color": "red"}, linewidths=0.5, linecolor="black",
                         cbar=False, ax=plt.figure(figsize=(8, 8)).subplots())
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == TOKENS[::3]
    assert ax.get_yticklabels() == []
    texts = [t for t in ax.texts if t.get_text()]
    assert len(texts) == n * n and {t.get_fontsize() for t in texts} == {4} and texts[0].get_color() == "red"
    assert texts[0].get_text() == format(ATTENTION[1, 0, 0, 0], ".1f")
    (lines,) = [c for c in ax.collections if c.get_label() == "cell lines"]
    assert len(lines.get_segments()) == 2 * (n + 1) and lines.get_linewidths()[0] == 0.5
    assert len(ax.figure.axes) == 1  # cbar=False
    labels = [f"w{i}" for i in range(n)]
    ax = attnfig.heatmap(ATTENTION, TOKENS, layer=1, head=0, xticklabels=True, yticklabels=labels,
                         cbar_kws={"orientation": "horizontal", "shrink": 0.5}, ax=plt.figure(figsize=(8, 8)).subplots())
    ax.figure.canvas.draw()
    assert [t.get_text() for t in ax.get_xticklabels()] == TOKENS
    assert [t.get_text() for t in ax.get_yticklabels()] == labels
    assert ax.figure.axes[1].get_label() == "<colorbar>" and ax.figure.axes[1].get_position().width > \
        ax.figure.axes[1].get_position().height


def test_seaborn_names_that_cannot_apply_say_so():
    with pytest.raises(ArgumentError, match="norm.*vmin"):
        attnfig.heatmap(ATTENTION, layer=0, head=0, norm=LogNorm(), vmin=0.1)
    with pytest.raises(ArgumentError, match="xticklabels"):
        attnfig.heatmap(ATTENTION, layer=0, head=0, xticklabels=["a"])
    with pytest.raises(ArgumentError, match="yticklabels"):
        attnfig.heatmap(ATTENTION, layer=0, head=0, yticklabels="some")
    with pytest.raises(ArgumentError, match="annot_kws.*does not apply"):
        attnfig.model_view(ATTENTION, kind="heatmap", annot_kws={"size": 3})
    with pytest.raises(ArgumentError, match="norm"):
        attnfig.model_view(ATTENTION, norm=LogNorm())


def test_model_view_heatmaps_take_norm_and_center():
    fig = attnfig.model_view(ATTENTION, kind="heatmap", norm=PowerNorm(0.5))
    norm = fig.axes[0].images[0].norm
    assert isinstance(norm, PowerNorm) and norm.vmin == pytest.approx(float(ATTENTION.min()))
    assert norm.vmax == pytest.approx(float(ATTENTION.max()))
    fig = attnfig.model_view(ATTENTION, kind="heatmap", center=0.2)
    assert fig.axes[0].images[0].norm.vcenter == 0.2


def test_model_view_heatmaps_take_cbar_kws_as_seaborn_does():
    fig = attnfig.model_view(ATTENTION, kind="heatmap", cbar_kws={"label": "weight", "orientation": "horizontal"})
    (colorbar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert colorbar.get_xlabel() == "weight" and colorbar.get_position().width > colorbar.get_position().height
    fig = attnfig.model_view(ATTENTION, kind="heatmap", cbar_kws={"shrink": 0.3})
    (small,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    fig = attnfig.model_view(ATTENTION, kind="heatmap")
    (default,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    fig.canvas.draw(), small.figure.canvas.draw()
    assert small.get_position().height < 0.7 * default.get_position().height
    assert attnfig.difference_grid(ATTENTION, ATTENTION[::-1], cbar_kws={"label": "A - B"}).axes[-1].get_ylabel() == "A - B"
    with pytest.raises(ArgumentError, match='cbar_kws.*kind="heatmap"'):
        attnfig.model_view(ATTENTION, cbar_kws={"label": "x"})
    with pytest.raises(ArgumentError, match="cbar_kws.*dict"):
        attnfig.model_view(ATTENTION, kind="heatmap", cbar_kws="weight")


def test_save_returns_the_paths_quietly(tmp_path):
    fig = attnfig.head_view(ATTENTION, TOKENS, layer=0)
    paths = attnfig.save(fig, tmp_path / "view", formats=["png", "pdf"])
    assert [p.name for p in paths] == ["view.png", "view.pdf"]
    assert hasattr(paths, "_ipython_display_") and paths._ipython_display_() is None


def test_the_command_line_and_the_batch_close_the_figures_they_make(tiny_model_folders, tmp_path):
    from attnfig.cli import main
    from attnfig.export.batch import run_batch

    folder = str(tiny_model_folders["bert"])
    assert main(["plot", "--model", folder, "--text", "the cat sat", "--view", "head", "--out",
                 str(tmp_path / "one.png")]) == 0
    report = run_batch(folder, ['{"id": "a", "text": "the cat"}', '{"id": "b", "text": "a dog sat"}'],
                       tmp_path / "out", formats=["png"], log=io.StringIO())
    assert sorted(report.written) == ["a", "b"] and (tmp_path / "one.png").exists()
    assert plt.get_fignums() == []  # memory stays flat over thousands of inputs
