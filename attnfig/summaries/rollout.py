"""Attention rollout (Abnar and Zuidema 2020, "Quantifying Attention Flow in Transformers").

Per layer the heads are averaged, the residual connection is added as ``0.5 A + 0.5 I``,
rows are renormalised, and the layers are multiplied from the first up.
"""
from __future__ import annotations

from typing import Any, Sequence
from matplotlib.axes import Axes
import dataclasses

import numpy as np
from matplotlib.collections import LineCollection

from ..input.corpus import refuse_pooled
from ..input.data import as_attention
from ..errors import ArgumentError, AttentionInputError, one_of_message
from ..options import layer_label
from ..views.labels import special_positions
from .flow import attention_flow, residual_attention
from ..views.heatmap import KEY_LABEL, QUERY_LABEL, matrix_heatmap
from ..views.arguments import check_keywords, target_axes
from ..views.heatmap import IMSHOW_TAKERS, MATRIX_ARGUMENTS_SET_BY_CALLER
from ..views.lines import column_headings, lines, note_within_width
from ..views.colors import font_points, foreground_color
from ..views.figures import axes_inches
from ..views.titles import sentence_case, text_points
from .._docstrings import with_parameters

KINDS = ("heatmap", "lines")
METHODS = ("rollout", "flow")
METHOD_LABELS = {"rollout": "rolled-out attention", "flow": "attention flow"}
# The arguments of `lines` that plot_rollout decides; the others pass through its **kwargs.
LINES_ARGUMENTS_SET_HERE = ("attention", "tokens", "layer", "heads", "ax", "prettify_tokens", "legend")


@with_parameters("attention", "tokens", raises=("weights",))
def attention_rollout(attention: Any, tokens: Sequence[str] | None = None, *, start_layer: int = 0, residual: float = 0.5) -> np.ndarray:
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
    if rollout is None:  # residual_attention always keeps the start layer: this would be a bug
        raise AttentionInputError("Attention rollout found no layer to multiply: check `start_layer`.")
    return rollout


@with_parameters("attention", "tokens", returns="axes", raises=("weights",))
def plot_rollout(attention: Any, tokens: Sequence[str] | None = None, *, start_layer: int = 0, residual: float = 0.5,
                 kind: str = "heatmap", method: str = "rollout", exclude_special: bool = False,
                 query: int | Sequence[int] | None = None, ax: Axes | None = None,
                 prettify_tokens: bool = True, **kwargs: Any) -> Axes:
    """Draw attention rollout (or attention flow) as a heatmap or a bipartite line plot; returns the Axes.

    ``method="flow"`` draws `attnfig.attention_flow` instead of the rollout: exact maximum
    flows, seconds for a short text but minutes for every query of a long one, so `query`
    (a position or a list of them, as in `attention_flow`) keeps only those rows.

    The rollout is computed over every token; ``exclude_special=True`` then leaves the
    special tokens' rows and columns out of the figure (not renormalised: the colors scale
    to what remains, so [CLS]'s large column no longer saturates it), and ``query=i`` (an
    original position) shows that query's row only. The title says both. With
    ``kind="lines"`` a line's opacity runs over the range of the values shown,
    ``(v - min) / (max - min)``: the smallest value is clear, the largest opaque (flows are
    nearly uniform, 0.07-0.17 on a short text, and scaled to the maximum alone would all be
    half opaque); the axis says so ("opacity: attention flow from 0.07 (clear) to 0.17 (opaque)").

    Rollout and flow multiply attention weights (rows summing to 1): norms
    (`attnfig.attention_norms`), raw scores and differences are refused.

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
    exclude_special : bool
        Leave the special tokens' rows and columns out of the figure (computed over every token).
    query : int or list of int, optional
        The query rows to show (original positions); with ``method="flow"`` only these are computed.
    ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.
    prettify_tokens : bool
        Drop word-start marks from the token labels (`attnfig.prettify_tokens`).
    **kwargs
        Passed to `attnfig.heatmap` or `attnfig.lines`.

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> ax = plot_rollout(np.full((2, 1, 3, 3), 1 / 3), ["a", "b", "c"], kind="lines", ax=ax)
    >>> len(ax.collections)
    1
    >>> ax = plot_rollout(np.full((2, 1, 3, 3), 1 / 3), ["[CLS]", "b", "c"], exclude_special=True, query=1)
    >>> [t.get_text() for t in ax.get_xticklabels()], ax.images[0].get_array().shape
    (['b', 'c'], (1, 2))
    """
    if kind not in KINDS:
        raise AttentionInputError(one_of_message("kind", KINDS, kind))
    if method not in METHODS:
        raise AttentionInputError(one_of_message("method", METHODS, method))
    if kind == "lines":
        check_keywords(plot_rollout, kwargs, lines, LineCollection, exclude=LINES_ARGUMENTS_SET_HERE)
    else:
        check_keywords(plot_rollout, kwargs, matrix_heatmap, *IMSHOW_TAKERS, exclude=MATRIX_ARGUMENTS_SET_BY_CALLER)
    data = refuse_pooled(as_attention(attention, tokens), "plot_rollout")
    if prettify_tokens:
        data = data.prettified()
    shown = np.ones(len(data.key_tokens), dtype=bool)
    if exclude_special:
        shown = ~np.isin(np.arange(len(shown)), special_positions(data.key_tokens))
    rows = _query_rows(query, shown)
    if method == "rollout":
        matrix = attention_rollout(data, start_layer=start_layer, residual=residual)[np.ix_(np.asarray(rows), shown)]
    else:
        matrix = attention_flow(data, query=rows, residual=residual, start_layer=start_layer)[:, shown]
    first_layer = data.layer_indices[data.layer_position(start_layer)]
    name = "Attention rollout" if method == "rollout" else "Attention flow"
    title = f"{name}, layers {layer_label(first_layer)}\u2013{layer_label(data.layer_indices[-1])}"
    lines_below = ["special tokens left out"] if exclude_special else []
    single = _single_query(query)
    if single is not None:
        lines_below.append(f"query {query} ({data.query_tokens[single]})")
    if lines_below:  # one line below the title, in sentence case
        title += "\n" + sentence_case(", ".join(lines_below))
    query_tokens = [data.query_tokens[i] for i in rows]
    key_tokens = [t for t, keep in zip(data.key_tokens, shown) if keep]
    if kind == "lines":
        # Opacity over the range shown (flows are nearly uniform): min clear, max opaque; the axis says so.
        smallest, largest = (float(matrix.min()), float(matrix.max())) if matrix.size else (0.0, 0.0)
        scaled = opacity_scale(matrix, smallest, largest)
        ax = target_axes(ax)
        note = opacity_note(METHOD_LABELS[method], smallest, largest)
        size = font_points("legend.fontsize")
        if text_points(note, size) > axes_inches(ax)[0] * 72:
            note = note.replace(" from ", "\nfrom ", 1)  # wider than the Axes: the range on a line of its own
        ax.set_xlabel(note, fontsize=size)
        rolled = dataclasses.replace(data, weights=_square(scaled, rows, shown)[None, None].astype(np.float32),
                                     query_tokens=tuple(key_tokens), key_tokens=tuple(key_tokens),
                                     layer_indices=(0,), head_indices=(0,), is_causal=False, sentence_b_start=None)
        if single is not None:
            kwargs["focus"] = int(shown[:single].sum())  # the query's place among the kept tokens
        kwargs.setdefault("palette", [foreground_color()])  # one value: no head's color
        ax = lines(rolled, prettify_tokens=False, ax=ax, legend=False, **kwargs)
        note_within_width(ax)
        column_headings(ax, rolled)  # "query" and "key" above the columns, as in head_view
    else:
        kwargs.setdefault("vmin", 0.0)
        kwargs.setdefault("xlabel", KEY_LABEL)
        kwargs.setdefault("ylabel", QUERY_LABEL)
        kwargs["cbar_kws"] = {"label": METHOD_LABELS[method], **(kwargs.get("cbar_kws") or {})}
        kwargs.setdefault("numbered", (np.asarray(rows), np.flatnonzero(shown)))  # thinned labels: "17 the", as heatmap
        ax = matrix_heatmap(matrix, query_tokens, key_tokens, ax=ax, **kwargs)
    ax.set_title(title)
    return ax


