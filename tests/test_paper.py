"""Paper-ready at venue sizes (issue #10): each point a reviewer raised, pinned on the drawn figure."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_rgba_array
from matplotlib.figure import Figure

import attnfig
from attnfig.lint import drawn_text, figure_problems

from conftest import random_attention

SVG = "{http://www.w3.org/2000/svg}"
VENUES = ("icml", "acl", "neurips")
ROOT = Path(__file__).resolve().parent.parent


def svg_texts(path) -> list[str]:
    return ["".join(node.itertext()) for node in ElementTree.parse(path).iter(f"{SVG}text")]


def pdf_fonts(path) -> set[str]:
    import pypdf

    fonts = pypdf.PdfReader(path).pages[0]["/Resources"]["/Font"]
    return {str(font.get_object()["/BaseFont"]) for font in fonts.values()}


# --- 1. the style travels with the figure --------------------------------------------------


@pytest.mark.real_model
def test_a_figure_made_in_a_style_is_saved_in_it_after_the_block(seed_attention, tmp_path):
    with attnfig.style("neurips"):
        fig = attnfig.head_view(seed_attention, layer=2)
    pdf, svg = attnfig.save(fig, tmp_path / "head", formats=["pdf", "svg"])
    assert all("STIX" in font for font in pdf_fonts(pdf))  # the style's Times-like serif
    texts = svg_texts(svg)
    assert {"rabbit", "turtle", "[CLS]"} <= set(texts)  # tokens stay text (svg.fonttype: none)


def test_an_axes_level_figure_on_pyplot_keeps_its_style(tmp_path):
    with attnfig.style("icml"):
        fig, ax = plt.subplots(figsize=attnfig.figsize("icml"))
        attnfig.heatmap(random_attention(1, 2, 5), ["[CLS]", "a", "b", "c", "[SEP]"], ax=ax)
    (svg,) = attnfig.save(fig, tmp_path / "map.svg")
    assert {"[CLS]", "a", "[SEP]", "query", "key"} <= set(svg_texts(svg))
    assert mpl.rcParams["svg.fonttype"] == "path"  # the block is over; only the figure kept it


# --- 2. column-width heatmaps ---------------------------------------------------------------


@pytest.mark.real_model
@pytest.mark.parametrize("venue", VENUES)
def test_the_seed_heatmap_labels_every_token_on_both_axes_at_one_column(seed_attention, venue):
    with attnfig.style(venue):
        fig = Figure(figsize=attnfig.figsize(venue), layout="constrained")
        ax = attnfig.heatmap(seed_attention, layer=4, head=3, ax=fig.subplots())
        assert figure_problems(fig) == []  # inside the canvas, no overlap, >= 85% of the width
    tokens = list(seed_attention.tokens)
    assert [t.get_text() for t in ax.get_yticklabels()] == tokens
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens
    assert (ax.get_ylabel(), ax.get_xlabel()) == ("query", "key")
    assert ax.images[0].colorbar.ax.get_ylabel() == "attention weight"


@pytest.mark.real_model
def test_save_does_not_clip_a_heatmap_drawn_on_pyplots_current_figure(seed_attention, tmp_path):
    import pypdfium2

    with attnfig.style("acl"):
        plt.figure(figsize=attnfig.figsize("acl"))
        attnfig.heatmap(seed_attention, layer=4, head=3)
        (pdf,) = attnfig.save(plt.gcf(), tmp_path / "map.pdf")
    page = pypdfium2.PdfDocument(str(pdf))[0]
    width, height = page.get_size()
    text = page.get_textpage()
    boxes = np.array([text.get_charbox(i) for i in range(text.count_chars()) if text.get_text_range(i, 1).strip()])
    assert boxes[:, [0, 1]].min() >= -0.5 and boxes[:, 2].max() <= width + 0.5 and boxes[:, 3].max() <= height + 0.5
    drawn = text.get_text_range()
    assert "key" in drawn and drawn.count("[SEP]") == 4  # both axes' labels, down to the last token


def test_cell_annotations_shrink_to_their_cells_and_refuse_when_too_small():
    tokens = ["[CLS]"] + [f"w{i}" for i in range(9)] + ["[SEP]"]
    with attnfig.style("acl"):
        fig = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.heatmap(random_attention(1, 1, 11), tokens, annot=True, ax=fig.subplots())
        assert figure_problems(fig) == []
        assert all(t.get_visible() and t.get_fontsize() < 8 for t in ax.texts)
        fig = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        with pytest.raises(attnfig.ArgumentError, match="cannot fit 60 x 60 numbers"):  # issue 19: fit or an error
            attnfig.heatmap(random_attention(1, 1, 60), annot=True, ax=fig.subplots())


# --- 3. one color per head, by its original index -------------------------------------------


def test_a_head_keeps_its_color_in_any_selection():
    weights = random_attention(1, 12, 4)
    every = attnfig.head_view(weights, layer=0, layout="overlay")
    some = attnfig.head_view(weights, layer=0, heads=[3, 7])
    every_colors = {h.get_label(): h.get_facecolor() for h in every.legends[0].legend_handles if h.get_visible()}
    some_colors = {h.get_label(): h.get_facecolor() for h in some.legends[0].legend_handles if h.get_visible()}
    assert some_colors == {"3": every_colors["3"], "7": every_colors["7"]}
    lines = sorted(some.axes[0].collections, key=lambda c: c.get_label())  # drawn weakest first: by label
    assert lines[0].get_label() == "head 3"
    np.testing.assert_allclose(lines[0].get_colors()[:, :3], np.broadcast_to(every_colors["3"][:3], (len(lines[0].get_colors()), 3)))


@pytest.mark.parametrize("style_name", ["default", "colorblind"])
def test_sixteen_heads_get_sixteen_distinct_colors(style_name):
    with attnfig.style(style_name):
        colors = attnfig.views.colors.head_colors(range(16))[:, :3]
    distances = np.linalg.norm(colors[:, None] - colors[None], axis=-1) + np.eye(16)
    assert distances.min() > 0.1
    if style_name == "colorblind":  # Okabe-Ito first
        np.testing.assert_allclose(colors[:8], to_rgba_array(["#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2",
                                                              "#D55E00", "#CC79A7", "#CC6677"])[:, :3])  # no black


# --- 4. focus= shows each head's weight at full strength ------------------------------------


def test_focus_puts_one_full_strength_mark_per_head_beside_each_key():
    weights = random_attention(2, 4, 6)
    ax = attnfig.lines(weights, layer=1, heads=[0, 3], focus=2)
    marks = [c for c in ax.collections if c.get_label() == "focus weights"][0]
    expected = weights[1][[0, 3], 2, :].T.ravel()  # key by key, then head
    np.testing.assert_allclose(marks.get_facecolors()[:, 3], expected, rtol=1e-6)
    np.testing.assert_allclose(marks.get_edgecolors()[:, 3], 1.0)  # the box is there even at weight 0
    assert len(marks.get_offsets()) == 6 * 2
    assert figure_problems(ax.figure) == []  # the key labels moved out of the marks' way


# --- 5. summaries ---------------------------------------------------------------------------


def test_the_special_token_legend_sits_off_the_data():
    with attnfig.style("icml"):
        fig = Figure(figsize=attnfig.figsize("icml"), layout="constrained")
        ax = attnfig.plot_special_token_attention(random_attention(4, 3, 6), ["[CLS]", "a", ".", "b", "c", "[SEP]"],
                                                  ax=fig.subplots())
        renderer = fig._get_renderer()
        fig.draw(renderer)
        legend, data_area = ax.get_legend().get_window_extent(renderer), ax.get_window_extent(renderer)
        assert legend.y0 >= data_area.y1 - 1
        marker_points = ax.get_lines()[0].get_markersize()
        assert marker_points <= attnfig.views.colors.font_points("xtick.labelsize")


def test_the_neuron_view_has_color_scales_and_fits_one_column():
    rng = np.random.default_rng(0)
    keys, query = rng.normal(size=(5, 8)), rng.normal(size=8)
    scores = keys @ query / np.sqrt(8)
    view = attnfig.NeuronView(query, keys, keys * query, scores, np.exp(scores) / np.exp(scores).sum(),
                              ("[CLS]", "a", "b", "c", "[SEP]"), 1, 0, 0)
    with attnfig.style("icml"):
        fig = attnfig.plot_neuron_view(view)
        assert fig.get_figwidth() == pytest.approx(3.25)
        assert figure_problems(fig) == []
    colorbar_labels = [ax.get_xlabel() for ax in fig.axes if ax.get_label() == "<colorbar>"]
    assert colorbar_labels == ["q, k", "q \u00d7 k\n(row sum: q\u00b7k)"]


def test_dark_grids_keep_zero_visible_against_the_background():
    with attnfig.style("dark"):
        fig = attnfig.model_view(np.full((1, 2, 3, 3), 1 / 3) * np.eye(3) * 3, kind="heatmap")
        zero = np.array(fig.axes[0].images[0].cmap(0.0)[:3])
        background = np.array(to_rgba_array([mpl.rcParams["axes.facecolor"]])[0, :3])
    assert np.abs(zero - background).max() > 0.2


# --- tokens drawn as typed, long axes -------------------------------------------------------

LITERAL_TOKENS = ["$x^2$", "a$b$c", "$$", "$x_$", "$^$", "\\", "%", "#", "&", "_", "\ud800"]


def test_tokens_are_drawn_as_typed_in_every_view(tmp_path):
    n = len(LITERAL_TOKENS)
    weights = random_attention(1, 2, n)
    with attnfig.style("paper"):
        fig = Figure(figsize=(7, 4), layout="constrained")
        left, right = fig.subplots(1, 2)
        attnfig.heatmap(weights, LITERAL_TOKENS, ax=left, prettify_tokens=False)
        attnfig.lines(weights, LITERAL_TOKENS, ax=right, prettify_tokens=False)
        svg, png = attnfig.save(fig, tmp_path / "tokens", formats=["svg", "png"])
    expected = [t.replace("\ud800", "\ufffd") for t in LITERAL_TOKENS]
    texts = svg_texts(svg)
    for token in expected:
        assert texts.count(token) == 4, token  # heatmap rows and columns, both columns of lines


def test_long_axes_keep_special_tokens_and_highlights_and_stay_within_a_page():
    n = 300
    tokens = ["[CLS]"] + [f"w{i}" for i in range(1, n - 1)] + ["[SEP]"]
    weights = random_attention(1, 1, n)
    fig = attnfig.head_view(weights, tokens, highlight=[137], top_k=1)
    assert fig.get_figheight() <= 9  # a page's text block
    shown = {text.split(" ")[-1] for text in drawn_text(fig)}  # thinned labels read "137 w137"
    assert {"[CLS]", "w137", "[SEP]"} <= shown and "w138" not in shown
    assert figure_problems(fig) == []
    with attnfig.style("icml"):
        fig = Figure(figsize=attnfig.figsize("icml"), layout="constrained")
        ax = attnfig.heatmap(weights, tokens, highlight=[137], ax=fig.subplots())
        assert figure_problems(fig) == []
    rows = [t.get_text() for t in ax.get_yticklabels()]
    assert rows[0] == "0 [CLS]" and rows[-1] == f"{n - 1} [SEP]" and "137 w137" in rows and len(rows) < n


# --- 7. the README runs as written -----------------------------------------------------------


@pytest.mark.real_model
def test_the_readme_python_blocks_run_in_order_in_a_fresh_folder(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks
    script = tmp_path / "readme.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    env = {**os.environ, "MPLBACKEND": "Agg", "HF_HUB_OFFLINE": "1"}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]


def test_neuron_view_draws_a_lone_surrogate_as_the_replacement_character(tmp_path):
    """The property test drew '\\ud800' into the neuron view: measuring its column width gave
    FreeType the raw surrogate (TypeError). Labels are measured as drawn, with U+FFFD."""
    view = attnfig.NeuronView(np.ones(2), np.ones((2, 2)), np.ones((2, 2)), np.zeros(2), np.full(2, 0.5),
                              ("ok", "a\udfffb"), 0, 0, 0)
    with attnfig.style("paper"):  # text as text in SVG
        (svg,) = attnfig.save(attnfig.plot_neuron_view(view), tmp_path / "neuron", formats=["svg"])
    assert "a\ufffdb" in svg_texts(svg)
