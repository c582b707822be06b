"""`stream_corpus`: a corpus through a model chunk by chunk of attention rows, no map ever kept.

Knows nothing of any statistic: it hands every chunk to an accumulator (a summary's, such as
`attnfig.summaries.entropy.EntropyAccumulator`), so a corpus of long documents costs the memory
of one chunk. The summaries' ``model=`` and ``tokenizer=`` arguments go through it.
"""
from __future__ import annotations

from typing import Any, Protocol, Sequence, TypeVar

from ..errors import ArgumentError
from ..input.chunks import Chunk
from .capture import check_family, select, stream_rows
from .inputs import check_corpus, encode_text
from .models import _model_inputs


class Accumulator(Protocol):
    """What `stream_corpus` feeds: ``update(chunk)`` per chunk; ``merge`` and ``result`` for its caller."""

    def update(self, chunk: Chunk) -> None: ...

    def merge(self, other): ...

    def result(self): ...


A = TypeVar("A", bound=Accumulator)


def stream_corpus(model: Any, tokenizer: Any, texts: str | Sequence[str | tuple[str, str]], accumulator: A, *,
                  layers: int | Sequence[int] | None = None, heads: int | Sequence[int] | None = None, first_index: int = 0,
                  rows_per_chunk: int | None = None) -> A:
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
        Queries per chunk (default: as many as 16 MB of scores per head allow).

    Returns
    -------
    The accumulator, fed.

    Raises
    ------
    AttentionInputError
        For a model family `capture` cannot reproduce, `texts` that are not texts, or
        `layers`/`heads` out of range.
    ArgumentError
        For an `accumulator` without ``update``.

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
    selection = select(model, layers, heads)
    grid = (len(selection.layers), len(selection.heads))
    for index, (text, pair) in enumerate(check_corpus(texts), start=first_index):
        encoded, tokens, b_start = encode_text(model, tokenizer, text, pair)
        tokens = tuple(tokens)

        def consume(layer, head, start, rows, index=index, tokens=tokens, b_start=b_start):
            accumulator.update(Chunk(rows[None, None], start, (layer,), (head,), grid, len(tokens), tokens,
                                     b_start, index))

        stream_rows(model, _model_inputs(model, encoded), selection, consume, rows_per_chunk=rows_per_chunk)
    return accumulator
