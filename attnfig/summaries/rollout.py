"""Attention rollout (Abnar and Zuidema 2020, "Quantifying Attention Flow in Transformers").

Per layer the heads are averaged, the residual connection is added as ``0.5 A + 0.5 I``,
rows are renormalised, and the layers are multiplied from the first up.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.collections import LineCollection

from ..input.data import as_attention
from ..errors import AttentionInputError, one_of_message
from ..views.heatmap import KEY_LABEL, QUERY_LABEL, matrix_heatmap
from ..views.arguments import check_keywords, check_real
from ..views.heatmap import IMSHOW_TAKERS, MATRIX_ARGUMENTS_SET_BY_CALLER
from ..views.lines import lines
from .._docstrings import with_parameters

KINDS = ("heatmap", "lines")
# The arguments of `lines` that plot_rollout decides; the others pass through its **kwargs.
LINES_ARGUMENTS_SET_HERE = ("attention", "tokens", "layer", "heads", "ax", "prettify_tokens", "legend")


@with_parameters("attention", "tokens")
def attention_rollout(attention, tokens=None, *, start_layer: int = 0, residual: float = 0.5) -> np.ndarray:
    """Rolled-out attention ``[q, k]``: how much each output position draws on each input token.

    `start_layer` is the original index of the first layer taken; `residual` the weight of
    the identity (0.5 in the paper).

    Parameters
    ----------
    start_layer : int
        Original index of the first layer rolled out.
    residual : float
        Weight of the identity added to each layer's head-averaged attention.

    Returns
    -------
    numpy.ndarray
        ``[q, k]`` rolled-out attention; each row sums to 1.

    Raises
    ------
    AttentionInputError
        When the attention is not attention (shapes, NaN, rows not summing to 1) or the
        tokens do not fit it.

    Examples
    --------
    >>> import numpy as np
    >>> attention_rollout(np.full((2, 1, 2, 2), 0.5)).tolist()   # each layer mixes to [[.75, .25], [.25, .75]]
    [[0.625, 0.375], [0.375, 0.625]]
    """
    data = as_attention(attention, tokens)
    if not data.is_self_attention:
        raise AttentionInputError("Attention rollout needs self-attention (square [q, k] with the same tokens).")
    check_real("residual", residual, low=0, high=1)
    first = data.layer_position(start_layer)
    identity = np.eye(data.weights.shape[-1])
    rollout = identity
    for layer in range(first, data.n_layers):
        mixed = (1 - residual) * data.weights[layer].mean(axis=0, dtype=np.float64) + residual * identity
        mixed /= mixed.sum(axis=-1, keepdims=True)
        rollout = mixed @ rollout
    return rollout


@with_parameters("attention", "tokens")
def plot_rollout(attention, tokens=None, *, start_layer: int = 0, residual: float = 0.5, kind: str = "heatmap",
                 ax=None, prettify_tokens: bool = True, **kwargs):
    """Draw attention rollout as a heatmap or a bipartite line plot; returns the Axes.

    Parameters
    ----------
    start_layer : int
        Original index of the first layer rolled out.
    residual : float
        Weight of the identity added to each layer's head-averaged attention.
    kind : {"heatmap", "lines"}
        Draw as `attnfig.heatmap` or as `attnfig.lines`.
    ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.
    prettify_tokens : bool
        Drop word-start marks from the token labels (`attnfig.prettify_tokens`).
    **kwargs
        Passed to `attnfig.heatmap` or `attnfig.lines`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    AttentionInputError
        When the attention is not attention (shapes, NaN, rows not summing to 1) or the
        tokens do not fit it.

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_rollout(np.full((2, 1, 3, 3), 1 / 3), ["a", "b", "c"], kind="lines", ax=ax)
    >>> len(ax.collections)
    1
    """
    if kind not in KINDS:
        raise AttentionInputError(one_of_message("kind", KINDS, kind))
    if kind == "lines":
        check_keywords(plot_rollout, kwargs, lines, LineCollection, exclude=LINES_ARGUMENTS_SET_HERE)
    else:
        check_keywords(plot_rollout, kwargs, matrix_heatmap, *IMSHOW_TAKERS, exclude=MATRIX_ARGUMENTS_SET_BY_CALLER)
    data = as_attention(attention, tokens)
    if prettify_tokens:
        data = data.prettified()
    rollout = attention_rollout(data, start_layer=start_layer, residual=residual)
    first_layer = data.layer_indices[data.layer_position(start_layer)]
    title = f"Attention rollout, layers {first_layer}\u2013{data.layer_indices[-1]}"
    if kind == "lines":
        rolled = dataclasses.replace(data, weights=rollout[None, None].astype(np.float32), layer_indices=(0,),
                                     head_indices=(0,), is_causal=False)
        ax = lines(rolled, prettify_tokens=False, ax=ax, legend=False, **kwargs)
    else:
        kwargs.setdefault("vmin", 0.0)
        kwargs.setdefault("xlabel", KEY_LABEL)
        kwargs.setdefault("ylabel", QUERY_LABEL)
        kwargs["cbar_kws"] = {"label": "rolled-out attention", **(kwargs.get("cbar_kws") or {})}
        ax = matrix_heatmap(rollout, data.query_tokens, data.key_tokens, ax=ax, **kwargs)
    ax.set_title(title)
    return ax
