"""`stream_corpus`: a corpus through a model chunk by chunk of attention rows, no map ever kept.

Knows nothing of any statistic: it hands every chunk to an accumulator (a summary's, such as
`attnfig.summaries.entropy.EntropyAccumulator`), so a corpus of long documents costs the memory
of one chunk. The summaries' ``model=`` and ``tokenizer=`` arguments go through it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Protocol, Sequence, TypeVar

from ..errors import ArgumentError
from ..input.chunks import Chunk
from .capture import CHUNK_ELEMENTS, check_family, select, stream_rows
from .inputs import check_corpus, encode_text
from .models import _model_inputs


class Accumulator(Protocol):
    """What `stream_corpus` feeds: ``update(chunk)`` per chunk; ``merge`` and ``result`` for its caller."""

    def update(self, chunk: Chunk) -> None: ...

    def merge(self, other): ...

    def result(self): ...


A = TypeVar("A", bound=Accumulator)


ORDERS = ("layers", "queries")


def stream_corpus(model: Any, tokenizer: Any, texts: str | Sequence[str | tuple[str, str]], accumulator: A, *,
                  layers: int | Sequence[int] | None = None, heads: int | Sequence[int] | None = None, first_index: int = 0,
                  rows_per_chunk: int | None = None, order: str = "layers") -> A:
    """Run each text through `model` once, feeding every chunk of attention rows to `accumulator`.

    Each chunk (`attnfig.input.chunks.Chunk`) holds one head's weights for a few queries,
    as a float32 torch tensor on the model's device. The model runs as loaded (see
    `attnfig.capture`); nothing but the chunk in hand is kept.

    Parameters
    ----------
    model, tokenizer
        A model of a family `attnfig.capture` supports, and its tokenizer.
    texts : str, list of str, or list of (str, str)
        The corpus: texts, or ``(text, pair)`` tuples (a tuple of strings is a corpus, never one pair).
    accumulator
        An object with ``update(chunk)``, such as a summary's accumulator.
    layers, heads : int, list of int, or None
        The layers and heads to stream (None: all). Chunks place them by position in this
        selection (``chunk.layers``, ``chunk.heads``).
    first_index : int
        The corpus index of ``texts[0]`` (``chunk.input_index``), when a corpus is split.
    rows_per_chunk : int, optional
        Queries per chunk (default: as many as 16 MB of scores per head allow; with
        ``order="queries"``, 64 MB for every selected head together).
    order : {"layers", "queries"}
        "layers" (default): chunks come as the model computes them, layer after layer, one head
        at a time. "queries": after each text's forward pass, the chunks of one block of queries
        come for every selected layer (all selected heads at once) before the next block, so an
        accumulator that pairs heads of different layers (`attnfig.head_distances`) holds one
        block at a time. The queries and keys of the selected layers are kept for the text
        meanwhile (the size of its key-value cache, linear in its length), never a map.

    Returns
    -------
    The accumulator, fed.

    Raises
    ------
    AttentionInputError
        For a model family `capture` cannot reproduce, `texts` that are not texts, or
        `layers`/`heads` out of range.
    ArgumentError
        For an `accumulator` without ``update`` or an unknown `order`.

    Examples
    --------
    >>> import attnfig, attnfig.testing
    >>> from attnfig.summaries.entropy import EntropyAccumulator
    >>> model, tokenizer = attnfig.testing.build_tiny_model("gpt2", "/tmp/attnfig-doctest-gpt2")
    >>> entropy = stream_corpus(model, tokenizer, ["a cat sat", "a dog ran"], EntropyAccumulator(), layers=[0])
    >>> entropy.result().shape == (1, model.config.num_attention_heads)
    True
    """
    check_family(model)
    if not callable(getattr(accumulator, "update", None)):
        raise ArgumentError(f"`accumulator` must have an `update(chunk)` method, but a {type(accumulator).__name__} "
                            "was passed (for example attnfig.EntropyAccumulator()).")
    if order not in ORDERS:
        raise ArgumentError(f"`order` must be one of {list(ORDERS)}, but {order!r} was passed.")
    selection = select(model, layers, heads)
    grid = (len(selection.layers), len(selection.heads))
    for index, (text, pair) in enumerate(check_corpus(texts), start=first_index):
        encoded, tokens, b_start = encode_text(model, tokenizer, text, pair)
        tokens = tuple(tokens)

        def consume(layer, head, start, rows, index=index, tokens=tokens, b_start=b_start):
            accumulator.update(Chunk(rows[None, None], start, (layer,), (head,), grid, len(tokens), tokens,
                                     b_start, index))

        def consume_heads(layer, start, rows, index=index, tokens=tokens, b_start=b_start):
            accumulator.update(Chunk(rows[None], start, (layer,), tuple(range(grid[1])), grid, len(tokens), tokens,
                                     b_start, index))

        if order == "layers":
            stream_rows(model, _model_inputs(model, encoded), selection, consume, rows_per_chunk=rows_per_chunk)
        else:
            _stream_by_queries(model, _model_inputs(model, encoded), selection, consume_heads, rows_per_chunk)
    return accumulator


def _stream_by_queries(model, inputs: dict, selection, consume, rows_per_chunk: int | None) -> None:
    """Run the model once, keeping the selected layers' calls; then ``consume(layer_pos, start, rows)``
    for each block of queries, every selected layer in turn (rows ``[heads, block, keys]``)."""
    import torch

    from .recompute import attention_rows

    wanted = set(selection.layers)
    calls = {}

    def keep(call) -> None:
        if call.layer in wanted:
            calls[call.layer] = dataclasses.replace(call, value=None)  # queries and keys only

    # No layer is streamed during the pass (no selected layers): the calls are only kept.
    stream_rows(model, inputs, dataclasses.replace(selection, layers=()), None, on_call=keep)
    first = calls[selection.layers[0]]
    n_queries, n_keys = first.query.shape[2], first.key.shape[2]
    heads = list(selection.heads)
    block = rows_per_chunk or max(1, 4 * CHUNK_ELEMENTS // (len(calls) * len(heads) * n_keys))
    with torch.inference_mode():
        for start in range(0, n_queries, block):
            stop = min(start + block, n_queries)
            for position, layer in enumerate(selection.layers):
                consume(position, start, attention_rows(calls[layer], heads, start, stop))
