"""Issue 19, the paper figures' third read: head view, head patterns, long-input labels,
summaries and the command line, each checked at venue size on artists, data or files."""
from __future__ import annotations

import numpy as np
import pytest
from matplotlib.figure import Figure
from PIL import Image

import attnfig
from conftest import random_attention


PAIR = ["[CLS]", "the", "cat", "sat", "on", "[SEP]", "a", "dog", "ran", "off", "[SEP]"]


# --- 1. head view at one column ------------------------------------------------------------

@pytest.mark.parametrize("venue", ["acl", "icml", "neurips"])
def test_head_view_fills_the_column_and_draws_many_heads_as_panels(venue):
    with attnfig.style(venue):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2)
    assert figure.get_figwidth() == pytest.approx(attnfig.figsize(venue)[0], abs=0.01)  # was 0.6 of it
    panels = [ax for ax in figure.axes if ax.get_title().startswith("Head")]
    assert [ax.get_title() for ax in panels] == [f"Head {h}" for h in range(12)]
    for ax in panels:  # one head per panel: opacity is the weight itself, not weight / 12
        (collection,) = [c for c in ax.collections if c.get_label().startswith("head")]
        assert collection.get_colors()[:, 3].max() > 0.5
    assert figure.get_suptitle() == "Layer 2"


def test_overlaid_head_legend_is_one_row_with_the_layer_first():
    with attnfig.style("acl"):
        figure = attnfig.head_view(random_attention(3, 12, len(PAIR)), PAIR, 6, layer=2, heads=[0, 3, 5])
    legend = figure.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == ["Layer 2, head", "0", "3", "5"]
    figure.draw_without_rendering()
    rows = {round(t.get_window_extent().y0) for t in legend.get_texts()}
    assert len(rows) == 1 and legend.get_title().get_text() == ""


def test_head_view_heads_its_columns_and_marks_sentences_a_and_b():
    with attnfig.style("acl"):
        figure = attnfig.head_view(random_attention(1, 2, len(PAIR)), PAIR, 6)
    ax = figure.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert "query" in texts and "key" in texts
    assert texts.count("A") == 2 and texts.count("B") == 2
    (marks,) = [c for c in ax.collections if c.get_label() == "sentence marks"]
    ys = sorted({round(y, 3) for segment in marks.get_segments() for y in segment[:, 1]})
    boundary = 6 / len(PAIR)  # sentence B starts at token 6
    assert max(y for y in ys if y < boundary) < boundary < min(y for y in ys if y > boundary)


def test_long_head_view_stays_within_a_page_text_block():
    tokens = ["[CLS]"] + [f"w{i}" for i in range(241)] + ["[SEP]"]
    with attnfig.style("neurips"):
        figure = attnfig.head_view(random_attention(1, 1, len(tokens)), tokens)
    assert figure.get_figheight() == pytest.approx(9.0)  # a page's text block; was 3.30 x 10.20 in


def test_direction_a_to_b_draws_its_strongest_line_opaque():
    weights = random_attention(1, 12, len(PAIR))
    ax = attnfig.lines(weights, PAIR, sentence_b_start=6, direction="a->b")
    alphas = np.concatenate([c.get_colors()[:, 3] for c in ax.collections if c.get_label().startswith("head")])
    assert alphas.max() == pytest.approx(1.0)  # was the weight / 12


# --- 3. long-input labels -------------------------------------------------------------------

def test_thinned_labels_show_their_positions_and_highlight_is_marked():
    tokens = ["[CLS]"] + [f"w{i}" for i in range(1, 242)] + ["[SEP]"]
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.heatmap(random_attention(1, 1, len(tokens)), tokens, highlight=[137], ax=figure.subplots())
        figure.draw_without_rendering()
    labels = {t.get_text(): t for t in ax.get_yticklabels() if t.get_text()}
    assert "0 [CLS]" in labels and "137 w137" in labels
    assert all(text.split(" ")[0].isdigit() for text in labels)
    assert labels["137 w137"].get_fontweight() in ("bold", 700) and labels["0 [CLS]"].get_fontweight() == "normal"
    marks = [c for c in ax.collections if c.get_label() == "highlight"]
    assert [len(m.get_offsets()) for m in marks] == [1, 1]  # the row and the column of token 137


def test_labels_that_all_fit_are_not_numbered():
    ax = attnfig.heatmap(random_attention(1, 1, 5), ["[CLS]", "a", "b", "c", "[SEP]"])
    ax.figure.draw_without_rendering()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["[CLS]", "a", "b", "c", "[SEP]"]