def opacity_scale(matrix: np.ndarray, smallest: float, largest: float) -> np.ndarray:
    """Opacities ``(v - smallest) / (largest - smallest)``; values all equal are opaque (or clear at 0).

    >>> opacity_scale(np.array([0.07, 0.12, 0.17]), 0.07, 0.17).round(2).tolist()
    [0.0, 0.5, 1.0]
    """
    if largest > smallest:
        return (matrix - smallest) / (largest - smallest)
    return matrix / largest if largest > 0 else matrix


def opacity_note(label: str, smallest: float, largest: float) -> str:
    """What a line's opacity means: the range of the values shown, from clear to opaque.

    >>> opacity_note("attention flow", 0.0712, 0.1634)
    'opacity: attention flow from 0.071 (clear) to 0.16 (opaque)'
    """
    if largest <= smallest:
        return f"opacity: {label}, all {largest:.2g} (opaque)"
    return f"opacity: {label} from {smallest:.2g} (clear) to {largest:.2g} (opaque)"


def _single_query(query: Any) -> int | None:
    """`query` when it is one position (an int or a 0-d array), else None (a list, or every token)."""
    return int(query) if query is not None and np.ndim(query) == 0 else None


def _query_rows(query, shown: np.ndarray) -> list[int]:
    """The query rows shown: `query` (a position or a list of them), or every kept token."""
    if query is None:
        return [int(i) for i in np.flatnonzero(shown)]
    rows = []
    for position in np.atleast_1d(np.asarray(query, dtype=object)):
        if isinstance(position, bool) or not isinstance(position, (int, np.integer)) or not -len(shown) <= position < len(shown):
            raise ArgumentError(f"`query` must be token positions in [0, {len(shown) - 1}], but {query!r} was passed.")
        position = int(position) % len(shown)
        if not shown[position]:
            raise ArgumentError(f"`query={position}` is a special token, left out by `exclude_special=True`: "
                                "choose another query or keep special tokens.")
        rows.append(position)
    return rows


def _square(matrix: np.ndarray, rows, shown: np.ndarray) -> np.ndarray:
    """The kept tokens' square matrix for the line view (a single query row in place, others 0)."""
    kept = np.flatnonzero(shown)
    if len(rows) == len(kept):
        return matrix
    square = np.zeros((len(kept), len(kept)))
    square[np.searchsorted(kept, rows)] = matrix
    return square
