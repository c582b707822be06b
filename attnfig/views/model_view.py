"""The layer x head grid (static `model_view`), drawn as one mosaic per panel.

All thumbnails of a panel live in one Axes: for heatmaps one image holds every
thumbnail (transparent gaps between them), for lines one `LineCollection` per layer.
A 12 x 12 grid is then a handful of artists instead of 144 Axes.
"""
from __future__ import annotations

from typing import Any, Sequence
from matplotlib.colors import Colormap, Normalize
import dataclasses

import warnings
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from matplotlib.cbook import normalize_kwargs
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure, SubFigure

from .._docstrings import with_parameters
from .contrast import axes_background, readable_rgba
from .colors import color_norm, colormap, given_norm, font_points
from .colors import layer_colors as colors_by_layer
from ..input.data import AttentionData, future_mask
from ..errors import ArgumentError, AttentionInputError, one_of_message
from .arguments import check_html_action, check_keywords
from .heatmap import IMSHOW_TAKERS, add_colorbar
from .lines import column_positions, line_segments, norm_like, opacity_note
from ..input.panels import PanelArguments, resolve_panels
from ..input.span import restrict_to_span
from ..themes import display_mode_style
from ..options import layer_label
from .figures import axes_inches, target_figure
from .density import (ResolutionImage, blank_canvas, check_reduce, fit_to_pixels, ink_rgba, lines_ink,
                      opaque_background, output_dpi, over, raster_backdrop)
from .labels import LABEL_PITCH, set_token_ticks
from .head_view import PAGE_INCHES
from .readability import keep_mask, line_width_points, uses_density, thumbnail_top_k

KINDS = ("lines", "heatmap")
SMALL_MOSAIC_CELLS = 1 << 20  # up to this many weights, the heatmap mosaic is also kept whole
GAP = 0.15  # space between thumbnails, as a fraction of a thumbnail
THUMBNAIL_LINEWIDTH = 0.4  # thumbnail lines, as a fraction of rcParams["lines.linewidth"]


@dataclass
class Mosaic:
    """Where each thumbnail sits: cell (row, col) spans [origin, origin + 1] on both axes."""

    rows: int
    cols: int
    gap: float

    def origins(self, n: int) -> np.ndarray:
        return np.arange(n) * (1 + self.gap)

    @property
    def width(self) -> float:
        return self.cols * (1 + self.gap) - self.gap

    @property
    def height(self) -> float:
        return self.rows * (1 + self.gap) - self.gap


@dataclass
class Tiles:
    """The pixels of each thumbnail in a mosaic image of ``height x width`` pixels."""

    layout: Mosaic
    image_height: int
    image_width: int

    @property
    def height(self) -> int:
        return max(1, int(self.image_height / self.layout.height))

    @property
    def width(self) -> int:
        return max(1, int(self.image_width / self.layout.width))

    def slices(self, row: int, col: int) -> tuple[slice, slice]:
        step = 1 + self.layout.gap
        top = min(self.image_height - self.height, round(row * step * self.image_height / self.layout.height))
        left = min(self.image_width - self.width, round(col * step * self.image_width / self.layout.width))
        return slice(top, top + self.height), slice(left, left + self.width)


def gap_pixels(n_tokens: int) -> int:
    """Width of the gap between heatmap thumbnails of `n_tokens` cells, in whole cells."""
    return max(1, round(GAP * n_tokens))


def mosaic_image(blocks: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ma.MaskedArray, float]:
    """Tile ``blocks[row, col, q, k]`` into one masked image; gaps and `mask` are masked.

    Returns the image and the gap actually used (a whole number of pixels).
    """
    rows, cols, q, k = blocks.shape
    gap_q, gap_k = gap_pixels(q), gap_pixels(k)
    padded = np.full((rows, cols, q + gap_q, k + gap_k), np.nan, dtype=np.float32)
    padded[:, :, :q, :k] = blocks
    if mask is not None:
        padded[:, :, :q, :k][:, :, mask] = np.nan
    image = padded.transpose(0, 2, 1, 3).reshape(rows * (q + gap_q), cols * (k + gap_k))
    image = image[: -gap_q, : -gap_k]
    return np.ma.masked_invalid(image), gap_k / k


