"""Attention to special tokens by layer (Clark et al. 2019, "What Does BERT Look At?", Fig. 2).

For each head: the mean, over queries, of the attention mass a query puts on the selected
keys: [CLS], [SEP], punctuation, itself, the next and the previous token.
"""
from __future__ import annotations

import string
import warnings

import matplotlib as mpl
from matplotlib.lines import Line2D
import numpy as np

from ..views.colors import font_points, palette_colors
from ..input.corpus import as_corpus
from ..input.data import AttentionData
from ..errors import ArgumentError, one_of_message
from ..views.arguments import check_keywords, target_axes
from ..input.tokens import prettify_tokens
from ..themes import remember_style
from .._docstrings import with_parameters

CLS_TOKENS = frozenset({"[CLS]", "<s>", "<cls>"})
SEP_TOKENS = frozenset({"[SEP]", "</s>", "<sep>", "<|endoftext|>", "<eos>"})
TARGETS = ("[CLS]", "[SEP]", "punctuation", "self", "next", "previous")
SPREADS = ("heads", "corpus", None)
BAND_ALPHA = 0.2  # opacity of the interquartile band
MARKER_SIZE = 0.6  # marker diameter, as a fraction of the tick label size


def is_punctuation(token: str) -> bool:
    """True for tokens made only of punctuation, such as ``.``, ``,`` or ``Ġ,``."""
    pretty = prettify_tokens([token])[0].strip()
    return bool(pretty) and all(character in string.punctuation for character in pretty)


def _target_masks(data: AttentionData) -> dict[str, np.ndarray]:
    """For each target, a [q, k] mask of the keys it selects (rows without one are NaN rows)."""
    q, k = data.weights.shape[2:]
    keys = data.key_tokens
    by_key = {
        "[CLS]": np.array([t in CLS_TOKENS for t in keys]),
        "[SEP]": np.array([t in SEP_TOKENS for t in keys]),
        "punctuation": np.array([is_punctuation(t) for t in keys]),
    }
    masks = {name: np.broadcast_to(selected, (q, k)) for name, selected in by_key.items()}
    masks["self"] = np.eye(q, k, 0, dtype=bool)
    masks["next"] = np.eye(q, k, 1, dtype=bool)
    masks["previous"] = np.eye(q, k, -1, dtype=bool)
    return masks


@with_parameters("attention", "tokens")
def special_token_attention(attention, tokens=None, *, model=None, tokenizer=None) -> dict[str, np.ndarray]:
    """Mean attention to each target, ``{target: array[layers, heads]}`` (corpus-averaged).

    "next" and "previous" average over the queries that have such a token. For a corpus
    the per-input arrays are averaged; `special_token_attention_per_input` keeps them.

    Parameters
    ----------
    model, tokenizer : optional
        A transformers model and its tokenizer: `attention` is then a text, a list of texts
        or of ``(text, pair)`` tuples, read chunk by chunk through `attnfig.capture`.

    Returns
    -------
    dict of str to numpy.ndarray
        For each target ("[CLS]", "[SEP]", "punctuation", "self", "next", "previous"), the
        ``[layers, heads]`` mean attention to it.

    Raises
    ------
    AttentionInputError
        When the attention is not attention (shapes, NaN, rows not summing to 1) or the
        tokens do not fit it.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.zeros((1, 1, 3, 3)); weights[..., 0] = 1     # everything to [CLS]
    >>> stats = special_token_attention(weights, ["[CLS]", "a", "[SEP]"])
    >>> float(stats["[CLS]"][0, 0]), float(stats["[SEP]"][0, 0])
    (1.0, 0.0)
    """
    per_input = special_token_attention_per_input(attention, tokens, model=model, tokenizer=tokenizer)
    with warnings.catch_warnings():  # a target absent from every input stays NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        return {name: np.nanmean(values, axis=0) for name, values in per_input.items()}


def special_token_attention_per_input(attention, tokens=None, *, model=None, tokenizer=None) -> dict[str, np.ndarray]:
    """Like `special_token_attention`, ``{target: array[inputs, layers, heads]}``.

    With `model` and `tokenizer`, `attention` is a text or a list of texts (or ``(text, pair)``
    tuples), summed from `attnfig.capture`'s chunks without keeping any map.
    """
    if model is not None:
        from ..recording.streaming import streamed_special_token_attention

        return streamed_special_token_attention(model, tokenizer, attention)
    result = {name: [] for name in TARGETS}
    for data in as_corpus(attention, tokens):
        for name, mask in _target_masks(data).items():
            mass = (data.weights * mask).sum(axis=-1)  # [layers, heads, q]
            rows = mask.any(axis=-1)
            value = mass[..., rows].mean(axis=-1) if rows.any() else np.full(data.weights.shape[:2], np.nan)
            result[name].append(value)
    return {name: np.stack(values) for name, values in result.items()}


@with_parameters("attention", "tokens")
def plot_special_token_attention(attention, tokens=None, *, targets=TARGETS, spread="heads", ax=None,
                                 palette=None, **kwargs):
    """Lines over layers of the mean attention to each target, with a band; returns the Axes.

    The line is the mean over heads (and inputs). The band is the spread between the 25th
    and 75th percentile over heads (``spread="heads"``) or over the inputs of a corpus
    (``spread="corpus"``, of the head-averaged value), or absent (None). `**kwargs` go
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
        One color per target; the style's cycle by default.
    **kwargs
        Passed to `special_token_attention` (``model``, ``tokenizer``) and to
        `matplotlib.axes.Axes.plot`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    AttentionInputError
        When the attention is not attention (shapes, NaN, rows not summing to 1) or the
        tokens do not fit it.

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
    corpus = as_corpus(attention, tokens)  # read once: tokens may be an iterator
    per_input = special_token_attention_per_input(corpus)
    layers = np.array(corpus[0].layer_indices)
    ax = target_axes(ax)
    remember_style(ax.figure)
    kwargs.setdefault("marker", "o")
    # Markers no taller than the tick labels' letters, whatever the style's font size.
    kwargs.setdefault("markersize", min(mpl.rcParams["lines.markersize"], MARKER_SIZE * font_points("xtick.labelsize")))
    for color, target in zip(palette_colors(len(targets), palette), targets):
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
    ax.set_xticks(layers)
    ax.set_ylim(bottom=0)
    # Above the axes, off the data: at one column there is no empty corner to put it in.
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False, borderaxespad=0.2,
              handlelength=1.5, columnspacing=1.0)
    return ax
