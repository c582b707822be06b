"""Images computed at the output resolution: line density and peak-keeping reductions.

Two rules (stated again in `attnfig.views.readability`):

- **Line density.** A line of weight ``w`` and width ``lw`` pixels crossing a column of
  pixels leaves ``w * lw * sqrt(1 + slope**2)`` of ink there; the inks of all lines add up,
  and a pixel's opacity is ``1 - exp(-ink)``, what alpha-compositing many faint lines gives.
  When more tokens than pixel rows share an axis, tokens are first summed into one bin per
  pixel row (fewer if needed), so an image costs at most `INK_BUDGET` line crossings
  whatever the weights and the number of tokens.
- **Reduction.** When a heatmap has more cells than output pixels, each pixel shows the
  ``max`` (default: a single strong cell stays visible at any size) or the ``mean`` of
  the cells it covers, never a resampling that averages peaks away.

Both are drawn by `ResolutionImage`, which computes its array when it is drawn, at the
pixel size it has in that output (PNG, or the ``savefig.dpi`` image embedded in PDF/SVG).
"""
from __future__ import annotations

import functools
import math
from typing import Callable

import matplotlib as mpl
import numpy as np
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.transforms import Bbox, TransformedBbox

from ..errors import AttentionInputError, one_of_message

REDUCTIONS = ("max", "mean")
CHUNK = 1 << 20  # line crossings computed at once (about 20 MB)
INK_BUDGET = 1 << 22  # line crossings (lines x pixel columns) per ink image


def bin_edges(n: int, bins: int) -> np.ndarray:
    """Start indices of `bins` nearly equal runs of `n` items (all n when ``bins >= n``).

    >>> bin_edges(10, 4).tolist(), bin_edges(3, 8).tolist()
    ([0, 2, 5, 7], [0, 1, 2])
    """
    bins = max(1, min(int(bins), n))
    return np.floor(np.arange(bins) * n / bins).astype(np.intp)


