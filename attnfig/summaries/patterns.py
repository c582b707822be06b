"""Head pattern types (Kovaleva et al. 2019, "Revealing the Dark Secrets of BERT").

A simple rule-based classifier. For one head's ``[q, k]`` matrix it measures, each as an
excess over what uniform attention would give (0 = uniform, 1 = all of it):

- ``diagonal``: mass on the key just before, at or just after each query (``|k - q| <= 1``);
- ``vertical``: mass on the two keys that draw most attention overall (e.g. [CLS], [SEP]);
- ``block``: mass on keys in the query's own sentence (needs ``sentence_b_start``).

Then, in this order: vertical plus diagonal when both diagonal and vertical reach
`MIXED`; diagonal or vertical when it reaches `STRONG`; block when block reaches
`STRONG`; otherwise heterogeneous.
"""
from __future__ import annotations

from typing import Any, Sequence
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
import dataclasses
from dataclasses import dataclass

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch, Rectangle

from ..errors import AttentionInputError
from ..input.chunks import Chunk, float64
from ..input.corpus import as_corpus
from ..input.data import AttentionData, as_attention
from ..views.arguments import check_keywords
from ..views.colors import category_colors, font_points
from ..views.heatmap import IMSHOW_TAKERS
from ..views.titles import wrap_to_width
from ..views.model_view import Mosaic, gap_pixels, grid_figsize, model_view
from .._docstrings import with_parameters
from .accumulators import PerInputSums, accumulated

PATTERNS = ("vertical", "diagonal", "vertical+diagonal", "block", "heterogeneous")
ABBREVIATIONS = {"vertical": "V", "diagonal": "D", "vertical+diagonal": "V+D", "block": "B", "heterogeneous": "H"}
STRONG = 0.5
MIXED = 0.25


@dataclass(frozen=True)
class PatternScores:
    diagonal: float
    vertical: float
    block: float


def _excess(observed: float, uniform: float) -> float:
    return 0.0 if uniform >= 1 else max(0.0, (observed - uniform) / (1 - uniform))


def pattern_scores(matrix: np.ndarray, sentence_b_start: int | None = None) -> PatternScores:
    """The three scores of one head's ``[q, k]`` attention (see the module docstring)."""
    q, k = matrix.shape
    chunk = Chunk(np.asarray(matrix)[None, None], 0, (0,), (0,), (1, 1), q, (), sentence_b_start)
    accumulator = PatternAccumulator()
    accumulator.update(chunk)
    return accumulator.scores(0)[0][0]


class PatternAccumulator(PerInputSums):
    """`head_patterns` summed chunk by chunk: each head's masses on the band, the keys and the blocks.

    >>> from attnfig.input.chunks import whole_map_chunks
    >>> from attnfig.summaries.accumulators import summarize
    >>> import attnfig
    >>> data = attnfig.as_attention(np.eye(8)[None, None])
    >>> summarize(PatternAccumulator(), whole_map_chunks([data])).result().tolist()
    [['diagonal']]
    """

    def update(self, chunk: Chunk) -> None:
        """Add the chunk's mass on ``|k - q| <= 1``, on each key, and on the query's own sentence."""
        rows = float64(chunk.rows)
        band = sum(rows.diagonal(chunk.start + offset, -2, -1).sum(-1) for offset in (-1, 0, 1))
        self.add(chunk, "diagonal", band)
        self.add(chunk, "keys", rows.sum(-2))
        b_start = chunk.sentence_b_start
        if b_start is not None:  # sentence A queries on sentence A keys, B on B
            split = min(max(b_start - chunk.start, 0), rows.shape[-2])
            block = rows[..., :split, :b_start].sum(-1).sum(-1) + rows[..., split:, b_start:].sum(-1).sum(-1)
            self.add(chunk, "block", block)

    def scores(self, index: int) -> list[list[PatternScores]]:
        """The scores of every head of input `index`, ``[layers][heads]``."""
        sums, facts = self.sums[index], self.facts[index]
        n, b_start = facts["n_queries"], facts["sentence_b_start"]
        keys = sums["keys"]
        block = sums.get("block") if b_start is not None and n == keys.shape[-1] else None
        return [[scores_from_masses(sums["diagonal"][l, h] / n, keys[l, h] / n,
                                    None if block is None else block[l, h] / n, n, b_start)
                 for h in range(keys.shape[1])] for l in range(keys.shape[0])]

    def per_input(self) -> list[list[list[str]]]:
        """The pattern type of every head, ``[inputs][layers][heads]``."""
        return [[[label_for(s) for s in layer] for layer in self.scores(index)] for index in self.inputs()]

    def result(self) -> np.ndarray:
        """The type each head has most often over the inputs, ``array[layers, heads]`` of str."""
        return majority_pattern(self.per_input())


