"""Themes: the `.mplstyle` files of ``styles/``, used the matplotlib way.

``import attnfig`` registers each file as ``attnfig.<name>`` in matplotlib's style library,
so ``plt.style.use("attnfig.paper")`` and ``plt.style.use(["attnfig.neurips",
"attnfig.dark"])`` work; ``plt.style.use("attnfig.styles.paper")`` works even without the
import, through matplotlib's own package-style lookup.
"""
from __future__ import annotations

import contextlib
import os
from importlib import resources
import numbers
from typing import TYPE_CHECKING

import matplotlib as mpl
import matplotlib.pyplot as plt

from ._compat import root_figure
from .errors import ArgumentError, StyleNotFoundError, one_of_message
from .venues import GOLDEN_RATIO, VENUES

if TYPE_CHECKING:
    from importlib.abc import Traversable

PREFIX = "attnfig."


def _style_files() -> dict[str, Traversable]:
    folder = resources.files("attnfig.styles")
    return {
        entry.name.removesuffix(".mplstyle"): entry
        for entry in folder.iterdir()
        if entry.name.endswith(".mplstyle")
    }


def register() -> None:
    """Add every attnfig style to ``matplotlib.style.library`` as ``attnfig.<name>``.

    Called at import; call it again after ``plt.style.reload_library()``.
    """
    for name, path in _style_files().items():
        with resources.as_file(path) as file:
            plt.style.library[PREFIX + name] = mpl.rc_params_from_file(file, use_default_template=False)
    plt.style.available[:] = sorted(set(plt.style.available) | {PREFIX + n for n in _style_files()})


def available_styles() -> list[str]:
    """Names of the attnfig styles, without the ``attnfig.`` prefix.

    Returns
    -------
    list of str
        The style names, sorted; each works in `style` and, prefixed with ``attnfig.``, in
        `matplotlib.pyplot.style.use`.

    Examples
    --------
    >>> "paper" in available_styles()
    True
    """
    return sorted(_style_files())


def describe_styles() -> dict[str, str]:
    """One line per style: the comment that opens its file."""
    descriptions = {}
    for name, path in sorted(_style_files().items()):
        first = path.read_text(encoding="utf-8").splitlines()[0]
        descriptions[name] = first.lstrip("# ").split(": ", 1)[-1]
    return descriptions


def resolve_style(name: str) -> str:
    """The matplotlib name of an attnfig style (``"dark"`` -> ``"attnfig.dark"``).

    Names of matplotlib's own styles pass through; anything else raises
    `StyleNotFoundError` listing what is available.
    """
    if not isinstance(name, (str, dict, os.PathLike)):
        raise ArgumentError(
            f"A style is a name (attnfig's: {available_styles()}, or matplotlib's), a path to a .mplstyle file "
            f"or a dict of rcParams, but {name!r} ({type(name).__name__}) was passed."
        )
    if not isinstance(name, str):
        return name  # a dict or a path: matplotlib validates it
    short = name.removeprefix(PREFIX)
    if short in _style_files():
        if PREFIX + short not in plt.style.library:
            register()
        return PREFIX + short
    if name in plt.style.library or name in ("default", "classic", "mpl20", "mpl15"):
        return name
    raise StyleNotFoundError(
        f"Unknown style {name!r}. attnfig styles: {available_styles()}; "
        f"matplotlib styles: {sorted(n for n in plt.style.available if not n.startswith(PREFIX))}."
    )


def style(*names: str) -> contextlib.AbstractContextManager[None]:
    """Context manager applying attnfig (or matplotlib) styles, composed left to right.

    Parameters
    ----------
    *names : str
        attnfig style names (`available_styles`), matplotlib style names or paths to
        ``.mplstyle`` files; later ones override earlier ones.

    Returns
    -------
    contextlib.AbstractContextManager
        Applies the styles' rcParams inside the ``with`` block, restores them after it.

    Raises
    ------
    StyleNotFoundError
        For a name that is no style, with the names that are.
    ArgumentError
        For something that is neither a name, a path nor a dict of rcParams.

    Examples
    --------
    >>> import attnfig
    >>> with attnfig.style("neurips", "dark"):
    ...     pass
    """
    return plt.style.context([resolve_style(n) for n in names])


