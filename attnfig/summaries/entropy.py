"""Head entropy maps (Clark et al. 2019, Fig. 4): how spread out each head's attention is."""
from __future__ import annotations

from typing import Any, Sequence
from matplotlib.axes import Axes
from matplotlib.colors import Colormap
import numpy as np

from ..input.chunks import Chunk, float64, namespace
from ..input.corpus import as_corpus
from ..options import layer_label
from ..views.arguments import check_keywords
from ..views.colorbar_ticks import MarkedFormatter, MarkedLocator
from ..views.heatmap import IMSHOW_TAKERS, MATRIX_ARGUMENTS_SET_BY_CALLER, matrix_heatmap
from .._docstrings import with_parameters
from .accumulators import PerInputSums, accumulated


ENTROPY_LABEL = "mean entropy (nats)"
UNIFORM_LABEL = "uniform"  # the colorbar's tick at the entropy of uniform attention


def row_entropy(weights: np.ndarray) -> np.ndarray:
    """Entropy in nats of each attention row, ``-sum p ln p`` over the last axis (0 ln 0 = 0).

    `weights` is a numpy array (or a torch tensor, entropy computed on its device).

    >>> row_entropy(np.array([[1.0, 0.0], [0.5, 0.5]])).round(4).tolist()
    [0.0, 0.6931]
    """
    p = float64(weights)
    terms = p * namespace(p).log(namespace(p).where(p > 0, p, 1.0))  # ln 1 = 0 where p = 0
    return 0.0 - terms.sum(-1)  # 0.0 - x, not -x: no negative zeros


class EntropyAccumulator(PerInputSums):
    """`head_entropy` summed chunk by chunk: the entropy of every row, per input and head.

    >>> import attnfig
    >>> from attnfig.input.chunks import whole_map_chunks
    >>> from attnfig.summaries.accumulators import summarize
    >>> data = attnfig.as_attention(np.full((1, 2, 4, 4), 0.25))
    >>> summarize(EntropyAccumulator(), whole_map_chunks([data])).result().round(4).tolist()
    [[1.3863, 1.3863]]
    """

    def update(self, chunk: Chunk) -> None:
        """Add the entropy of the chunk's rows."""
        self.add(chunk, "entropy", row_entropy(chunk.rows).sum(-1))

    def per_input(self) -> np.ndarray:
        """Mean row entropy of every head, ``[inputs, layers, heads]``."""
        return np.stack([self.sums[i]["entropy"] / self.facts[i]["n_queries"] for i in self.inputs()])

    def result(self) -> np.ndarray:
        """Mean row entropy of every head, averaged over the inputs: ``[layers, heads]``."""
        return np.mean(self.per_input(), axis=0)


def uniform_row_entropy(data) -> np.ndarray:
    """Entropy of uniform attention over the keys each query can see, ``ln(keys)``: ``[layers, q]``.

    A causal query i sees i + 1 keys, or ``min(i + 1, window)`` in a sliding-window layer
    (`AttentionData.layer_windows`, filled by `from_model` from the model's config).

    >>> import attnfig, dataclasses
    >>> data = attnfig.as_attention(np.tril(np.ones((5, 5))) / np.arange(1, 6)[:, None])
    >>> np.exp(uniform_row_entropy(dataclasses.replace(data, layer_windows=(2,)))).round().tolist()
    [[1.0, 2.0, 2.0, 2.0, 2.0]]
    """
    layers, _, q, k = data.weights.shape
    windows = data.layer_windows or (None,) * layers
    visible = np.empty((layers, q))
    for position, window in enumerate(windows):
        seen = np.arange(1, q + 1) if data.is_causal else np.full(q, k)
        visible[position] = seen if window is None or not data.is_causal else np.minimum(seen, window)
    return np.log(visible)


