"""Single attention heatmaps: query tokens down the y axis, key tokens along x.

Drawn as one image (`imshow`), never one patch per cell.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import Colormap, Normalize
from matplotlib.image import AxesImage
from numpy.typing import ArrayLike

from .._docstrings import with_parameters
from .colors import color_norm, colormap, given_norm
from ..input.data import as_attention
from ..input.generated import query_rows
from ..input.span import position_count, restrict_to_span
from ..errors import AttentionInputError
from .density import ResolutionImage, check_reduce, fit_to_pixels
from .labels import CellTextSizer, highlight_color, literal, set_token_ticks
from ..themes import remember_style
from ..options import layer_label
from .arguments import check_keywords, check_positions, target_axes, word_positions
from ..errors import ArgumentError

if TYPE_CHECKING:
    from matplotlib.typing import ColorType

QUERY_LABEL = "query"
KEY_LABEL = "key"
WEIGHT_LABEL = "attention weight"


@dataclass
class _HeatmapPlan:
    """What `heatmap` decided before drawing: the masked matrix, its norm, the labels."""

    matrix: np.ma.MaskedArray
    norm: Normalize
    cmap: mpl.colors.Colormap
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]


def _plan(matrix, row_labels, col_labels, *, cmap, vmin, vmax, center, robust, mask, norm=None) -> _HeatmapPlan:
    matrix = np.asarray(matrix, dtype=float)
    hidden = ~np.isfinite(matrix)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != matrix.shape:
            raise AttentionInputError(
                f"`mask` must have the heatmap's shape {list(matrix.shape)}, but it has {list(mask.shape)}."
            )
        hidden |= mask
    masked = np.ma.masked_array(matrix, hidden)
    if norm is None:
        norm = color_norm(matrix[~hidden], vmin, vmax, center, robust)
    else:
        norm = given_norm(matrix[~hidden], norm, vmin=vmin, vmax=vmax, center=center, robust=robust)
    colors = colormap(cmap).with_extremes(bad=(0, 0, 0, 0))  # masked cells show the background
    return _HeatmapPlan(masked, norm, colors, tuple(row_labels), tuple(col_labels))


def matrix_heatmap(
    matrix,
    row_labels,
    col_labels,
    *,
    ax=None,
    cmap=None,
    vmin=None,
    vmax=None,
    center=None,
    robust=False,
    cbar=True,
    cbar_ax=None,
    cbar_kws=None,
    annot=False,
    fmt=".2f",
    annot_kws=None,
    linewidths=0.0,
    linecolor="white",
    xticklabels="auto",
    yticklabels="auto",
    norm=None,
    mask=None,
    xlabel=None,
    ylabel=None,
    reduce="max",
    square=False,
    highlight=(),
    numbered=False,
    labelled=(),
    **kwargs,
):
    """Draw any labelled matrix as a heatmap (the engine of every attnfig heatmap).

    Cells fill the Axes (seaborn's default); ``square=True`` keeps them square. Labels
    follow `attnfig.views.labels` (shrunk, then thinned; `highlight` rows and columns and
    special tokens always shown; `highlight` rows and columns are marked on the margin and their labels
    drawn in the highlight color; with `numbered`, thinned labels show their positions). With
    more cells than output pixels, each pixel shows the `reduce` ("max" or "mean") of its cells
    (`numbered` may also be a pair: the numbers of the rows and of the columns; `labelled`,
    a pair (rows, columns), are always labelled, like `highlight`, but not marked)
    (see `attnfig.views.density`). seaborn's `xticklabels`/`yticklabels` ("auto": the label
    rule; True: all; False: none; an int n: every n-th; a list: these labels, by the label
    rule), `annot_kws`, `linewidths`, `linecolor` and `norm` mean what they mean in
    ``seaborn.heatmap``.
    """
    check_reduce(reduce)
    plan = _plan(matrix, row_labels, col_labels, cmap=cmap, vmin=vmin, vmax=vmax, center=center, robust=robust,
                 mask=mask, norm=norm)
    ax = target_axes(ax)
    remember_style(ax.figure)
    kwargs.setdefault("aspect", "equal" if square else "auto")
    image = _cell_image(ax, plan.matrix, plan, reduce, kwargs)
    _label_axes(ax, plan, highlight, numbered, xticklabels, yticklabels, labelled)
    if linewidths:
        _cell_lines(ax, plan.matrix.shape[0], plan.matrix.shape[1], linewidths, linecolor)
    if xlabel:
        ax.set_xlabel(xlabel)
    if ylabel:
        ax.set_ylabel(ylabel)
    if annot:
        check_annotations_fit(ax, plan.matrix, fmt, square)
        _annotate(ax, image, plan, fmt, annot_kws)
    if cbar:
        add_colorbar(ax.figure, image, ax=None if cbar_ax else ax, cax=cbar_ax, **(cbar_kws or {}))
    return ax


def _cell_image(ax, matrix: np.ma.MaskedArray, plan: _HeatmapPlan, reduce: str, kwargs) -> ResolutionImage:
    """One image of the cells, computed at the output's pixel size (`fit_to_pixels`)."""
    n_rows, n_cols = matrix.shape
    aspect = kwargs.pop("aspect")
    filled: list[np.ndarray] = []  # the NaN-filled float32 copy, made once and only if cells must be reduced

    def render(height: int, width: int, pixels_per_inch: float):
        if n_rows <= height and n_cols <= width:
            return matrix
        if not filled:
            filled.append(np.ma.filled(matrix.astype(np.float32), np.nan))
        return np.ma.masked_invalid(fit_to_pixels(filled[0], height, width, reduce))

    image = ResolutionImage(ax, render, extent=(-0.5, n_cols - 0.5, n_rows - 0.5, -0.5), initial=matrix,
                            cmap=plan.cmap, norm=plan.norm, **kwargs)
    ax.add_image(image)
    ax.set_xlim(-0.5, n_cols - 0.5)
    ax.set_ylim(n_rows - 0.5, -0.5)
    ax.set_aspect(aspect)
    return image