def _heatmap_panel(ax, data: AttentionData, norm, cmap, reduce, kwargs) -> ResolutionImage:
    n_queries, n_keys = data.weights.shape[2:]
    mask = future_mask(n_queries, n_keys) if data.is_causal else None
    layout = Mosaic(data.n_layers, data.n_heads, gap_pixels(n_keys) / n_keys)
    small = data.weights.size <= SMALL_MOSAIC_CELLS

    def render(height: int, width: int, pixels_per_inch: float):
        tile = Tiles(layout, height, width)
        if small and n_queries <= tile.height and n_keys <= tile.width:
            return mosaic_image(data.weights, mask)[0]  # cells larger than pixels: exact cells
        # The mosaic at output pixels: each layer's thumbnails reduced (or repeated) to
        # the tile's pixels, never a full-size float copy of every weight.
        canvas = np.full((height, width), np.nan, dtype=np.float32)
        for row in range(data.n_layers):
            layer = data.weights[row] if mask is None else np.where(mask, np.nan, data.weights[row])
            tiles = fit_to_pixels(layer, tile.height, tile.width, reduce)
            for head in range(data.n_heads):
                canvas[tile.slices(row, head)] = tiles[head]
        return np.ma.masked_invalid(canvas)

    initial = mosaic_image(data.weights, mask)[0] if small else None
    kwargs.pop("aspect", None)
    image = ResolutionImage(ax, render, extent=(0, layout.width, layout.height, 0), initial=initial, cmap=cmap,
                            norm=norm, **kwargs)
    ax.add_image(image)
    ax.set_xlim(0, layout.width)
    ax.set_ylim(layout.height, 0)
    # Square thumbnails come from the figure's size (`grid_figsize`), not from a fixed aspect:
    # constrained layout does not settle with fixed-aspect Axes, and labels drift off the canvas.
    ax.set_aspect("auto")
    _label_mosaic(ax, data, layout)
    generation_marks(ax, data, layout, keys=True)
    return image


def _lines_panel(ax, data: AttentionData, palette, min_weight, top_k, kwargs) -> str | None:
    """Draw one panel of line thumbnails; returns what opacity means when it is not the weight."""
    largest = float(data.weights.max()) if data.weights.size else 0.0
    note = None
    if (largest > 1 or norm_like(data)) and largest > 0:  # not weights (norms): the largest is opaque
        note = opacity_note(data.value_label, largest)
        data = dataclasses.replace(data, weights=data.weights / largest)
    layout = Mosaic(data.n_layers, data.n_heads, GAP)
    # One color per layer (BertViz), from the style's sequential colormap: the head palette's colors mean heads.
    colors = colors_by_layer(max(data.layer_indices) + 1, palette, background=axes_background(ax))
    kwargs = normalize_kwargs(kwargs, LineCollection)
    base_points = kwargs.pop("linewidths", THUMBNAIL_LINEWIDTH * mpl.rcParams["lines.linewidth"])
    n_tokens = max(data.weights.shape[2:])
    thumbnail_inches = _thumbnail_inches(ax, layout)
    line_points = line_width_points(base_points, thumbnail_inches * 72 / n_tokens)
    if uses_density(base_points, line_points, output_dpi(ax.figure)):
        _density_panel(ax, data, layout, colors, base_points, min_weight, top_k, kwargs)
    else:
        _line_collections(ax, data, layout, colors, line_points, min_weight, top_k, kwargs)
    ax.set_xlim(-GAP / 2, layout.width + GAP / 2)
    ax.set_ylim(layout.height + GAP / 2, -GAP / 2)
    ax.set_aspect("auto")  # the figure's size keeps thumbnails square; see _heatmap_panel
    _label_mosaic(ax, data, layout)
    generation_marks(ax, data, layout, keys=False)
    return note


