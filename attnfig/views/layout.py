"""Layout that settles at draw time, whatever draws the figure.

Token labels are sized at draw time from the length of their axis (`attnfig.views.labels`),
and the layout engine sizes the axes from the labels: one pass of matplotlib's engine
leaves labels measured for the axes as they were before it moved them. The engines here
run to a settled state inside every draw (so ``fig.savefig``, ``plt.show()``, inline
display and ``bbox_inches="tight"`` all get it), always starting from the same state, so
the picture does not depend on how often, or by what, the figure was drawn before.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine

from .._compat import root_figure

# Constrained layout with labels sized by their axes needs a few passes to settle.
LAYOUT_PASSES = 3
PADDING_RETRIES = 3  # constrained layout's padding grows by the overflow at most this often
SETTLED_FRACTION = 1e-5  # Axes moving less than this share of the figure have settled
CANVAS_TOLERANCE_INCHES = 0.5 / 72  # half a point: anti-aliasing, not clipping


def _laid_out_axes(figure):
    """Every Axes the layout engine places (the root figure's list holds its subfigures' too)."""
    return [ax for ax in root_figure(figure).axes
            if ax.get_subplotspec() is not None or hasattr(ax, "_colorbar_info")]


def _restart(figure) -> None:
    """Put the laid-out Axes back where the first layout found them (the same start at every draw)."""
    for ax in _laid_out_axes(figure):
        start = getattr(ax, "_attnfig_layout_start", None)
        if start is None:
            ax._attnfig_layout_start = ax.get_position(original=True).frozen()
        else:
            ax._set_position(start, which="both")


def _positions(figure) -> list:
    return [tuple(ax.get_position(original=True).bounds) for ax in _laid_out_axes(figure)]


def _passes(figure, execute) -> None:
    """Up to `LAYOUT_PASSES` runs of `execute`, fewer when the Axes stop moving."""
    before = _positions(figure)
    for _ in range(LAYOUT_PASSES):
        execute(figure)
        after = _positions(figure)
        if len(after) == len(before) and np.allclose(after, before, rtol=0, atol=SETTLED_FRACTION):
            return
        before = after


def overflow_inches(figure) -> tuple[float, float, float, float]:
    """How far the drawing reaches past the left, bottom, right and top edges (<= 0: inside)."""
    extent = figure.get_tightbbox(figure._get_renderer())
    width, height = figure.get_size_inches()
    return (-extent.x0, -extent.y0, extent.x1 - width, extent.y1 - height)


class SettledConstrainedLayout(ConstrainedLayoutEngine):
    """matplotlib's constrained layout, run until token labels and Axes agree.

    Each execution starts from the Axes' first positions, runs `LAYOUT_PASSES` passes,
    and, when text still reaches past the canvas (a colorbar label, a wide legend), grows
    the padding by the overflow and runs again (the engine's own settings are unchanged).
    """

    _params: dict[str, Any]  # matplotlib's engine settings: private, not in its stubs

    def execute(self, fig):
        _restart(fig)
        settings = dict(self._params)
        try:
            for retry in range(PADDING_RETRIES + 1):
                _passes(fig, super().execute)
                left, bottom, right, top = overflow_inches(fig)
                if max(left, bottom, right, top) <= CANVAS_TOLERANCE_INCHES or retry == PADDING_RETRIES:
                    break
                self._params["w_pad"] += max(left, right, 0)
                self._params["h_pad"] += max(bottom, top, 0)
        finally:
            self._params.update(settings)


class SettledTightLayout(TightLayoutEngine):
    """matplotlib's tight layout, run until token labels and Axes agree.

    With `only_to_fit`, (the engine attnfig gives a figure that had none), it acts only
    when text would leave the canvas, and leaves the figure's own spacing alone otherwise.
    """

    _params: dict[str, Any]  # matplotlib's engine settings: private, not in its stubs

    def __init__(self, *, only_to_fit: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.only_to_fit = only_to_fit

    def execute(self, fig):
        _restart(fig)
        if self.only_to_fit and max(overflow_inches(fig)) <= CANVAS_TOLERANCE_INCHES:
            return
        _passes(fig, super().execute)


def settle_layout(figure) -> None:
    """Make the layout engine of `figure`'s root settle at draw time: constrained or tight
    layout become their settled versions, with the same settings; a figure without an
    engine (pyplot's default) gets tight layout only when text would leave the canvas;
    other engines are left alone.

    >>> import matplotlib.figure
    >>> fig = matplotlib.figure.Figure(layout="constrained")
    >>> settle_layout(fig); type(fig.get_layout_engine()).__name__
    'SettledConstrainedLayout'
    """
    root = root_figure(figure)
    engine = root.get_layout_engine()
    settled: SettledConstrainedLayout | SettledTightLayout
    if type(engine) is ConstrainedLayoutEngine:
        settled = SettledConstrainedLayout(compress=engine._compress)  # type: ignore[attr-defined]  # private, no getter
    elif type(engine) is TightLayoutEngine:
        settled = SettledTightLayout()
    elif engine is None:
        root.set_layout_engine(SettledTightLayout(only_to_fit=True))
        return
    else:
        return
    settled._params = dict(engine._params)
    root.set_layout_engine(settled)