def test_highlight_on_lines_colors_the_label_and_draws_a_band():
    ax = attnfig.lines(random_attention(1, 1, 5), ["[CLS]", "a", "b", "c", "[SEP]"], highlight=[2])
    ax.figure.draw_without_rendering()
    weights = {t.get_text(): t.get_fontweight() for t in ax.get_yticklabels()}
    assert weights["b"] in ("bold", 700) and weights["a"] == "normal"
    (bands,) = [c for c in ax.collections if c.get_label() == "highlight"]
    assert len(bands.get_paths()) == 2  # the query's row and the key's row


# --- 5. layer numbering ---------------------------------------------------------------------

def test_layer_base_one_numbers_layers_from_one_in_every_figure():
    weights = random_attention(3, 2, 5)
    tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
    with attnfig.set_options(layer_base=1):
        head = attnfig.head_view(weights, tokens, layer=2)
        heat = attnfig.heatmap(weights, tokens, layer=2, head=0)
        grid = attnfig.model_view(weights, tokens)
        entropy = attnfig.plot_head_entropy(weights, tokens)
    assert head.legends[0].get_texts()[0].get_text() == "Layer 3, head"
    assert heat.get_title() == "Layer 3, head 0"
    grid.draw_without_rendering()
    assert [t.get_text() for t in grid.axes[0].get_yticklabels()] == ["1", "2", "3"]
    assert [t.get_text() for t in entropy.get_yticklabels()] == ["1", "2", "3"]
    assert attnfig.heatmap(weights, tokens, layer=2, head=0).get_title() == "Layer 2, head 0"  # restored
    with pytest.raises(attnfig.ArgumentError, match="layer_base"):
        attnfig.set_options(layer_base=2)


# --- 6. command line ------------------------------------------------------------------------

def test_cli_heatmap_refuses_several_heads(tmp_path, capsys):
    from attnfig.cli import main

    status = main(["plot", "--model", str(tmp_path), "--text", "the rabbit hopped", "--view", "heatmap",
                   "--heads", "3,4", "--out", str(tmp_path / "h.png")])
    assert status == 2 and "--head 3" in capsys.readouterr().err  # was: head 3 drawn, head 4 dropped
    assert not (tmp_path / "h.png").exists()


def cli_figure(tiny_models, *options):
    """The figure `attnfig plot` draws with these options (in-process: no model reload)."""
    from attnfig.cli import _options, build_parser
    from attnfig.export.batch import figure_for_text

    args = build_parser().parse_args(["plot", "--model", "m", "--text", "t", "--out", "o.png", *options])
    model, tokenizer = tiny_models["bert"]
    return figure_for_text(model, tokenizer, "the rabbit quickly hopped", None, _options(args))


@pytest.mark.parametrize("options, width, height", [
    ((), 3.5 * 300, None),  # the paper style at 300 dpi (was 640 px at 100 dpi)
    (("--venue", "icml", "--columns", "2", "--head", "1"), 6.75 * 300, None),
    (("--figsize", "2,1.5"), 600, 450),
])
def test_cli_venue_columns_figsize_head_and_the_paper_default(tiny_models, tmp_path, options, width, height):
    figure = cli_figure(tiny_models, "--view", "heatmap", *options)
    (path,) = attnfig.save(figure, tmp_path / "figure.png")
    size = Image.open(path).size
    assert size[0] == pytest.approx(width, abs=2)
    if height:
        assert size[1] == pytest.approx(height, abs=2)
    if "--head" in options:
        assert figure.axes[0].get_title().endswith("head 1")


# --- 2. head patterns -----------------------------------------------------------------------

def test_head_pattern_frames_lie_inside_the_axes_and_thumbnails_show_the_corpus_mean():
    corpus = [attnfig.as_attention(random_attention(2, 3, 6, seed=seed)) for seed in range(3)]
    with attnfig.style("acl"):
        figure = attnfig.plot_head_patterns(corpus)
    ax = figure.axes[0]
    (frames,) = [c for c in ax.collections if c.get_label() == "pattern frames"]
    x0, x1 = sorted(ax.get_xlim())
    y0, y1 = sorted(ax.get_ylim())
    corners = np.concatenate([p.vertices for p in frames.get_paths()])  # data coordinates
    assert corners[:, 0].min() >= x0 and corners[:, 0].max() <= x1  # was clipped at the outer edges
    assert corners[:, 1].min() >= y0 and corners[:, 1].max() <= y1
    thumbnail = ax.images[0].get_array()[:6, :6]
    np.testing.assert_allclose(thumbnail, np.mean([d.weights for d in corpus], axis=0)[0, 0], rtol=1e-5)
    title = figure.legends[0].get_title().get_text()
    assert "3 texts" in title and "mean" in title
    letters = [t.get_text() for t in figure.legends[0].get_texts()]
    assert not any(text.split()[0] in {"V", "D", "V+D", "B", "H"} for text in letters)  # letters drawn nowhere else


