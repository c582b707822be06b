"""Static neuron view (BertViz's `neuron_view`): how one query's scores are built.

For one layer, head and query token: the query vector, every key vector, their
element-wise product, the scores (the product summed, times the model's own scaling, soft-capped
and masked as the model does) and the softmax weights. The vectors are the ones the model itself
computed (after rotary embeddings; a grouped-query head shows its key-value head's keys), taken
from its attention call the way `attnfig.capture` takes them, so every family `capture` supports
works, and a layer that shares its module with others (ALBERT) is told apart by its call.
"""
from __future__ import annotations

from matplotlib.colors import Colormap
from matplotlib.figure import SubFigure
from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..views.figures import target_figure

from ..errors import ArgumentError, AttentionInputError
from ..options import layer_label
from ..views.colors import font_points
from ..views.heatmap import add_colorbar, matrix_heatmap
from ..views.labels import LABEL_PITCH
from ..views.titles import sentence_case
from ..input.tokens import prettify_tokens as _prettify

NEURON_MARGIN_INCHES = 1.2  # titles and the color scales below the vectors, their labels aside

# Families whose scores hold a term that q . k does not show: the view would be wrong without it.
EXTRA_SCORE_TERMS = {
    "deberta": "DeBERTa's disentangled relative-position terms (content-to-position, position-to-content)",
    "deberta-v2": "DeBERTa's disentangled relative-position terms (content-to-position, position-to-content)",
    "mpnet": "MPNet's relative position bias",
    "bloom": "BLOOM's ALiBi position bias",
}


@dataclass(frozen=True)
class NeuronView:
    """The pieces of one query's attention in one head.

    ``scores`` are ``products.sum(-1) * scaling``, then soft-capped when the model soft-caps;
    masked keys are -inf.
    """

    query_vector: np.ndarray  # [head_size]
    key_vectors: np.ndarray  # [keys, head_size]
    products: np.ndarray  # [keys, head_size], query * key
    scores: np.ndarray  # [keys], before the softmax (masked keys are -inf)
    weights: np.ndarray  # [keys], the softmax of the scores
    tokens: tuple[str, ...]
    query: int
    layer: int
    head: int
    scaling: float | None = None  # the model's factor on q . k
    key_value_head: int | None = None  # the key-value head the query head reads (grouped-query)


def _check_neuron_family(model) -> None:
    from ..recording.capture import check_family
    from ..recording.runtime import check_model

    check_model(model)
    family = getattr(model.config, "model_type", None)
    if family in EXTRA_SCORE_TERMS:
        raise AttentionInputError(
            f"neuron_view cannot show {type(model).__name__}: its attention scores add "
            f"{EXTRA_SCORE_TERMS[family]} to q . k, which the view has no panel for."
        )
    try:
        check_family(model)
    except AttentionInputError as err:
        raise AttentionInputError(str(err).replace("`capture`", "neuron_view")) from None


def neuron_view(model: Any, tokenizer: Any, text: str, text_pair: str | None = None, *, layer: int = 0, head: int = 0,
                query: int = 0) -> NeuronView:
    """Capture the query and key vectors of `head` in `layer` and compute `query`'s scores.

    Parameters
    ----------
    model, tokenizer
        A transformers model of a supported family and its tokenizer.
    text : str
        The input text.
    text_pair : str, optional
        The second sentence of a pair.
    layer, head : int
        The head whose vectors to take.
    query : int
        The position of the query token.

    Returns
    -------
    NeuronView
        The query and key vectors, their products, the scores and the weights.

    Raises
    ------
    AttentionInputError
        For an unsupported family or a `layer`, `head` or `query` out of range.

    Examples
    --------
    >>> # view = attnfig.neuron_view(model, tokenizer, "the rabbit quickly hopped", layer=2, head=3, query=2)
    """
    import torch

    from ..recording.capture import Selection, stream_rows
    from ..recording.inputs import check_input_ids
    from ..recording.models import _model_inputs
    from ..recording.recompute import attention_scores, key_value_head

    _check_neuron_family(model)
    n_layers, n_heads = model.config.num_hidden_layers, model.config.num_attention_heads
    if not isinstance(layer, int) or not 0 <= layer < n_layers:
        raise AttentionInputError(f"`layer` must be in [0, {n_layers - 1}], but {layer!r} was passed.")
    if not isinstance(head, int) or not 0 <= head < n_heads:
        raise AttentionInputError(f"`head` must be in [0, {n_heads - 1}], but {head!r} was passed.")
    encoded = tokenizer(text, text_pair, return_tensors="pt")
    check_input_ids(model, encoded["input_ids"])
    n_tokens = encoded["input_ids"].shape[1]
    if not isinstance(query, int) or not 0 <= query < n_tokens:
        raise AttentionInputError(f"`query` must be a token index in [0, {n_tokens - 1}], but {query!r} was passed.")
    found: dict[str, Any] = {}

    def record(call):
        if call.layer == layer:
            kv_head = key_value_head(call, head)
            scores = attention_scores(call, head, query, query + 1)[0]
            found.update(query=call.query[0, head, query], keys=call.key[0, kv_head], scores=scores,
                         weights=torch.softmax(scores, dim=-1), scaling=call.scaling, kv_head=kv_head)

    stream_rows(model, _model_inputs(model, encoded), Selection((), (), n_layers, n_heads), None, on_call=record)
    query_vector = found["query"].double().cpu().numpy()
    keys = found["keys"].double().cpu().numpy()
    scores = found["scores"].double().cpu().numpy()
    scores[scores <= torch.finfo(torch.float32).min / 2] = -np.inf  # masked keys
    scaling = found["scaling"] if found["scaling"] is not None else query_vector.size ** -0.5
    tokens = tuple(tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]))
    return NeuronView(query_vector, keys, query_vector * keys, scores, found["weights"].double().cpu().numpy(),
                      tokens, query, layer, head, float(scaling), found["kv_head"])


