"""A map of the heads (Clark et al. 2019, "What Does BERT Look At?", section 6).

Two heads are close when they attend alike: their distance is the Jensen-Shannon distance
between their attention distributions for the same query, averaged over every query of every
text. Classical multidimensional scaling then places the heads in the plane.
"""
from __future__ import annotations

from typing import Any, Sequence
from matplotlib.colors import Colormap
import numpy as np
from matplotlib.artist import Artist
from matplotlib.ticker import MaxNLocator
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.transforms import Bbox

from ..errors import AttentionInputError
from ..input.corpus import as_corpus
from ..themes import remember_style
from ..views.arguments import check_keywords, target_axes
from ..views.colors import colormap, font_points
from ..views.heatmap import add_colorbar
from .entropy import row_entropy

LABEL_SIZE = 0.8  # head labels, as a fraction of the tick label size
LABEL_OFFSET = 2.0  # points between a head's marker and its label


def head_distances(corpus: Any, tokens: Sequence[str] | None = None) -> np.ndarray:
    """Jensen-Shannon distances between every two heads, ``[L*H, L*H]`` (head ``l * H + h``).

    Parameters
    ----------
    corpus : AttentionData, attention array or list of them
        One input or a corpus (see `attnfig.as_attention`); every input must hold the same
        layers and heads.
    tokens : sequence of str, optional
        The tokens, for a single input that does not carry them.

    Returns
    -------
    numpy.ndarray
        float64 ``[L*H, L*H]``: for heads ``a`` and ``b``, the mean over every query row of every
        input of ``sqrt(JS(a_row, b_row))`` (natural logarithm, as
        ``scipy.spatial.distance.jensenshannon``); symmetric, zero on the diagonal.

    Raises
    ------
    AttentionInputError
        If the inputs hold different layers or heads.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.array([[[[1.0, 0.0]], [[0.0, 1.0]]]])      # 1 layer, 2 heads, 1 query
    >>> attnfig.head_distances(weights).round(4).tolist()     # sqrt(ln 2) apart
    [[0.0, 0.8326], [0.8326, 0.0]]
    """
    inputs = as_corpus(corpus, tokens)
    shape = inputs[0].weights.shape[:2]
    for data in inputs[1:]:
        if data.weights.shape[:2] != shape or data.layer_indices != inputs[0].layer_indices:
            raise AttentionInputError(
                f"Every input of the corpus must hold the same layers and heads, but one has {data.weights.shape[:2]} "
                f"(layers {list(data.layer_indices)}) and the first {shape} (layers {list(inputs[0].layer_indices)})."
            )
    n_heads = shape[0] * shape[1]
    totals, rows = np.zeros((n_heads, n_heads)), 0
    for data in inputs:
        p = data.weights.reshape(n_heads, *data.weights.shape[2:]).astype(np.float64)
        entropy = row_entropy(p)  # [heads, q]
        for head in range(n_heads):
            middle = (p[head] + p) / 2  # [heads, q, k]
            divergence = row_entropy(middle) - (entropy[head] + entropy) / 2
            totals[head] += np.sqrt(np.maximum(divergence, 0)).sum(axis=-1)
        rows += p.shape[1]
    distances = totals / rows
    np.fill_diagonal(distances, 0)
    return (distances + distances.T) / 2


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
    """Before the labels draw (lower zorder), shows each label only if it overlaps no label shown before it.

    Decided at draw time, after the layout has placed the axes, so the rule holds at any size.
    """

    def __init__(self, labels):
        super().__init__()
        self.labels = labels
        self.set_zorder(min(label.get_zorder() for label in labels) - 0.5 if labels else 0)

    def draw(self, renderer):
        shown: list[Bbox] = []
        for label in self.labels:
            label.set_visible(True)
            box = label.get_window_extent(renderer)
            fits = all(not box.overlaps(other) for other in shown)
            label.set_visible(fits)
            if fits:
                shown.append(box)


def plot_head_map(corpus: Any, tokens: Sequence[str] | None = None, *, ax: Axes | None = None,
                  cmap: str | Colormap | None = None, labels: bool = True, **kwargs: Any) -> Axes:
    """Draw the heads in the plane by classical MDS of their Jensen-Shannon distances; returns the Axes.

    Parameters
    ----------
    corpus : AttentionData, attention array or list of them
        As in `head_distances`.
    tokens : sequence of str, optional
        The tokens, for a single input that does not carry them.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current Axes by default.
    cmap : str or Colormap, optional
        The colormap of the layers; the style's ``image.cmap`` by default.
    labels : bool
        Label heads ``layer-head``: every label that does not overlap one drawn before it.
    **kwargs
        Passed to `Axes.scatter`.

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
    inputs = as_corpus(corpus, tokens)
    distances = head_distances(inputs)
    points = classical_mds(distances)
    first = inputs[0]
    layer_of = np.repeat(np.array(first.layer_indices), first.n_heads)
    head_of = np.tile(np.array(first.head_indices), first.n_layers)
    ax = target_axes(ax)
    remember_style(ax.figure)
    kwargs.setdefault("s", font_points("xtick.labelsize") ** 2 * 0.6)
    kwargs.setdefault("linewidths", 0)
    # One color step per layer, so the colorbar reads as a legend of layers.
    steps = max(first.layer_indices) - min(first.layer_indices) + 1
    scatter = ax.scatter(points[:, 0], points[:, 1], c=layer_of, cmap=colormap(cmap).resampled(steps),
                         vmin=min(first.layer_indices) - 0.5, vmax=max(first.layer_indices) + 0.5, **kwargs)
    if labels:
        texts = [ax.annotate(f"{layer}-{head}", (x, y), xytext=(LABEL_OFFSET, LABEL_OFFSET), textcoords="offset points",
                             fontsize=LABEL_SIZE * font_points("xtick.labelsize"), annotation_clip=False)
                 for (x, y), layer, head in zip(points, layer_of, head_of)]
        ax.add_artist(_LabelsThatFit(texts))
    colorbar = add_colorbar(ax.figure, scatter, ax=ax, label="layer")
    colorbar.locator = MaxNLocator(integer=True)
    colorbar.update_ticks()
    ax.set_xlabel("MDS 1")
    ax.set_ylabel("MDS 2")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title("Heads by Jensen-Shannon distance")
    return ax
