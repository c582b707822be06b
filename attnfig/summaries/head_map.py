"""A map of the heads (Clark et al. 2019, "What Does BERT Look At?", section 6).

Two heads are close when they attend alike: their distance is the Jensen-Shannon distance
between their attention distributions for the same query, averaged over every query of every
text. Classical multidimensional scaling then places the heads in the plane.
"""
from __future__ import annotations

from typing import Any, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.ticker import MaxNLocator
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.colors import Colormap, ListedColormap
from matplotlib.transforms import Bbox

from .._docstrings import with_parameters
from ..errors import AttentionInputError
from ..input.chunks import Chunk, float64, is_torch, namespace, to_numpy
from ..input.corpus import as_corpus
from ..themes import remember_style
from ..views.arguments import check_keywords, target_axes
from ..views.colors import colormap, font_points, layer_colors
from ..views.contrast import axes_background
from ..views.heatmap import add_colorbar
from ..views.labels import min_fontsize
from ..views.layout import settle_layout
from .accumulators import accumulated
from .entropy import row_entropy

LABEL_SIZE = 0.8  # head labels, as a fraction of the tick label size
LABEL_OFFSET = 0.5  # points between a head's marker and the corner of its label
LABEL_GAP = 0.3  # the least space between two labels, as a fraction of their font size
# Every other marker is this many font sizes farther from a label than its own marker (a label
# between several markers could name any of them).
LABEL_CLEARANCE = 0.6
# Marker diameter: this fraction of the side of the Axes' area shared by each head, within
# [MARKER_SMALLEST, MARKER_LARGEST] tick label sizes (few heads: larger, many: smaller).
MARKER_SHARE = 0.2
MARKER_SMALLEST, MARKER_LARGEST = 0.4, 0.9
EDGE_WIDTH = 0.5  # points: the markers' edge, in the style's axes edge color, reads on any background
# Where a label may sit, tried in order: offset direction (diagonals clear the marker by
# radius / sqrt 2 on each axis, sides by the radius), then alignment.
LABEL_CORNERS = (((1, 1), "left", "bottom"), ((1, -1), "left", "top"), ((-1, 1), "right", "bottom"),
                 ((-1, -1), "right", "top"), ((np.sqrt(2), 0), "left", "center"), ((-np.sqrt(2), 0), "right", "center"),
                 ((0, np.sqrt(2)), "center", "bottom"), ((0, -np.sqrt(2)), "center", "top"))


@with_parameters("engine")
def head_distances(corpus: Any, tokens: Sequence[str] | None = None, *, model: Any = None,
                   tokenizer: Any = None, engine: Any = "local",
                   engine_options: dict[str, Any] | None = None) -> np.ndarray:
    """Jensen-Shannon distances between every two heads, ``[L*H, L*H]`` (head ``l * H + h``).

    With `model` and `tokenizer`, `corpus` is a text or a list of texts (or ``(text, pair)``
    tuples), streamed through the model (see `attnfig.capture`): each text's attention is
    recomputed one block of queries at a time for every head together, so no map is ever kept
    (`attnfig.recording.stream_corpus` with ``order="queries"``). Memory: one block of queries
    for every head (64 MB of weights by default) and the text's queries and keys. Time: every
    pair of heads on every row, ``(L H)^2 n^2`` per text of ``n`` tokens, as in memory.

    Parameters
    ----------
    corpus : AttentionData, attention array or list of them
        One input or a corpus (see `attnfig.as_attention`); every input must hold the same
        layers and heads. Texts, with `model` and `tokenizer`.
    tokens : sequence of str, optional
        The tokens, for a single input that does not carry them.
    model, tokenizer : optional
        A transformers model of a family `attnfig.capture` supports, and its tokenizer.

    Returns
    -------
    numpy.ndarray
        float64 ``[L*H, L*H]``: for heads ``a`` and ``b``, the mean over every query row of every
        input of ``sqrt(JS(a_row, b_row))`` (natural logarithm, as
        ``scipy.spatial.distance.jensenshannon``); symmetric, zero on the diagonal.

    Raises
    ------
    AttentionInputError
        If the inputs hold different layers or heads, or the model's family cannot be streamed.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.array([[[[1.0, 0.0]], [[0.0, 1.0]]]])      # 1 layer, 2 heads, 1 query
    >>> attnfig.head_distances(weights).round(4).tolist()     # sqrt(ln 2) apart
    [[0.0, 0.8326], [0.8326, 0.0]]
    """
    return accumulated(HeadDistanceAccumulator, corpus, tokens, model, tokenizer, summary="head_distances",
                       engine=engine, engine_options=engine_options, maps=_same_heads).result()


