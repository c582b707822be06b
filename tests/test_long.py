"""Long inputs (150 to 4096 tokens): ink density, peak-keeping reduction, one look in every format."""
from __future__ import annotations

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import random_attention
from matplotlib.collections import LineCollection

import attnfig
from attnfig.testing import TALE_OF_TWO_CITIES as TALE
from attnfig.views.density import INK_BUDGET, ResolutionImage, line_ink, lines_ink



@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tale_attention(minilm):
    return attnfig.from_model(*minilm, TALE)


def test_line_ink_columns_hold_each_lines_mass_times_its_thickness():
    rng = np.random.default_rng(1)
    weights = rng.random((6, 5))
    query_y, key_y = rng.uniform(2, 28, 6), rng.uniform(2, 28, 5)
    height, width, line_width = 30, 17, 0.3
    ink = line_ink(weights, query_y, key_y, height, width, line_width)
    rise = key_y[None, :] - query_y[:, None]
    expected = (weights * line_width * np.sqrt(1 + (rise / width) ** 2)).sum()
    np.testing.assert_allclose(ink.sum(axis=0), expected, rtol=1e-5)


def test_line_ink_lies_where_the_line_crosses_each_column():
    height, width = 40, 20
    ink = line_ink(np.array([[0.7]]), np.array([5.0]), np.array([31.0]), height, width, 0.5)
    x = (np.arange(width) + 0.5) / width
    centre_of_ink = (ink * (np.arange(height)[:, None] + 0.5)).sum(0) / ink.sum(0)
    np.testing.assert_allclose(centre_of_ink, 5.0 + x * 26.0, atol=1e-4)


def test_lines_ink_cost_is_bounded_by_the_pixels_not_the_tokens():
    weights = np.full((3000, 3000), 1 / 3000, dtype=np.float32)
    ink = lines_ink(weights, 200, 300, 0.1)
    bins = int(np.sqrt(INK_BUDGET / 300))
    assert ink.shape == (200, 300) and bins < 200
    # uniform attention: every column holds the same ink, all the mass of 3000 queries
    np.testing.assert_allclose(ink.sum(0)[5:-5].std() / ink.sum(0).mean(), 0, atol=0.02)


def thumbnail_pixels(fig, png, layer, head):
    """The pixels of one model_view thumbnail in a PNG of `fig` saved at the style's dpi."""
    from attnfig.views.model_view import GAP

    ax = fig.axes[0]
    scale = mpl.rcParams["savefig.dpi"] / fig.dpi
    origin = np.array([head, layer]) * (1 + GAP)
    (x0, y0), (x1, y1) = ax.transData.transform([origin, origin + 1]) * scale
    height = png.shape[0]
    top, bottom = sorted([height - y0, height - y1])
    return png[int(top) + 1: int(bottom) - 1, int(x0) + 1: int(x1) - 1, :3]


def test_model_view_147_real_tokens_thumbnails_are_not_solid(tale_attention, tmp_path):
    from attnfig.views.colors import palette_colors

    assert tale_attention.weights.shape[2] == 147
    with attnfig.style("neurips"):
        fig = attnfig.model_view(tale_attention)
        (path,) = attnfig.save(fig, tmp_path / "grid.png")
        png = plt.imread(path)
        (ax,) = fig.axes
        assert not [c for c in ax.collections if isinstance(c, LineCollection)]
        assert isinstance(ax.images[0], ResolutionImage)
        layer_colors = palette_colors(6)[:, :3]
        pure = total = 0
        for layer in range(6):
            for head in range(12):
                pixels = thumbnail_pixels(fig, png, layer, head)
                pure += (np.abs(pixels - layer_colors[layer]).max(-1) <= 8 / 255).sum()
                total += pixels[..., 0].size
                assert pixels.std() > 0.02  # some structure in every thumbnail
    assert pure / total < 1 / 3