def score_title(scaling: float | None) -> str:
    """The score panel's title: q·k times the model's scaling, on two lines (a narrow column).

    >>> score_title(0.17677669529663687)
    'q·k\\n×0.177'
    """
    return "q\u00b7k" if scaling is None or scaling == 1.0 else f"q\u00b7k\n\u00d7{scaling:.3g}"


def column_ratios(figure: Figure | SubFigure, tokens: Sequence[str], titles: Sequence[str]) -> list[float]:
    """Widths of the four columns (keys, q × k, scores, softmax): the two narrow ones as wide
    as their titles (and their numbers) plus a gap, so no title runs into the next; the
    vectors share the rest of the figure's width.

    >>> import matplotlib.figure
    >>> ratios = column_ratios(matplotlib.figure.Figure(figsize=(5.5, 2)), ["[CLS]", "a"], ["q·k\\n×0.177", "softmax"])
    >>> ratios[0] == ratios[1] > ratios[2] > 0
    True
    """
    from ..views.figures import figure_inches
    from ..views.labels import label_points

    title_size, label_size = font_points("axes.titlesize"), font_points("ytick.labelsize")
    gap = TITLE_GAP * title_size
    narrow = [max(label_points(title.split("\n"), title_size), label_points(["-00.00"], label_size)) / 72
              + gap / 72 for title in titles]
    room = figure_inches(figure)[0] - (label_points(tokens, label_size) + 4 * gap) / 72 - sum(narrow)
    vector = max(room / 2, MIN_VECTOR_INCHES)
    return [vector, vector, *narrow]


def symmetric_ticks(limit: float) -> list[float]:
    """Three ticks for a scale from -`limit` to `limit`: the ends rounded down to one
    significant digit, and 0 (short labels: the vector panels are narrow).

    >>> symmetric_ticks(3.9), symmetric_ticks(0.47), symmetric_ticks(12.0)
    ([-3.0, 0.0, 3.0], [-0.4, 0.0, 0.4], [-10.0, 0.0, 10.0])
    """
    if not np.isfinite(limit) or limit <= 0:
        return [0.0]
    unit = 10.0 ** np.floor(np.log10(limit))
    end = float(np.floor(limit / unit + 1e-9) * unit)
    return [-end, 0.0, end]


TITLE_GAP = 0.8  # font sizes of air beside a narrow column's title
MIN_VECTOR_INCHES = 0.4


