"""sphinx-gallery image scraper for attnfig figures: pyplot's figures, and any Figure a script
holds that pyplot does not manage, each saved through `attnfig.save` (keeping its style)."""
from __future__ import annotations

import sys
import weakref
from typing import Any

_scraped: weakref.WeakSet = weakref.WeakSet()


def _held_figures(values: Any) -> list:
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    from attnfig._compat import root_figure

    found = []
    for value in values:
        figure = value if isinstance(value, Figure) else root_figure(value) if isinstance(value, Artist) else None
        if figure is not None and not any(figure is f for f in found):
            found.append(figure)
    return found


def attnfig_scraper(block: Any, block_vars: dict, gallery_conf: dict, **kwargs: Any) -> str:
    """Save every figure the block made or holds to the gallery's image paths; return their RST."""
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import figure_rst

    import attnfig

    figures = [plt.figure(n) for n in plt.get_fignums()]
    figures += _held_figures(block_vars["example_globals"].values())
    seed = sys.modules.get("_seed")  # gallery/_seed.py: the figures its publish() saw
    if seed is not None and hasattr(seed, "FIGURES"):
        figures += _held_figures(seed.FIGURES)
        seed.FIGURES.clear()
    paths = []
    for figure in dict.fromkeys(f for f in figures if f not in _scraped):
        path = next(block_vars["image_path_iterator"])
        attnfig.save(figure, path, dpi=110)
        _scraped.add(figure)
        paths.append(path)
    plt.close("all")
    return figure_rst(paths, gallery_conf["src_dir"])


def _get_sg_image_scraper():
    """sphinx-gallery's hook: ``"image_scrapers": ("_scraper",)`` names this module."""
    return attnfig_scraper
