"""The stated rules that keep long sequences readable and fast: which lines, how wide, what budget.

- A line whose opacity is below `FAINT_ALPHA` (half of one 8-bit level) cannot change a
  pixel, so it is not drawn.
- `top_k` keeps the k strongest keys of each query.
- A layer x head thumbnail draws at most `THUMBNAIL_LINE_BUDGET` lines: past that
  (sequences longer than about 90 tokens), each query keeps its
  ``THUMBNAIL_LINE_BUDGET // queries`` strongest keys unless `top_k` is given.
- Token labels follow `attnfig.views.labels` (shrink within the style's range, then thin,
  special tokens and highlights kept); a head view is made `LABEL_SPACING` times the
  labels' size tall per token, up to a page.
- A line is at most `LINE_FILL` times its row spacing wide (at the output resolution), so
  the lines leaving a column of tokens never cover it solidly; when that width is under
  one output pixel, the lines are drawn as their exact ink density, an image computed in
  numpy (`attnfig.views.density`): each line leaves ``weight * width`` of ink per unit of
  length, inks add up and a pixel's opacity is ``1 - exp(-ink)`` (`uses_density`). Cost and memory then
  depend on the output's pixels, not on the number of tokens or lines.
- When a heatmap has more cells than output pixels, each pixel shows the `max` (default,
  so peaks survive) or `mean` of its cells (``reduce=``).
- `lines` draws at most `LINE_BUDGET` lines; past that it draws their ink density too,
  so time and memory stay bounded whatever the weights.
- Lines are rasterized at ``savefig.dpi`` on an opaque backdrop (text stays vector), so a
  PNG and a PDF or SVG of the figure show the same pixels; ``rasterized=False`` opts out.
"""
from __future__ import annotations

import numpy as np

from ..errors import AttentionInputError

FAINT_ALPHA = 0.5 / 255
LABEL_SPACING = 1.2
LINE_FILL = 0.5
THUMBNAIL_LINE_BUDGET = 8192
LINE_BUDGET = 30_000  # Agg draws about 10 000 long antialiased lines a second


def thumbnail_top_k(n_queries: int, n_keys: int, top_k: int | None) -> int | None:
    """The `top_k` a thumbnail uses: the user's, or the budget's rule for long sequences.

    >>> thumbnail_top_k(128, 128, None), thumbnail_top_k(512, 512, None), thumbnail_top_k(512, 512, 3)
    (64, 16, 3)
    """
    if top_k is not None or n_queries * n_keys <= THUMBNAIL_LINE_BUDGET:
        return top_k
    return max(1, THUMBNAIL_LINE_BUDGET // n_queries)


def keep_mask(weights: np.ndarray, *, alpha_scale: float, min_weight: float | None, top_k: int | None) -> np.ndarray:
    """Boolean mask of the query-key pairs worth a line, for ``weights[..., q, k]``.

    Without `min_weight` the rule is: drawn when ``weight * alpha_scale >= FAINT_ALPHA``.

    >>> keep_mask(np.array([[0.9, 0.001]]), alpha_scale=1.0, min_weight=None, top_k=None).tolist()
    [[True, False]]
    """
    threshold = FAINT_ALPHA / alpha_scale if min_weight is None else float(min_weight)
    keep = weights >= threshold
    keep &= weights > 0
    if top_k is not None:
        if not isinstance(top_k, (int, np.integer)) or top_k < 1:
            raise AttentionInputError(f"`top_k` must be a positive integer, but {top_k!r} was passed.")
        if top_k < weights.shape[-1]:
            kth = np.partition(weights, -top_k, axis=-1)[..., [-top_k]]  # not [-k:-k+1]: empty for k=1
            keep &= weights >= kth
    return keep


def line_width_points(base_points: float, spacing_points: float) -> float:
    """Width of a line: its style's width, at most `LINE_FILL` of the row spacing.

    >>> line_width_points(0.6, 14.0), line_width_points(0.6, 0.2)
    (0.6, 0.1)
    """
    return min(float(base_points), LINE_FILL * spacing_points)


def uses_density(base_points: float, line_points: float, dpi: float) -> bool:
    """Whether lines are drawn as their ink density: narrowed by the row spacing below one pixel.

    >>> uses_density(0.6, 0.6, dpi=100), uses_density(0.6, 0.1, dpi=300)
    (False, True)
    """
    return line_points < base_points and line_points * dpi / 72 < 1
