"""Attention over an image: a vision transformer's attention laid over the picture it read.

The figures of DINO (Caron et al. 2021) and of attention rollout on ViT (Abnar and Zuidema
2020): the attention of one query token (by default [CLS]) to each image patch, reshaped to
the patch grid and drawn over the image as the model saw it (after resizing and cropping).
Prefix tokens ([CLS], DeiT's distillation token, register tokens) are left out of the map.
"""
from __future__ import annotations

import math
import re
from typing import Any, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure, SubFigure
from matplotlib.image import AxesImage

from .._compat import root_figure
from ..errors import ArgumentError, AttentionInputError
from ..input.data import AttentionData, as_attention
from ..options import layer_label
from ..themes import remember_style
from ..views.arguments import check_keywords, check_real, target_axes
from ..views.colors import colormap, font_points, foreground_color
from ..views.figures import figure_inches, target_figure
from ..views.titles import sentence_case
from .rollout import attention_rollout

MODES = ("overlay", "threshold")
_PATCH_LABEL = re.compile(r"^\((\d+),(\d+)\)$")
# The grid of head panels: a panel with its title is this many image heights tall; the
# figure title, a colorbar beside the panels and one below them take these inches.
PANEL_WITH_TITLE = 1.25
SUPTITLE_INCHES = 0.3
COLORBAR_BESIDE_INCHES = 0.8
COLORBAR_LABEL = "attention weight"
COLORBAR_SHRINK = 0.8
THRESHOLD = 0.6  # DINO's: the patches that hold 60% of the mass stay visible
# The arguments plot_image_attention sets on the map's imshow itself.
_SET_HERE = ("X", "extent", "cmap", "alpha", "norm", "vmin", "vmax", "interpolation", "origin", "zorder")


def image_attention_map(
    attention: Any,
    *,
    layer: int = -1,
    head: int | str = "mean",
    query: int | str = 0,
    rollout: bool = False,
    grid: tuple[int, int] | None = None,
    residual: float = 0.5,
) -> np.ndarray:
    """Attention of one query token to each image patch, as a ``[rows, columns]`` array.

    Parameters
    ----------
    attention : AttentionData or attention input
        A vision transformer's self-attention, e.g. ``attnfig.from_model(vit, processor, image)``
        (which keeps the patch grid), or anything `attnfig.as_attention` reads (then pass `grid`).
    layer : int, default -1
        Original index of the layer (negative counts back; -1 is the last, as in DINO's figures).
        With ``rollout=True``: the last layer the rollout runs through.
    head : int or "mean", default "mean"
        Original index of a head, or "mean" for the mean of the heads.
    query : int or str, default 0
        Position of the query token (0 is [CLS]), or its label ("[CLS]", "[DIST]", "(3,4)").
    rollout : bool, default False
        Take the row of attention rollout (heads averaged, residual added, layers multiplied
        from the first up to `layer`) instead of one layer's weights.
    grid : (rows, columns), optional
        The patch grid; by default the one `from_model` read from the model, or the one the
        "(row,col)" token labels give.
    residual : float, default 0.5
        With ``rollout=True``: the weight of the identity in each layer (0.5 in the paper).

    Returns
    -------
    numpy.ndarray
        ``[rows, columns]`` float64: the query's attention to each patch, in raster order. Prefix
        tokens are left out, so the map sums to the share of attention that went to patches.

    Raises
    ------
    AttentionInputError
        When the grid is unknown or does not fit the attention (too many patches), or the
        attention is not self-attention.
    ArgumentError
        For an unknown head, layer or query, or `head` with ``rollout=True``.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.full((1, 2, 5, 5), 0.2)                     # [CLS] + a 2 x 2 grid of patches
    >>> attnfig.image_attention_map(weights, grid=(2, 2)).round(2).tolist()
    [[0.2, 0.2], [0.2, 0.2]]
    """
    data = as_attention(attention)
    if not data.is_self_attention:
        raise AttentionInputError("An image attention map needs a vision transformer's self-attention ([q, k] square).")
    rows, columns = image_grid(data, grid)
    prefix = data.weights.shape[-1] - rows * columns
    query_position = _query_position(data, query)
    layer_position = data.layer_position(layer)
    if rollout:
        if head != "mean":
            raise ArgumentError(f"Attention rollout averages the heads: drop `head` ({head!r}) or set rollout=False.")
        upto = data.select(layers=data.layer_indices[: layer_position + 1], arguments=("layer", "head"))
        row = attention_rollout(upto, residual=residual)[query_position]
    else:
        layer_weights = data.weights[layer_position]
        if isinstance(head, str):
            if head != "mean":
                raise ArgumentError(f"`head` must be a head index or 'mean', but {head!r} was passed.")
            row = layer_weights[:, query_position].mean(axis=0, dtype=np.float64)
        else:
            row = layer_weights[data.head_position(head), query_position].astype(np.float64)
    return np.asarray(row[prefix:], dtype=np.float64).reshape(rows, columns)