# What the **kwargs of `matrix_heatmap` may hold (beyond its own arguments): imshow's.
IMSHOW_TAKERS = (AxesImage, Axes.imshow)
# matrix_heatmap's own arguments, and imshow's that it sets itself.
MATRIX_HEATMAP_ARGUMENTS = ("matrix", "row_labels", "col_labels", "ax", "cmap", "vmin", "vmax", "center",
                            "robust", "cbar", "cbar_ax", "cbar_kws", "annot", "fmt", "annot_kws", "linewidths",
                            "linecolor", "xticklabels", "yticklabels", "mask", "xlabel", "ylabel", "square",
                            "highlight", "X", "norm", "reduce", "numbered", "labelled")
# What every caller of `matrix_heatmap` sets: the matrix, its labels, where to draw.
MATRIX_ARGUMENTS_SET_BY_CALLER = ("matrix", "row_labels", "col_labels", "ax", "X")
# `heatmap` takes these itself (as named arguments) or sets them.
HEATMAP_ARGUMENTS = tuple(set(MATRIX_HEATMAP_ARGUMENTS) - {"xlabel", "ylabel"})


def add_colorbar(figure, mappable, **kwargs):
    """`figure.colorbar` as attnfig draws it: rasterized solids, no outline, ticks that span
    the whole scale (`SpanningLocator`)."""
    from .colorbar_ticks import SpanningLocator

    from matplotlib.colors import Normalize, TwoSlopeNorm

    colorbar = figure.colorbar(mappable, **kwargs)
    if "ticks" not in kwargs and type(mappable.norm) in (Normalize, TwoSlopeNorm):  # linear scales only
        colorbar.locator = SpanningLocator()
    colorbar.solids.set_rasterized(True)  # no white seams between colour steps in PDF viewers
    colorbar.outline.set_visible(False)
    return colorbar