def test_dense_thumbnails_are_images_at_the_output_resolution(tmp_path):
    import pypdf

    with attnfig.style("icml"):
        fig = attnfig.model_view(random_attention(2, 3, 200))
        attnfig.save(fig, tmp_path / "grid.pdf")
        image = fig.axes[0].images[0]
        box = image.get_window_extent()
        expected_width = box.width / fig.dpi * mpl.rcParams["savefig.dpi"]
    (embedded,) = pypdf.PdfReader(tmp_path / "grid.pdf").pages[0].images
    assert embedded.image.width >= int(expected_width) - 1


@pytest.mark.parametrize("kind", ["heatmap", "lines"])
def test_a_single_full_weight_survives_a_512_token_thumbnail(kind, tmp_path):
    n = 512
    weights = np.full((2, 2, n, n), 1 / n, dtype=np.float32)
    weights[1, 1, 300] = 0.0
    weights[1, 1, 300, 77] = 1.0  # one query puts all its weight on one key
    with attnfig.style("neurips"):
        fig = attnfig.model_view(weights, kind=kind)
        (path,) = attnfig.save(fig, tmp_path / "grid.png")
        png = plt.imread(path)
        peak, other = thumbnail_pixels(fig, png, 1, 1), thumbnail_pixels(fig, png, 1, 0)
    if kind == "heatmap":
        top_color = np.asarray(fig.axes[0].images[0].cmap(1.0))[:3]
        assert (np.abs(peak - top_color).max(-1) < 2 / 255).any()
        assert not (np.abs(other - top_color).max(-1) < 0.1).any()
    else:
        # the strong line adds visible ink along its path, away from the uniform background
        assert np.abs(peak - other).max() > 0.1


def test_reduce_mean_averages_and_max_keeps_the_peak(tmp_path):
    n = 1024
    weights = np.zeros((1, 1, n, n), dtype=np.float32)
    weights[0, 0, :, 0] = 1.0
    weights[0, 0, 500] = 0.0
    weights[0, 0, 500, 600] = 1.0
    arrays = {}
    for reduce in ("max", "mean"):
        fig, ax = plt.subplots(figsize=(2, 2), dpi=100)
        attnfig.heatmap(weights, ax=ax, cbar=False, reduce=reduce)
        attnfig.save(fig, tmp_path / f"{reduce}.png", dpi=100)
        arrays[reduce] = ax.images[0].get_array()
        assert arrays[reduce].shape[0] < n  # reduced to the output's pixels
    assert arrays["max"].max() == 1.0
    assert arrays["mean"][:, 1:].max() < 0.1
    with pytest.raises(attnfig.AttentionInputError, match="`reduce` must be one of"):
        attnfig.heatmap(weights, reduce="median")


def test_lines_on_worst_case_long_attention_draw_one_bounded_image(tmp_path):
    n, equal_keys = 2048, 256
    weights = np.zeros((1, 1, n, n), dtype=np.float32)
    rows = np.arange(n)[:, None]
    weights[0, 0, rows, (rows * 7 + np.arange(equal_keys)) % n] = 1 / equal_keys
    fig, ax = plt.subplots(figsize=(3, 8))
    attnfig.lines(weights, ax=ax)
    assert not ax.collections and len(ax.images) == 1
    (path,) = attnfig.save(fig, tmp_path / "lines.png")
    drawn = ax.images[0].get_array()
    assert drawn.shape[-1] == 4 and drawn[..., 3].max() > 0.2


def views_of(weights, tokens):
    return {
        "model_view lines": lambda: attnfig.model_view(weights, tokens),
        "model_view heatmap": lambda: attnfig.model_view(weights, tokens, kind="heatmap"),
        "head_view": lambda: attnfig.head_view(weights[:1, :4], tokens),
        "heatmap": lambda: attnfig.heatmap(weights, tokens).figure,
    }


@pytest.mark.parametrize("view", list(views_of(None, None)))
def test_png_and_pdf_show_the_same_pixels(view, tmp_path):
    from attnfig.testing import png_pdf_disagreement

    n = 160
    # One-letter tokens: thinned labels read "<position> w", as much text as "w<position>" had,
    # so the text (which PNG and PDF antialias differently) does not swamp the drawing.
    weights, tokens = random_attention(2, 12, n, seed=3), ["w"] * n
    with attnfig.style("neurips"), mpl.rc_context({"savefig.dpi": 288}):
        fig = views_of(weights, tokens)[view]()
        png, pdf = attnfig.save(fig, tmp_path / "view", formats=["png", "pdf"])
        assert png_pdf_disagreement(png, pdf, 288) < 0.02


