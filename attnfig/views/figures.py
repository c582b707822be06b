"""Where figure-level functions draw: a new pyplot figure, or the `figure=` given.

New figures are made by ``plt.figure`` (as seaborn's figure-level functions do), so inline
display, ``plt.show()``, ``plt.close()`` and sphinx-gallery see them; their layout settles
at draw time (`attnfig.views.layout`).
"""
from __future__ import annotations

import contextlib

import matplotlib as mpl
from matplotlib.figure import Figure

from .._compat import root_figure
from ..errors import ArgumentError
from ..themes import remember_style
from .layout import SettledConstrainedLayout, settle_layout


class NotebookFigure(Figure):
    """A Figure that a notebook shows exactly once.

    Inline display shows every open pyplot figure at the end of a cell, and IPython shows a
    Figure that is a cell's last expression once more. Here both go through
    `_ipython_display_`: with the inline backend the figure is shown as a PNG and leaves
    pyplot (as inline display closes it at the cell's end anyway), so it is shown once,
    whether it was the last expression, assigned, or passed to ``plt.show()``. With a
    window backend the window shows it, and the cell's result is its text.
    """

    def _ipython_display_(self) -> None:
        from IPython.display import publish_display_data

        data = {"text/plain": repr(self)}
        if "inline" in mpl.get_backend():
            from IPython.core.pylabtools import print_figure
            from matplotlib._pylab_helpers import Gcf

            data["image/png"] = print_figure(self, "png", bbox_inches="tight")
            for manager in Gcf.get_all_fig_managers():
                if manager.canvas.figure is self:
                    Gcf.destroy(manager)
        publish_display_data(data)


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

        figure = plt.figure(figsize=figsize, layout=SettledConstrainedLayout(), FigureClass=NotebookFigure)
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
    dpi = root_figure(figure).dpi
    return float(figure.bbox.width / dpi), float(figure.bbox.height / dpi)


def axes_inches(ax) -> tuple[float, float]:
    """Width and height in inches of the Axes `ax` as placed now, on its Figure or SubFigure.

    The one measure of an Axes' size: `attnfig.views.labels.axis_points` gives an axis's length
    in points from it. A fixed aspect is applied first, as drawing applies it.

    >>> import matplotlib.figure
    >>> left, right = matplotlib.figure.Figure(figsize=(6, 3)).subfigures(1, 2)
    >>> axes_inches(right.add_axes((0.0, 0.5, 0.5, 0.5)))
    (1.5, 1.5)
    """
    x0, y0, x1, y1 = axes_box_inches(ax)
    return x1 - x0, y1 - y0


def axes_box_inches(ax) -> tuple[float, float, float, float]:
    """Left, bottom, right and top of the Axes `ax` as placed now, in inches from the lower left
    corner of its Figure or SubFigure (`axes_inches` gives its size).

    >>> import matplotlib.figure
    >>> axes_box_inches(matplotlib.figure.Figure(figsize=(6, 3)).add_axes((0.5, 0.0, 0.25, 0.5)))
    (3.0, 0.0, 4.5, 1.5)
    """
    box = ax.get_position()
    width, height = figure_inches(ax.figure)
    return float(box.x0 * width), float(box.y0 * height), float(box.x1 * width), float(box.y1 * height)


def grid_share_inches(ax) -> float:
    """The width in inches of the grid columns the Axes `ax` spans, its share of its Figure or
    SubFigure (its tick labels and legend included), before layout has placed it; an Axes not on
    a grid: its own width.

    >>> import matplotlib.figure
    >>> axes = matplotlib.figure.Figure(figsize=(6, 3)).subplots(1, 3)
    >>> grid_share_inches(axes[1])
    2.0
    """
    spec = ax.get_subplotspec()
    if spec is None:
        return axes_inches(ax)[0]
    return figure_inches(ax.figure)[0] * len(spec.colspan) / spec.get_gridspec().ncols


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