def _label_axes(ax, plan: _HeatmapPlan, highlight=(), numbered=False, xticklabels="auto",
                yticklabels="auto", labelled=()) -> None:
    n_rows, n_cols = len(plan.row_labels), len(plan.col_labels)
    row_numbers, col_numbers = numbered if isinstance(numbered, tuple) else (numbered, numbered)
    labelled_rows, labelled_cols = labelled if labelled else ((), ())
    # Labelled whatever the thinning; only `highlight` is marked.
    rows = _tick_labels(ax.yaxis, plan.row_labels, yticklabels, tuple(highlight) + tuple(labelled_rows),
                        numbered=row_numbers)
    cols = _tick_labels(ax.xaxis, plan.col_labels, xticklabels, tuple(highlight) + tuple(labelled_cols),
                        share_with=rows, rotation=90, numbered=col_numbers)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    marked_rows = [int(h) for h in highlight if 0 <= int(h) < n_rows]
    marked_cols = [int(h) for h in highlight if 0 <= int(h) < n_cols]
    if marked_rows or marked_cols:
        _outline(ax, marked_rows, marked_cols, n_rows, n_cols)
        for locator, marked in ((rows, marked_rows), (cols, marked_cols)):
            if locator is not None:  # None: labels placed by an explicit seaborn spec
                locator.label_colors = {float(i): highlight_color() for i in marked}


MARK_FRACTION = 0.8  # a highlight mark's size, as a fraction of the gap between the map and its tick labels


