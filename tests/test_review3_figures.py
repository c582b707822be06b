"""Third figure review, minor items: head view labels at the style's tick size, the gallery's
generation composite labelling every token, query/key headings on rollout and flow lines, one
capitalisation rule for titles, and the difference title on one line at acl."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

import attnfig
from attnfig.lint import figure_problems
from attnfig.views.colors import font_points
from attnfig.views.titles import sentence_case
from conftest import gallery_script, random_attention

PAIR = ["[CLS]", "the", "cat", "sat", "on", "[SEP]", "a", "dog", "ran", "off", "[SEP]"]


def _token_labels(figure):
    return [t for ax in figure.axes for t in ax.get_yticklabels() if t.get_text() and t.get_visible()]


@pytest.mark.parametrize("venue", ["icml"])
def test_head_view_grid_labels_tokens_at_the_style_tick_size(venue):
    """Were 5.3 pt at icml (6-pt ticks) and 6.4 pt at acl (8-pt ticks)."""
    with attnfig.style(venue):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2)
        tick = font_points("ytick.labelsize")
        figure.draw_without_rendering()
    sizes = {t.get_fontsize() for t in _token_labels(figure)}
    assert sizes == {tick}
    assert figure.get_figheight() <= 3 * attnfig.figsize(venue)[1]  # within the head view's height limit
    for ax in figure.axes:  # every token labelled on the outer panels
        shown = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert shown in ([], PAIR)
    plt.close(figure)


@pytest.mark.slow  # runs the gallery script: builds a tiny Llama and generates (about 10 s here)
@pytest.mark.parametrize("venue", ["acl"])
def test_gallery_generation_composite_labels_every_token_of_its_head_view(venue):
    """acl labelled 6 of 12 tokens in a 1.6-in subfigure."""
    script = gallery_script("plot_generation.py")
    with attnfig.style(venue):
        figure = script["composite"](script["data"], venue)
        tick = font_points("ytick.labelsize")
        figure.draw_without_rendering()
    view = figure.subfigs[1].axes[0]
    n = len(script["data"].query_tokens)
    queries = [t for t in view.get_yticklabels() if t.get_text()]
    keys = [t for t in view.child_axes[0].get_yticklabels() if t.get_text()]
    assert len(queries) == len(keys) == n == 12
    assert {t.get_fontsize() for t in queries + keys} == {tick}
    assert figure.get_figwidth() == pytest.approx(attnfig.figsize(venue)[0])
    assert figure_problems(figure) == []
    plt.close(figure)


@pytest.mark.parametrize("method", ["rollout", "flow"])
def test_rollout_and_flow_lines_head_their_columns_like_head_view(method):
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.plot_rollout(random_attention(3, 2, len(PAIR)), PAIR, method=method, kind="lines",
                                  ax=figure.subplots())
        figure.draw_without_rendering()
    headings = {t.get_text(): t for t in ax.texts if t.get_text() in ("query", "key")}
    assert set(headings) == {"query", "key"}
    box = ax.get_window_extent()
    assert headings["query"].get_window_extent().x1 <= box.x0 + 1  # above the query labels, left
    assert headings["key"].get_window_extent().x0 >= box.x1 - 1  # above the key labels, right
    assert figure_problems(figure) == []


def _titles(figure) -> list[str]:
    """Every title, suptitle and legend title drawn in `figure` (its subfigures too)."""
    titles = []
    for ax in figure.get_axes():
        titles += [ax.get_title(loc) for loc in ("left", "center", "right")]
    figures = [figure] + list(getattr(figure, "subfigs", []))
    titles += [f._suptitle.get_text() for f in figures if getattr(f, "_suptitle", None) is not None]
    legends = [lg for f in figures for lg in f.legends] + [ax.get_legend() for ax in figure.get_axes()]
    titles += [lg.get_title().get_text() for lg in legends if lg is not None]
    titles += [lg.get_texts()[0].get_text() for lg in legends if lg is not None and lg.get_texts()]  # a title entry
    return [t for t in titles if t and t[0].isalpha() and not t[0].isdigit()]


def test_every_figure_kind_writes_its_titles_in_sentence_case():
    """Were "head 0" beside "Layer 2" (head_view), "layer 2, head 1" and "rollout to layer 3"
    (image attention), "query q", "keys k" and "softmax" (neuron view)."""
    import numpy as np

    weights = random_attention(3, 12, len(PAIR))
    figures = [attnfig.head_view(weights, PAIR, 6, layer=2), attnfig.head_view(weights, PAIR, 6, heads=[0, 1]),
               attnfig.model_view(weights, PAIR, 6), attnfig.heatmap(weights, PAIR, layer=1, head=2, ax=plt.figure().subplots()).figure,
               attnfig.plot_rollout(weights, PAIR, kind="lines", ax=plt.figure().subplots()).figure,
               attnfig.plot_image_attention(np.full((4, 2, 5, 5), 0.2), np.zeros((8, 8, 3)), grid=(2, 2), layer=2,
                                            head=1, ax=plt.figure().subplots()).figure,
               attnfig.plot_image_attention(np.full((4, 2, 5, 5), 0.2), np.zeros((8, 8, 3)), grid=(2, 2),
                                            rollout=True, ax=plt.figure().subplots()).figure,
               attnfig.image_attention_grid(np.full((4, 2, 5, 5), 0.2), np.zeros((8, 8, 3)), grid=(2, 2), layer=1)]
    titles = [title for figure in figures for title in _titles(figure)]
    assert {"Head 0", "Layer 2", "Layer 1, head 2", "Rollout to layer 3", "Layer 2, head 1", "Layer 0, head"} <= set(titles)
    assert [t for t in titles if sentence_case(t) != t] == []
    plt.close("all")


def test_sentence_case_capitalises_words_and_leaves_symbols():
    assert [sentence_case(t) for t in ("head 0", "keys k", "softmax", "q \u00d7 k", "q\u00b7k", "Layer 2", "")] == [
        "Head 0", "Keys k", "Softmax", "q \u00d7 k", "q\u00b7k", "Layer 2", ""]


def test_difference_title_is_one_line_inside_the_figure_at_acl():
    """Wrapped to two lines at acl ("rabbit turtle − cat dog" over "layer 2, head 3")."""
    first, second = random_attention(3, 4, len(PAIR), seed=1), random_attention(3, 4, len(PAIR), seed=2)
    tokens = ["[CLS]", "the", "rabbit/cat", "quickly", "hopped", "[SEP]", "the", "turtle/dog", "slowly", "crawled",
              "[SEP]"]
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.plot_difference(first, second, tokens, layer=2, head=3, names=["rabbit turtle", "cat dog"],
                                     ax=figure.subplots())
        figure.draw_without_rendering()
    assert ax.get_title() == "rabbit turtle \u2212 cat dog, layer 2, head 3"
    box, canvas = ax.title.get_window_extent(), figure.bbox
    assert canvas.x0 <= box.x0 and box.x1 <= canvas.x1
    assert figure_problems(figure) == []
