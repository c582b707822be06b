"""`span=(start, stop)`: one part of a long input, every token in it named by its original position.

The span keeps the queries and keys whose positions lie in ``start <= position < stop``
(for pooled data, the rows whose token block overlaps that range). Labels read
``"<position> <token>"`` with the original position. What the kept queries give to keys
outside the span is measured, so a figure can say so when it is not negligible.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ..errors import AttentionInputError
from .data import AttentionData

NEGLIGIBLE_OUTSIDE = 0.01  # below this share of the attention outside the span, nothing is said


@dataclass(frozen=True)
class Span:
    """A restricted `AttentionData` and what its queries gave to keys outside the span."""

    data: AttentionData
    start: int
    stop: int
    outside: np.ndarray  # [layers, heads]: attention mass outside the span, mean over kept queries

    def note(self, layer_positions=None, head_positions=None) -> str | None:
        """The sentence a figure shows, or None when the outside share is negligible.

        >>> import numpy as np, attnfig
        >>> span = restrict_to_span(attnfig.as_attention(np.full((1, 1, 4, 4), 0.25)), (1, 3))
        >>> span.note()
        'Tokens 1-2: 50% of their attention goes outside the span'
        """
        outside = self.outside
        if layer_positions is not None:
            outside = outside[np.atleast_1d(layer_positions)]
        if head_positions is not None:
            outside = outside[:, np.atleast_1d(head_positions)]
        share = float(outside.mean()) if outside.size else 0.0
        if share < NEGLIGIBLE_OUTSIDE:
            return None
        return f"Tokens {self.start}-{self.stop - 1}: {share:.0%} of their attention goes outside the span"

    def shift(self, positions) -> tuple[int, ...]:
        """Original positions (e.g. `highlight=`) as positions within the span; others dropped."""
        return tuple(int(p) - self.start for p in positions if self.start <= int(p) < self.stop)


def check_span(span, length: int) -> tuple[int, int]:
    """`span` as ``(start, stop)`` within ``[0, length]``, or an `AttentionInputError`.

    >>> check_span((2, 5), 10), check_span(None, 10)
    ((2, 5), (0, 10))
    """
    if span is None:
        return 0, length
    valid = (isinstance(span, (tuple, list)) and len(span) == 2
             and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in span))
    if not valid or not 0 <= span[0] < span[1] <= length:
        raise AttentionInputError(
            f"`span` must be a pair (start, stop) of token positions with 0 <= start < stop <= {length} "
            f"(the number of tokens), but {span!r} was passed. Example: span=(0, 40) shows the first 40 tokens."
        )
    return int(span[0]), int(span[1])


def position_count(data: AttentionData) -> int:
    """How many token positions the rows and columns cover (more than rows for pooled data).

    >>> import numpy as np, attnfig
    >>> position_count(attnfig.as_attention(np.full((1, 1, 3, 3), 1 / 3)))
    3
    """
    n_queries, n_keys = data.weights.shape[2:]
    return int(max(_positions(data, n_queries)[1].max(), _positions(data, n_keys)[1].max()))


def rows_in_span(data: AttentionData, span) -> int:
    """How many query rows `span` keeps (checked as `restrict_to_span` checks it), without copying weights.

    >>> import numpy as np, dataclasses, attnfig
    >>> pooled = dataclasses.replace(attnfig.as_attention(np.full((1, 1, 2, 2), 0.5)), token_blocks=((0, 8), (8, 16)))
    >>> rows_in_span(pooled, (10, 12))
    1
    """
    start, stop = check_span(span, position_count(data))
    return int(_inside(data, data.weights.shape[2], start, stop).sum())


def _positions(data: AttentionData, n: int) -> tuple[np.ndarray, np.ndarray]:
    """First and last-plus-one token position of each row or column."""
    if data.token_blocks and len(data.token_blocks) == n:
        blocks = np.asarray(data.token_blocks)
        return blocks[:, 0], blocks[:, 1]
    positions = np.arange(n)
    return positions, positions + 1


def restrict_to_span(data: AttentionData, span) -> Span:
    """Keep the queries and keys of `span`; label them with their original positions.

    >>> import numpy as np, attnfig
    >>> data = attnfig.as_attention(np.full((1, 1, 4, 4), 0.25), tokens=list("abcd"))
    >>> restrict_to_span(data, (1, 3)).data.query_tokens
    ('1 b', '2 c')
    """
    n_queries, n_keys = data.weights.shape[2:]
    start, stop = check_span(span, position_count(data))
    rows = _inside(data, n_queries, start, stop)
    cols = _inside(data, n_keys, start, stop)
    if not rows.any() or not cols.any():
        raise AttentionInputError(f"`span={span!r}` holds no query or no key of this attention.")
    kept_queries = data.weights[:, :, rows]
    total = kept_queries.sum(-1, dtype=np.float64)
    inside = kept_queries[..., cols].sum(-1, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        outside = np.nan_to_num((total - inside).mean(-1) / np.maximum(total.mean(-1), 1e-12))
    weights = kept_queries[..., cols]
    q_start = _positions(data, n_queries)[0]
    k_start = _positions(data, n_keys)[0]
    b_start = data.sentence_b_start
    if b_start is not None:
        b_start = int(np.searchsorted(q_start[rows], b_start)) if start < b_start < stop else None
    restricted = dataclasses.replace(
        data,
        weights=weights,
        query_tokens=tuple(f"{p} {t}" for p, t in zip(q_start[rows], np.asarray(data.query_tokens, dtype=object)[rows])),
        key_tokens=tuple(f"{p} {t}" for p, t in zip(k_start[cols], np.asarray(data.key_tokens, dtype=object)[cols])),
        sentence_b_start=b_start,
        token_blocks=tuple(data.token_blocks[i] for i in np.flatnonzero(rows)) if data.token_blocks else (),
    )
    return Span(restricted, start, stop, outside)


def _inside(data: AttentionData, n: int, start: int, stop: int) -> np.ndarray:
    first, end = _positions(data, n)
    return (end > start) & (first < stop)