def _same_heads(inputs):
    shape = inputs[0].weights.shape[:2]
    for data in inputs[1:]:
        if data.weights.shape[:2] != shape or data.layer_indices != inputs[0].layer_indices:
            raise AttentionInputError(
                f"Every input of the corpus must hold the same layers and heads, but one has {data.weights.shape[:2]} "
                f"(layers {list(data.layer_indices)}) and the first {shape} (layers {list(inputs[0].layer_indices)})."
            )
    return inputs


class HeadDistanceAccumulator:
    """`head_distances` chunk by chunk: sums of ``sqrt(JS)`` over rows, for every pair of heads.

    Two heads are compared on the same query rows, so the rows of one block of queries wait
    (in `pending`) until every head of the grid has sent them; then the block's pairs are summed
    and the block dropped. Fed in query order (``stream_corpus(..., order="queries")``), it
    holds one block; fed whole maps, one input. ``merge`` adds another accumulator's sums (a
    corpus split over processes).

    >>> import numpy as np, attnfig
    >>> from attnfig.input.chunks import whole_map_chunks
    >>> from attnfig.summaries.accumulators import summarize
    >>> data = attnfig.as_attention(np.array([[[[1.0, 0.0]], [[0.0, 1.0]]]]))
    >>> summarize(HeadDistanceAccumulator(), whole_map_chunks([data])).result().round(4).tolist()
    [[0.0, 0.8326], [0.8326, 0.0]]
    """

    stream_order = "queries"  # one block of queries for every layer before the next (see run_corpus)

    def __init__(self) -> None:
        self.totals: np.ndarray | None = None  # [L*H, L*H] sums of sqrt(JS) over rows
        self.rows = 0
        self.n_layers_heads = 0  # the grid's size, from the first chunk
        self.pending: dict[tuple, dict[int, object]] = {}  # (input, start, rows) -> {head: [rows, keys]}

    def update(self, chunk: Chunk) -> None:
        """Keep the chunk's rows until their block is complete, then add the block's pairs."""
        rows = _pad_keys(float64(chunk.rows), len(chunk.key_tokens))
        n_layers_heads = self.n_layers_heads = chunk.grid[0] * chunk.grid[1]
        key = (chunk.input_index, chunk.start, rows.shape[2])
        block = self.pending.setdefault(key, {})
        for i, layer in enumerate(chunk.layers):
            for j, head in enumerate(chunk.heads):
                block[layer * chunk.grid[1] + head] = rows[i, j]
        self._add_if_complete(key, n_layers_heads)

    def _add_if_complete(self, key: tuple, n_layers_heads: int) -> None:
        block = self.pending[key]
        if len(block) == n_layers_heads:
            del self.pending[key]
            self._add_block([block[head] for head in range(n_layers_heads)])

    def _add_block(self, heads: list) -> None:
        p = namespace(heads[0]).stack(heads)  # [L*H, rows, keys]
        entropy = row_entropy(p)  # [L*H, rows]
        sums = []
        for head in range(len(heads)):
            divergence = row_entropy((p[head] + p) / 2) - (entropy[head] + entropy) / 2
            sums.append(to_numpy(divergence.clip(min=0) ** 0.5).sum(axis=-1))
        totals = np.stack(sums)
        self.totals = totals if self.totals is None else self.totals + totals
        self.rows += p.shape[1]

    def merge(self, other: "HeadDistanceAccumulator") -> "HeadDistanceAccumulator":
        """Add `other`'s sums and pending rows into this accumulator; returns self."""
        if other.totals is not None:
            self.totals = other.totals.copy() if self.totals is None else self.totals + other.totals
        self.rows += other.rows
        self.n_layers_heads = self.n_layers_heads or other.n_layers_heads
        for key, block in other.pending.items():
            self.pending.setdefault(key, {}).update(block)
            self._add_if_complete(key, self.n_layers_heads)
        return self

    def result(self) -> np.ndarray:
        """The mean distance of every pair of heads over every row fed, ``[L*H, L*H]``."""
        if self.totals is None:
            raise AttentionInputError("head_distances needs at least one complete input, but none was fed "
                                      f"({len(self.pending)} blocks of queries miss some heads).")
        distances = self.totals / self.rows
        np.fill_diagonal(distances, 0)
        return (distances + distances.T) / 2


def _pad_keys(rows, n_keys: int):
    """`rows` with zero weights appended up to `n_keys` keys (chunks may leave out causally masked keys)."""
    missing = n_keys - rows.shape[-1]
    if missing <= 0:
        return rows
    if is_torch(rows):
        import torch

        return torch.nn.functional.pad(rows, (0, missing))
    return np.pad(rows, [(0, 0)] * (rows.ndim - 1) + [(0, missing)])


