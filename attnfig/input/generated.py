"""The rows of generated tokens: attention from what a model generated back to everything before it."""
from __future__ import annotations

import dataclasses

from ..errors import ArgumentError
from .data import AttentionData

QUERY_CHOICES = (None, "all", "generated")


def query_rows(data: AttentionData, queries: str | None) -> AttentionData:
    """`data` with the query rows `queries` names: None or "all" (every row), or "generated".

    "generated" keeps the rows of the tokens from ``data.generated_start`` on (as
    `attnfig.capture_generation` sets it), over every key: prompt and generated tokens.

    >>> import numpy as np, attnfig
    >>> data = attnfig.as_attention(np.tril(np.ones((1, 1, 3, 3))) / [[1], [2], [3]], list("abc"))
    >>> rows = query_rows(dataclasses.replace(data, generated_start=2), "generated")
    >>> rows.query_tokens, rows.key_tokens, rows.weights.shape
    (('c',), ('a', 'b', 'c'), (1, 1, 1, 3))
    """
    if queries is None or queries == "all":
        return data
    if queries != "generated":
        raise ArgumentError(f"The value for `queries` must be one of {list(QUERY_CHOICES)}, but {queries!r} was passed.")
    start = data.generated_start
    if start is None:
        raise ArgumentError(
            "`queries=\"generated\"` needs to know where generation started: get the attention with "
            "`attnfig.capture_generation`, or set it with `dataclasses.replace(data, generated_start=n)`."
        )
    if start >= data.weights.shape[2]:
        raise ArgumentError(f"Nothing was generated: `generated_start` ({start}) is past the last query.")
    return dataclasses.replace(
        data, weights=data.weights[:, :, start:], query_tokens=data.query_tokens[start:], is_causal=False,
        sentence_b_start=None, generated_start=None,
        token_blocks=(),
    )
