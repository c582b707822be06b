"""One input or a corpus of inputs, for the summary statistics."""
from __future__ import annotations

from typing import Any

from ..errors import AttentionInputError
from .data import AttentionData, as_attention


def as_corpus(attention: Any, tokens=None, *, summary: str | None = None, streamed: str | None = None) -> list[AttentionData]:
    """A list of `AttentionData`: one item, or one per corpus entry; pooled data refused.

    A corpus is a list of `AttentionData` (or of transformers' tuples / model outputs).
    A list of arrays or tensors is one input given layer by layer, as `as_attention` reads it.
    `summary` and `streamed` name the caller and its streaming form in the error for pooled
    data (see `refuse_pooled`).

    >>> import numpy as np, attnfig
    >>> one = attnfig.as_attention(np.full((2, 3, 4, 4), 0.25))
    >>> len(as_corpus([one, one])), len(as_corpus(one))
    (2, 1)
    """
    if isinstance(attention, list) and attention and all(
        isinstance(item, AttentionData) or isinstance(item, tuple) or hasattr(item, "attentions")
        for item in attention
    ):
        corpus = [as_attention(item) for item in attention]
    else:
        corpus = [as_attention(attention, tokens)]
    for data in corpus:
        refuse_pooled(data, summary, streamed)
    return corpus


def refuse_pooled(data: AttentionData, summary: str | None = None, streamed: str | None = None) -> AttentionData:
    """`data` itself, unless it is pooled (`capture(..., pool=N)`): a summary of it would be wrong.

    A pooled cell is the largest weight of a block of tokens, so sums, entropies and products
    of rows are not those of the model. `streamed` names the summary that computes the exact
    value while the model runs (its ``model=`` and ``tokenizer=`` form), if there is one.

    >>> import numpy as np, dataclasses, attnfig
    >>> pooled = dataclasses.replace(attnfig.as_attention(np.full((1, 1, 2, 2), 0.5)), token_blocks=((0, 8), (8, 16)))
    >>> refuse_pooled(pooled, "head_entropy", "head_entropy")
    Traceback (most recent call last):
    ...
    attnfig.errors.AttentionInputError: `head_entropy` needs the exact attention of every token, ...
    """
    if not data.token_blocks:
        return data
    size = max(stop - start for start, stop in data.token_blocks)
    fix = (f"Compute it while the model runs, without keeping any map: "
           f"`attnfig.{streamed}(texts, model=model, tokenizer=tokenizer)`, or capture without `pool`"
           if streamed else "Capture without `pool` (select fewer `layers=` and `heads=` to save memory)")
    raise AttentionInputError(
        f"`{summary or 'this summary'}` needs the exact attention of every token, but this attention is pooled "
        f"(`capture(..., pool=N)`: {len(data.token_blocks)} blocks of up to {size} tokens, each cell the "
        f"largest weight of its block), so the result would be wrong. {fix}."
    )
