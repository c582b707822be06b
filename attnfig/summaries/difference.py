"""The difference of two attention sets over the same tokens (two models, checkpoints, prompts)."""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
from matplotlib.figure import Figure, SubFigure

from ..input.corpus import refuse_pooled
from ..input.data import AttentionData, as_attention
from ..errors import ArgumentError, AttentionInputError
from ..views.arguments import check_keywords, check_real
from ..views.heatmap import IMSHOW_TAKERS, MATRIX_ARGUMENTS_SET_BY_CALLER
from ..views.colors import font_points
from ..views.figures import figure_inches
from ..views.model_view import model_view
from ..views.titles import text_points, title_room, wrap_to_width
from ..options import layer_label
from ..views.heatmap import KEY_LABEL, QUERY_LABEL, matrix_heatmap

DIVERGING_CMAP = "RdBu_r"  # red where the first set attends more, blue where the second does


def attention_difference(first: Any, second: Any, tokens: Sequence[str] | None = None) -> AttentionData:
    """``first - second`` as `AttentionData` (``normalized=False``, values in [-1, 1]).

    Both must have the same shape; the tokens of `first` label the result.

    Parameters
    ----------
    first, second : attention
        Two attention sets of the same shape (anything `attnfig.as_attention` takes).
    tokens : list of str, optional
        One label per position; those of `first` by default.

    Returns
    -------
    AttentionData
        ``first - second``, not normalized (values in [-1, 1]).

    Raises
    ------
    AttentionInputError
        When the two shapes differ.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.full((1, 1, 2, 2), 0.5), np.array([[[[1.0, 0.0], [0.5, 0.5]]]])
    >>> attention_difference(a, b).weights[0, 0].tolist()
    [[-0.5, 0.5], [0.0, 0.0]]
    """
    if tokens is not None and not isinstance(tokens, str):
        tokens = list(tokens)  # an iterator is read once, for both sets
    a, b = (refuse_pooled(as_attention(item, tokens), "attention_difference") for item in (first, second))
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


NAMED_TOKENS = 3  # differing tokens that name a text before "..."


def difference_names(first: Any, second: Any, names: Sequence[str] | None = None) -> tuple[str, str]:
    """What the difference subtracts from what: `names`, or else the tokens where the two
    inputs differ ("rabbit quickly hopped", "turtle slowly crawled"), or else "first" and
    "second" (two models or checkpoints on the same text: pass `names`).

    >>> import numpy as np, attnfig
    >>> w = np.full((1, 1, 3, 3), 1 / 3)
    >>> difference_names(attnfig.as_attention(w, ["a", "cat", "sat"]), attnfig.as_attention(w, ["a", "dog", "sat"]))
    ('cat', 'dog')
    >>> difference_names(w, w, names=("fine-tuned", "base"))
    ('fine-tuned', 'base')
    """
    if names is not None:
        if (isinstance(names, str) or not isinstance(names, (list, tuple)) or len(names) != 2
                or not all(isinstance(n, str) for n in names)):
            raise ArgumentError(f"`names` must be two strings, what is subtracted from what (e.g. "
                                f"(\"fine-tuned\", \"base\")), but {names!r} was passed.")
        return names[0], names[1]
    if not (isinstance(first, AttentionData) and isinstance(second, AttentionData)):
        return "first", "second"  # arrays and model outputs carry no tokens to tell them apart
    a, b = first.prettified(), second.prettified()
    differing = [i for i, (x, y) in enumerate(zip(a.query_tokens, b.query_tokens)) if x != y]
    if not differing or all(t.isdigit() for t in a.query_tokens + b.query_tokens):
        return "first", "second"

    def words(tokens: Sequence[str]) -> str:
        shown = " ".join(tokens[i] for i in differing[:NAMED_TOKENS])
        return shown + (" ..." if len(differing) > NAMED_TOKENS else "")

    return words(a.query_tokens), words(b.query_tokens)


def difference_title(names: tuple[str, str], where: str, width_points: float, fontsize: float) -> str:
    """``"A − B, layer 3, head 2"``; when wider than `width_points`, "A − B" over
    `where`, and long names broken at the minus sign, then between words.

    >>> difference_title(("cat", "dog"), "layer 3, head 2", 500, 9)
    'cat − dog, layer 3, head 2'
    >>> difference_title(("a fine-tuned model", "the base model"), "layer 3, head 2", 120, 9)
    'a fine-tuned model −\\nthe base model\\nlayer 3, head 2'
    """
    what = f"{names[0]} \u2212 {names[1]}"
    one_line = f"{what}, {where}" if where else what
    if text_points(one_line, fontsize) <= width_points:
        return one_line
    wrapped = wrap_to_width(what, width_points, fontsize, (" \u2212 ", " "))
    return f"{wrapped}\n{where}".strip()