def scores_from_masses(diagonal_mass: float, key_means: np.ndarray, block_mass: float | None, n_queries: int,
                       sentence_b_start: int | None = None) -> PatternScores:
    """The scores from what a head's rows give, summed row by row (so long inputs can stream).

    `diagonal_mass` and `block_mass` are means over queries of the mass on ``|k - q| <= 1`` and on
    the query's own sentence; `key_means` the mean attention each key receives.

    >>> scores_from_masses(1.0, np.full(4, 0.25), None, 4).diagonal
    1.0
    """
    k = len(key_means)
    queries = np.arange(n_queries)
    uniform_band = float(np.mean(np.minimum(queries + 1, k - 1) - np.maximum(queries - 1, 0) + 1)) / k
    block = 0.0
    if block_mass is not None and sentence_b_start is not None:
        second = max(0, k - sentence_b_start)
        uniform_same = float(np.mean(np.where(queries >= sentence_b_start, second, k - second))) / k
        block = _excess(block_mass, uniform_same)
    return PatternScores(
        diagonal=_excess(diagonal_mass, uniform_band),
        vertical=_excess(float(np.sort(key_means)[-2:].sum()), min(2, k) / k),
        block=block,
    )


def label_for(scores: PatternScores) -> str:
    """The pattern type the scores give, by the rule of the module docstring."""
    if scores.diagonal >= MIXED and scores.vertical >= MIXED:
        return "vertical+diagonal"
    if scores.diagonal >= STRONG:
        return "diagonal"
    if scores.vertical >= STRONG:
        return "vertical"
    if scores.block >= STRONG:
        return "block"
    return "heterogeneous"


def classify_head(matrix: np.ndarray, sentence_b_start: int | None = None) -> str:
    """The pattern type of one head's ``[q, k]`` attention.

    Parameters
    ----------
    matrix : numpy.ndarray
        One head's ``[q, k]`` attention.
    sentence_b_start : int, optional
        First token of sentence B, for the block pattern.

    Returns
    -------
    str
        One of `PATTERNS`: "vertical", "diagonal", "vertical+diagonal", "block" or
        "heterogeneous".

    Raises
    ------
    AttentionInputError
        When `matrix` is not one ``[q, k]`` map of attention weights (another number of
        dimensions, NaN, rows not summing to 1).

    Examples
    --------
    >>> classify_head(np.eye(8))
    'diagonal'
    """
    shape = tuple(getattr(matrix, "shape", None) or np.shape(matrix))
    if len(shape) != 2:
        given = f"an array of shape {list(shape)}" if shape else f"{matrix!r} ({type(matrix).__name__})"
        raise AttentionInputError(
            f"`classify_head` takes one head's attention as a [queries, keys] matrix, e.g. "
            f"`data.weights[layer, head]`, but {given} was passed. For every head at once use "
            "`attnfig.head_patterns(attention)`."
        )
    data = as_attention(matrix, sentence_b_start=sentence_b_start)
    return label_for(pattern_scores(data.weights[0, 0].astype(np.float64), data.sentence_b_start))