def test_embedded_thumbnail_image_holds_the_pngs_pixels(tmp_path):
    import re

    import pypdf
    from PIL import Image

    with attnfig.style("neurips"):
        fig = attnfig.model_view(random_attention(2, 4, 160))
        png_path, pdf_path = attnfig.save(fig, tmp_path / "grid", formats=["png", "pdf"])
        dpi = mpl.rcParams["savefig.dpi"]
    png = np.asarray(Image.open(png_path).convert("RGB"), dtype=int)
    page = pypdf.PdfReader(pdf_path).pages[0]
    (embedded,) = page.images
    image = np.asarray(embedded.image.convert("RGB"), dtype=int)
    content = page.get_contents().get_data().decode("latin-1")
    (placement,) = re.findall(r"([\d.]+) 0 0 ([\d.]+) ([\d.]+) ([\d.]+) cm\s+/\w+ Do", content)
    width_pt, height_pt, x_pt, y_pt = map(float, placement)
    left, top = round(x_pt * dpi / 72), png.shape[0] - round((y_pt + height_pt) * dpi / 72)
    assert image.shape[1] == round(width_pt * dpi / 72)  # embedded at savefig.dpi
    region = png[top: top + image.shape[0], left: left + image.shape[1]]
    assert (np.abs(region - image) > 8).mean() == 0.0


def test_span_labels_exactly_its_tokens_with_original_positions(tmp_path):
    n = 300
    weights, tokens = random_attention(2, 3, n, seed=5), [f"w{i}" for i in range(n)]
    expected = [f"{i} w{i}" for i in range(120, 150)]
    fig = attnfig.head_view(weights, tokens, span=(120, 150))
    attnfig.save(fig, tmp_path / "head_view.png")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == expected
    assert [t.get_text() for t in ax.child_axes[0].get_yticklabels()] == expected
    fig, ax = plt.subplots(figsize=(6, 6), layout="constrained")
    attnfig.heatmap(weights, tokens, span=(120, 140), ax=ax)
    attnfig.save(fig, tmp_path / "heatmap.png")
    assert [t.get_text() for t in ax.get_yticklabels()] == expected[:20]
    assert [t.get_text() for t in ax.get_xticklabels()] == expected[:20]
    np.testing.assert_array_equal(ax.images[0].get_array(), weights[0, 0, 120:140, 120:140])


def test_span_says_how_much_attention_goes_outside_it():
    weights = np.zeros((1, 1, 10, 10), dtype=np.float32)
    weights[0, 0, :, 0] = 0.25  # every query gives a quarter to token 0
    weights[0, 0, np.arange(10), np.arange(10)] += 0.75
    weights[0, 0, 0, 0] = 1.0
    ax = attnfig.lines(weights, span=(2, 6))
    assert "25% of their attention goes outside the span" in ax.get_title()
    plt.figure()
    assert attnfig.lines(weights, span=(0, 10)).get_title() == ""  # nothing outside: nothing said
    fig = attnfig.model_view(weights, span=(2, 6))
    assert "Tokens 2-5: 25%" in fig.get_supxlabel()
    ax = attnfig.heatmap(weights, span=(5, 10), cbar=False)
    assert ax.get_title().endswith("25% of their attention goes outside the span")


def test_span_keeps_focus_and_highlight_in_original_positions_and_rejects_bad_spans():
    weights = random_attention(1, 2, 12)
    ax = attnfig.lines(weights, span=(4, 9), focus=6, highlight=[8])
    assert [t.get_fontweight() for t in ax.get_yticklabels()][2] == "bold"
    with pytest.raises(attnfig.AttentionInputError, match="`focus` must be a query inside `span`"):
        attnfig.lines(weights, span=(4, 9), focus=2)
    for bad in [(5, 5), (0, 13), (3,), "0:4", (1.5, 4)]:
        with pytest.raises(attnfig.AttentionInputError, match="`span` must be a pair"):
            attnfig.heatmap(weights, span=bad)
