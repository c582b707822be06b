"""Small shims so attnfig runs on every matplotlib it declares (``matplotlib>=3.8``)."""
from __future__ import annotations

from typing import Any


def root_figure(artist: Any) -> Any:
    """The top-level Figure holding `artist` (itself when it is one), or None when it has none.

    matplotlib 3.10 spells this ``artist.get_figure(root=True)``; before 3.10 an artist in a
    subfigure reports the SubFigure, whose ``figure`` attribute is the root Figure.

    >>> import matplotlib.figure
    >>> figure = matplotlib.figure.Figure()
    >>> ax = figure.subfigures(1, 2)[1].subplots()
    >>> root_figure(ax) is figure, root_figure(figure) is figure
    (True, True)
    """
    from matplotlib.figure import Figure

    if isinstance(artist, Figure):
        return artist
    figure = getattr(artist, "figure", None)
    while figure is not None and not isinstance(figure, Figure):
        parent = getattr(figure, "figure", None)
        figure = None if parent is figure else parent
    return figure
