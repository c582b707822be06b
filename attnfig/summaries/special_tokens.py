"""Attention to special tokens by layer (Clark et al. 2019, "What Does BERT Look At?", Fig. 2).

For each head: the mean, over queries, of the attention mass a query puts on the selected
keys: [CLS], [SEP], punctuation, itself, the next and the previous token, and the first
token whatever it is (the attention sink of Xiao et al. 2023, "Efficient Streaming Language
Models with Attention Sinks": decoder heads park their attention on position 0).
"""
from __future__ import annotations

from typing import Any, Sequence
from matplotlib.axes import Axes
from functools import lru_cache
import warnings

import matplotlib as mpl
from matplotlib.lines import Line2D
import numpy as np

from ..views.colors import category_colors, font_points
from ..input.chunks import Chunk, float64, like
from ..input.corpus import as_corpus
from ..errors import ArgumentError, one_of_message
from ..views.arguments import check_keywords, target_axes
from ..input.tokens import CLS_TOKENS, SEP_TOKENS, is_punctuation
from ..themes import remember_style
from ..options import layer_label
from .._docstrings import with_parameters
from .accumulators import PerInputSums, accumulated
from .patterns import PATTERNS

KEY_TARGETS = {  # targets chosen by the key's token
    "[CLS]": lambda token: token in CLS_TOKENS,
    "[SEP]": lambda token: token in SEP_TOKENS,
    "punctuation": is_punctuation,
}
OFFSET_TARGETS = {"self": 0, "next": 1, "previous": -1}  # targets at a key's distance from the query
FIRST = "first"  # the first key, whatever its token: the attention sink
TARGETS = (*KEY_TARGETS, *OFFSET_TARGETS, FIRST)
# Clark et al.'s six, drawn by default; "first" is [CLS] again in BERT-like models.
PLOTTED_TARGETS = (*KEY_TARGETS, *OFFSET_TARGETS)
SPREADS = ("heads", "corpus", None)


def target_colors(targets, palette=None) -> np.ndarray:
    """One color per target: by default each target's own, whichever targets are drawn (category
    colors after the pattern types', so none means a head or a pattern type); a `palette`, in order."""
    if palette is not None:
        return category_colors(len(targets), palette)
    own = category_colors(len(TARGETS), skip=len(PATTERNS) - 1)  # "heterogeneous" is grey
    return own[[TARGETS.index(target) for target in targets]]
BAND_ALPHA = 0.2  # opacity of the interquartile band
MARKER_SIZE = 0.6  # marker diameter, as a fraction of the tick label size


@lru_cache(maxsize=8)
def key_target_masks(key_tokens: tuple[str, ...]) -> np.ndarray:
    """``[keys, key targets]``: 1.0 where a key is one of a target's tokens (`KEY_TARGETS`)."""
    return np.array([[float(selects(token)) for selects in KEY_TARGETS.values()] for token in key_tokens]).reshape(
        len(key_tokens), len(KEY_TARGETS))