@with_parameters("corpus", "tokens", "streaming", "engine", raises=("corpus",))
def head_patterns(attention: Any, tokens: Sequence[str] | None = None, *, model: Any = None,
                  tokenizer: Any = None,
                  engine: Any = "local", engine_options: dict[str, Any] | None = None) -> np.ndarray:
    """Pattern type of every head, ``array[layers, heads]`` of str.

    For a corpus, each head gets the type it has most often (ties: the order of `PATTERNS`).
    With `model` and `tokenizer`, `attention` is a text or a list of texts (or ``(text, pair)``
    tuples) and the scores are summed from `attnfig.capture`'s chunks: memory of one chunk.

    Returns
    -------
    numpy.ndarray
        ``[layers, heads]`` of pattern names.

    Examples
    --------
    >>> import numpy as np
    >>> head_patterns(np.tile(np.eye(6), (1, 2, 1, 1))).tolist()
    [['diagonal', 'diagonal']]
    """
    return accumulated(PatternAccumulator, attention, tokens, model, tokenizer, summary="head_patterns",
                       engine=engine, engine_options=engine_options).result()


def majority_pattern(labels_per_input) -> np.ndarray:
    """The most frequent label of each head over inputs (ties: the order of `PATTERNS`)."""
    labels = np.asarray(labels_per_input, dtype=object)
    votes = np.stack([(labels == name).sum(axis=0) for name in PATTERNS], axis=-1)
    return np.array(PATTERNS, dtype=object)[votes.argmax(axis=-1)].astype(str)


FRAME_WIDTH = 0.8  # points: a frame sits in the gap between thumbnails, off the data
OTHER_COLOR = "0.6"  # heterogeneous heads: a neutral frame


def pattern_colors(palette=None) -> dict[str, np.ndarray]:
    """One frame color per pattern type: the style's category colors (none of them a head's,
    `attnfig.views.colors.category_colors`), gray for heterogeneous."""
    colors = category_colors(len(PATTERNS) - 1, palette)
    return {**dict(zip(PATTERNS[:-1], colors)), "heterogeneous": to_rgba(OTHER_COLOR)}


