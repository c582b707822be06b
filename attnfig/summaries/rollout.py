"""Attention rollout (Abnar and Zuidema 2020, "Quantifying Attention Flow in Transformers").

Per layer the heads are averaged, the residual connection is added as ``0.5 A + 0.5 I``,
rows are renormalised, and the layers are multiplied from the first up.
"""
from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.collections import LineCollection

from ..input.corpus import refuse_pooled
from ..input.data import as_attention
from ..errors import AttentionInputError, one_of_message
from .flow import attention_flow, residual_attention
from ..views.heatmap import KEY_LABEL, QUERY_LABEL, matrix_heatmap
from ..views.arguments import check_keywords
from ..views.heatmap import IMSHOW_TAKERS, MATRIX_ARGUMENTS_SET_BY_CALLER
from ..views.lines import lines
from .._docstrings import with_parameters

KINDS = ("heatmap", "lines")
METHODS = ("rollout", "flow")
METHOD_LABELS = {"rollout": "rolled-out attention", "flow": "attention flow"}
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
    data = refuse_pooled(as_attention(attention, tokens), "attention_rollout")
    rollout = None
    for mixed in residual_attention(data, residual=residual, start_layer=start_layer):
        rollout = mixed if rollout is None else mixed @ rollout
    return rollout


@with_parameters("attention", "tokens")
def plot_rollout(attention, tokens=None, *, start_layer: int = 0, residual: float = 0.5, kind: str = "heatmap",
                 method: str = "rollout", query=None, ax=None, prettify_tokens: bool = True, **kwargs):
    """Draw attention rollout (or attention flow) as a heatmap or a bipartite line plot; returns the Axes.

    ``method="flow"`` draws `attnfig.attention_flow` instead of the rollout: exact maximum
    flows, seconds for a short text but minutes for every query of a long one, so `query`
    (a position or a list of them, as in `attention_flow`) keeps only those rows.

    Parameters
    ----------
    start_layer : int
        Original index of the first layer rolled out.
    residual : float
        Weight of the identity added to each layer's head-averaged attention.
    kind : {"heatmap", "lines"}
        Draw as `attnfig.heatmap` or as `attnfig.lines`.
    method : {"rollout", "flow"}
        Attention rollout, or exact attention flow (`attnfig.attention_flow`).
    query : int or list of int, optional
        With ``method="flow"``: the query rows to compute; all by default.
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
    if method not in METHODS:
        raise AttentionInputError(one_of_message("method", METHODS, method))
    if query is not None and method == "rollout":
        raise AttentionInputError("`query` selects the rows of attention flow: pass it with method=\"flow\".")
    if kind == "lines":
        check_keywords(plot_rollout, kwargs, lines, LineCollection, exclude=LINES_ARGUMENTS_SET_HERE)
    else:
        check_keywords(plot_rollout, kwargs, matrix_heatmap, *IMSHOW_TAKERS, exclude=MATRIX_ARGUMENTS_SET_BY_CALLER)
    data = refuse_pooled(as_attention(attention, tokens), "plot_rollout")
    if prettify_tokens:
        data = data.prettified()
    query_tokens = data.query_tokens
    if method == "rollout":
        matrix = attention_rollout(data, start_layer=start_layer, residual=residual)
    else:
        rows = list(range(len(query_tokens))) if query is None else query
        matrix = attention_flow(data, query=rows, residual=residual, start_layer=start_layer)
        query_tokens = tuple(np.array(query_tokens)[[int(q) % len(query_tokens) for q in np.atleast_1d(rows)]])
    first_layer = data.layer_indices[data.layer_position(start_layer)]
    name = "Attention rollout" if method == "rollout" else "Attention flow"
    title = f"{name}, layers {first_layer}\u2013{data.layer_indices[-1]}"
    if kind == "lines":
        rolled = dataclasses.replace(data, weights=matrix[None, None].astype(np.float32), layer_indices=(0,),
                                     head_indices=(0,), is_causal=False, query_tokens=query_tokens)
        ax = lines(rolled, prettify_tokens=False, ax=ax, legend=False, **kwargs)
    else:
        kwargs.setdefault("vmin", 0.0)
        kwargs.setdefault("xlabel", KEY_LABEL)
        kwargs.setdefault("ylabel", QUERY_LABEL)
        kwargs["cbar_kws"] = {"label": METHOD_LABELS[method], **(kwargs.get("cbar_kws") or {})}
        ax = matrix_heatmap(matrix, query_tokens, data.key_tokens, ax=ax, **kwargs)
    ax.set_title(title)
    return ax
