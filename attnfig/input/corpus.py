"""One input or a corpus of inputs, for the summary statistics."""
from __future__ import annotations

from typing import Any

from ..errors import AttentionInputError
from .data import AttentionData, as_attention


def as_corpus(attention: Any, tokens=None, *, summary: str | None = None, streamed: str | None = None) -> list[AttentionData]:
    """A list of `AttentionData`: one item, or one per corpus entry; pooled data refused.

    A corpus is a list of `AttentionData`, of transformers' tuples or of model outputs (each
    item one input, carrying its tokens). A list of arrays or tensors is one input given layer
    by layer, as `as_attention` reads it: ``[heads, q, k]`` maps, or ``list(outputs.attentions)``
    (``[1, heads, q, k]`` each). A list of 4-D arrays that could be either (a first axis longer
    than 1, or maps of different sizes) is refused, naming both ways to say which is meant: a
    summary of the wrong reading would be silently wrong. `summary` and `streamed` name the
    caller and its streaming form in the error for pooled data (see `refuse_pooled`).

    >>> import numpy as np, attnfig
    >>> one = attnfig.as_attention(np.full((2, 3, 4, 4), 0.25))
    >>> len(as_corpus([one, one])), len(as_corpus(one)), len(as_corpus([np.full((3, 4, 4), 0.25)] * 2))
    (2, 1, 1)
    """
    if isinstance(attention, list) and attention and all(
        isinstance(item, AttentionData) or isinstance(item, tuple) or hasattr(item, "attentions")
        for item in attention
    ):
        if tokens is not None:
            raise AttentionInputError(
                f"`tokens` labels one input, but a corpus of {len(attention)} inputs was passed: give each "
                "input its tokens with `attnfig.as_attention(attention, tokens)` and pass the list of results."
            )
        corpus = [as_attention(item) for item in attention]
    else:
        _refuse_ambiguous_list(attention, summary)
        corpus = [as_attention(attention, tokens)]
    for data in corpus:
        refuse_pooled(data, summary, streamed)
    return corpus


def _refuse_ambiguous_list(attention: Any, summary: str | None) -> None:
    """Refuse a list of 4-D arrays that may be one input's layers or several inputs."""
    if not isinstance(attention, list) or not attention:
        return
    shapes = [tuple(getattr(item, "shape", ())) for item in attention]
    if not all(len(shape) == 4 for shape in shapes):
        return
    if all(shape == shapes[0] for shape in shapes) and shapes[0][0] == 1:
        return  # list(outputs.attentions) of one input: [1, heads, q, k] per layer
    shown = ", ".join(str(list(shape)) for shape in shapes[:3]) + (", ..." if len(shapes) > 3 else "")
    raise AttentionInputError(
        f"`{summary or 'this summary'}` got a list of {len(shapes)} 4-D arrays ({shown}), which could be one "
        "input given layer by layer ([batch, heads, q, k] each, as transformers returns them) or several inputs "
        "([layers, heads, q, k] each). For one input, pass transformers' tuple as it is "
        "(`outputs.attentions`, or `attnfig.as_attention(layers, batch=i)` for item i of a batch); for a corpus, "
        "pass `[attnfig.as_attention(a, tokens) for a, tokens in ...]`."
    )


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