def image_grid(data: AttentionData, grid: tuple[int, int] | None = None) -> tuple[int, int]:
    """(rows, columns) of the patch grid: `grid`, the model's (from `from_model`), or the labels'.

    >>> import attnfig
    >>> data = attnfig.as_attention(np.full((1, 1, 3, 3), 1 / 3), ["[CLS]", "(0,0)", "(0,1)"])
    >>> image_grid(data)
    (1, 2)
    """
    n_keys = data.weights.shape[-1]
    if grid is None:
        grid = data.patch_grid or _grid_from_labels(data.key_tokens)
    if grid is None:
        raise AttentionInputError(
            f"The patch grid of these {n_keys} positions is unknown: pass `grid=(rows, columns)`, or get the "
            "attention with `attnfig.from_model(vit, image_processor, image)`, which reads it from the model."
        )
    try:
        rows, columns = (int(side) for side in grid)
    except (TypeError, ValueError):
        raise ArgumentError(f"`grid` must be (rows, columns), but {grid!r} was passed.") from None
    if rows < 1 or columns < 1 or rows * columns > n_keys:
        raise AttentionInputError(
            f"A grid of {rows} x {columns} patches does not fit attention over {n_keys} positions "
            f"({rows * columns} patches, {n_keys - rows * columns} prefix tokens): check `grid`."
        )
    return rows, columns


def _grid_from_labels(tokens: Sequence[str]) -> tuple[int, int] | None:
    cells = [match.groups() for match in map(_PATCH_LABEL.match, tokens) if match]
    if not cells:
        return None
    return max(int(row) for row, _ in cells) + 1, max(int(column) for _, column in cells) + 1


def _query_position(data: AttentionData, query: int | str) -> int:
    if isinstance(query, str):
        if query not in data.query_tokens:
            raise ArgumentError(f"`query` {query!r} is not a token of this input; tokens start {list(data.query_tokens[:4])}.")
        return data.query_tokens.index(query)
    if isinstance(query, bool) or not isinstance(query, (int, np.integer)):
        raise ArgumentError(f"`query` must be a token position or label, but {query!r} was passed.")
    n_queries = data.weights.shape[2]
    if not -n_queries <= query < n_queries:
        raise ArgumentError(f"`query` {query} is out of range for {n_queries} positions.")
    return int(query) % n_queries


def as_image(image: Any) -> np.ndarray:
    """`image` (PIL image, ``[height, width]`` or ``[height, width, 3 or 4]`` array) as an array imshow takes.

    >>> as_image(np.zeros((2, 3, 3), dtype=np.uint8)).shape
    (2, 3, 3)
    """
    array = np.asarray(image)
    if array.dtype == object or array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[-1] not in (3, 4)):
        raise ArgumentError(
            "`image` must be a PIL image or an array [height, width] or [height, width, 3 or 4], "
            f"but {type(image).__name__} of shape {list(array.shape)} was passed."
        )
    if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool) or min(array.shape[:2]) < 1:
        raise ArgumentError(f"`image` must hold numbers, but dtype {array.dtype} was passed.")
    return array


def _image_of(data: AttentionData, image: Any) -> np.ndarray:
    if image is None:
        if data.image is None:
            raise ArgumentError(
                "No image to draw on: pass `image=`, or get the attention with "
                "`attnfig.from_model(vit, image_processor, image)`, which keeps the image as the model saw it."
            )
        return data.image
    return as_image(image)