@with_parameters("corpus", "tokens", raises=("corpus",))
def plot_head_patterns(attention: Any, tokens: Sequence[str] | None = None, palette: Any = None,
                       **kwargs: Any) -> Figure | SubFigure:
    """The layer x head heatmap grid, each thumbnail framed in its type's color; returns the Figure.

    A frame's color is the head's pattern over the whole corpus (the type it has most
    often, `head_patterns`). The thumbnails show what the frames count: the mean attention
    map of the corpus when its texts share one length, else the first text's (the legend
    title says which, and over how many texts the frames were counted). The frames sit in
    the gaps between thumbnails, so no data is covered, and inside the figure at its edges;
    the legend below names each type. `**kwargs` go to `model_view`.

    Parameters
    ----------
    palette : list of colors, optional
        One color per pattern type; by default the style's category colors, none of them a
        head's (`attnfig.views.colors.category_colors`).
    **kwargs
        Passed to `head_patterns` (``model``, ``tokenizer``) and to `attnfig.model_view`.

    Returns
    -------
    matplotlib.figure.Figure
        The grid with its legend.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> fig = attnfig.plot_head_patterns([attnfig.as_attention(np.full((1, 2, 4, 4), 0.25))] * 3)
    >>> fig.legends[0].get_title().get_text()
    'Frames: pattern in most of 3 texts; thumbnails: their mean'
    """
    check_keywords(plot_head_patterns, kwargs, model_view, *IMSHOW_TAKERS,
                   exclude=("attention", "tokens", "kind", "X", "norm", "extent"))
    corpus = as_corpus(attention, tokens, summary="plot_head_patterns", streamed="head_patterns")
    data: AttentionData = corpus[0]
    labels = head_patterns(corpus)
    same_shape = all(d.weights.shape == data.weights.shape for d in corpus)
    if len(corpus) > 1 and same_shape:
        mean = np.mean([d.weights for d in corpus], axis=0, dtype=np.float64).astype(np.float32)
        data = dataclasses.replace(data, weights=mean)  # type: ignore[arg-type]  # numpy stubs: a mean over axis 0 of a stack is an array
    include_layers, include_heads = kwargs.pop("include_layers", None), kwargs.pop("include_heads", None)
    if include_layers is not None or include_heads is not None:  # labels follow the thumbnails kept
        shown = data.select(include_layers, include_heads, arguments=("include_layers", "include_heads"))
        rows = [data.layer_position(i) for i in shown.layer_indices]
        cols = [data.head_position(i) for i in shown.head_indices]
        data, labels = shown, labels[np.ix_(rows, cols)]
    used = [p for p in PATTERNS if p in set(labels.ravel())]
    from ..views.figures import figure_inches

    width, height = (kwargs.get("figsize") or (kwargs.get("figure") and figure_inches(kwargs["figure"]))
                     or grid_figsize(data.n_layers, data.n_heads, 1, kwargs.get("cbar", True)))
    # The title breaks into lines within the figure: a wider one would leave the canvas, and
    # the layout would shrink the grid to make side room for it.
    title = wrap_to_width(corpus_statement(len(corpus), same_shape), width * 72 - 2 * font_points("font.size"),
                          font_points("legend.title_fontsize"))
    # An entry is a swatch plus its text, at about half a font size per character.
    entry_points = (max(len(p) for p in used) * 0.5 + 3) * font_points("legend.fontsize")
    ncols = max(1, min(len(used), int(width * 72 // entry_points)))
    ncols = -(-len(used) // -(-len(used) // ncols))  # as many per row as the rows need: no lone last entry
    if kwargs.get("figsize") is None and kwargs.get("figure") is None:  # the grid's size, plus the legend's rows
        legend_rows = -(-len(used) // ncols) + (title.count("\n") + 1 if title else 0)
        kwargs["figsize"] = (width, height + (legend_rows + 0.5) * 1.5 * font_points("legend.fontsize") / 72)
    figure = model_view(data, kind="heatmap", **kwargs)
    ax = figure.axes[0]
    q, k = data.weights.shape[2:]
    layout = Mosaic(data.n_layers, data.n_heads, gap_pixels(k) / k)
    colors = pattern_colors(palette)
    margin = layout.gap / 4  # the frame runs through the middle of the thumbnail's half of the gap
    frames = [Rectangle((x - margin, y - margin), 1 + 2 * margin, 1 + 2 * margin)
              for y in layout.origins(data.n_layers) for x in layout.origins(data.n_heads)]
    collection = PatchCollection(frames, facecolors="none", linewidths=FRAME_WIDTH,
                                 edgecolors=[colors[p] for p in labels.ravel()], label="pattern frames")
    ax.add_collection(collection, autolim=False)
    # The outer frames lie in half a gap around the mosaic: widen the Axes to hold them.
    ax.set_xlim(-layout.gap / 2, layout.width + layout.gap / 2)
    ax.set_ylim(layout.height + layout.gap / 2, -layout.gap / 2)
    handles = [Patch(facecolor="none", edgecolor=colors[p], linewidth=2 * FRAME_WIDTH, label=p)  # type: ignore[arg-type]  # stubs: an RGBA array is a color
               for p in used]
    figure.legend(handles=handles, loc="outside lower center", ncols=ncols, frameon=False, title=title or None,
                  handlelength=1.0, handletextpad=0.4, columnspacing=1.0)
    return figure


def corpus_statement(n_texts: int, same_shape: bool) -> str:
    """What the frames count and the thumbnails show, for a corpus of `n_texts` ("" for one text)."""
    if n_texts == 1:
        return ""
    thumbnails = "their mean" if same_shape else "the first text (lengths differ)"
    return f"Frames: pattern in most of {n_texts} texts; thumbnails: {thumbnails}"


def pattern_shares(attention: Any, tokens: Sequence[str] | None = None, *, model: Any = None,
                   tokenizer: Any = None,
                   engine: Any = "local", engine_options: dict[str, Any] | None = None) -> np.ndarray:
    """Share of each layer's heads of each pattern type, ``array[layers, len(PATTERNS)]``.

    Parameters
    ----------
    attention, tokens, model, tokenizer, engine, engine_options
        As for `head_patterns` (one input, a corpus, or texts with a model).

    Returns
    -------
    numpy.ndarray
        Rows sum to 1; columns in the order of `PATTERNS`.

    Examples
    --------
    >>> import numpy as np
    >>> pattern_shares(np.tile(np.eye(4), (2, 3, 1, 1))).tolist()[0]
    [0.0, 1.0, 0.0, 0.0, 0.0]
    """
    if model is None and engine == "local":  # maps: refused here if pooled, naming this function
        attention, tokens = as_corpus(attention, tokens, summary="pattern_shares", streamed="pattern_shares"), None
    labels = head_patterns(attention, tokens, model=model, tokenizer=tokenizer, engine=engine,
                           engine_options=engine_options)
    return np.stack([(labels == name).mean(axis=1) for name in PATTERNS], axis=-1)


@with_parameters(returns="axes")
def plot_pattern_shares(attention: Any, tokens: Sequence[str] | None = None, *, ax: Axes | None = None,
                        palette: Any = None, model: Any = None, tokenizer: Any = None, **kwargs: Any) -> Axes:
    """Draw the share of each pattern type among each layer's heads as stacked bars (Kovaleva et al.).

    Layers on x (numbered by ``attnfig.set_options(layer_base=)``), the share of heads on y,
    one bar segment per type in the frame colors of `plot_head_patterns`; the legend sits
    to the right of the bars, its entries in the order of the stack.

    Parameters
    ----------
    attention, tokens, model, tokenizer
        As for `head_patterns`.
    ax : matplotlib.axes.Axes, optional
        Where to draw; the current Axes when None.
    palette : str or list, optional
        The types' colors (heterogeneous stays gray), as in `plot_head_patterns`.
    **kwargs
        Passed to `Axes.bar` (e.g. ``width``, ``edgecolor``).

    Raises
    ------
    ArgumentError
        For a keyword `Axes.bar` does not take.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> ax = attnfig.plot_pattern_shares(np.tile(np.eye(4), (2, 3, 1, 1)))
    >>> ax.get_xlabel(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('Layer', ['diagonal'])
    """
    from matplotlib.patches import Rectangle as BarPatch

    from ..options import layer_label
    from ..themes import remember_style
    from ..views.arguments import target_axes
    from ..views.layout import settle_layout

    check_keywords(plot_pattern_shares, kwargs, BarPatch, exclude=("xy", "height", "bottom", "color", "label"))
    if model is None:  # read the corpus once (tokens may be an iterator); its layers name the bars
        attention, tokens = as_corpus(attention, tokens, summary="plot_pattern_shares", streamed="pattern_shares"), None
    shares = pattern_shares(attention, tokens, model=model, tokenizer=tokenizer)
    layers = np.asarray(attention[0].layer_indices) if model is None else np.arange(shares.shape[0])
    ax = target_axes(ax)
    remember_style(ax.figure)
    colors = pattern_colors(palette)
    bottom = np.zeros(len(layers))
    kwargs.setdefault("width", 0.8)
    for position, name in enumerate(PATTERNS):
        if shares[:, position].any():
            ax.bar(layers, shares[:, position], bottom=bottom, color=colors[name], label=name, **kwargs)
            bottom += shares[:, position]
    ax.set_xticks(layers, [layer_label(layer) for layer in layers])
    ax.set_xlabel("Layer")
    ax.set_ylabel("Share of heads")
    ax.set_ylim(0, 1)
    # Beside the bars, in the order of the stack (top first), where it can neither cover a bar
    # nor be cut: the figure's layout makes room for it (a figure without a layout engine
    # gets one that acts only when text would leave the canvas).
    handles, names = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], names[::-1], loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
              borderaxespad=0.4, handlelength=1.0, handletextpad=0.4)
    settle_layout(ax.figure)
    return ax