def classical_mds(distances: np.ndarray, dimensions: int = 2) -> np.ndarray:
    """Points ``[n, dimensions]`` whose Euclidean distances best match `distances` (Torgerson's MDS).

    The double-centred squared distances are eigendecomposed; the points are the leading
    eigenvectors scaled by the square roots of their (non-negative) eigenvalues.

    >>> import numpy as np
    >>> points = classical_mds(np.array([[0.0, 3.0], [3.0, 0.0]]))
    >>> round(float(np.linalg.norm(points[0] - points[1])), 9)
    3.0
    """
    squared = np.asarray(distances, dtype=np.float64) ** 2
    n = squared.shape[0]
    centring = np.eye(n) - 1 / n
    gram = -0.5 * centring @ squared @ centring
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:dimensions]
    points = vectors[:, order] * np.sqrt(np.maximum(values[order], 0))
    if points.shape[1] < dimensions:
        points = np.pad(points, ((0, 0), (0, dimensions - points.shape[1])))
    return points


class _LabelsThatFit(Artist):
    """Before the labels draw (lower zorder), places each label beside its marker where it fits.

    A label tries the four diagonal corners of its marker, then its four sides, in turn and
    takes the first where it stays inside the Axes, keeps `LABEL_GAP` font sizes from every
    label shown before it, overlaps no other head's marker and has every other marker at least
    `LABEL_CLEARANCE` font sizes farther than its own (so it cannot be read as a neighbour's label); a label that fits nowhere is
    hidden. Decided at draw time, after the layout has placed the axes, so the rule holds at
    any size.
    """

    def __init__(self, labels, markers: PathCollection, radius_points: float):
        super().__init__()
        self.labels = labels
        self.markers = markers
        self.radius_points = radius_points
        self.set_zorder(min(label.get_zorder() for label in labels) - 0.5 if labels else 0)

    def draw(self, renderer):
        if self.axes is None:  # not added to an Axes: nothing to place
            return
        frame = self.axes.get_window_extent(renderer)
        centers = self.markers.get_offset_transform().transform(self.markers.get_offsets())
        radius = renderer.points_to_pixels(self.radius_points)
        gap = self.radius_points / np.sqrt(2) + LABEL_OFFSET  # a label's corner clears its own marker
        shown: list[Bbox] = []
        for index, label in enumerate(self.labels):
            label.set_visible(True)
            others = np.delete(centers, index, axis=0)
            pad = renderer.points_to_pixels(LABEL_GAP * label.get_fontsize()) / 2  # half the gap on each box
            clearance = renderer.points_to_pixels(LABEL_CLEARANCE * label.get_fontsize())
            for (x, y), ha, va in LABEL_CORNERS:
                label.xyann = (x * gap, y * gap)
                label.set_horizontalalignment(ha)
                label.set_verticalalignment(va)
                box = label.get_window_extent(renderer)
                padded = box.padded(pad)
                inside = (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1)
                own = max(radius, _distances(box, centers[index:index + 1])[0])
                if (inside and not any(padded.overlaps(other) for other in shown)
                        and not np.any(_distances(box, others) < own + clearance)):
                    shown.append(padded)
                    break
            else:
                label.set_visible(False)


def _distances(box, centers: np.ndarray) -> np.ndarray:
    """Distance from the rectangle `box` (display) to each of `centers` (0 inside it).

    >>> _distances(Bbox([[0, 0], [2, 1]]), np.array([[1.0, 0.5], [5.0, 5.0]])).tolist()
    [0.0, 5.0]
    """
    dx = np.maximum(np.maximum(box.x0 - centers[:, 0], centers[:, 0] - box.x1), 0)
    dy = np.maximum(np.maximum(box.y0 - centers[:, 1], centers[:, 1] - box.y1), 0)
    return np.hypot(dx, dy)


def head_label_points() -> float:
    """The head labels' font size: `LABEL_SIZE` of the style's tick labels, never below the
    smallest size token labels shrink to (`attnfig.views.labels.min_fontsize`, 5 pt at 6-pt ticks)."""
    ticks = font_points("xtick.labelsize")
    return max(LABEL_SIZE * ticks, min_fontsize(ticks))


def marker_points(ax: Axes, n_points: int) -> float:
    """Marker diameter in points for `n_points` heads in `ax`: `MARKER_SHARE` of the side of
    each head's share of the Axes' area, kept within [`MARKER_SMALLEST`, `MARKER_LARGEST`]
    tick label sizes."""
    from ..views.figures import axes_inches

    width, height = axes_inches(ax)
    share = np.sqrt(width * height * 72**2 / max(n_points, 1))
    label = font_points("xtick.labelsize")
    return float(np.clip(MARKER_SHARE * share, MARKER_SMALLEST * label, MARKER_LARGEST * label))