def _title(data: AttentionData, layer: int, head: int | str, query: int | str, rollout: bool) -> str:
    """Short enough for a panel a third of a column wide; the query is named when it is not the first token."""
    layer_index = data.layer_indices[data.layer_position(layer)]
    position = _query_position(data, query)
    prefix = "" if position == 0 else f"{data.query_tokens[position]}: "
    if rollout:
        return prefix + sentence_case(f"rollout to layer {layer_label(layer_index)}")
    heads = "mean" if isinstance(head, str) else f"head {data.head_indices[data.head_position(head)]}"  # "mean", checked
    return prefix + sentence_case(f"layer {layer_label(layer_index)}, {heads}")


def plot_image_attention(
    attention: Any,
    image: Any = None,
    *,
    layer: int = -1,
    head: int | str = "mean",
    query: int | str = 0,
    rollout: bool = False,
    grid: tuple[int, int] | None = None,
    mode: str = "overlay",
    alpha: float = 0.6,
    threshold: float = THRESHOLD,
    cmap: Any = None,
    vmin: float | None = None,
    vmax: float | None = None,
    interpolation: str = "nearest",
    cbar: bool = False,
    cbar_kws: dict | None = None,
    title: str | None = None,
    ax: Any = None,
    **kwargs: Any,
) -> Axes:
    """Draw a query's attention to each image patch over the image; returns the Axes.

    Parameters
    ----------
    attention : AttentionData or attention input
        A vision transformer's self-attention (see `image_attention_map`).
    image : PIL image or array, optional
        The image to draw on. By default the one `from_model` kept (as the model saw it, after
        resizing and cropping). Another image is stretched to the same extent.
    layer, head, query, rollout, grid
        Which map, as in `image_attention_map`.
    mode : {"overlay", "threshold"}, default "overlay"
        "overlay" lays the map over the image as a colormap with opacity `alpha`; "threshold"
        keeps the patches that hold `threshold` of the map's mass visible and dims the rest,
        with an outline, as DINO's figures do.
    alpha : float, default 0.6
        Opacity of the overlay (or of the dimming, in "threshold" mode).
    threshold : float, default 0.6
        Share of the map's mass the kept patches hold, in "threshold" mode; the default title
        says it on a second line ("60% of mass kept").
    cmap : str or Colormap, optional
        The overlay's colormap; the style's ``image.cmap`` by default.
    vmin, vmax : float, optional
        Color limits of the overlay (the map's range by default); give the same ones to panels
        that should read on one scale.
    interpolation : str, default "nearest"
        How the map is resampled to the image: "nearest" shows the patches as they are,
        "bilinear" smooths them.
    cbar : bool, default False
        Add a colorbar beside the image, labelled "attention weight" as `image_attention_grid`'s
        ("rolled-out attention" with ``rollout=True``).
    cbar_kws : dict, optional
        Keywords for ``Figure.colorbar``.
    title : str, optional
        The Axes title; by default it names the query, layer and head.
    ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.
    **kwargs
        Passed to the overlay's ``imshow`` (an `AxesImage`).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes, with the image as its first `AxesImage` and the map as its second.

    Raises
    ------
    ArgumentError
        For an unknown mode, a bad image, `alpha` or `threshold` outside [0, 1], or an unknown keyword.
    AttentionInputError
        When the patch grid is unknown or does not fit (see `image_attention_map`).

    Examples
    --------
    >>> import numpy as np, matplotlib.pyplot as plt, attnfig
    >>> weights = np.random.default_rng(0).dirichlet(np.ones(5), size=(1, 2, 5))
    >>> image = np.zeros((32, 32, 3))
    >>> ax = attnfig.plot_image_attention(weights, image, grid=(2, 2))
    >>> [im.get_extent() for im in ax.images]
    [[-0.5, 31.5, 31.5, -0.5], [-0.5, 31.5, 31.5, -0.5]]
    """
    check_keywords(plot_image_attention, kwargs, AxesImage, exclude=_SET_HERE)
    if mode not in MODES:
        raise ArgumentError(f"The value for `mode` must be one of {list(MODES)}, but {mode!r} was passed.")
    alpha = check_real("alpha", alpha, low=0, high=1)
    threshold = check_real("threshold", threshold, low=0, high=1)
    data = as_attention(attention)
    attention_map = image_attention_map(data, layer=layer, head=head, query=query, rollout=rollout, grid=grid)
    picture = _image_of(data, image)
    ax = target_axes(ax)
    remember_style(ax.figure)
    # The photograph and the map stay two images in a PDF or SVG: merged into one
    # (``image.composite_image``), they are resampled once more and the PDF shows a weaker
    # overlay in other colors than the PNG.
    root_figure(ax).suppressComposite = True
    height, width = picture.shape[:2]
    extent = (-0.5, width - 0.5, height - 0.5, -0.5)
    ax.imshow(picture, extent=extent, interpolation="antialiased", cmap="gray" if picture.ndim == 2 else None)
    if mode == "overlay":
        overlay = ax.imshow(attention_map, extent=extent, cmap=colormap(cmap), alpha=alpha, vmin=vmin, vmax=vmax,
                            interpolation=interpolation, **kwargs)
    else:
        overlay = _threshold_overlay(ax, attention_map, extent, threshold, alpha, interpolation, kwargs)
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_xticks([])
    ax.set_yticks([])
    if title is None:
        title = _title(data, layer, head, query, rollout)
        if mode == "threshold":  # the panel says what it keeps, as DINO's captions do
            title += "\n" + threshold_note(threshold)
    ax.set_title(title)
    if cbar:
        # The grid's name for the same quantity: one figure, one word for it (the title names the query).
        label = "rolled-out attention" if rollout else COLORBAR_LABEL
        # A colorbar as tall as the image as drawn (equal aspect), beside it.
        cax = ax.inset_axes([1.04, 0.0, 0.05, 1.0])
        ax.figure.colorbar(overlay, cax=cax, **{"label": label, **(cbar_kws or {})})
    return ax