def reduce_blocks(matrix: np.ndarray, rows: int, cols: int, reduce: str = "max") -> np.ndarray:
    """`matrix[..., q, k]` reduced to at most ``rows x cols`` cells by block `reduce`.

    NaN cells (masked) are ignored; a block of NaN only stays NaN.

    >>> m = np.zeros((8, 8)); m[5, 2] = 1.0
    >>> reduce_blocks(m, 2, 2).tolist(), float(reduce_blocks(m, 2, 2, "mean")[1, 0])
    ([[0.0, 0.0], [1.0, 0.0]], 0.0625)
    """
    check_reduce(reduce)
    if matrix.shape[-2] <= rows and matrix.shape[-1] <= cols:
        return matrix
    row_edges, col_edges = bin_edges(matrix.shape[-2], rows), bin_edges(matrix.shape[-1], cols)
    if reduce == "max":
        # along the contiguous last axis first: the same maxima, several times faster
        out = np.fmax.reduceat(matrix, col_edges, axis=-1)
        return np.fmax.reduceat(out, row_edges, axis=-2)
    finite = np.isfinite(matrix)
    total = np.add.reduceat(np.add.reduceat(np.where(finite, matrix, 0), row_edges, axis=-2), col_edges, axis=-1)
    count = np.add.reduceat(np.add.reduceat(finite.astype(np.float32), row_edges, axis=-2), col_edges, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def fit_to_pixels(matrix: np.ndarray, rows: int, cols: int, reduce: str = "max") -> np.ndarray:
    """`matrix[..., q, k]` as exactly ``rows x cols`` pixels: axes with more cells than
    pixels are reduced by `reduce_blocks`, axes with fewer repeat each cell (crisp squares).

    >>> fit_to_pixels(np.array([[0.0, 1.0]]), 2, 4).tolist()
    [[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0]]
    """
    n_rows, n_cols = matrix.shape[-2:]
    out = reduce_blocks(matrix, rows, cols, reduce) if n_rows > rows or n_cols > cols else matrix
    if out.shape[-2] < rows:
        out = np.take(out, (np.arange(rows) * out.shape[-2]) // rows, axis=-2)
    if out.shape[-1] < cols:
        out = np.take(out, (np.arange(cols) * out.shape[-1]) // cols, axis=-1)
    return out


def check_reduce(reduce) -> None:
    if reduce not in REDUCTIONS:
        raise AttentionInputError(one_of_message("reduce", REDUCTIONS, reduce))


def binned_weights(weights: np.ndarray, rows: int, cols: int):
    """Sum `weights[..., q, k]` into at most `rows` query and `cols` key bins.

    Returns the binned weights and the bins' centres in token units (token i spans [i, i + 1]).
    """
    n_q, n_k = weights.shape[-2:]
    row_edges, col_edges = bin_edges(n_q, rows), bin_edges(n_k, cols)
    binned = weights
    if len(row_edges) < n_q:
        binned = np.add.reduceat(binned, row_edges, axis=-2)
    if len(col_edges) < n_k:
        binned = np.add.reduceat(binned, col_edges, axis=-1)
    return binned, _centres(row_edges, n_q), _centres(col_edges, n_k)


def _centres(edges: np.ndarray, n: int) -> np.ndarray:
    return (edges + np.append(edges[1:], n)) / 2


def line_ink(weights: np.ndarray, query_y: np.ndarray, key_y: np.ndarray, height: int, width: int,
             line_width: float) -> np.ndarray:
    """Ink of straight lines from ``(0, query_y[q])`` to ``(width, key_y[k])`` on a
    ``height x width`` pixel grid, each of weight ``weights[q, k]`` and `line_width` pixels.

    y positions are in pixels. The ink of a line is spread over the two pixel rows nearest
    its centre in each column, so the total ink of a column is exact.

    >>> ink = line_ink(np.array([[1.0]]), np.array([2.0]), np.array([2.0]), 4, 3, 0.5)
    >>> ink[:, 0].tolist()
    [0.0, 0.25, 0.25, 0.0]
    """
    geometry = _ink_geometry(tuple(query_y.tolist()), tuple(key_y.tolist()), height, width)
    mass = np.asarray(weights, dtype=np.float32).ravel() * np.float32(line_width)
    return _deposit(geometry, mass, height, width)


def _deposit(geometry, mass: np.ndarray, height: int, width: int) -> np.ndarray:
    """The ink image of lines of `mass` (one per line) crossing the columns as `geometry` says."""
    ink = np.zeros(width * (height + 2))
    for index, share in geometry:  # chunks of columns, at most CHUNK crossings each
        ink += np.bincount(index.ravel(), (share * mass).ravel(), minlength=ink.size)
    return ink.reshape(width, height + 2)[:, 1:-1].T


@functools.lru_cache(maxsize=4)
def _ink_geometry(query_ys: tuple, key_ys: tuple, height: int, width: int):
    """Where each line crosses each pixel column: flat pixel indices and ink shares per unit
    of mass, for every (query, key) pair; cached, since every thumbnail of a grid shares it."""
    query_y, key_y = np.asarray(query_ys, dtype=np.float32), np.asarray(key_ys, dtype=np.float32)
    return tuple(_crossings(np.repeat(query_y, len(key_y)), np.tile(key_y, len(query_y)), height, width))


def _crossings(start_y: np.ndarray, end_y: np.ndarray, height: int, width: int):
    """For lines from ``(0, start_y)`` to ``(width, end_y)`` (pixels), chunks of columns of
    ``(index, share)``: the flat pixel indices each line crosses and its ink share there."""
    y_start = np.asarray(start_y, dtype=np.float32) - np.float32(0.5)  # pixel-centre units
    rise = np.asarray(end_y, dtype=np.float32) - np.asarray(start_y, dtype=np.float32)
    thickness = np.sqrt(1 + (rise / width) ** 2)
    step = max(1, CHUNK // max(1, len(rise)))
    for first in range(0, width, step):
        columns = np.arange(first, min(first + step, width))
        y = y_start[None, :] + ((columns + 0.5) / width).astype(np.float32)[:, None] * rise[None, :]
        low = np.floor(y)
        upper_share = y - low
        rows = np.clip(low.astype(np.int32), -1, height) + 1
        flat = columns[:, None].astype(np.int32) * (height + 2)
        index = np.stack([flat + rows, flat + np.minimum(rows + 1, height + 1)])
        share = np.stack([(1 - upper_share) * thickness, upper_share * thickness])
        yield index, share


def lines_ink(weights: np.ndarray, height: int, width: int, line_width: float) -> np.ndarray:
    """Ink image of the lines of `weights[q, k]` (queries at x = 0, keys at x = width; token
    i centred at ``(i + 0.5) / n`` of the height), within `INK_BUDGET` line crossings per kind.

    Tokens are summed into one bin per pixel row (a bin is then no wider than a pixel). When
    every binned pair fits the budget, all are drawn (cached geometry, shared by the
    thumbnails of a grid). Otherwise the strongest ``INK_BUDGET // width`` lines are drawn
    exactly and the rest are summed into coarser bins (``bins**2 * width`` within the budget),
    each coarse line spread over its bin's rows, as the bundle of lines it stands for: a
    faint wash, never a lattice of bright bin-to-bin lines. The cost depends on the output's
    pixels, not on the tokens or weights.
    """
    n_q, n_k = weights.shape
    binned, query_bins, key_bins = binned_weights(weights, min(height, n_q), min(height, n_k))
    query_y, key_y = query_bins * height / n_q, key_bins * height / n_k
    if binned.size * width <= INK_BUDGET:
        ink = line_ink(binned, query_y, key_y, height, width, line_width)
        return widen(ink, line_width) if line_width > 1.5 else ink
    flat = binned.ravel()
    exact = _strongest(flat, max(1, INK_BUDGET // width))
    q_index, k_index = np.divmod(exact, binned.shape[1])
    mass = flat[exact].astype(np.float32) * np.float32(line_width)
    ink = _deposit(_crossings(query_y[q_index], key_y[k_index], height, width), mass, height, width)
    if line_width > 1.5:
        ink = widen(ink, line_width)
    if len(exact) == np.count_nonzero(flat > 0):  # every line drawn exactly (sparse weights)
        return ink
    rest = np.array(binned, dtype=float)
    rest.ravel()[exact] = 0
    return ink + _bundle_ink(rest, height, width, line_width)


def _strongest(flat: np.ndarray, count: int) -> np.ndarray:
    """Indices of the `count` largest positive values of `flat` (all positive ones if fewer)."""
    positive = np.flatnonzero(flat > 0)
    if len(positive) <= count:
        return positive
    return positive[np.argpartition(flat[positive], -count)[-count:]]


def _bundle_ink(rest: np.ndarray, height: int, width: int, line_width: float) -> np.ndarray:
    """Ink of the lines of `rest` (binned per pixel row) summed into bins within `INK_BUDGET`,
    each spread over its bin's height in pixels (the bundle of lines it stands for)."""
    bins = max(1, int(math.sqrt(INK_BUDGET / width)))
    coarse, query_bins, key_bins = binned_weights(rest, min(bins, rest.shape[0]), min(bins, rest.shape[1]))
    query_y = query_bins * height / rest.shape[0]
    key_y = key_bins * height / rest.shape[1]
    ink = line_ink(coarse, query_y, key_y, height, width, line_width)
    # A bundle is as wide as its bins (the mean of its two ends'), where tokens were binned together.
    ends = [height / c if c < r else line_width for c, r in zip(coarse.shape, rest.shape)]
    spread = max(line_width, sum(ends) / 2)
    return widen(ink, spread) if spread > 1.5 else ink


def widen(ink: np.ndarray, line_width: float) -> np.ndarray:
    """Spread each column's ink over `line_width` rows (a box, mass kept): lines wider than a
    pixel cover that many rows, each at the line's own opacity.

    >>> widen(np.array([[0.0], [3.0], [0.0]]), 3).ravel().tolist()
    [1.0, 1.0, 1.0]
    """
    rows = max(1, round(line_width))
    padded = np.pad(ink, ((rows // 2 + 1, rows - rows // 2), (0, 0)))
    total = np.cumsum(padded, axis=0)
    return (total[rows:rows + ink.shape[0]] - total[:ink.shape[0]]) / rows


def ink_rgba(ink: np.ndarray, color, background=None) -> np.ndarray:
    """An RGBA image of `color` whose opacity is ``1 - exp(-ink)``; with a `background`, that
    opacity is the one reading alike on it as on white (`attnfig.views.contrast.visible_alphas`)."""
    from .contrast import visible_alphas

    rgba = np.empty(ink.shape + (4,), dtype=np.float32)
    rgba[..., :3] = np.asarray(color, dtype=np.float32)[:3]
    alpha = -np.expm1(-ink)
    if background is not None:
        alpha = visible_alphas(color, alpha.ravel(), background).reshape(alpha.shape)
    rgba[..., 3] = alpha * float(color[3])
    return rgba


def over(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Alpha-composite RGBA `top` over `bottom` (straight alpha), as drawing order does."""
    alpha = top[..., 3:] + bottom[..., 3:] * (1 - top[..., 3:])
    with np.errstate(invalid="ignore", divide="ignore"):
        rgb = (top[..., :3] * top[..., 3:] + bottom[..., :3] * bottom[..., 3:] * (1 - top[..., 3:])) / alpha
    return np.concatenate([np.nan_to_num(rgb), alpha], axis=-1)


def output_dpi(figure) -> float:
    """The dpi of saved figures: the style's ``savefig.dpi`` (the figure's when "figure")."""
    dpi = mpl.rcParams["savefig.dpi"]
    return figure.dpi if dpi == "figure" else float(dpi)


def blank_canvas(height: int, width: int, background) -> np.ndarray:
    """An RGBA canvas filled with `background` (transparent when None)."""
    canvas = np.zeros((height, width, 4), dtype=np.float32)
    if background is not None:
        canvas[:] = background
    return canvas


def opaque_background(ax):
    """The RGBA color under the Axes (its face, else the figure's), or None if see-through.

    Images and rasters drawn onto an opaque background composite the same way in every
    format; on a transparent one, PDF viewers and Agg round faint colors differently.
    """
    for color in (ax.get_facecolor(), ax.figure.get_facecolor()):
        if color[3] >= 1:
            return np.asarray(color, dtype=np.float32)
        if color[3] > 0:
            return None
    return None


def raster_backdrop(ax, zorder: float) -> None:
    """Under rasterized artists, an opaque rasterized patch of the Axes' background.

    Rasterized neighbours are drawn into one image; with this patch first, that image is
    opaque and its faint lines are blended onto the background exactly as in a PNG.
    """
    background = opaque_background(ax)
    if background is not None:
        ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, facecolor=background, edgecolor="none",
                               rasterized=True, zorder=zorder - 0.01, label="raster backdrop"))


class ResolutionImage(AxesImage):
    """An image whose array is computed when drawn, at the pixel size it takes in that output.

    `render(height, width, pixels_per_inch)` returns the array (scalars for a colormap, or
    RGBA). The image
    is redrawn for PNG and for the ``savefig.dpi`` image inside PDF/SVG alike, so both show
    the same pixels.
    """

    def __init__(self, ax, render: Callable[[int, int, float], np.ndarray], extent, initial=None, **kwargs):
        kwargs.setdefault("interpolation", "nearest")
        # The array is already at output pixels: color it after resampling, which never
        # makes a float RGBA copy of a larger array.
        kwargs.setdefault("interpolation_stage", "data")
        super().__init__(ax, extent=extent, **kwargs)
        self.set_clip_path(ax.patch)  # as `Axes.imshow` does
        self._render = render
        self._rendered_size: tuple[int, int, float] | None = None
        # The real size is known when drawn: until then one masked pixel (rendering at 1 x 1
        # here would reduce the whole input once more, for nothing).
        self.set_data(np.ma.masked_all((1, 1), dtype=np.float32) if initial is None else initial)

    def _pixel_size(self, magnification: float) -> tuple[int, int]:
        x1, x2, y1, y2 = self.get_extent()
        box = TransformedBbox(Bbox([[x1, y1], [x2, y2]]), self.get_transform())
        height, width = abs(box.height) * magnification, abs(box.width) * magnification
        # Never more array rows than output pixels: nearest-neighbour upsampling then shows
        # every computed row (a peak is never skipped).
        return max(1, int(height)), max(1, int(width))

    def _render_at(self, height: int, width: int, pixels_per_inch: float) -> None:
        if self._rendered_size != (height, width, pixels_per_inch):
            self.set_data(self._render(height, width, pixels_per_inch))
            self._rendered_size = (height, width, pixels_per_inch)

    def make_image(self, renderer, magnification=1.0, unsampled=False):
        # Display units are pixels at figure.dpi (points in PDF/SVG, where figure.dpi is 72
        # and the magnification brings images to savefig.dpi).
        self._render_at(*self._pixel_size(magnification), self.figure.dpi * magnification)
        return super().make_image(renderer, magnification, unsampled)
