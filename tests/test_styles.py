"""Themes: .mplstyle files used the matplotlib way, composable, venue sizes, display modes."""
from __future__ import annotations

import subprocess
import sys
import zipfile

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pytest

import attnfig
from attnfig.venues import STYLES_FOLDER, VENUES, generated_sheets

from conftest import random_attention

REQUIRED = {"paper", "neurips", "icml", "iclr", "acl", "poster", "slides", "dark", "colorblind"}


def test_available_styles_lists_every_required_theme():
    assert REQUIRED <= set(attnfig.available_styles())
    assert {f"attnfig.{name}" for name in REQUIRED} <= set(plt.style.available)


@pytest.mark.parametrize("name", sorted(set(attnfig.available_styles()) - {"usetex"}))
def test_every_style_loads_and_renders_without_tex(name, tmp_path):
    plt.style.use(f"attnfig.{name}")
    assert not mpl.rcParams["text.usetex"]
    fig = attnfig.heatmap(random_attention(1, 1, 5), ["[CLS]", "a", "b", "c", "[SEP]"]).figure
    fig.savefig(tmp_path / "out.png")
    assert (tmp_path / "out.png").stat().st_size > 1000


def test_paper_style_embeds_truetype_and_keeps_svg_text():
    plt.style.use("attnfig.paper")
    assert mpl.rcParams["pdf.fonttype"] == 42 and mpl.rcParams["svg.fonttype"] == "none"
    assert mpl.rcParams["font.family"] == ["serif"]


@pytest.mark.parametrize("venue", sorted(VENUES))
def test_venue_styles_are_one_column_wide(venue):
    plt.style.use(f"attnfig.{venue}")
    assert mpl.rcParams["figure.figsize"][0] == pytest.approx(VENUES[venue].width(1), abs=0.01)
    assert attnfig.figsize(venue)[0] == pytest.approx(VENUES[venue].width(1), abs=0.01)


@pytest.mark.parametrize("name", sorted(generated_sheets()))
def test_each_paper_sheet_is_what_the_venue_table_gives(name):
    """Edit attnfig/venues.py and run `python -m attnfig.venues`, never a sheet by hand."""
    on_disk = (STYLES_FOLDER / f"{name}.mplstyle").read_text(encoding="utf-8")
    assert on_disk == generated_sheets()[name]


@pytest.mark.parametrize("name", sorted(VENUES))
def test_each_venue_sheet_sets_the_table_facts(name):
    venue = VENUES[name]
    with attnfig.style(name):
        assert mpl.rcParams["figure.figsize"][0] == pytest.approx(venue.width(1), abs=0.005)
        assert (mpl.rcParams["font.size"], mpl.rcParams["axes.labelsize"]) == (venue.font_size, venue.font_size)
        assert (mpl.rcParams["xtick.labelsize"], mpl.rcParams["legend.fontsize"]) == (venue.small_size, venue.small_size)
        assert mpl.rcParams["font.serif"] == list(venue.serif)
    assert VENUES["acl"].width(2) == pytest.approx(16.0 / 2.54)  # the template's centimetres, in inches


def test_neurips_and_iclr_differ_only_in_their_comments():
    sheets = generated_sheets()
    settings = {name: [line for line in sheets[name].splitlines() if not line.startswith("#")] for name in sheets}
    assert settings["neurips"] == settings["iclr"]
    shared = set(settings["neurips"]) & set(settings["icml"]) & set(settings["acl"]) & set(settings["paper"])
    assert "pdf.fonttype: 42" in shared and len(shared) >= 12  # written once, in attnfig/venues.py


def test_venue_font_sizes_follow_the_templates():
    plt.style.use("attnfig.neurips")
    assert (mpl.rcParams["font.size"], mpl.rcParams["xtick.labelsize"]) == (9, 7)
    plt.style.use("attnfig.icml")
    assert mpl.rcParams["font.size"] == 8


def test_figsize_for_two_columns_and_aspect():
    assert attnfig.figsize("icml", columns=2, aspect=2) == (6.75, 3.375)
    assert attnfig.figsize("icml", 2, aspect=2) == (6.75, 3.375)
    assert attnfig.figsize("acl", columns=2)[0] == pytest.approx(16.0 / 2.54, abs=1e-3)


