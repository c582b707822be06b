"""One input or a corpus of inputs, for the summary statistics."""
from __future__ import annotations

from typing import Any

from .data import AttentionData, as_attention


def as_corpus(attention: Any, tokens=None) -> list[AttentionData]:
    """A list of `AttentionData`: one item, or one per corpus entry.

    A corpus is a list of `AttentionData` (or of transformers' tuples / model outputs).
    A list of arrays or tensors is one input given layer by layer, as `as_attention` reads it.

    >>> import numpy as np, attnfig
    >>> one = attnfig.as_attention(np.full((2, 3, 4, 4), 0.25))
    >>> len(as_corpus([one, one])), len(as_corpus(one))
    (2, 1)
    """
    if isinstance(attention, list) and attention and all(
        isinstance(item, AttentionData) or isinstance(item, tuple) or hasattr(item, "attentions")
        for item in attention
    ):
        return [as_attention(item) for item in attention]
    return [as_attention(attention, tokens)]