def generation_marks(ax, data: AttentionData, layout: Mosaic, *, keys: bool) -> LineCollection | None:
    """A dashed line in every thumbnail before the first generated token (`attnfig.capture_generation`),
    as `heatmap` draws it: across the rows (a line thumbnail's two columns), and down the key
    columns too when `keys` (heatmap thumbnails). One collection; None when nothing was generated.

    >>> import dataclasses, numpy as np, attnfig
    >>> data = dataclasses.replace(attnfig.as_attention(np.full((1, 2, 4, 4), 0.25)), generated_start=3)
    >>> generation_marks(Figure().subplots(), data, Mosaic(1, 2, 0.5), keys=False).get_segments()[1].tolist()
    [[1.5, 0.75], [2.5, 0.75]]
    """
    n_queries, n_keys = data.weights.shape[2:]
    start = data.generated_start
    if start is None or not 0 < start < n_queries or n_keys != n_queries:
        return None
    at = start / n_queries  # token i spans [i / n, (i + 1) / n] of a thumbnail (`column_positions`)
    segments = []
    for y0 in layout.origins(data.n_layers):
        for x0 in layout.origins(data.n_heads):
            segments.append([(x0, y0 + at), (x0 + 1, y0 + at)])
            if keys:
                segments.append([(x0 + at, y0), (x0 + at, y0 + 1)])
    marks = LineCollection(segments, colors=mpl.rcParams["axes.edgecolor"],
                           linewidths=mpl.rcParams["axes.linewidth"], linestyles="--", label="generated boundary")
    ax.add_collection(marks, autolim=False)
    return marks


def _thumbnail_inches(ax, layout: Mosaic) -> float:
    """A thumbnail's side in inches, from the Axes' current box (the mosaic keeps its aspect)."""
    width, height = axes_inches(ax)
    return min(width / layout.width, height / layout.height)


def _line_collections(ax, data, layout, layer_colors, line_points, min_weight, top_k, kwargs) -> None:
    query_y, key_y = column_positions(data.weights.shape[2]), column_positions(data.weights.shape[3])
    top_k = thumbnail_top_k(data.weights.shape[2], data.weights.shape[3], top_k)
    keep = keep_mask(data.weights, alpha_scale=1.0, min_weight=min_weight, top_k=top_k)
    kwargs.setdefault("rasterized", True)  # the same pixels in every format, as `lines`
    if kwargs["rasterized"]:
        raster_backdrop(ax, kwargs.get("zorder", 2))
    x0, y0 = layout.origins(data.n_heads), layout.origins(data.n_layers)
    background = axes_background(ax)
    for row in range(data.n_layers):
        head, q_index, k_index = np.nonzero(keep[row])
        segments = line_segments(x0[head], y0[row] + query_y[q_index], x0[head] + 1, y0[row] + key_y[k_index])
        rgba = readable_rgba(layer_colors[data.layer_indices[row]], data.weights[row, head, q_index, k_index],
                             background)
        collection = LineCollection(segments, colors=rgba, linewidths=line_points,  # type: ignore[arg-type]  # stubs: an array is a sequence of segments
                                    label=f"layer {layer_label(data.layer_indices[row])}", **kwargs)
        ax.add_collection(collection, autolim=False)


def _density_panel(ax, data, layout, layer_colors, base_points, min_weight, top_k, kwargs) -> None:
    """Every thumbnail as the exact ink of its lines, one image for the panel (see `density`)."""
    weights = data.weights
    if min_weight is not None or top_k is not None:
        weights = np.where(keep_mask(weights, alpha_scale=1.0, min_weight=min_weight, top_k=top_k), weights, 0)
    colors = [layer_colors[index] for index in data.layer_indices]
    background = opaque_background(ax)
    contrast = axes_background(ax)

    def render(height: int, width: int, pixels_per_inch: float) -> np.ndarray:
        tile = Tiles(layout, height, width)
        spacing_points = tile.height * 72 / pixels_per_inch / max(weights.shape[2:])
        line_pixels = line_width_points(base_points, spacing_points) * pixels_per_inch / 72
        canvas = blank_canvas(height, width, background)
        for row in range(data.n_layers):
            for head in range(data.n_heads):
                ink = lines_ink(weights[row, head], tile.height, tile.width, line_pixels)
                region = canvas[tile.slices(row, head)]
                region[:] = over(ink_rgba(ink, colors[row], contrast), region)
        return canvas

    kwargs.pop("rasterized", None)
    image = ResolutionImage(ax, render, extent=(0, layout.width, layout.height, 0), **kwargs)
    image.set_label("thumbnails")
    ax.add_image(image)