def _outline(ax, marked_rows, marked_cols, n_rows: int, n_cols: int):
    """Triangles on the map's margin pointing at each highlighted row and column (one collection
    per axis, labelled "highlight"), in the gap between the map and its tick labels: they mark
    the cells without covering them, however thin the rows are."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    marks = []
    for axis, marked, marker in ((ax.yaxis, marked_rows, ">"), (ax.xaxis, marked_cols, "^")):
        if not marked:
            continue
        size = MARK_FRACTION * mpl.rcParams[f"{axis.axis_name}tick.major.pad"]  # type: ignore[index]  # points
        inch = size / 2 / 72  # the mark's centre sits half its size outside the map
        if axis.axis_name == "y":
            base = blended_transform_factory(ax.transAxes, ax.transData)
            where, shift = (np.zeros(len(marked)), marked), ScaledTranslation(-inch, 0, ax.figure.dpi_scale_trans)
        else:
            base = blended_transform_factory(ax.transData, ax.transAxes)
            where, shift = (marked, np.zeros(len(marked))), ScaledTranslation(0, -inch, ax.figure.dpi_scale_trans)
        marks.append(ax.scatter(*where, s=size ** 2, marker=marker, color=highlight_color(), linewidths=0,
                                transform=base + shift, clip_on=False, label="highlight", zorder=3))
    return marks


CHARACTER_WIDTH = 0.55  # a digit's width, as a fraction of the font size


def check_annotations_fit(ax, matrix, fmt: str, square: bool) -> None:
    """Raise `ArgumentError` when ``annot=True`` numbers cannot fit their cells even at the
    smallest readable size (`MIN_FONT_POINTS`), judged from the Axes' room before layout
    (an upper bound: when this passes, `CellTextSizer` fits them at draw time)."""
    from ..errors import ArgumentError
    from .figures import axes_inches
    from .labels import LABEL_PITCH, MIN_FONT_POINTS

    n_rows, n_cols = matrix.shape
    width, height = (inches * 72 for inches in axes_inches(ax))  # an Axes of a SubFigure too
    cell_width, cell_height = width / n_cols, height / n_rows
    if square:
        cell_width = cell_height = min(cell_width, cell_height)
    longest = max((len(format(v, fmt)) for v in np.ma.compressed(matrix)), default=0)
    needed_width = longest * CHARACTER_WIDTH * MIN_FONT_POINTS / 0.9
    if cell_width < needed_width or cell_height < MIN_FONT_POINTS * LABEL_PITCH:
        raise ArgumentError(
            f"`annot=True` cannot fit {n_rows} x {n_cols} numbers like {format(float(np.ma.max(matrix)), fmt)!r} "
            f"in this Axes: its cells are about {cell_width:.0f} x {cell_height:.0f} pt and a number needs "
            f"{needed_width:.0f} x {MIN_FONT_POINTS * LABEL_PITCH:.0f} pt at {MIN_FONT_POINTS:g} pt. Use a larger "
            f"figsize, fewer tokens (`span=`), a shorter `fmt` (e.g. '.1f')"
            + (", `square=False`" if square else "") + ", or `annot=False`."
        )


def _tick_labels(axis, tokens, spec, highlight, share_with=None, rotation=None, numbered=False):
    """One axis's labels by seaborn's `xticklabels`/`yticklabels` `spec`; returns the
    `TokenLocator` when the label rule places them ("auto" or a list), else None. `numbered`:
    True (thinned labels show their positions), False, or the numbers to show."""
    name = f"{axis.axis_name}ticklabels"
    positions = np.arange(len(tokens))
    if isinstance(spec, str) and spec == "auto":
        numbers = None if numbered is None or numbered is False else positions if numbered is True else numbered
        return set_token_ticks(axis, positions, tokens, highlight=highlight, rotation=rotation, share_with=share_with,
                               numbers=numbers)
    if isinstance(spec, (bool, np.bool_)):
        shown = positions if spec else positions[:0]
    elif isinstance(spec, (int, np.integer)):
        if spec < 1:
            raise ArgumentError(f"`{name}` as an int labels every n-th token: it must be >= 1, but {spec!r} was passed.")
        shown = positions[::int(spec)]
    elif isinstance(spec, (list, tuple, np.ndarray)):
        if len(spec) != len(tokens):
            raise ArgumentError(f"`{name}` has {len(spec)} labels but the axis has {len(tokens)} cells: pass one "
                                "label per cell.")
        return set_token_ticks(axis, positions, [str(label) for label in spec], highlight=highlight,
                               rotation=rotation, share_with=share_with)
    else:
        raise ArgumentError(f"`{name}` must be \"auto\", True, False, an int (every n-th label) or a list of "
                            f"labels, as in seaborn, but {spec!r} was passed.")
    axis.set_ticks(shown, [literal(tokens[i]) for i in shown])
    if rotation is not None:
        axis.set_tick_params(labelrotation=rotation)
    return None


def _cell_lines(ax, n_rows: int, n_cols: int, linewidths: float, linecolor) -> None:
    """seaborn's `linewidths`/`linecolor`: lines between the cells, one collection."""
    from matplotlib.collections import LineCollection

    vertical = [[(x, -0.5), (x, n_rows - 0.5)] for x in np.arange(n_cols + 1) - 0.5]
    horizontal = [[(-0.5, y), (n_cols - 0.5, y)] for y in np.arange(n_rows + 1) - 0.5]
    ax.add_collection(LineCollection(vertical + horizontal, linewidths=linewidths, colors=linecolor,
                                     label="cell lines"), autolim=False)


def _annotate(ax, image, plan: _HeatmapPlan, fmt: str, annot_kws=None) -> None:
    rgba = image.to_rgba(plan.matrix)
    luminance = rgba[..., :3] @ np.array([0.299, 0.587, 0.114])
    texts = []
    size = {} if {"size", "fontsize"} & set(annot_kws or {}) else {"fontsize": mpl.rcParams["xtick.labelsize"]}
    for (row, col), value in np.ndenumerate(plan.matrix.filled(np.nan)):
        if np.isnan(value):
            continue
        color = "black" if luminance[row, col] > 0.5 else "white"
        texts.append(ax.text(col, row, format(value, fmt), **{
            "ha": "center", "va": "center", "color": color, **size, **(annot_kws or {})}))
    if size:  # a size asked for is kept
        for text in texts:  # fitted inside their cells at draw time, after the layout: never the layout's concern
            text.set_in_layout(False)
        ax.add_artist(CellTextSizer(texts, *plan.matrix.shape))


