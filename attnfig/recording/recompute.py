"""Attention weights of one head, recomputed row by row from the queries and keys a model computed.

The rule is the one of the models' eager attention: ``softmax(q . k * scaling + mask)``, with
grouped-query heads reading their key-value head, logits soft-capped as ``tanh(s / c) * c``
when the model soft-caps, and, when the model passes no mask (sdpa's causal fast path), the
causal mask and the sliding window rebuilt from the call. Scores and softmax are float32.
"""
from __future__ import annotations

from .interface import AttentionCall


def key_value_head(call: AttentionCall, head: int) -> int:
    """The key-value head that query head `head` reads (grouped-query attention)."""
    groups = call.query.shape[1] // call.key.shape[1]
    return head // groups


def attention_rows(call: AttentionCall, head: int, start: int, stop: int):
    """``[stop - start, keys]`` float32 tensor: the weights of queries `start:stop` of `head`.

    >>> # rows = attention_rows(call, head=2, start=0, stop=512)
    """
    import torch

    return torch.softmax(attention_scores(call, head, start, stop), dim=-1)


def attention_scores(call: AttentionCall, head: int, start: int, stop: int):
    """The scores before the softmax, masked keys at float32's lowest value (as eager masks do)."""
    import torch

    query = call.query[0, head, start:stop].float()
    key = call.key[0, key_value_head(call, head)].float()
    n_queries, n_keys = call.query.shape[2], key.shape[0]
    scaling = call.scaling if call.scaling is not None else query.shape[-1] ** -0.5
    scores = query @ key.T
    scores *= scaling
    softcap = call.options.get("softcap")
    if softcap:
        scores = torch.tanh(scores / softcap) * softcap
    mask = call.attention_mask
    lowest = torch.finfo(torch.float32).min
    if mask is not None:
        rows = mask[0, head if mask.shape[1] > 1 else 0, start:stop, :n_keys]
        if rows.dtype == torch.bool:
            scores.masked_fill_(~rows, lowest)
        else:
            scores += rows.float()
    if (mask is None or call.options.get("causal_bias")) and _is_causal(call, n_queries):
        query_positions = torch.arange(start, stop, device=scores.device)[:, None] + (n_keys - n_queries)
        key_positions = torch.arange(n_keys, device=scores.device)[None, :]
        hidden = key_positions > query_positions
        window = call.options.get("sliding_window")
        if window:
            hidden |= key_positions <= query_positions - window
        scores.masked_fill_(hidden, lowest)
    return scores


def _is_causal(call: AttentionCall, n_queries: int) -> bool:
    is_causal = call.options.get("is_causal")
    if is_causal is None:
        is_causal = getattr(call.module, "is_causal", True)
    return bool(is_causal) and n_queries > 1