DIGIT_WIDTH = 0.65  # a digit's width in font sizes (DejaVu Sans 0.64, Times 0.5)


def _label_mosaic(ax, data: AttentionData, layout: Mosaic) -> None:
    """Head numbers on top and layer numbers on the left, by the token label rule
    (`attnfig.views.labels`): they shrink, then every n-th is kept, never touching. A head
    number lies along its axis, so it needs its width (digits wide) rather than its height."""
    heads = [str(h) for h in data.head_indices]
    # Pitches of LABEL_PITCH font sizes per head: the widest number plus the rule's 15% gap.
    pitches = max(1.0, (DIGIT_WIDTH * max(map(len, heads)) + LABEL_PITCH - 1) / LABEL_PITCH)
    set_token_ticks(ax.xaxis, layout.origins(data.n_heads) + 0.5, heads, span=pitches * layout.width / (1 + layout.gap))
    set_token_ticks(ax.yaxis, layout.origins(data.n_layers) + 0.5, [layer_label(layer) for layer in data.layer_indices],
                    span=layout.height / (1 + layout.gap))
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel("Head")
    ax.set_ylabel("Layer")
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)


COLORBAR_INCHES = 0.8  # a colorbar with its tick labels and title


def colorbar_location(n_panels: int) -> str:
    """Where the shared colorbar goes: beside one grid, below side-by-side grids (beside
    them, its label would be taller than the grids of a narrow column)."""
    return "right" if n_panels == 1 else "bottom"

TITLE_LINE = 1.5  # a line of text with its spacing, in font sizes


def grid_figsize(rows: int, cols: float, n_panels: int, colorbar: bool, *, titled: bool = False,
                 note: bool = False) -> tuple[float, float]:
    """The style's figure width for all panels; the height is what the content needs: the
    head labels, the panel titles (`titled`) and the span note (`note`) above and below
    square thumbnails, at most a page's text block (`PAGE_INCHES`). The colorbar is beside
    one panel and below several (`colorbar_location`).

    >>> import matplotlib as mpl
    >>> with mpl.rc_context({"figure.figsize": (3.25, 2), "font.size": 8}):
    ...     [round(h, 2) for h in (grid_figsize(2, 4, 3, False)[1], grid_figsize(2, 4, 3, False, titled=True)[1])]
    [0.76, 1.15]
    """
    width = mpl.rcParams["figure.figsize"][0]
    font = font_points("font.size")
    label_inches = 4 * font / 72
    below = colorbar and colorbar_location(n_panels) == "bottom"
    panel_width = (width - label_inches * n_panels - COLORBAR_INCHES * (colorbar and not below)) / n_panels
    # A title is a line of text and its pad (two font sizes, see `model_view`); a note a line;
    # a colorbar below is its bar, its tick labels and its label.
    extra_points = (titled * (TITLE_LINE + 2) * font + note * TITLE_LINE * font_points("legend.fontsize")
                    + below * (TITLE_LINE * (font + font_points("xtick.labelsize")) + font))
    return (width, min(label_inches + extra_points / 72 + panel_width * rows / cols, PAGE_INCHES))


def _shared_norm(panels, vmin, vmax, center, robust, norm=None):
    """One color scale for every thumbnail of every panel; attention weights start at 0.

    Without `robust`, only each panel's finite range is read (no copy of the weights).
    A `norm` given is scaled to that range where its limits are unset.
    """
    if norm is not None:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN panels
            # Each panel's range and smallest positive weight (where a LogNorm starts).
            values = np.array([f(w) for _, data in panels
                               for w in (data.weights, np.where(data.weights > 0, data.weights, np.nan))
                               for f in (np.nanmin, np.nanmax)])
        return given_norm(values, norm, vmin=vmin, vmax=vmax, center=center, robust=robust)
    if vmin is None and center is None and all(data.normalized or data.value_label == "norm" for _, data in panels):
        vmin = 0.0
    if robust:
        values = np.concatenate([data.weights.ravel() for _, data in panels])
    else:
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN panels
            values = np.array([f(data.weights) for _, data in panels for f in (np.nanmin, np.nanmax)])
    return color_norm(values, vmin, vmax, center, robust)


