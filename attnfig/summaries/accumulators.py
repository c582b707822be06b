"""Sums kept per input of a corpus, filled chunk by chunk: the base of every statistic's accumulator.

An accumulator takes `attnfig.input.chunks.Chunk`s in any order and number (``update``),
combines with another one fed other chunks (``merge``: sums add, so a corpus can be split
over processes), pickles, and gives the statistic (``result``). Each summary module
defines its accumulator beside its formula; the in-memory path feeds it whole maps
(`summarize`), `attnfig.recording.stream_corpus` feeds it a model's chunks.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from ..input.chunks import Chunk, to_numpy, whole_map_chunks
from ..input.corpus import as_corpus
from ..recording.engine import run_corpus


class PerInputSums:
    """``sums[input][name]``: float64 arrays ``[layers, heads, ...]`` summed over chunks.

    Subclasses define ``update(chunk)`` (calling `add`) and ``result()``. `facts` holds what
    is the same in every chunk of an input (its query count, sentence B start).
    """

    def __init__(self) -> None:
        self.sums: dict[int, dict[str, np.ndarray]] = {}
        self.facts: dict[int, dict] = {}

    def add(self, chunk: Chunk, name: str, values: Any) -> None:
        """Add `values` (``[chunk layers, chunk heads, ...]``, numpy or torch) at the chunk's heads."""
        values = to_numpy(values)
        sums = self.sums.setdefault(chunk.input_index, {})
        if name not in sums:
            sums[name] = np.zeros(chunk.grid + values.shape[2:])
        sums[name][np.ix_(chunk.layers, chunk.heads)] += values
        self.facts.setdefault(chunk.input_index, {"n_queries": chunk.n_queries,
                                                  "sentence_b_start": chunk.sentence_b_start})

    def merge(self, other: "PerInputSums") -> "PerInputSums":
        """Add `other`'s sums into this accumulator (inputs or chunks fed elsewhere); returns self."""
        for index, sums in other.sums.items():
            mine = self.sums.setdefault(index, {})
            for name, values in sums.items():
                mine[name] = mine[name] + values if name in mine else values.copy()
        for index, facts in other.facts.items():
            self.facts.setdefault(index, dict(facts))
        return self

    def inputs(self) -> list[int]:
        """The indices of the inputs seen, in corpus order."""
        return sorted(self.sums)


def summarize(accumulator, chunks: Iterable[Chunk]):
    """Feed every chunk to `accumulator`; returns it."""
    for chunk in chunks:
        accumulator.update(chunk)
    return accumulator


def accumulated(kind: type, source, tokens, model, tokenizer, *, summary: str, engine: str = "local",
                engine_options=None, maps: Callable = iter):
    """An accumulator of class `kind` fed `source`: the texts it holds streamed through `model`
    (or on `engine`), else its attention maps, whole (`maps` may check or reorder the corpus
    first); `summary` names the statistic in as_corpus's errors. Every summary's `model=` /
    in-memory switch is this one.

    >>> import numpy as np
    >>> from attnfig.summaries.entropy import EntropyAccumulator
    >>> acc = accumulated(EntropyAccumulator, np.full((1, 1, 2, 2), 0.5), None, None, None, summary="head_entropy")
    >>> acc.result().round(4).tolist()
    [[0.6931]]
    """
    if model is not None or engine != "local":  # `source` holds texts: stream them through the model
        return run_corpus(model, tokenizer, source, kind, engine=engine, engine_options=engine_options)
    return summarize(kind(), whole_map_chunks(maps(as_corpus(source, tokens, summary=summary, streamed=summary))))
