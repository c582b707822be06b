"""The reviewer's rejects of the encoder-decoder grid, the image grid, image PDFs and the CLI
sizes: each test failed before its fix."""
from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest

import attnfig
from attnfig.lint import drawn_text, figure_problems

from conftest import SEED_PAIR, SEED_TEXT

VENUES = [("icml",), ("acl",), ("neurips",), ("icml", "dark")]


@pytest.fixture(scope="module")
def bart_result(tiny_models):
    return attnfig.from_model(*tiny_models["bart"], SEED_TEXT, decoder_text=SEED_PAIR)


# --- encoder-decoder model_view: the default size fits its content -------------------------------

@pytest.mark.parametrize(("styles", "kind"), [(styles, "lines") for styles in VENUES] + [(("acl",), "heatmap")],
                         ids=lambda value: "-".join(value) if isinstance(value, tuple) else value)
def test_encoder_decoder_model_view_default_size_is_readable(bart_result, styles, kind):
    r = bart_result
    with attnfig.style(*styles), warnings.catch_warnings():
        warnings.simplefilter("error")  # "constrained_layout not applied because axes sizes collapsed"
        fig = attnfig.model_view(encoder_attention=r.encoder, decoder_attention=r.decoder, cross_attention=r.cross,
                                 encoder_tokens=r.encoder.tokens, decoder_tokens=r.decoder.tokens, kind=kind)
        fig.canvas.draw()
        grids = [ax for ax in fig.axes if ax.get_title()]
        assert [ax.get_title() for ax in grids] == ["Encoder", "Decoder", "Cross"]
        for ax in grids:
            box = ax.get_window_extent()
            # 2 layers x 4 heads: a thumbnail at least 0.1 in high, not a 1-px strip
            assert box.height / fig.dpi / 2 > 0.1, box
        assert figure_problems(fig) == []  # "ayer", "0" on "1"
    plt.close(fig)


# --- image_attention_grid: the colorbar label fits, a given figure is filled ------------------------

def _six_heads():
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(17), size=(1, 6, 17))  # [CLS] and 4 x 4 patches
    return weights, rng.random((32, 32, 3))


@pytest.mark.parametrize("styles", VENUES, ids="-".join)
def test_image_grid_colorbar_label_stays_in_the_figure(styles):
    weights, picture = _six_heads()
    with attnfig.style(*styles):
        fig = attnfig.image_attention_grid(weights, picture, grid=(4, 4), ncols=6)
        assert figure_problems(fig) == []  # acl: "ttention weight"
        assert "attention weight" in drawn_text(fig)
    plt.close(fig)


def test_image_grid_without_ncols_fills_a_given_figure():
    weights, picture = _six_heads()
    with attnfig.style("neurips"):
        fig = attnfig.image_attention_grid(weights, picture, grid=(4, 4), figsize=attnfig.figsize("neurips"))
        fig.canvas.draw()
        panels = [ax for ax in fig.axes if ax.images]
        boxes = [ax.get_window_extent() for ax in panels]
        assert len({round(box.y0) for box in boxes}) == 2  # 2 rows of 3, not 1 row of 6
        used = (max(box.y1 for box in boxes) - min(box.y0 for box in boxes)) / fig.bbox.height
        assert used > 0.6, used  # was a third
    plt.close(fig)


# --- image figures: the PDF shows what the PNG shows ---------------------------------------------

def _png_and_pdf(fig, dpi=100):
    import io

    import pypdfium2 as pdfium
    from PIL import Image

    png, pdf = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=dpi)  # plain savefig, no attnfig style
    fig.savefig(pdf, format="pdf", dpi=dpi)
    raster = Image.open(png).convert("RGB")
    page = pdfium.PdfDocument(pdf.getvalue())[0].render(scale=dpi / 72).to_pil().convert("RGB").resize(raster.size)
    return np.asarray(raster, float), np.asarray(page, float)


@pytest.mark.parametrize("panels", [1, 2])
def test_image_attention_pdf_matches_its_png(panels):
    from matplotlib.figure import Figure

    weights = np.random.default_rng(0).dirichlet(np.full(17, 0.3), size=(1, 2, 17))
    y, x = np.mgrid[0:48, 0:48] / 47
    picture = np.stack([x, y, 1 - x * y], -1)  # smooth, so resampling alone changes little
    fig = Figure(figsize=(2 * panels, 2))
    axes = np.atleast_1d(fig.subplots(1, panels))
    for head, ax in enumerate(axes):
        attnfig.plot_image_attention(weights, picture, grid=(4, 4), head=head, ax=ax)
    png, pdf = _png_and_pdf(fig)
    for ax in axes:  # inside each image, 3 px clear of its frame
        box = ax.get_window_extent()
        rows = slice(int(fig.bbox.height - box.y1) + 3, int(fig.bbox.height - box.y0) - 3)
        columns = slice(int(box.x0) + 3, int(box.x1) - 3)
        # Composited for vector output, photo and map came out 15-24/255 off on average.
        difference = float(np.abs(png[rows, columns] - pdf[rows, columns]).mean())
        assert difference < 3, difference


# --- the command line: flag names in errors, sizes exactly attnfig.figsize ----------------------------

def test_cli_out_of_range_head_error_names_the_head_flag(tiny_model_folders, tmp_path, capsys):
    from attnfig.cli import main

    code = main(["plot", "--model", str(tiny_model_folders["bert"]), "--text", SEED_TEXT, "--view", "heatmap",
                 "--head", "20", "--out", str(tmp_path / "h.png")])
    error = capsys.readouterr().err
    assert code == 2 and "--head 20 is not a head of this model" in error and "--heads" not in error
    assert not (tmp_path / "h.png").exists()


@pytest.mark.parametrize(("venue", "columns"), [("acl", 1), ("acl", 2)])
def test_cli_venue_size_is_attnfig_figsize(tiny_model_folders, tmp_path, venue, columns):
    from PIL import Image

    from attnfig.cli import main

    out = tmp_path / "h.png"
    assert main(["plot", "--model", str(tiny_model_folders["bert"]), "--text", SEED_TEXT, "--view", "heatmap",
                 "--venue", venue, "--columns", str(columns), "--out", str(out)]) == 0
    width, height = attnfig.figsize(venue, columns=columns)
    with attnfig.style(venue):
        dpi = plt.rcParams["savefig.dpi"]
    assert Image.open(out).size == (round(width * dpi), round(height * dpi))  # acl was 909 x 561, not 562