def test_figsize_for_a_grid_and_a_share_of_the_width():
    """As tueplots: each of the nrows x ncols cells keeps the aspect, in rel_width of the column."""
    golden = (1 + 5 ** 0.5) / 2
    assert attnfig.figsize("neurips", nrows=2, ncols=3) == (5.5, round(5.5 / 3 * 2 / golden, 3))
    assert attnfig.figsize("icml", columns=2, rel_width=0.5, aspect=1) == (3.375, 3.375)
    assert attnfig.figsize("acl", nrows=3, ncols=1, aspect=2) == (round(7.7 / 2.54, 3), round(7.7 / 2.54 * 1.5, 3))


@pytest.mark.parametrize("keywords, message", [
    ({"columns": 3}, "`columns` must be one of"),
    ({"nrows": 0}, "`nrows` must be a positive integer"),
    ({"ncols": 1.5}, "`ncols` must be a positive integer"),
    ({"rel_width": -1}, "`rel_width` must be a positive number"),
    ({"aspect": 0}, "`aspect` must be a positive number"),
])
def test_figsize_names_a_bad_argument(keywords, message):
    with pytest.raises(attnfig.ArgumentError, match=message):
        attnfig.figsize("icml", **keywords)
    with pytest.raises(attnfig.StyleNotFoundError, match=r"`venue` must be one of \['acl', 'iclr', 'icml', 'neurips'\]"):
        attnfig.figsize("cvpr")


def test_styles_compose_like_matplotlib_styles():
    plt.style.use(["attnfig.neurips", "attnfig.dark"])
    assert mpl.rcParams["figure.figsize"] == [5.5, 3.4]
    assert mpl.rcParams["figure.facecolor"] == "black"


def test_style_context_manager_restores_rcparams():
    before = dict(mpl.rcParams)
    with attnfig.style("acl", "colorblind"):
        assert mpl.rcParams["image.cmap"] == "cividis"
        assert mpl.rcParams["figure.figsize"][0] == pytest.approx(3.03)
    assert mpl.rcParams["image.cmap"] == before["image.cmap"]


def test_unknown_style_names_the_available_ones():
    with pytest.raises(attnfig.StyleNotFoundError, match=r"Unknown style 'nature'.*attnfig styles: \['acl', 'colorblind'"):
        with attnfig.style("nature"):
            pass


def test_colorblind_palette_is_okabe_ito_and_reaches_the_lines():
    with attnfig.style("colorblind"):
        ax = attnfig.lines(random_attention(1, 2, 4), min_weight=0)
    first_head = ax.collections[0].get_colors()[0, :3]
    assert np.allclose(first_head, mpl.colors.to_rgb("#E69F00"))


def test_a_style_changes_every_view():
    with attnfig.style("poster"):
        fig = attnfig.model_view(random_attention(2, 2, 4), kind="heatmap")
        label = fig.axes[0].get_xticklabels()[0]
    assert label.get_fontsize() == 18
    assert fig.get_figwidth() == 10


def test_packaged_style_name_works_without_importing_attnfig():
    code = "import matplotlib.pyplot as plt; plt.style.use('attnfig.styles.paper'); print(plt.rcParams['font.size'])"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "8.0"


@pytest.mark.slow
def test_wheel_ships_the_styles(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(root)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("attnfig-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for style in REQUIRED:
        assert f"attnfig/styles/{style}.mplstyle" in names


def test_dark_composes_with_the_colorblind_palette_in_either_order():
    """`style("colorblind", "dark")` replaced Okabe-Ito with tab10: the dark sheet set the cycle (sixth review)."""
    from matplotlib.colors import to_hex

    from attnfig.views.colors import head_colors

    with attnfig.style("colorblind"):
        colorblind = [to_hex(c) for c in head_colors(range(8))]
    for names in (("colorblind", "dark"), ("dark", "colorblind")):
        with attnfig.style(*names):
            assert [to_hex(c) for c in head_colors(range(8))] == colorblind
    with attnfig.style("dark"):
        assert to_hex(head_colors([0])[0]) == "#1f77b4"  # alone, matplotlib's tab10 (BertViz's colors)