# seaborn's heatmap names that a grid of thumbnails has no use for.
NOT_FOR_THUMBNAILS = ("xticklabels", "yticklabels", "annot", "annot_kws", "fmt", "linewidths", "linecolor")


def check_grid_keywords(kwargs: dict, kind: str, norm, cbar_kws=None) -> None:
    """seaborn's heatmap names that do not apply to thumbnails get an error that says so."""
    if norm is not None and kind != "heatmap":
        raise ArgumentError('`norm` colors heatmap thumbnails: pass `kind="heatmap"` with it (line opacity is the weight).')
    if cbar_kws is not None and kind != "heatmap":
        raise ArgumentError('`cbar_kws` sets the colorbar of heatmap thumbnails: pass `kind="heatmap"` with it '
                            "(line thumbnails have no colorbar).")
    if cbar_kws is not None and not isinstance(cbar_kws, dict):
        raise ArgumentError(f"`cbar_kws` must be a dict of `Figure.colorbar` arguments (as in seaborn), but "
                            f"{cbar_kws!r} ({type(cbar_kws).__name__}) was passed.")
    for name in NOT_FOR_THUMBNAILS:
        if name in kwargs:
            raise ArgumentError(
                f"`model_view` draws thumbnails without token labels, annotations or cell lines, so seaborn's "
                f"`{name}` does not apply: draw one head with `attnfig.heatmap(attention, layer=..., head=..., "
                f"{name}=...)` instead."
            )