def plot_difference(first: Any, second: Any, tokens: Sequence[str] | None = None, *, layer: int | None = None,
                    head: int | str | None = None, ax: Axes | None = None, cmap: str | Colormap | None = None,
                    vmax: float | None = None, names: Sequence[str] | None = None, **kwargs: Any) -> Axes:
    """Heatmap of ``first - second`` for one head (or ``head="mean"``), centred on 0; returns the Axes.

    The scale runs from ``-vmax`` to ``vmax`` (by default the largest absolute difference).
    Labels thinned to fit show their positions ("5 [SEP]"), and the row and column of the
    largest absolute difference are always labelled. `**kwargs` go to `attnfig.heatmap`.

    Parameters
    ----------
    first, second : attention
        Two attention sets of the same shape (anything `attnfig.as_attention` takes).
    tokens : list of str, optional
        One label per position; those of `first` by default.
    layer : int, optional
        Original index of the layer; the first by default.
    head : int or "mean", optional
        Original index of the head, or ``"mean"``; the first by default.
    ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.
    cmap : str or Colormap, optional
        A diverging colormap; the style's by default.
    vmax : float, optional
        End of the symmetric scale; the largest absolute difference by default.
    names : (str, str), optional
        What `first` and `second` are, for the title ("A − B, layer 3, head 2"); by default
        the tokens where the two inputs differ, else "first" and "second".
    **kwargs
        Passed to `attnfig.heatmap`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    AttentionInputError
        When the two shapes differ or `layer` or `head` is out of range.
    ArgumentError
        When `names` is not two strings.

    Examples
    --------
    >>> import numpy as np
    >>> a, b = np.full((1, 1, 2, 2), 0.5), np.array([[[[1.0, 0.0], [0.5, 0.5]]]])
    >>> plot_difference(a, b, ["x", "y"], head=-1, names=("A", "B")).get_title()
    'A − B, layer 0, head 0'
    """
    check_keywords(plot_difference, kwargs, matrix_heatmap, *IMSHOW_TAKERS,
                   exclude=MATRIX_ARGUMENTS_SET_BY_CALLER + ("vmin", "vmax", "center", "cbar_kws", "labelled"))
    if vmax is not None and check_real("vmax", vmax) <= 0:
        raise ArgumentError(f"`vmax` is the half-width of a scale centred on 0: it must be > 0, but {vmax!r} was passed.")
    names = difference_names(first, second, names)
    diff = attention_difference(first, second, tokens).prettified()
    layer_weights = diff.weights[diff.layer_position(layer)]
    if isinstance(head, str) and head != "mean":
        raise ArgumentError(f"`head` must be a head index or \"mean\", but {head!r} was passed.")
    matrix = layer_weights.mean(axis=0) if isinstance(head, str) else layer_weights[diff.head_position(head)]
    limit = vmax if vmax is not None else float(np.abs(matrix).max()) or 1.0
    # The row and the column of the largest |difference| keep their labels; thinned labels carry
    # their positions ("5 [SEP]").
    largest = [(int(i),) for i in np.unravel_index(int(np.argmax(np.abs(matrix))), matrix.shape)] if matrix.size else ()
    ax = matrix_heatmap(matrix, diff.query_tokens, diff.key_tokens, ax=ax, cmap=cmap or DIVERGING_CMAP,
                        vmin=-limit, vmax=limit, center=0.0, cbar_kws={"label": "difference"},
                        labelled=tuple(largest),
                        **{"xlabel": KEY_LABEL, "ylabel": QUERY_LABEL, "numbered": True, **kwargs})
    shown_layer = diff.layer_indices[diff.layer_position(layer)]
    shown_head = "mean of heads" if isinstance(head, str) else f"head {diff.head_indices[diff.head_position(head)]}"
    ax.set_title(difference_title(names, f"layer {layer_label(shown_layer)}, {shown_head}",
                                  title_room(ax), font_points("axes.titlesize")))
    return ax


def difference_grid(first: Any, second: Any, tokens: Sequence[str] | None = None, *,
                    cmap: str | Colormap | None = None, names: Sequence[str] | None = None,
                    **kwargs: Any) -> Figure | SubFigure:
    """Layer x head grid of ``first - second`` on one diverging scale centred on 0; returns the Figure.

    `**kwargs` go to `model_view` (``vmin`` and ``vmax`` must lie on either side of 0).

    Parameters
    ----------
    first, second : attention
        Two attention sets of the same shape (anything `attnfig.as_attention` takes).
    tokens : list of str, optional
        One label per position; those of `first` by default.
    cmap : str or Colormap, optional
        A diverging colormap; the style's by default.
    names : (str, str), optional
        What `first` and `second` are, for the title ("A − B"); by default the tokens
        where the two inputs differ, else "first" and "second".
    **kwargs
        Passed to `attnfig.model_view`.

    Returns
    -------
    matplotlib.figure.Figure
        The layer x head grid with one colorbar.

    Raises
    ------
    AttentionInputError
        When the two shapes differ.
    ArgumentError
        When `names` is not two strings.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> a, b = np.full((2, 2, 3, 3), 1 / 3), np.tile(np.eye(3), (2, 2, 1, 1))
    >>> fig = attnfig.difference_grid(a, b)
    >>> round(float(fig.axes[0].images[0].get_array().min()), 3)   # 1/3 - 1 on the diagonal
    -0.667
    """
    check_keywords(difference_grid, kwargs, model_view, *IMSHOW_TAKERS,
                   exclude=("attention", "tokens", "kind", "cmap", "center", "X", "norm", "extent"))
    names = difference_names(first, second, names)
    diff = attention_difference(first, second, tokens)
    limit = float(np.abs(diff.weights).max()) or 1.0
    kwargs.setdefault("vmin", -limit)
    kwargs.setdefault("vmax", limit)
    figure = model_view(diff, kind="heatmap", cmap=cmap or DIVERGING_CMAP, center=0.0, **kwargs)
    figure.suptitle(difference_title(names, "", figure_inches(figure)[0] * 72, font_points("figure.titlesize")),
                    fontsize=mpl.rcParams["figure.titlesize"])
    return figure