# What a figure carries from the style it was drawn under to every later save: fonts are
# looked up by family at draw time, and the output options are read at save time.
CARRIED_PREFIXES = ("font.", "mathtext.", "text.", "pdf.", "ps.", "svg.", "savefig.")
CARRIED_KEYS = ("axes.unicode_minus",)


def carried_rcparams() -> dict:
    """The active rcParams a figure keeps for its saves (fonts, text, output formats).

    >>> carried_rcparams()["pdf.fonttype"] in (3, 42)
    True
    """
    return {key: value for key, value in mpl.rcParams.items()
            if key.startswith(CARRIED_PREFIXES) or key in CARRIED_KEYS}


def remember_style(figure) -> None:
    """Record the active style on `figure` (once: the first attnfig drawing on it wins).

    `attnfig.save` writes the figure under these rcParams, wherever and whenever it is
    called, so a figure made in ``with attnfig.style("neurips"):`` keeps its fonts.
    """
    figure = root_figure(figure) or figure
    if getattr(figure, "_attnfig_rcparams", None) is None:
        figure._attnfig_rcparams = carried_rcparams()


def figure_style(figure) -> dict:
    """The rcParams `remember_style` recorded on `figure` (empty when none was)."""
    return dict(getattr(figure, "_attnfig_rcparams", None) or {})


def display_mode_style(display_mode: str | None):
    """Context for BertViz's ``display_mode``: "light", "dark", or None for the active style."""
    modes = ("light", "dark")
    if display_mode is None:
        return contextlib.nullcontext()
    if display_mode not in modes:
        raise StyleNotFoundError(one_of_message("display_mode", modes + (None,), display_mode))
    return style(display_mode)


def figsize(venue: str, columns: int = 1, *, nrows: int = 1, ncols: int = 1, rel_width: float = 1.0,
            aspect: float | None = None) -> tuple[float, float]:
    """Figure size in inches for a venue (`attnfig.venues.VENUES`), as tueplots' ``figsizes``.

    Parameters
    ----------
    venue : str
        "acl", "iclr", "icml" or "neurips".
    columns : {1, 2}
        One column, or the full text width (the same for one-column venues).
    nrows, ncols : int
        The subplot grid the figure will hold: each cell keeps `aspect`.
    rel_width : float
        The share of the width to use (0.5: half a column).
    aspect : float, optional
        Width / height of one cell (the golden ratio by default).

    Returns
    -------
    tuple of float
        ``(width, height)`` in inches, to 3 decimals.

    Raises
    ------
    StyleNotFoundError
        For an unknown venue.
    ArgumentError
        For `columns` not 1 or 2, or a non-positive grid, width share or aspect.

    Examples
    --------
    >>> figsize("icml", columns=2, aspect=3)
    (6.75, 2.25)
    >>> figsize("icml", nrows=2, ncols=3, rel_width=0.5)
    (1.625, 0.67)
    """
    if not isinstance(venue, str) or venue not in VENUES:
        raise StyleNotFoundError(one_of_message("venue", sorted(VENUES), venue))
    if columns not in (1, 2):
        raise ArgumentError(one_of_message("columns", [1, 2], columns))
    for name, value in (("nrows", nrows), ("ncols", ncols)):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ArgumentError(f"`{name}` must be a positive integer (subplots in the grid), but {value!r} was passed.")
    for name, number in (("rel_width", rel_width), ("aspect", GOLDEN_RATIO if aspect is None else aspect)):
        if isinstance(number, bool) or not isinstance(number, numbers.Real) or not number > 0:
            raise ArgumentError(f"`{name}` must be a positive number, but {number!r} was passed.")
    width = VENUES[venue].width(columns) * rel_width
    height = width / ncols * nrows / (aspect or GOLDEN_RATIO)
    return (round(width, 3), round(height, 3))