@with_parameters("attention", "tokens", "sentence_b_start", "include_layers", "encoder_decoder", "colors", "thinning", "prettify_tokens", "display_mode", "html_action", "norm", "figure")
def model_view(
    attention: Any = None,
    tokens: Sequence[str] | None = None,
    sentence_b_start: int | None = None,
    *,
    include_layers: int | Sequence[int] | None = None,
    include_heads: int | Sequence[int] | None = None,
    kind: str = "lines",
    encoder_attention: Any = None,
    decoder_attention: Any = None,
    cross_attention: Any = None,
    encoder_tokens: Sequence[str] | None = None,
    decoder_tokens: Sequence[str] | None = None,
    display_mode: str | None = None,
    prettify_tokens: bool = True,
    cmap: str | Colormap | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    center: float | None = None,
    norm: Normalize | None = None,
    robust: bool = False,
    cbar: bool = True,
    cbar_kws: dict[str, Any] | None = None,
    reduce: str = "max",
    span: tuple[int, int] | None = None,
    min_weight: float | None = None,
    top_k: int | None = None,
    palette: Any = None,
    html_action: str = "view",
    figsize: tuple[float, float] | None = None,
    figure: Figure | SubFigure | None = None,
    **kwargs: Any,
) -> Figure | SubFigure:
    """Draw BertViz's model view, a layer x head grid of thumbnails, and return the Figure.

    Rows are layers and columns heads, labelled with their original indices.
    ``kind="lines"`` draws each thumbnail as a small bipartite plot colored per layer (as
    BertViz does; the layers take the style's sequential colormap, first layer to last, as in
    `plot_head_map`, since the palette's colors mean heads in the other views), opacity = weight (values that are not weights, such as norms, are
    scaled so that the largest is opaque, and the figure says so); ``kind="heatmap"`` draws heatmaps on one shared color
    scale with one colorbar (``center`` gives a diverging scale, for differences;
    ``robust=True`` ends the scale at the 98th percentile, as seaborn does); thumbnails
    smaller than their cells show each pixel's ``reduce="max"`` (default, peaks survive)
    or ``"mean"``. Line thumbnails whose lines would be thinner than an output pixel are
    drawn as the exact ink of their lines (see `attnfig.views.readability`).
    ``span=(start, stop)`` keeps the queries and keys from `start` to `stop - 1`; the figure
    names the span and how much of its queries' attention goes outside it (if 1% or more).
    Encoder-decoder attention gives one grid per part. `**kwargs` go to the artists
    (`imshow` or `LineCollection`).

    Parameters
    ----------
    palette : str or list of colors, optional
        Layer colors of the line thumbnails; the style's ``image.cmap`` sampled per layer (its
        ends cut where a line would not read on the background) by default.
    kind : {"lines", "heatmap"}
        Thumbnails as bipartite line plots or as heatmaps.
    center : float, optional
        Center of a diverging color scale (heatmaps).
    cbar : bool
        Draw the shared colorbar (heatmaps).
    cbar_kws : dict, optional
        Passed to `matplotlib.figure.Figure.colorbar` for the shared colorbar (heatmaps), as
        in seaborn: ``label``, ``shrink``, ``orientation`` or ``location``, ``ticks``...
    reduce : {"max", "mean"}
        What a pixel shows when a thumbnail has more cells than output pixels.
    span : (int, int), optional
        ``(start, stop)``: show the tokens from `start` to ``stop - 1`` only.
    figsize : (float, float), optional
        Figure size in inches (`attnfig.figsize` gives a venue's); sized to the grid by default.
    **kwargs
        Passed to the artists (`matplotlib.axes.Axes.imshow` or
        `matplotlib.collections.LineCollection`).

    Returns
    -------
    matplotlib.figure.Figure
        The layer x head grid, one per attention set.

    Raises
    ------
    AttentionInputError
        When the attention, tokens or selections do not fit together, or `kind` is unknown.
    ArgumentError
        For an unknown keyword, inconsistent color limits, `display_mode`, `html_action`, or a
        heatmap-only argument (`norm`, `cbar_kws`) with line thumbnails.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> fig = attnfig.model_view(np.full((2, 3, 4, 4), 0.25), kind="heatmap")
    >>> [t.get_text() for t in fig.axes[0].get_xticklabels()]
    ['0', '1', '2']
    """
    if kind not in KINDS:
        raise AttentionInputError(one_of_message("kind", KINDS, kind))
    check_reduce(reduce)
    check_html_action(html_action)
    check_grid_keywords(kwargs, kind, norm, cbar_kws)
    if kind == "heatmap":
        check_keywords(model_view, kwargs, *IMSHOW_TAKERS, exclude=("X", "cmap", "norm", "extent"))
    else:
        check_keywords(model_view, kwargs, LineCollection)
    with display_mode_style(display_mode):
        panels = resolve_panels(PanelArguments.pick(locals()))
        notes = []
        if span is not None:
            spans = [restrict_to_span(data, span) for _, data in panels]
            # A span's thumbnails show no generation mark: `generated_start` counts the whole input.
            panels = [(title, dataclasses.replace(restricted.data, generated_start=None))
                      for (title, _), restricted in zip(panels, spans)]
            notes = [restricted.note() or f"Tokens {restricted.start}-{restricted.stop - 1}" for restricted in spans]
        rows = max(data.n_layers for _, data in panels)
        cols = sum(data.n_heads for _, data in panels)
        if figure is None:
            figsize = figsize or grid_figsize(rows, cols / len(panels), len(panels), kind == "heatmap" and cbar,
                                              titled=any(title for title, _ in panels), note=bool(notes))
        figure = target_figure(figure, figsize=figsize)
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        if kind == "heatmap":
            norm = _shared_norm(panels, vmin, vmax, center, robust, norm)
            cmap = colormap(cmap).with_extremes(bad=(0, 0, 0, 0))
            images = [_heatmap_panel(ax, data, norm, cmap, reduce, dict(kwargs)) for ax, (_, data) in zip(axes, panels)]
            if cbar:
                label = panels[0][1].value_label if center is None else "difference"
                where = {} if {"location", "orientation"} & set(cbar_kws or {}) else {
                    "location": colorbar_location(len(panels))}
                add_colorbar(figure, images[0], ax=list(axes), **{"shrink": 0.6, "label": label, **where,
                                                                  **(cbar_kws or {})})
        else:
            for ax, (_, data) in zip(axes, panels):
                note = _lines_panel(ax, data, palette, min_weight, top_k, dict(kwargs))
                notes += [note] if note else []
        for ax, (title, _) in zip(axes, panels):
            if title:
                ax.set_title(title, pad=2 * mpl.rcParams["font.size"])
        if notes:
            figure.supxlabel("; ".join(dict.fromkeys(notes)), fontsize=mpl.rcParams["legend.fontsize"])
    return figure