class SpecialTokenAccumulator(PerInputSums):
    """`special_token_attention` summed chunk by chunk: per target, the mass and the rows that have it.

    A query's value for a target is the mass on the keys it selects; rows without such a key
    (no [SEP] in the input, no next token for the last query) do not count, and an input
    without any gives NaN.

    >>> import attnfig
    >>> from attnfig.input.chunks import whole_map_chunks
    >>> from attnfig.summaries.accumulators import summarize
    >>> weights = np.zeros((1, 1, 3, 3)); weights[..., 0] = 1     # everything to [CLS]
    >>> data = attnfig.as_attention(weights, ["[CLS]", "a", "[SEP]"])
    >>> summarize(SpecialTokenAccumulator(), whole_map_chunks([data])).result()["[CLS]"].tolist()
    [[1.0]]
    """

    def update(self, chunk: Chunk) -> None:
        """Add the chunk's mass on each target and the number of its rows that have the target."""
        rows = float64(chunk.rows)
        masks = key_target_masks(tuple(chunk.key_tokens))
        self.add(chunk, "key targets", (rows @ like(masks, rows)).sum(-2))  # [layers, heads, key targets]
        has_target = np.broadcast_to(masks.any(axis=0) * float(rows.shape[-2]), rows.shape[:2] + masks.shape[1:])
        self.add(chunk, "key target rows", has_target)
        for name, offset in OFFSET_TARGETS.items():
            diagonal = rows.diagonal(chunk.start + offset, -2, -1)  # query start + i, key start + i + offset
            self.add(chunk, name, diagonal.sum(-1))
            self.add(chunk, f"{name} rows", np.full(rows.shape[:2], float(diagonal.shape[-1])))
        self.add(chunk, FIRST, rows[..., 0].sum(-1))
        self.add(chunk, f"{FIRST} rows", np.full(rows.shape[:2], float(rows.shape[-2])))

    def per_input(self) -> dict[str, np.ndarray]:
        """Mean attention to each target, ``{target: array[inputs, layers, heads]}``."""
        result: dict[str, list[np.ndarray]] = {name: [] for name in TARGETS}
        for index in self.inputs():
            sums = self.sums[index]
            for position, name in enumerate(KEY_TARGETS):
                result[name].append(_mean(sums["key targets"][..., position], sums["key target rows"][..., position]))
            for name in (*OFFSET_TARGETS, FIRST):
                result[name].append(_mean(sums[name], sums[f"{name} rows"]))
        return {name: np.stack(values) for name, values in result.items()}

    def result(self) -> dict[str, np.ndarray]:
        """Mean attention to each target, averaged over the inputs that have it: ``{target: [layers, heads]}``."""
        with warnings.catch_warnings():  # a target absent from every input stays NaN, silently
            warnings.simplefilter("ignore", RuntimeWarning)
            return {name: np.nanmean(values, axis=0) for name, values in self.per_input().items()}


