"""The stated rules that keep long sequences readable and fast.

- A line whose opacity is below `FAINT_ALPHA` (half of one 8-bit level) cannot change a
  pixel, so it is not drawn.
- `top_k` keeps the k strongest keys of each query.
- A layer x head thumbnail draws at most `THUMBNAIL_LINE_BUDGET` lines: past that
  (sequences longer than about 90 tokens), each query keeps its
  ``THUMBNAIL_LINE_BUDGET // queries`` strongest keys unless `top_k` is given.
- Token labels follow `attnfig.views.labels` (shrink within the style's range, then thin,
  special tokens and highlights kept); a head view is made `LABEL_SPACING` times the
  labels' size tall per token, up to a page.
- Artists holding more than `RASTERIZE_ABOVE` primitives are rasterized inside vector
  output (at ``savefig.dpi``), while text and axes stay vector.
"""
from __future__ import annotations

import numpy as np

from ..errors import AttentionInputError

FAINT_ALPHA = 0.5 / 255
LABEL_SPACING = 1.2
RASTERIZE_ABOVE = 5000
THUMBNAIL_LINE_BUDGET = 8192


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


def should_rasterize(n_primitives: int) -> bool:
    return n_primitives > RASTERIZE_ABOVE