def plot_neuron_view(view: NeuronView, *, cmap: str | Colormap | None = None, prettify_tokens: bool = True,
                     figsize: tuple[float, float] | None = None, figure: Figure | SubFigure | None = None) -> Figure | SubFigure:
    """Draw a `NeuronView`: q, the keys, q x k, the scores and the softmax, side by side; returns the Figure.

    One column wide (the style's figure width); the vectors get color scales below them,
    the scores and weights are written in their cells (up to 30 tokens). The "q × k" panel
    is the element-wise product, whose row sums are q·k; the score panel is titled with
    the model's scaling, ``q·k × 0.177`` (see `score_title`), because that is what it shows.

    The figure is a new pyplot figure of `figsize`, or `figure` (a Figure or SubFigure) when given.

    Parameters
    ----------
    view : NeuronView
        What `neuron_view` returns.
    cmap : str or Colormap, optional
        For the vectors; a diverging colormap by default.
    prettify_tokens : bool
        Drop word-start marks from the token labels (`attnfig.prettify_tokens`).
    figsize : (float, float), optional
        Figure size in inches; the style's figure width by default.
    figure : matplotlib Figure or SubFigure, optional
        Where to draw; a new pyplot figure by default.

    Returns
    -------
    matplotlib.figure.Figure
        The five panels side by side.

    Raises
    ------
    ArgumentError
        When `view` is not a `NeuronView`.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> q, k = np.ones(4), np.eye(3, 4)
    >>> view = attnfig.NeuronView(q, k, k * q, k @ q / 2, np.full(3, 1 / 3), ("a", "b", "c"), 0, 0, 0, 0.5)
    >>> len(attnfig.plot_neuron_view(view).axes) >= 5
    True
    """
    if not isinstance(view, NeuronView):
        raise ArgumentError(
            f"`plot_neuron_view` takes the `NeuronView` that `attnfig.neuron_view(model, tokenizer, text, layer=, "
            f"head=, query=)` returns, but {type(view).__name__} was passed. For attention weights, draw "
            "`attnfig.heatmap` or `attnfig.head_view`."
        )
    tokens = _prettify(view.tokens) if prettify_tokens else list(view.tokens)
    width, height = mpl.rcParams["figure.figsize"]
    rows_inches = len(tokens) * LABEL_PITCH * font_points("ytick.labelsize") / 72
    if figure is None:
        scale_label = 2 * LABEL_PITCH * font_points("axes.labelsize") / 72  # the product's two-line scale label
        figsize = figsize or (width, max(height, rows_inches + NEURON_MARGIN_INCHES + scale_label))
    figure = target_figure(figure, figsize=figsize)
    titles = (score_title(view.scaling), sentence_case("softmax"))
    axes = figure.subplots(2, 4, height_ratios=[1, len(tokens)],
                           width_ratios=column_ratios(figure, tokens, titles))
    for ax in axes[0, 1:]:
        ax.set_axis_off()
    limit = float(np.abs(np.concatenate([view.key_vectors.ravel(), view.query_vector])).max())
    diverging = cmap or "RdBu_r"
    dims = [""] * len(view.query_vector)
    matrix_heatmap(view.query_vector[None], [tokens[view.query]], dims, ax=axes[0, 0], cmap=diverging,
                   vmin=-limit, vmax=limit, center=0.0, cbar=False, aspect="auto")
    axes[0, 0].set_title(sentence_case(f"query q (layer {layer_label(view.layer)}, head {view.head})"))
    matrix_heatmap(view.key_vectors, tokens, dims, ax=axes[1, 0], cmap=diverging, vmin=-limit, vmax=limit,
                   center=0.0, cbar=False, aspect="auto")
    shared = view.key_value_head is not None and view.key_value_head != view.head  # grouped-query keys
    axes[1, 0].set_title(sentence_case(f"keys k (kv head {view.key_value_head})" if shared else "keys k"))
    product_limit = float(np.abs(view.products).max()) or 1.0
    matrix_heatmap(view.products, tokens, dims, ax=axes[1, 1], cmap=diverging, vmin=-product_limit,
                   vmax=product_limit, center=0.0, cbar=False, aspect="auto")
    axes[1, 1].set_title("q \u00d7 k")
    finite = np.where(np.isfinite(view.scores), view.scores, np.nan)
    matrix_heatmap(finite[:, None], tokens, [""], ax=axes[1, 2], cmap=diverging, center=0.0, cbar=False,
                   aspect="auto", annot=len(tokens) <= 30, fmt=".1f")
    axes[1, 2].set_title(titles[0])
    matrix_heatmap(view.weights[:, None], tokens, [""], ax=axes[1, 3], cmap=cmap, vmin=0.0, vmax=1.0, cbar=False,
                   aspect="auto", annot=len(tokens) <= 30, fmt=".2f")
    axes[1, 3].set_title(titles[1])  # the narrow columns are as wide as their titles (`column_ratios`)
    for ax in axes[1, 1:]:
        ax.set_yticks([])
    for ax in axes.ravel():
        ax.set_xticks([])
    for ax, label, end in ((axes[1, 0], "q, k", limit), (axes[1, 1], "q × k\n(row sum: q·k)", product_limit)):
        add_colorbar(figure, ax.images[0], ax=ax, location="bottom", aspect=25, label=label,
                     ticks=symmetric_ticks(end))
    return figure