def threshold_note(threshold: float) -> str:
    """What a "threshold" panel keeps, for its title: the share of the map's mass its visible patches hold.

    >>> threshold_note(0.6), threshold_note(0.655)
    ('60% of mass kept', '65.5% of mass kept')
    """
    return f"{100 * threshold:.3g}% of mass kept"


def kept_patches(attention_map: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean mask of the fewest patches that hold `threshold` of the map's mass (DINO's rule).

    >>> kept_patches(np.array([[0.5, 0.1], [0.3, 0.1]]), 0.6).tolist()
    [[True, False], [True, False]]
    """
    flat = attention_map.ravel()
    total = flat.sum()
    if total <= 0:
        return np.zeros(attention_map.shape, dtype=bool)
    order = np.argsort(flat)[::-1]
    held = np.cumsum(flat[order]) / total
    count = int(np.searchsorted(held, threshold - 1e-12) + 1)
    mask = np.zeros(flat.shape, dtype=bool)
    mask[order[:count]] = True
    return mask.reshape(attention_map.shape)


def kept_outline(kept: np.ndarray, extent) -> np.ndarray:
    """Segments ``[n, 2, 2]`` along the patch edges between kept and dropped patches (and the border).

    >>> kept_outline(np.array([[True]]), (0, 1, 1, 0)).shape          # one patch: its four sides
    (4, 2, 2)
    """
    rows, columns = kept.shape
    x = np.linspace(extent[0], extent[1], columns + 1)
    y = np.linspace(extent[3], extent[2], rows + 1)
    padded = np.pad(kept, 1)
    inside = padded[1:-1, 1:-1]
    segments = []
    # A kept cell's side is an edge where its neighbour on that side is dropped.
    for d_row, d_column in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        neighbour = padded[1 + d_row:rows + 1 + d_row, 1 + d_column:columns + 1 + d_column]
        cell_rows, cell_columns = np.nonzero(inside & ~neighbour)
        if d_row:
            edge_y = y[cell_rows + (d_row > 0)]
            segments.append(np.stack([np.stack([x[cell_columns], edge_y], -1),
                                      np.stack([x[cell_columns + 1], edge_y], -1)], 1))
        else:
            edge_x = x[cell_columns + (d_column > 0)]
            segments.append(np.stack([np.stack([edge_x, y[cell_rows]], -1),
                                      np.stack([edge_x, y[cell_rows + 1]], -1)], 1))
    return np.concatenate(segments) if segments else np.zeros((0, 2, 2))


def _threshold_overlay(ax, attention_map, extent, threshold, alpha, interpolation, kwargs):
    """The dropped patches dimmed in the figure's background color, the kept ones outlined."""
    kept = kept_patches(attention_map, threshold)
    background = mpl.colors.to_rgba(mpl.rcParams["figure.facecolor"])
    dim = np.zeros((*kept.shape, 4))
    dim[..., :3] = background[:3]
    dim[..., 3] = np.where(kept, 0.0, alpha)
    overlay = ax.imshow(dim, extent=extent, interpolation=interpolation, **kwargs)
    outline = LineCollection(kept_outline(kept, extent), colors=[foreground_color()],  # type: ignore[arg-type]  # stubs: an array is a sequence of segments
                             linewidths=mpl.rcParams["lines.linewidth"] * 0.6)
    ax.add_collection(outline, autolim=False)
    return overlay