def plot_head_map(corpus: Any, tokens: Sequence[str] | None = None, *, model: Any = None, tokenizer: Any = None,
                  ax: Axes | None = None, cmap: str | Colormap | None = None, labels: bool = True,
                  **kwargs: Any) -> Axes:
    """Draw the heads in the plane by classical MDS of their Jensen-Shannon distances; returns the Axes.

    Parameters
    ----------
    corpus : AttentionData, attention array or list of them
        As in `head_distances`.
    tokens : sequence of str, optional
        The tokens, for a single input that does not carry them.
    model, tokenizer : optional
        A transformers model and its tokenizer: `corpus` is then texts, streamed (see
        `head_distances`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current Axes by default.
    cmap : str or Colormap, optional
        The colormap of the layers; the style's ``image.cmap`` by default. Layers take the
        colors `model_view` gives them (`attnfig.views.colors.layer_colors`): its ends within
        `attnfig.views.contrast.MIN_LINE_CONTRAST` lightness (L*) of the Axes' face are cut.
    labels : bool
        Label heads ``layer-head``: each beside its marker, inside the Axes, where it keeps a
        gap from every other label, overlaps no other marker and is clearly nearer its own marker
        than any other (a label that fits nowhere is left out); at least 5 pt (or the tick size).
    **kwargs
        Passed to `Axes.scatter`; the markers' size `s` is by default sized to the Axes and the
        number of heads (`marker_points`).

    Returns
    -------
    matplotlib.axes.Axes
        The Axes, with one scatter collection colored by layer and a "layer" colorbar.

    Raises
    ------
    AttentionInputError
        As `head_distances`.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.random.default_rng(0).dirichlet(np.ones(5), size=(2, 3, 5))
    >>> ax = attnfig.plot_head_map(weights)
    >>> len(ax.collections[0].get_offsets())
    6
    """
    check_keywords(plot_head_map, kwargs, Axes.scatter, PathCollection, exclude=("c", "x", "y"))
    if model is not None:
        distances = head_distances(corpus, model=model, tokenizer=tokenizer)
        layer_indices = tuple(range(model.config.num_hidden_layers))
        head_indices = tuple(range(model.config.num_attention_heads))
    else:
        inputs = as_corpus(corpus, tokens, summary="plot_head_map", streamed="head_distances")
        distances = head_distances(inputs)
        layer_indices, head_indices = inputs[0].layer_indices, inputs[0].head_indices
    points = classical_mds(distances)
    layer_of = np.repeat(np.array(layer_indices), len(head_indices))
    head_of = np.tile(np.array(head_indices), len(layer_indices))
    ax = target_axes(ax)
    remember_style(ax.figure)
    kwargs.setdefault("s", marker_points(ax, len(points)) ** 2)
    kwargs.setdefault("linewidths", EDGE_WIDTH)
    kwargs.setdefault("edgecolors", mpl.rcParams["axes.edgecolor"])
    # One color step per layer, so the colorbar reads as a legend of layers; a layer's color is the one
    # every figure gives it (`layer_colors`, as `model_view`'s line thumbnails).
    colors = layer_colors(max(layer_indices) + 1, cmap=colormap(cmap), background=axes_background(ax))
    steps = ListedColormap(colors[min(layer_indices):], name="layers")
    scatter = ax.scatter(points[:, 0], points[:, 1], c=layer_of, cmap=steps,
                         vmin=min(layer_indices) - 0.5, vmax=max(layer_indices) + 0.5, **kwargs)
    if labels:
        texts = [ax.annotate(f"{layer}-{head}", (x, y), xytext=(0, 0), textcoords="offset points",
                             fontsize=head_label_points(), annotation_clip=False)
                 for (x, y), layer, head in zip(points, layer_of, head_of)]
        for text in texts:  # placed inside the frame at draw time, after the layout: never the layout's concern
            text.set_in_layout(False)
        edge = np.max(scatter.get_linewidths())  # type: ignore[union-attr]  # stubs lack Collection.get_linewidths
        radius = np.sqrt(np.max(scatter.get_sizes())) / 2 + edge / 2
        ax.add_artist(_LabelsThatFit(texts, scatter, radius))
    colorbar = add_colorbar(ax.figure, scatter, ax=ax, label="layer")
    colorbar.locator = MaxNLocator(integer=True)
    colorbar.update_ticks()
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Heads by Jensen-Shannon distance")
    settle_layout(ax.figure)  # the same picture however often, and by what, the figure is drawn
    return ax
