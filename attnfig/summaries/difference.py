"""The difference of two attention sets over the same tokens (two models, checkpoints, prompts)."""
from __future__ import annotations

import dataclasses

import numpy as np

from ..input.data import AttentionData, as_attention
from ..errors import AttentionInputError
from ..views.model_view import model_view
from ..views.heatmap import matrix_heatmap

DIVERGING_CMAP = "RdBu_r"  # red where the first set attends more, blue where the second does


def attention_difference(first, second, tokens=None) -> AttentionData:
    """``first - second`` as `AttentionData` (``normalized=False``, values in [-1, 1]).

    Both must have the same shape; the tokens of `first` label the result.

    >>> import numpy as np
    >>> a, b = np.full((1, 1, 2, 2), 0.5), np.array([[[[1.0, 0.0], [0.5, 0.5]]]])
    >>> attention_difference(a, b).weights[0, 0].tolist()
    [[-0.5, 0.5], [0.0, 0.0]]
    """
    a, b = as_attention(first, tokens), as_attention(second, tokens)
    if a.weights.shape != b.weights.shape:
        raise AttentionInputError(
            f"Both attention sets must have the same [layers, heads, q, k] shape to be compared, "
            f"but they are {list(a.weights.shape)} and {list(b.weights.shape)}."
        )
    labelled = not all(t.isdigit() for t in a.query_tokens + b.query_tokens)  # not just position numbers
    if tokens is None and labelled and a.query_tokens != b.query_tokens:
        raise AttentionInputError(
            f"The two attention sets have different tokens ({list(a.query_tokens)[:6]}... vs "
            f"{list(b.query_tokens)[:6]}...): pass `tokens=` to label the difference anyway."
        )
    return dataclasses.replace(a, weights=a.weights - b.weights, normalized=False, is_causal=False)


def plot_difference(first, second, tokens=None, *, layer: int = 0, head: int | str = 0, ax=None, cmap=None,
                    vmax=None, **kwargs):
    """Heatmap of ``first - second`` for one head (or ``head="mean"``), centred on 0; returns the Axes."""
    diff = attention_difference(first, second, tokens).prettified()
    layer_weights = diff.weights[diff.layer_position(layer)]
    matrix = layer_weights.mean(axis=0) if head == "mean" else layer_weights[diff.head_position(head)]
    limit = vmax if vmax is not None else float(np.abs(matrix).max()) or 1.0
    ax = matrix_heatmap(matrix, diff.query_tokens, diff.key_tokens, ax=ax, cmap=cmap or DIVERGING_CMAP,
                        vmin=-limit, vmax=limit, center=0.0, cbar_kws={"label": "difference"}, **kwargs)
    ax.set_title(f"Layer {layer}, {'mean of heads' if head == 'mean' else f'head {head}'}: first \u2212 second")
    return ax


def difference_grid(first, second, tokens=None, *, cmap=None, **kwargs):
    """Layer x head grid of ``first - second`` on one diverging scale centred on 0; returns the Figure."""
    diff = attention_difference(first, second, tokens)
    limit = float(np.abs(diff.weights).max()) or 1.0
    kwargs.setdefault("vmin", -limit)
    kwargs.setdefault("vmax", limit)
    return model_view(diff, kind="heatmap", cmap=cmap or DIVERGING_CMAP, center=0.0, **kwargs)
