"""Chunks of attention rows: what a statistic's accumulator is fed, from a model or from maps.

A `Chunk` holds the weights of some queries of one input, ``rows[layers, heads, queries, keys]``,
as a numpy array or as a torch tensor on the model's device (`attnfig.recording.stream_corpus`
sends torch, one head and a few queries at a time; `whole_map_chunks` sends an `AttentionData`'s
numpy maps a layer at a time). The helpers below let one formula serve both kinds of array.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from .data import AttentionData


@dataclass(frozen=True)
class Chunk:
    """The weights of queries ``start:start + rows.shape[2]`` of input `input_index`.

    `layers` and `heads` are the positions of the rows' first two axes in the grid of
    ``grid = (layers, heads)`` a summary fills; `n_queries` is the input's whole query count.
    """

    rows: Any  # numpy array or torch tensor [layers, heads, queries, keys]
    start: int
    layers: tuple[int, ...]
    heads: tuple[int, ...]
    grid: tuple[int, int]
    n_queries: int
    key_tokens: tuple[str, ...]
    sentence_b_start: int | None = None
    input_index: int = 0


def whole_map_chunks(corpus: Sequence[AttentionData]) -> Iterator[Chunk]:
    """The maps of a corpus as chunks, one layer of one input at a time (all queries at once)."""
    for index, data in enumerate(corpus):
        layers, heads, n_queries, _ = data.weights.shape
        for layer in range(layers):
            yield Chunk(data.weights[layer : layer + 1], 0, (layer,), tuple(range(heads)), (layers, heads),
                        n_queries, tuple(data.key_tokens), data.sentence_b_start, index)


def is_torch(array) -> bool:
    """True for a torch tensor (checked without importing torch)."""
    return type(array).__module__.startswith("torch")


def namespace(array):
    """The module whose functions apply to `array`: numpy, or torch for a tensor."""
    if is_torch(array):
        import torch

        return torch
    return np


def float64(array):
    """`array` in float64, on the device it is on."""
    return array.double() if is_torch(array) else np.asarray(array, dtype=np.float64)


def to_numpy(array) -> np.ndarray:
    """A float64 numpy array of `array` (a torch tensor is brought to the CPU)."""
    return float64(array).cpu().numpy() if is_torch(array) else np.asarray(array, dtype=np.float64)


def like(values: np.ndarray, array):
    """The numpy `values` as `array`'s kind: a float64 tensor on its device, or numpy."""
    if is_torch(array):
        import torch

        return torch.as_tensor(np.asarray(values, dtype=np.float64), device=array.device)
    return np.asarray(values, dtype=np.float64)