def _mean(total: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`total / rows`, NaN where no row has the target."""
    return np.divide(total, rows, out=np.full(total.shape, np.nan), where=rows > 0)


@with_parameters("corpus", "tokens", "streaming", "engine", raises=("corpus",))
def special_token_attention(attention: Any, tokens: Sequence[str] | None = None, *, model: Any = None,
                            tokenizer: Any = None,
                            engine: Any = "local", engine_options: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Mean attention to each target, ``{target: array[layers, heads]}`` (corpus-averaged).

    "next" and "previous" average over the queries that have such a token; "first" is the
    share on the first token (the attention sink), the mean of the first key's column. For a
    corpus the per-input arrays are averaged; `special_token_attention_per_input` keeps them.
    With `model` and `tokenizer`, `attention` is a text or a list of texts streamed through
    `attnfig.capture` a chunk of queries at a time, so the sink share is measured at LLM lengths.

    Returns
    -------
    dict of str to numpy.ndarray
        For each target ("[CLS]", "[SEP]", "punctuation", "self", "next", "previous"), the
        ``[layers, heads]`` mean attention to it.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.zeros((1, 1, 3, 3)); weights[..., 0] = 1     # everything to [CLS]
    >>> stats = special_token_attention(weights, ["[CLS]", "a", "[SEP]"])
    >>> float(stats["[CLS]"][0, 0]), float(stats["[SEP]"][0, 0])
    (1.0, 0.0)
    """
    return _accumulated(attention, tokens, model, tokenizer, engine, engine_options).result()


def special_token_attention_per_input(attention, tokens=None, *, model=None, tokenizer=None, engine="local",
                                      engine_options=None) -> dict[str, np.ndarray]:
    """Like `special_token_attention`, ``{target: array[inputs, layers, heads]}``.

    With `model` and `tokenizer`, `attention` is a text or a list of texts (or ``(text, pair)``
    tuples), summed from `attnfig.capture`'s chunks without keeping any map.
    """
    return _accumulated(attention, tokens, model, tokenizer, engine, engine_options).per_input()


def _accumulated(attention, tokens, model, tokenizer, engine="local", engine_options=None) -> SpecialTokenAccumulator:
    """The accumulator fed the maps, or the model's chunks of the texts in `attention`."""
    return accumulated(SpecialTokenAccumulator, attention, tokens, model, tokenizer,
                       summary="special_token_attention", engine=engine, engine_options=engine_options)


@with_parameters("corpus", "tokens", returns="axes", raises=("corpus",))
def plot_special_token_attention(attention: Any, tokens: Sequence[str] | None = None, *,
                                 targets: Sequence[str] = PLOTTED_TARGETS, spread: str = "heads",
                                 ax: Axes | None = None, palette: Any = None, **kwargs: Any) -> Axes:
    """Lines over layers of the mean attention to each target, with a band; returns the Axes.

    The line is the mean over heads (and inputs). The band is the spread between the 25th
    and 75th percentile over heads (``spread="heads"``) or over the inputs of a corpus
    (``spread="corpus"``, of the head-averaged value), or absent (None). `targets` are
    Clark et al.'s six by default; add ``"first"`` for the attention sink. `**kwargs` go
    to `Axes.plot`.

    Parameters
    ----------
    targets : list of str
        Which targets to draw, among those of `special_token_attention`.
    spread : {"heads", "corpus", None}
        What the band around each line shows.
    ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.
    palette : list of colors, optional
        One color per target, in order; by default each target keeps its own category color,
        none of them a head's or a pattern type's (`attnfig.views.colors.category_colors`).
    **kwargs
        Passed to `special_token_attention` (``model``, ``tokenizer``) and to
        `matplotlib.axes.Axes.plot`.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.full((3, 2, 4, 4), 0.25)
    >>> ax = plot_special_token_attention(weights, ["[CLS]", "a", ".", "[SEP]"])
    >>> len(ax.get_lines())
    6
    """
    if spread not in SPREADS:
        raise ArgumentError(one_of_message("spread", SPREADS, spread))
    targets = [targets] if isinstance(targets, str) else list(targets)
    if not targets:
        raise ArgumentError(f"`targets` is empty: choose at least one of {list(TARGETS)}.")
    for target in targets:
        if target not in TARGETS:
            raise ArgumentError(one_of_message("targets", TARGETS, target))
    check_keywords(plot_special_token_attention, kwargs, Line2D, exclude=("color", "c", "label", "xdata", "ydata"))
    corpus = as_corpus(attention, tokens, summary="plot_special_token_attention",  # read once: tokens may be an iterator
                       streamed="special_token_attention")
    per_input = special_token_attention_per_input(corpus)
    layers = np.array(corpus[0].layer_indices)
    ax = target_axes(ax)
    remember_style(ax.figure)
    kwargs.setdefault("marker", "o")
    # Markers no taller than the tick labels' letters, whatever the style's font size.
    kwargs.setdefault("markersize", min(mpl.rcParams["lines.markersize"], MARKER_SIZE * font_points("xtick.labelsize")))
    for color, target in zip(target_colors(targets, palette), targets):
        values = per_input[target]  # [inputs, layers, heads]
        if np.isnan(values).all():
            continue
        mean = np.nanmean(values, axis=(0, 2))
        ax.plot(layers, mean, color=color, label=target, **kwargs)
        if spread is not None:
            sample = np.nanmean(values, axis=0) if spread == "heads" else np.nanmean(values, axis=2).T
            low, high = np.nanpercentile(sample, [25, 75], axis=1)
            ax.fill_between(layers, low, high, color=color, alpha=BAND_ALPHA, linewidth=0)
    ax.set_xlabel("Layer")
    ax.set_ylabel("Mean attention")
    ax.set_xticks(layers, [layer_label(layer) for layer in layers])
    ax.set_ylim(bottom=0)
    # Above the axes, off the data: at one column there is no empty corner to put it in.
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False, borderaxespad=0.2,
              handlelength=1.5, columnspacing=1.0)
    return ax