def image_attention_grid(
    attention: Any,
    image: Any = None,
    *,
    layer: int = -1,
    heads: Sequence[int | str] | None = None,
    ncols: int | None = None,
    query: int | str = 0,
    grid: tuple[int, int] | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    cbar: bool = True,
    figsize: tuple[float, float] | None = None,
    figure: Any = None,
    **kwargs: Any,
) -> Figure | SubFigure:
    """One panel per head of a layer, each head's attention over the image; returns the Figure.

    DINO's figure of the last layer's heads. Every panel shares one color scale (the largest
    value of all panels, unless `vmin`/`vmax` are given), so a color means the same weight in
    each panel; one colorbar says so.

    Parameters
    ----------
    attention : AttentionData or attention input
        A vision transformer's self-attention (see `image_attention_map`).
    image : PIL image or array, optional
        The image; by default the one `from_model` kept.
    layer : int, default -1
        Original index of the layer (-1: the last).
    heads : list of int or "mean", optional
        The heads to show, in order; by default every head the data holds. "mean" adds the
        mean of the heads as a panel.
    ncols : int, optional
        Panels per row; by default, in a figure of a given size (`figsize`, `figure`), the
        number that gives the largest panels, else as many as keep them about 0.8 in wide
        or more, in rows as full as can be.
    query, grid
        As in `image_attention_map`.
    vmin, vmax : float, optional
        The shared color limits.
    cbar : bool, default True
        One colorbar for every panel (in "overlay" mode).
    figsize : (width, height), optional
        Size of the new pyplot figure; by default the style's figure width, and the height
        the panels need.
    figure : Figure or SubFigure, optional
        Draw into this figure (e.g. a panel of ``fig.subfigures``) instead of a new one
        (which keeps its own size: pass `figsize` or `figure`, not both).
    **kwargs
        Passed to `plot_image_attention` for each panel (`mode`, `alpha`, `cmap`...). With
        ``mode="threshold"`` the figure's title says the share of mass kept.

    Returns
    -------
    matplotlib.figure.Figure or SubFigure
        The figure drawn on, one Axes per head (then the colorbar's).

    Raises
    ------
    ArgumentError
        For an empty or unknown head selection, a bad `ncols`, `figsize` with `figure`, or
        the arguments `plot_image_attention` refuses.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.random.default_rng(0).dirichlet(np.ones(5), size=(1, 3, 5))
    >>> fig = attnfig.image_attention_grid(weights, np.zeros((32, 32)), grid=(2, 2))
    >>> len(fig.axes)                                           # three heads and the colorbar
    4
    """
    data = as_attention(attention)
    picture = _image_of(data, image)
    heads = list(data.head_indices if heads is None else heads)
    if not heads:
        raise ArgumentError("`heads` is empty: pass at least one head index (or None for every head).")
    maps = [image_attention_map(data, layer=layer, head=head, query=query, grid=grid) for head in heads]
    shared_vmin = float(min(m.min() for m in maps)) if vmin is None else vmin
    shared_vmax = float(max(m.max() for m in maps)) if vmax is None else vmax
    if shared_vmax <= shared_vmin:
        shared_vmax = shared_vmin + 1e-12
    colorbar = cbar and kwargs.get("mode", "overlay") == "overlay"
    aspect = picture.shape[0] / picture.shape[1]
    size = figsize if figure is None else figure_inches(figure)
    if ncols is None:
        if size:
            ncols = _filling_columns(len(heads), size, aspect, colorbar)
        else:  # panels 0.8 in wide or more, in rows as full as can be (6 heads: 2 x 3, not 4 + 2)
            widest = max(1, min(len(heads), math.floor(mpl.rcParams["figure.figsize"][0] / 0.8)))
            ncols = math.ceil(len(heads) / math.ceil(len(heads) / widest))
    elif isinstance(ncols, bool) or not isinstance(ncols, (int, np.integer)) or ncols < 1:
        raise ArgumentError(f"`ncols` must be a positive integer, but {ncols!r} was passed.")
    nrows = math.ceil(len(heads) / ncols)
    if size:
        below = colorbar and _colorbar_below(size[1] - SUPTITLE_INCHES)
    else:
        width = mpl.rcParams["figure.figsize"][0]
        rows_inches = nrows * ((width - colorbar * COLORBAR_BESIDE_INCHES) / ncols) * aspect * PANEL_WITH_TITLE
        below = colorbar and _colorbar_below(rows_inches)
        if below:
            rows_inches = nrows * (width / ncols) * aspect * PANEL_WITH_TITLE
        figsize = (width, min(9.0, rows_inches + SUPTITLE_INCHES + below * _colorbar_below_inches()))
    figure = target_figure(figure, figsize=figsize)
    axes = np.atleast_1d(figure.subplots(nrows, ncols, squeeze=False)).ravel()
    layer_index = data.layer_indices[data.layer_position(layer)]
    for ax, head in zip(axes, heads):
        plot_image_attention(data, picture, layer=layer, head=head, query=query, grid=grid, vmin=shared_vmin,
                             vmax=shared_vmax, ax=ax, title=sentence_case("mean" if head == "mean" else f"head {head}"), **kwargs)
    for ax in axes[len(heads):]:
        ax.set_axis_off()
    suptitle = f"Layer {layer_label(layer_index)}: attention from {data.query_tokens[_query_position(data, query)]}"
    if kwargs.get("mode") == "threshold":
        suptitle += f", {threshold_note(kwargs.get('threshold', THRESHOLD))}"
    figure.suptitle(suptitle)
    if colorbar:
        figure.colorbar(axes[0].images[1], ax=list(axes), label=COLORBAR_LABEL, shrink=COLORBAR_SHRINK,
                        location="bottom" if below else "right", aspect=40 if below else 20)
    return figure


