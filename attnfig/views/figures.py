"""Where figure-level functions draw: a new pyplot figure, or the `figure=` given.

New figures are made by ``plt.figure`` (as seaborn's figure-level functions do), so inline
display, ``plt.show()``, ``plt.close()`` and sphinx-gallery see them; their layout settles
at draw time (`attnfig.views.layout`).
"""
from __future__ import annotations

import contextlib

from ..errors import ArgumentError
from ..themes import remember_style
from .layout import SettledConstrainedLayout, settle_layout


def target_figure(figure=None, *, figsize=None):
    """The Figure or SubFigure a figure-level function draws into.

    `figure` None makes a new pyplot figure of `figsize` with settled constrained layout;
    a Figure or SubFigure (``fig.subfigures(...)``) is used as it is (its size is its own).

    >>> import matplotlib.pyplot as plt
    >>> fig = target_figure(figsize=(2, 1)); fig in map(plt.figure, plt.get_fignums())
    True
    >>> target_figure("x")
    Traceback (most recent call last):
    ...
    attnfig.errors.ArgumentError: `figure` must be a matplotlib Figure or SubFigure to draw into (e.g. from ``plt.figure()`` or ``fig.subfigures(1, 2)``), or None for a new figure, but 'x' (str) was passed.
    """
    from matplotlib.figure import FigureBase

    if figure is None:
        import matplotlib.pyplot as plt

        figure = plt.figure(figsize=figsize, layout=SettledConstrainedLayout())
    elif not isinstance(figure, FigureBase):
        hint = " An Axes is not a figure: pass `ax.figure`, or use an axes-level function with `ax=`." if hasattr(
            figure, "plot") else ""
        raise ArgumentError(
            "`figure` must be a matplotlib Figure or SubFigure to draw into (e.g. from ``plt.figure()`` or "
            f"``fig.subfigures(1, 2)``), or None for a new figure, but {figure!r} ({type(figure).__name__}) was "
            f"passed.{hint}"
        )
    elif figsize is not None:
        raise ArgumentError("`figsize` sizes a new figure; a given `figure` keeps its own size: pass one of them.")
    else:
        settle_layout(figure)
    remember_style(figure)
    return figure


def figure_inches(figure) -> tuple[float, float]:
    """Width and height in inches of a Figure or SubFigure.

    >>> import matplotlib.figure
    >>> left, right = matplotlib.figure.Figure(figsize=(6, 3)).subfigures(1, 2)
    >>> figure_inches(right)
    (3.0, 3.0)
    """
    dpi = figure.get_figure(root=True).dpi
    return float(figure.bbox.width / dpi), float(figure.bbox.height / dpi)


@contextlib.contextmanager
def closing_new_figures():
    """Close, on the way out (error or not), the pyplot figures opened inside: the batch
    and command-line paths keep memory flat over thousands of figures."""
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        yield
    finally:
        for number in sorted(set(plt.get_fignums()) - before):
            plt.close(number)