@with_parameters("attention", "tokens", "layer", "ax", "colors", "prettify_tokens")
def heatmap(
    attention: Any,
    tokens: Sequence[str] | None = None,
    *,
    layer: int | None = None,
    head: int | str | None = None,
    ax: Axes | None = None,
    cmap: str | Colormap | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    center: float | None = None,
    norm: Normalize | None = None,
    robust: bool = False,
    cbar: bool = True,
    cbar_ax: Axes | None = None,
    cbar_kws: dict[str, Any] | None = None,
    annot: bool = False,
    fmt: str = ".2f",
    annot_kws: dict[str, Any] | None = None,
    linewidths: float = 0.0,
    linecolor: ColorType = "white",
    xticklabels: str | bool | int | Sequence[str] = "auto",
    yticklabels: str | bool | int | Sequence[str] = "auto",
    mask: ArrayLike | None = None,
    reduce: str = "max",
    square: bool = False,
    highlight: Sequence[int] = (),
    span: tuple[int, int] | None = None,
    xlabel: str | None = KEY_LABEL,
    ylabel: str | None = QUERY_LABEL,
    prettify_tokens: bool = True,
    merge_subwords: bool = False,
    queries: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw the attention of one head (or ``head="mean"``) as a heatmap and return the Axes.

    Query tokens run down the y axis, key tokens along x (the axes say so: `ylabel`,
    `xlabel`), the colorbar is labelled "attention weight"; seaborn's names for the colour
    and annotation options (`center`, `norm` such as ``PowerNorm(0.5)`` or ``LogNorm()``,
    `xticklabels`/`yticklabels`, `annot_kws`, `fmt`, `linewidths`/`linecolor`, `cbar`/`cbar_kws`:
    see `matrix_heatmap`), and as in seaborn the cells fill the Axes unless
    ``square=True``. Token labels shrink to fit, then thin out, always keeping special
    tokens and the `highlight` positions (integers; negative ones count from the end; see
    `attnfig.views.labels`). Above the diagonal of a causal model the cells are masked
    (they show the background), not drawn as zeros. Colours default to the style's
    ``image.cmap``, ``vmin`` to 0 and ``vmax`` to the largest weight (its 98th percentile
    with ``robust=True``, which helps long sequences). With more cells than output pixels
    (long inputs), each pixel shows the ``reduce="max"`` (default: a single strong cell stays
    visible) or ``"mean"`` of its cells. ``span=(start, stop)`` shows the queries and keys
    from `start` to `stop - 1` only, labelled with their original positions, and the title
    says how much of their attention goes outside the span when that is 1% or more
    (`highlight` and a full-size `mask` keep original positions); without `span`, labels
    thinned to fit show their positions (``"12 the"``). `highlight` rows and columns are
    marked by triangles on the margin (never over the cells) and labelled in the highlight
    color; highlighted labels too close together to fit are moved apart, in order, with a
    warning. ``merge_subwords=True`` shows words, not sub-word fragments
    (`attnfig.merge_subword_tokens`); `highlight` still counts the tokens as given (before
    merging: a position marks the word that holds it) and thinned labels show the position of
    each word's first token, while `span` counts the merged words. `**kwargs` go to the image (`AxesImage`).

    Parameters
    ----------
    merge_subwords : bool
        Merge word pieces into words (keys summed, queries averaged; `attnfig.merge_subword_tokens`).
    head : int or "mean", optional
        Original index of the head to draw, or ``"mean"`` for the mean over heads; the first
        head by default.
    cbar : bool
        Draw a colorbar.
    cbar_ax : matplotlib Axes, optional
        Where to draw the colorbar; space is taken from `ax` by default.
    cbar_kws : dict, optional
        Passed to `matplotlib.figure.Figure.colorbar`.
    annot : bool
        Write each cell's weight in it.
    fmt : str
        Format of the annotations, as in seaborn.
    mask : array of bool, optional
        Cells to leave empty (True), over the full token range.
    reduce : {"max", "mean"}
        What a pixel shows when there are more cells than output pixels.
    square : bool
        Square cells (the Axes' aspect ratio set to 1).
    highlight : list of int
        Token positions to mark, whose labels are always shown; positions of the tokens as
        given, also with `merge_subwords` (the word holding each is marked) or `span`.
    span : (int, int), optional
        ``(start, stop)``: show the tokens from `start` to ``stop - 1`` only.
    center : float, optional
        Center of a diverging color scale, as in seaborn.
    norm : matplotlib Normalize, optional
        Color normalization, instead of `vmin` and `vmax`.
    annot_kws : dict, optional
        Passed to the annotation texts.
    linewidths, linecolor : optional
        Width and color of lines between the cells, as in seaborn.
    xticklabels, yticklabels : bool, "auto", int or list of str
        Which tick labels to show, as in seaborn.
    xlabel, ylabel : str or None
        Axis labels ("key" and "query"); None leaves the axis unlabelled.
    queries : {None, "generated"}
        "generated": only the rows of the tokens a model generated (`attnfig.capture_generation`),
        over every key; a dashed line marks where generation started, the title says
        "generated queries", and the color scale is the full map's (its largest weight over
        every query), so panels of the full and the generated rows side by side compare.
    **kwargs
        Passed to `matplotlib.axes.Axes.imshow`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    AttentionInputError
        When the attention, tokens, `layer` or `head` do not fit together.
    ArgumentError
        For an unknown keyword or inconsistent color limits (`vmin` above `vmax`).

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> ax = attnfig.heatmap(np.full((1, 2, 3, 3), 1 / 3), ["a", "b", "c"], head="mean")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['a', 'b', 'c']
    """
    check_keywords(heatmap, kwargs, *IMSHOW_TAKERS, exclude=HEATMAP_ARGUMENTS)
    data = as_attention(attention, tokens)
    numbers = np.arange(data.weights.shape[3])  # each key's position in the input as given
    if merge_subwords:
        highlight, numbers, data = _merged(data, highlight)
    if prettify_tokens:
        data = data.prettified()
    first_query = data.generated_start if queries == "generated" else 0
    causal_rows = data.is_causal and queries == "generated"
    if queries == "generated" and vmax is None and norm is None and center is None and data.normalized:
        vmax = _full_map_max(data, layer, head, robust, 0.0 if vmin is None else vmin)  # the full map's scale: panels side by side compare
    full_queries = data.weights.shape[2]
    data = query_rows(data, queries)
    row_numbers = (numbers[first_query:] if data.weights.shape[2] < full_queries or merge_subwords
                   else np.arange(data.weights.shape[2]))
    note = None
    highlight = check_positions("highlight", highlight, max(data.weights.shape[2:]) if span is None else position_count(data))
    if span is not None:
        full_shape = data.weights.shape[2:]
        restricted = restrict_to_span(data, span)
        data, highlight = restricted.data, restricted.shift(highlight)
        if mask is not None and np.shape(mask) == full_shape and not data.token_blocks:
            mask = np.asarray(mask, dtype=bool)[restricted.start:restricted.stop, restricted.start:restricted.stop]
        head_position = None if isinstance(head, str) else data.head_position(head)
        note = restricted.note(data.layer_position(layer), head_position)
    layer_weights = data.weights[data.layer_position(layer)]
    if isinstance(head, str):
        if head != "mean":
            raise AttentionInputError(f"`head` must be a head index or \"mean\", but {head!r} was passed.")
        matrix = layer_weights.mean(axis=0)
    else:
        matrix = layer_weights[data.head_position(head)]
    if data.is_causal or causal_rows:
        rows, columns = np.indices(matrix.shape)
        causal = columns > rows + first_query  # the keys after each query (rows from `first_query` on)
        mask = causal if mask is None else (np.asarray(mask, dtype=bool) | causal)
    if vmin is None and center is None and norm is None and (data.normalized or data.value_label == "norm"):
        vmin = 0.0
    cbar_kws = {"label": data.value_label, **(cbar_kws or {})}
    ax = matrix_heatmap(
        matrix, data.query_tokens, data.key_tokens, ax=ax, cmap=cmap, vmin=vmin, vmax=vmax, center=center,
        norm=norm, robust=robust, cbar=cbar, cbar_ax=cbar_ax, cbar_kws=cbar_kws, annot=annot, fmt=fmt,
        annot_kws=annot_kws, linewidths=linewidths, linecolor=linecolor, xticklabels=xticklabels,
        yticklabels=yticklabels, mask=mask, xlabel=xlabel, ylabel=ylabel, square=square, highlight=highlight,
        reduce=reduce, numbered=(row_numbers, numbers) if span is None else False, **kwargs,
    )
    if span is None:
        generation_boundary(ax, data.generated_start, first_query if queries == "generated" else None)
    label = "mean of heads" if isinstance(head, str) else f"head {data.head_indices[data.head_position(head)]}"
    title = f"Layer {layer_label(data.layer_indices[data.layer_position(layer)])}, {label}"
    if queries == "generated":
        title += ": generated queries"
    ax.set_title(f"{title}\n{note}" if note else title)
    return ax


def _merged(data, highlight):
    """`data` with its sub-words merged, `highlight` (positions of the tokens as given) as the
    positions of their words, and each word's number: the position of its first token."""
    from ..input.data import merge_subword_tokens
    from ..input.tokens import word_groups

    merged = merge_subword_tokens(data)  # refuses cross attention before the groups are read
    groups = word_groups(data.tokens, data.sentence_b_start, data.generated_start)
    return word_positions(data, "highlight", highlight), np.array([group[0] for group in groups]), merged


def _full_map_max(data, layer, head, robust: bool, vmin: float) -> float:
    """The top of the color scale of the whole map (every query) of `layer` and `head`."""
    weights = data.weights[data.layer_position(layer)]
    if isinstance(head, str):
        matrix = weights.mean(axis=0) if head == "mean" else weights[0]  # a bad `head` is refused later
    else:
        matrix = weights[data.head_position(head)]
    if data.is_causal:
        matrix = np.where(np.tri(*matrix.shape) > 0, matrix, np.nan)
    top = color_norm(matrix, vmin, None, None, robust).vmax
    return 1.0 if top is None else float(top)


def generation_boundary(ax, generated_start: int | None, generated_rows_from: int | None = None):
    """Lines before the first generated token (`attnfig.capture_generation`) on both axes;
    with only generated queries shown (`generated_rows_from`), on the key axis only."""
    key_start = generated_rows_from if generated_rows_from is not None else generated_start
    if key_start is None:
        return None
    from matplotlib.collections import LineCollection

    key_position = key_start - 0.5
    bottom, top = ax.get_ylim()
    left, right = ax.get_xlim()
    segments = [[(key_position, bottom), (key_position, top)]]
    if generated_rows_from is None:
        segments.append([(left, key_start - 0.5), (right, key_start - 0.5)])  # key_start is generated_start here
    boundary = LineCollection(segments, colors=mpl.rcParams["axes.edgecolor"],
                              linewidths=mpl.rcParams["axes.linewidth"], linestyles="--", label="generated boundary")
    ax.add_collection(boundary, autolim=False)
    return boundary