def test_pattern_shares_stack_to_one_per_layer_by_direct_count():
    weights = np.tile(np.eye(5, dtype=np.float32), (3, 4, 1, 1))
    weights[1, :2] = 0
    weights[1, :2, :, 0] = 1  # two vertical heads in layer 1
    expected = np.zeros((3, len(attnfig.summaries.patterns.PATTERNS)))
    expected[:, 1] = 1
    expected[1, :2] = [0.5, 0.5]
    np.testing.assert_allclose(attnfig.pattern_shares(weights), expected)
    with attnfig.style("acl"), attnfig.set_options(layer_base=1):
        ax = Figure(figsize=attnfig.figsize("acl"), layout="constrained").subplots()
        attnfig.plot_pattern_shares(weights, ax=ax)
    heights = [[bar.get_height() for bar in container] for container in ax.containers]
    np.testing.assert_allclose(np.sum(heights, axis=0), 1.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1", "2", "3"]


# --- 5. summaries ---------------------------------------------------------------------------

def test_rollout_leaves_special_tokens_out_and_shows_one_query_row():
    tokens = ["[CLS]", "a", "b", "c", "[SEP]"]
    weights = random_attention(3, 2, 5)
    rollout = attnfig.attention_rollout(weights)
    ax = attnfig.plot_rollout(weights, tokens, exclude_special=True, ax=Figure().subplots())
    np.testing.assert_allclose(ax.images[0].get_array(), rollout[1:4, 1:4], rtol=1e-6)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.images[0].norm.vmax == pytest.approx(rollout[1:4, 1:4].max())  # [CLS] no longer sets the scale
    ax = attnfig.plot_rollout(weights, tokens, query=2, ax=Figure().subplots())
    np.testing.assert_allclose(ax.images[0].get_array(), rollout[[2]], rtol=1e-6)
    assert "Query 2 (b)" in ax.get_title()
    with pytest.raises(attnfig.ArgumentError, match="special token"):
        attnfig.plot_rollout(weights, tokens, exclude_special=True, query=0)


def test_entropy_map_keeps_most_of_the_width_at_one_column():
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        ax = attnfig.plot_head_entropy(random_attention(6, 12, 20), ax=figure.subplots())
        figure.draw_without_rendering()
    assert ax.get_position().width > 0.6  # was 0.55: "uniform 2.61" on one line pushed it in
    labels = [t.get_text() for t in figure.axes[1].get_yticklabels()]
    assert labels[-1] == "uniform"  # one short word, the nice ticks clear of it


def test_annotations_that_cannot_fit_raise_instead_of_overlapping():
    tokens = ["[CLS]"] + [f"w{i}" for i in range(10)] + ["[SEP]"]
    with attnfig.style("acl"):
        figure = Figure(figsize=attnfig.figsize("acl"), layout="constrained")
        with pytest.raises(attnfig.ArgumentError, match="annot=True"):
            attnfig.heatmap(random_attention(1, 1, 12), tokens, annot=True, square=True, ax=figure.subplots())


# --- 3. words instead of fragments ----------------------------------------------------------

def test_merge_subwords_on_from_model_capture_and_the_views(tiny_models):
    model, tokenizer = tiny_models["bert"]
    text = "the rabbit quickly hopped"
    pieces = attnfig.from_model(model, tokenizer, text)
    expected = attnfig.merge_subword_tokens(pieces)
    assert "##ly" in pieces.tokens  # the tokenizer splits "quickly"
    merged = attnfig.from_model(model, tokenizer, text, merge_subwords=True)
    assert merged.tokens == expected.tokens and not any(t.startswith("##") for t in merged.tokens)
    np.testing.assert_allclose(merged.weights, expected.weights, atol=1e-6)
    captured = attnfig.capture(model, tokenizer, text, merge_subwords=True)
    np.testing.assert_allclose(captured.weights, expected.weights, atol=1e-5)
    ax = attnfig.heatmap(pieces, merge_subwords=True, ax=Figure().subplots())
    assert [t.get_text() for t in ax.get_xticklabels()] == list(expected.tokens)
    ax = attnfig.lines(pieces, merge_subwords=True, ax=Figure().subplots())
    assert [t.get_text() for t in ax.get_yticklabels()] == list(expected.tokens)
    figure = attnfig.head_view(pieces, merge_subwords=True, heads=[0])
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()] == list(expected.tokens)