def _colorbar_below(rows_inches: float) -> bool:
    """Whether the colorbar goes below the panels: beside rows of `rows_inches`, its label
    (about half a font size a character) would be longer than the bar and leave the figure."""
    label_inches = len(COLORBAR_LABEL) * 0.5 * font_points("axes.labelsize") / 72
    return bool(label_inches > COLORBAR_SHRINK * rows_inches)


def _colorbar_below_inches() -> float:
    """A colorbar below the panels: its bar, tick labels and label (a line and a half each)."""
    return 0.1 + 1.5 * (font_points("xtick.labelsize") + font_points("axes.labelsize")) / 72 + 0.05


def _filling_columns(n_panels: int, size: tuple[float, float], aspect: float, colorbar: bool) -> int:
    """The columns that give `n_panels` panels of height/width `aspect` the largest side in a
    figure of `size` inches, with its title and colorbar (fewer columns on a tie).

    >>> _filling_columns(6, (5.5, 3.4), 1.0, True), _filling_columns(6, (6.75, 1.2), 1.0, True)
    (3, 6)
    """
    def side(ncols: int) -> float:
        rows = math.ceil(n_panels / ncols) * aspect * PANEL_WITH_TITLE
        height = size[1] - SUPTITLE_INCHES
        if colorbar and _colorbar_below(height):
            return min(size[0] / ncols, (height - _colorbar_below_inches()) / rows)
        return min((size[0] - colorbar * COLORBAR_BESIDE_INCHES) / ncols, height / rows)

    return max(range(1, n_panels + 1), key=lambda ncols: (round(side(ncols), 3), -ncols))