@with_parameters("corpus", "tokens", "streaming", "engine", raises=("corpus",))
def head_entropy(attention: Any, tokens: Sequence[str] | None = None, *, model: Any = None,
                 tokenizer: Any = None,
                 engine: Any = "local", engine_options: dict[str, Any] | None = None) -> np.ndarray:
    """Mean entropy (nats) of each head's rows, ``array[layers, heads]``, averaged over a corpus.

    With `model` and `tokenizer`, `attention` is a text or a list of texts (or ``(text, pair)``
    tuples), summed from `attnfig.capture`'s chunks without keeping any map.

    Returns
    -------
    numpy.ndarray
        ``[layers, heads]`` mean entropy in nats.

    Examples
    --------
    >>> import numpy as np
    >>> head_entropy(np.full((1, 2, 4, 4), 0.25)).round(4).tolist()
    [[1.3863, 1.3863]]
    """
    return accumulated(EntropyAccumulator, attention, tokens, model, tokenizer, summary="head_entropy",
                       engine=engine, engine_options=engine_options).result()


@with_parameters("corpus", "tokens", raises=("corpus",))
def uniform_entropy(attention: Any, tokens: Sequence[str] | None = None) -> float:
    """The mean entropy uniform attention would have over the same rows (the reference).

    Returns
    -------
    float
        The mean over the same rows of ``log(number of keys each row can attend to)``.

    Examples
    --------
    >>> import numpy as np
    >>> round(uniform_entropy(np.full((1, 1, 4, 4), 0.25)), 4)
    1.3863
    """
    return float(np.mean([uniform_row_entropy(data).mean() for data in as_corpus(attention, tokens, summary="uniform_entropy")]))


@with_parameters("corpus", "tokens", returns="axes", raises=("corpus",))
def plot_head_entropy(attention: Any, tokens: Sequence[str] | None = None, *, ax: Axes | None = None,
                      cmap: str | Colormap | None = None, annot: bool = False, fmt: str = ".1f", **kwargs: Any) -> Axes:
    """Draw the layer x head entropy map, uniform attention marked on the colorbar; returns the Axes.

    The colorbar runs from 0 (every row on one key) to the uniform entropy of the same rows
    (dashed line, its tick labelled "uniform"; its value is `uniform_entropy`), so a head's
    distance from uniform reads off directly; the other ticks are nice numbers that keep
    clear of the "uniform" label.

    Parameters
    ----------
    ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.
    cmap : str or Colormap, optional
        The style's ``image.cmap`` by default.
    annot : bool
        Write each head's entropy in its cell.
    fmt : str
        Format of the annotations.
    **kwargs
        Passed to `head_entropy` (``model``, ``tokenizer``) and to the image.

    Examples
    --------
    >>> import numpy as np
    >>> ax = plot_head_entropy(np.full((2, 3, 4, 4), 0.25))
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('Head', 'Layer')
    """
    check_keywords(plot_head_entropy, kwargs, matrix_heatmap, *IMSHOW_TAKERS,
                   exclude=MATRIX_ARGUMENTS_SET_BY_CALLER + ("vmin", "vmax", "cbar_kws", "xlabel", "ylabel"))
    corpus = as_corpus(attention, tokens, summary="plot_head_entropy", streamed="head_entropy")
    entropy = head_entropy(corpus)
    uniform = uniform_entropy(corpus)
    first = corpus[0]
    ax = matrix_heatmap(
        entropy, [layer_label(i) for i in first.layer_indices], [str(i) for i in first.head_indices], ax=ax, cmap=cmap,
        vmin=0.0, vmax=max(uniform, float(entropy.max())), annot=annot, fmt=fmt,
        cbar_kws={"label": ENTROPY_LABEL}, xlabel="Head",
        ylabel="Layer", **kwargs,
    )
    ax.tick_params(axis="x", labelrotation=0)
    colorbar = ax.images[0].colorbar
    if colorbar is not None:  # cbar=False draws none
        colorbar.ax.axhline(uniform, linestyle="--", color=colorbar.ax.yaxis.label.get_color())
        mark_uniform(colorbar, uniform)
    return ax


def mark_uniform(colorbar, uniform: float) -> None:
    """Mark the uniform entropy on the colorbar: a tick labelled "uniform" among nice ticks
    (0.0, 0.5, 1.0...) that keep clear of it, chosen at draw time for the bar's length."""
    colorbar.locator = MarkedLocator(uniform)
    colorbar.formatter = MarkedFormatter(uniform, UNIFORM_LABEL)
