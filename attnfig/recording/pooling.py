"""Block-max pooling of attention maps: how `capture(..., pool=N)` keeps long inputs small.

The rule: with ``n`` tokens and ``pool=N``, blocks are ``b = ceil(n / N)`` consecutive tokens
(the last block may be shorter), so there are ``ceil(n / b) <= N`` blocks per axis; each cell of
the pooled map is the largest weight of its ``b x b`` block of the exact map. A strong link
between two tokens therefore never disappears, however long the input.
"""
from __future__ import annotations

import math


def block_size(n_tokens: int, pool: int) -> int:
    """Tokens per block so that `n_tokens` make at most `pool` blocks.

    >>> block_size(12288, 512), block_size(10, 4), block_size(3, 8)
    (24, 3, 1)
    """
    return max(1, math.ceil(n_tokens / pool))


def blocks(n_tokens: int, size: int) -> tuple[tuple[int, int], ...]:
    """The ``(start, stop)`` token positions of each block.

    >>> blocks(10, 4)
    ((0, 4), (4, 8), (8, 10))
    """
    return tuple((start, min(start + size, n_tokens)) for start in range(0, n_tokens, size))


def block_max(rows, size: int):
    """Pool a ``[..., queries, keys]`` tensor of non-negative weights by `size` x `size` block max.

    The last blocks of each axis may be shorter (they hold the remaining tokens). Returns ``[..., ceil(queries / size), ceil(keys / size)]``.

    >>> import torch
    >>> block_max(torch.arange(12.0).reshape(3, 4), 2).tolist()
    [[5.0, 7.0], [9.0, 11.0]]
    """
    import torch

    # max_pool2d with ceil_mode: the last, shorter blocks are pooled over what they hold
    maps = rows.reshape(-1, *rows.shape[-2:])
    pooled = torch.nn.functional.max_pool2d(maps, size, size, ceil_mode=True)
    return pooled.reshape(*rows.shape[:-2], *pooled.shape[-2:])


def block_labels(tokens, spans) -> tuple[str, ...]:
    """One label per block: its first token and the positions it covers.

    >>> block_labels(["a", "b", "c"], ((0, 2), (2, 3)))
    ('a (0-1)', 'c (2)')
    """
    return tuple(
        f"{tokens[start]} ({start})" if stop - start == 1 else f"{tokens[start]} ({start}-{stop - 1})"
        for start, stop in spans
    )
