"""save(): reproducible bytes, TrueType fonts, text as text, atomic writes, clear errors."""
from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

import attnfig
from attnfig import SaveError

from conftest import random_attention

TOKENS = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]"]


def seed_figure():
    return attnfig.head_view(random_attention(2, 3, 6), TOKENS, layer=1)


@pytest.mark.parametrize("fmt", ["pdf", "svg"])
def test_same_figure_saved_twice_gives_identical_bytes(tmp_path, fmt):
    fig = seed_figure()
    first = attnfig.save(fig, tmp_path / f"a.{fmt}")[0].read_bytes()
    second = attnfig.save(fig, tmp_path / f"b.{fmt}")[0].read_bytes()
    assert first == second


@pytest.mark.parametrize("fmt", ["pdf", "svg", "png"])
def test_two_runs_of_the_same_script_give_identical_bytes(tmp_path, fmt):
    first = attnfig.save(seed_figure(), tmp_path / f"a.{fmt}")[0].read_bytes()
    second = attnfig.save(seed_figure(), tmp_path / f"b.{fmt}")[0].read_bytes()
    assert first == second


def test_several_formats_in_one_call(tmp_path):
    paths = attnfig.save(seed_figure(), tmp_path / "seed", formats=["pdf", "svg", "png"])
    assert [p.name for p in paths] == ["seed.pdf", "seed.svg", "seed.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert paths[2].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _font_subtypes(pdf_path):
    from pypdf import PdfReader

    subtypes = set()
    for page in PdfReader(pdf_path).pages:
        fonts = page["/Resources"].get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            subtypes.add(str(font["/Subtype"]))
            for descendant in font.get("/DescendantFonts", []):
                subtypes.add(str(descendant.get_object()["/Subtype"]))
    return subtypes


def test_pdf_fonts_are_truetype_not_type3(tmp_path):
    path = attnfig.save(seed_figure(), tmp_path / "seed.pdf")[0]
    subtypes = _font_subtypes(path)
    assert subtypes and "/Type3" not in subtypes
    assert subtypes <= {"/TrueType", "/Type0", "/CIDFontType2"}


def test_pdf_text_is_searchable(tmp_path):
    from pypdf import PdfReader

    path = attnfig.save(seed_figure(), tmp_path / "seed.pdf")[0]
    text = PdfReader(path).pages[0].extract_text()
    assert "rabbit" in text and "quickly" in text


def test_svg_parses_and_keeps_tokens_as_text(tmp_path):
    with attnfig.style("paper"):  # svg.fonttype, like all savefig settings, is read when saving
        path = attnfig.save(seed_figure(), tmp_path / "seed.svg")[0]
    root = ET.parse(path).getroot()
    texts = {"".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"rabbit", "quickly", "[CLS]"} <= texts


def test_svg_with_default_fonttype_draws_glyphs_as_paths(tmp_path):
    path = attnfig.save(seed_figure(), tmp_path / "seed.svg")[0]
    root = ET.parse(path).getroot()
    assert not list(root.iter("{http://www.w3.org/2000/svg}text"))


def test_pdf_renders_to_a_non_blank_image(tmp_path):
    import pypdfium2 as pdfium

    path = attnfig.save(seed_figure(), tmp_path / "seed.pdf")[0]
    page = pdfium.PdfDocument(str(path))[0]
    pixels = np.asarray(page.render(scale=1).to_pil().convert("L"))
    assert pixels.min() < 100 and pixels.max() > 200  # dark text and lines on a light page
    assert (pixels < 250).mean() > 0.01


def test_dense_grids_are_rasterized_and_small(tmp_path):
    fig = attnfig.model_view(random_attention(12, 12, 512), kind="heatmap")
    path = attnfig.save(fig, tmp_path / "grid.pdf")[0]
    assert path.stat().st_size < 5e6
    assert "rabbit" not in path.read_bytes().decode("latin-1")  # sanity: no tokens were passed


def test_a_failed_save_leaves_the_earlier_file_and_no_temporary(tmp_path, monkeypatch):
    fig = seed_figure()
    path = attnfig.save(fig, tmp_path / "seed.pdf")[0]
    good = path.read_bytes()

    def broken_savefig(target, **kwargs):
        with open(target, "wb") as handle:
            handle.write(b"%PDF-1.4 half a file")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken_savefig)
    with pytest.raises(SaveError, match=r"seed.pdf.*RuntimeError: disk full.*earlier file is untouched"):
        attnfig.save(fig, path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.pdf"]


def test_an_interrupted_save_leaves_no_temporary(tmp_path, monkeypatch):
    fig = seed_figure()

    def interrupted(target, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(fig, "savefig", interrupted)
    with pytest.raises(KeyboardInterrupt):
        attnfig.save(fig, tmp_path / "seed.pdf")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "target, kwargs, message",
    [
        ("seed.jpeg", {}, r"'jpeg' is not supported; supported formats are \['pdf', 'svg', 'png'\]"),
        ("seed", {}, r"add an extension or pass `formats=`"),
        ("seed", {"formats": ["pdf", "tiff"]}, r"seed.tiff.*'tiff' is not supported"),
        ("missing/seed.pdf", {}, r"the folder '.*missing' does not exist; create it first"),
    ],
)
def test_save_errors_name_the_path_and_the_fix(tmp_path, target, kwargs, message):
    with pytest.raises(SaveError, match=message):
        attnfig.save(seed_figure(), tmp_path / target, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_location_is_a_save_error():
    with pytest.raises(SaveError, match=r"Cannot save '/proc/attnfig-test.pdf'"):
        attnfig.save(seed_figure(), "/proc/attnfig-test.pdf")


def test_save_error_is_an_os_error():
    assert issubclass(SaveError, OSError)


def test_plotting_numpy_arrays_never_imports_torch(tmp_path):
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, attnfig\n"
        "w = np.full((2, 2, 3, 3), 1 / 3)\n"
        "attnfig.save(attnfig.head_view(w, ['a', 'b', 'c']), sys.argv[1])\n"
        "attnfig.save(attnfig.model_view(w, kind='heatmap'), sys.argv[1])\n"
        "attnfig.plot_head_entropy(w)\n"
        "print(sorted(m for m in ('torch', 'transformers') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "fig.pdf")], capture_output=True,
                            text=True, check=True)
    assert result.stdout.strip() == "[]"
