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


def attention_rows(call: AttentionCall, head, start: int, stop: int, *, skip_future: bool = False):
    """Float32 weights of queries `start:stop`: ``[stop - start, keys]`` for one `head` (an int),
    ``[heads, stop - start, keys]`` for a list of heads (one batched product for them all).

    With `skip_future`, keys that every query of the chunk is causally masked from (those after
    its last query) are left out: the rows are cut at `future_cut` keys; those weights are 0.

    >>> # rows = attention_rows(call, head=2, start=0, stop=512)
    """
    import torch

    return torch.softmax(attention_scores(call, head, start, stop, skip_future=skip_future), dim=-1)


def future_cut(call: AttentionCall, stop: int) -> int:
    """How many keys queries ``:stop`` can see: all of them unless `recompute` masks the future."""
    n_queries, n_keys = call.query.shape[2], call.key.shape[2]
    if (call.attention_mask is None or call.options.get("causal_bias")) and _is_causal(call, n_queries):
        return min(n_keys, stop + n_keys - n_queries)
    return n_keys


def attention_scores(call: AttentionCall, head, start: int, stop: int, *, skip_future: bool = False):
    """The scores before the softmax, masked keys at float32's lowest value (as eager masks do)."""
    import torch

    single = not isinstance(head, (list, tuple))
    heads = [head] if single else list(head)
    n_queries, n_keys = call.query.shape[2], call.key.shape[2]
    visible = future_cut(call, stop) if skip_future else n_keys
    query = call.query[0, heads, start:stop].float()
    key = call.key[0, [key_value_head(call, h) for h in heads], :visible].float()
    scaling = call.scaling if call.scaling is not None else query.shape[-1] ** -0.5
    # (q . k) * scaling as one product: baddbmm scales inside it and needs no second pass
    scores = query.new_empty((len(heads), stop - start, visible))
    scores.baddbmm_(query, key.transpose(-1, -2), beta=0, alpha=scaling)
    softcap = call.options.get("softcap")
    if softcap:
        scores = torch.tanh(scores / softcap) * softcap
    mask = call.attention_mask
    lowest = torch.finfo(torch.float32).min
    if mask is not None:
        rows = mask[0, heads if mask.shape[1] > 1 else [0], start:stop, :visible]
        if rows.dtype == torch.bool:
            scores.masked_fill_(~rows, lowest)
        else:
            scores += rows.float()
    if (mask is None or call.options.get("causal_bias")) and _is_causal(call, n_queries):
        window = call.options.get("sliding_window")
        # without a window, keys up to the chunk's first query are seen by all its queries
        first = 0 if window else max(0, min(visible, start + n_keys - n_queries + 1))
        query_positions = torch.arange(start, stop, device=scores.device)[:, None] + (n_keys - n_queries)
        key_positions = torch.arange(first, visible, device=scores.device)[None, :]
        hidden = key_positions > query_positions
        if window:
            hidden |= key_positions <= query_positions - window
        scores[..., first:].masked_fill_(hidden, lowest)
    return scores[0] if single else scores


def _is_causal(call: AttentionCall, n_queries: int) -> bool:
    is_causal = call.options.get("is_causal")
    if is_causal is None:
        is_causal = getattr(call.module, "is_causal", True)
    return bool(is_causal) and n_queries > 1
