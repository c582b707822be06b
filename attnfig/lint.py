"""A figure lint: what a reviewer checks first, measured on the drawn figure.

`figure_problems` draws the figure once, as ``fig.savefig`` would (its layout engine runs
as in any draw), changes nothing in it, and reports, from the window extents of the texts
actually drawn:

- text that leaves the canvas (clipped in the saved file);
- two texts that overlap;
- token axes that dropped labels although the label rule says all of them fit (an axis
  that shows its partner's labels, rule 5 of `attnfig.views.labels`, is not counted);
- a drawing that spans less than `MIN_WIDTH_SHARE` of the figure's width.

>>> import numpy as np, attnfig
>>> fig = attnfig.model_view(np.full((2, 3, 4, 4), 0.25), kind="heatmap")
>>> figure_problems(fig)
[]
"""
from __future__ import annotations

from itertools import combinations


MIN_WIDTH_SHARE = 0.85
TOLERANCE_PIXELS = 0.5  # anti-aliasing slack on every edge


def _drawn_texts(fig):
    """The Text artists with visible, non-blank text that a draw of `fig` really renders."""
    renderer = fig._get_renderer()
    drawn = []
    original = renderer.draw_text, renderer.draw_tex

    def record(gc, x, y, s, prop, angle, ismath=False, mtext=None):
        if mtext is not None and s.strip():
            drawn.append(mtext)
        return original[0](gc, x, y, s, prop, angle, ismath=ismath, mtext=mtext)

    def record_tex(gc, x, y, s, prop, angle, *, mtext=None):
        if mtext is not None and s.strip():
            drawn.append(mtext)
        return original[1](gc, x, y, s, prop, angle, mtext=mtext)

    renderer.draw_text, renderer.draw_tex = record, record_tex
    try:
        fig.draw(renderer)
    finally:
        del renderer.draw_text, renderer.draw_tex
    unique = list({id(t): t for t in drawn}.values())
    return renderer, [(text, text.get_window_extent(renderer)) for text in unique]


def _describe(text) -> str:
    return repr(text.get_text()[:30])


def _overlap(a, b) -> bool:
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    return width > TOLERANCE_PIXELS and height > TOLERANCE_PIXELS


def _token_axis_problems(fig) -> list[str]:
    from .views.colors import font_points
    from .views.labels import TokenLocator, axis_points, fit_labels, min_fontsize

    problems = []
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            locator = axis.get_major_locator()
            if not isinstance(locator, TokenLocator) or locator.fit is None:
                continue
            n = len(locator.positions)
            smallest = min_fontsize(locator.fontsize or font_points(f"{axis.axis_name}tick.labelsize"))
            fits = fit_labels(n, axis_points(axis) / locator.span * n, smallest, smallest=smallest)
            if len(fits.shown) == n and len(locator.fit.shown) < n and not locator.thinned_by_partner:
                problems.append(f"{axis.axis_name} axis of {ax.get_label() or 'an Axes'} shows "
                                f"{len(locator.fit.shown)} of {n} token labels although all fit")
    return problems


def figure_problems(fig, *, min_width_share: float = MIN_WIDTH_SHARE) -> list[str]:
    """Everything wrong with `fig` as drawn, one sentence each; an empty list when clean."""
    renderer, texts = _drawn_texts(fig)
    canvas = fig.bbox
    problems = []
    for text, box in texts:
        if (box.x0 < canvas.x0 - TOLERANCE_PIXELS or box.y0 < canvas.y0 - TOLERANCE_PIXELS
                or box.x1 > canvas.x1 + TOLERANCE_PIXELS or box.y1 > canvas.y1 + TOLERANCE_PIXELS):
            problems.append(f"text {_describe(text)} leaves the canvas")
    for (a, box_a), (b, box_b) in combinations(texts, 2):
        if _overlap(box_a, box_b):
            problems.append(f"texts {_describe(a)} and {_describe(b)} overlap")
    problems += _token_axis_problems(fig)
    extent = fig.get_tightbbox(renderer)
    share = min(extent.x1, fig.get_figwidth()) - max(extent.x0, 0.0)
    if share / fig.get_figwidth() < min_width_share:
        problems.append(f"the drawing spans {share / fig.get_figwidth():.0%} of the width "
                        f"(at least {min_width_share:.0%} expected)")
    return problems


def drawn_text(fig) -> list[str]:
    """The strings a draw of `fig` renders, in drawing order (for tests)."""
    return [text.get_text() for text, _ in _drawn_texts(fig)[1]]


__all__ = ["figure_problems", "drawn_text"]
