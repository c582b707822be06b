"""Static neuron view (BertViz's `neuron_view`): how one query's scores are built.

For one layer, head and query token: the query vector, every key vector, their
element-wise product, the scores (the product summed, scaled by 1/sqrt(head size)) and the
softmax weights. Query and key vectors are captured with forward hooks on the model's own
projections, for BERT-family (``query``/``key`` layers) and GPT-2-family (``c_attn``) models.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

from ..errors import AttentionInputError
from ..views.colors import font_points
from ..views.heatmap import add_colorbar, matrix_heatmap
from ..views.labels import LABEL_PITCH

NEURON_MARGIN_INCHES = 1.2  # titles and the color scales below the vectors
from ..input.tokens import prettify_tokens as _prettify


@dataclass(frozen=True)
class NeuronView:
    """The pieces of one query's attention in one head."""

    query_vector: np.ndarray  # [head_size]
    key_vectors: np.ndarray  # [keys, head_size]
    products: np.ndarray  # [keys, head_size], query * key
    scores: np.ndarray  # [keys], before the softmax (masked keys are -inf)
    weights: np.ndarray  # [keys], the softmax of the scores
    tokens: tuple[str, ...]
    query: int
    layer: int
    head: int


def _attention_modules(model):
    """The self-attention modules in order, with how to read their query and key."""
    found = []
    for module in model.modules():
        if hasattr(module, "query") and hasattr(module, "key") and hasattr(module, "value"):
            found.append(("bert", module))
        elif hasattr(module, "c_attn") and hasattr(module, "split_size"):
            found.append(("gpt2", module))
    return found


def neuron_view(model, tokenizer, text: str, text_pair: str | None = None, *, layer: int = 0, head: int = 0,
                query: int = 0) -> NeuronView:
    """Capture the query and key vectors of `head` in `layer` and compute `query`'s scores.

    >>> # view = attnfig.neuron_view(model, tokenizer, "the rabbit quickly hopped", layer=2, head=3, query=2)
    """
    import torch

    modules = _attention_modules(model)
    if not modules:
        raise AttentionInputError(
            "neuron_view supports BERT-family (query/key/value layers) and GPT-2-family (c_attn) models; "
            f"{type(model).__name__} has neither."
        )
    if not 0 <= layer < len(modules):
        raise AttentionInputError(f"`layer` must be in [0, {len(modules) - 1}], but {layer!r} was passed.")
    family, module = modules[layer]
    n_heads = model.config.num_attention_heads
    if not 0 <= head < n_heads:
        raise AttentionInputError(f"`head` must be in [0, {n_heads - 1}], but {head!r} was passed.")
    captured = {}
    if family == "bert":
        hooks = [module.query.register_forward_hook(lambda m, i, o: captured.__setitem__("q", o)),
                 module.key.register_forward_hook(lambda m, i, o: captured.__setitem__("k", o))]
    else:
        hooks = [module.c_attn.register_forward_hook(lambda m, i, o: captured.__setitem__("qkv", o))]
    encoded = tokenizer(text, text_pair, return_tensors="pt")
    accepted = {name: value for name, value in encoded.items() if name in ("input_ids", "attention_mask", "token_type_ids")}
    try:
        with torch.inference_mode():
            model(**accepted)
    finally:
        for hook in hooks:
            hook.remove()
    if family == "gpt2":
        captured["q"], captured["k"], _ = captured["qkv"].split(module.split_size, dim=-1)
    size = captured["q"].shape[-1] // n_heads
    queries = captured["q"][0, :, head * size : (head + 1) * size].double().numpy()
    keys = captured["k"][0, :, head * size : (head + 1) * size].double().numpy()
    n_tokens = queries.shape[0]
    if not 0 <= query < n_tokens:
        raise AttentionInputError(f"`query` must be a token index in [0, {n_tokens - 1}], but {query!r} was passed.")
    products = queries[query] * keys
    scores = products.sum(axis=-1) / math.sqrt(size)
    if family == "gpt2":
        scores[query + 1 :] = -np.inf  # causal: later keys are masked
    weights = np.exp(scores - scores.max())
    weights /= weights.sum()
    tokens = tuple(tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]))
    return NeuronView(queries[query], keys, products, scores, weights, tokens, query, layer, head)


def plot_neuron_view(view: NeuronView, *, cmap=None, prettify_tokens: bool = True, figsize=None) -> Figure:
    """Draw a `NeuronView`: q, the keys, q x k, q . k and the softmax, side by side; returns the Figure.

    One column wide (the style's figure width); the vectors get color scales below them,
    the scores and weights are written in their cells (up to 30 tokens).
    """
    tokens = _prettify(view.tokens) if prettify_tokens else list(view.tokens)
    width, height = mpl.rcParams["figure.figsize"]
    rows_inches = len(tokens) * LABEL_PITCH * font_points("ytick.labelsize") / 72
    figure = Figure(figsize=figsize or (width, max(height, rows_inches + NEURON_MARGIN_INCHES)), layout="constrained")
    axes = figure.subplots(2, 4, height_ratios=[1, len(tokens)], width_ratios=[4, 4, 1.5, 1.5])
    for ax in axes[0, 1:]:
        ax.set_axis_off()
    limit = float(np.abs(np.concatenate([view.key_vectors.ravel(), view.query_vector])).max())
    diverging = cmap or "RdBu_r"
    dims = [""] * len(view.query_vector)
    matrix_heatmap(view.query_vector[None], [tokens[view.query]], dims, ax=axes[0, 0], cmap=diverging,
                   vmin=-limit, vmax=limit, center=0.0, cbar=False, aspect="auto")
    axes[0, 0].set_title(f"query q (layer {view.layer}, head {view.head})")
    matrix_heatmap(view.key_vectors, tokens, dims, ax=axes[1, 0], cmap=diverging, vmin=-limit, vmax=limit,
                   center=0.0, cbar=False, aspect="auto")
    axes[1, 0].set_title("keys k")
    product_limit = float(np.abs(view.products).max()) or 1.0
    matrix_heatmap(view.products, tokens, dims, ax=axes[1, 1], cmap=diverging, vmin=-product_limit,
                   vmax=product_limit, center=0.0, cbar=False, aspect="auto")
    axes[1, 1].set_title("q \u00d7 k")
    finite = np.where(np.isfinite(view.scores), view.scores, np.nan)
    matrix_heatmap(finite[:, None], tokens, [""], ax=axes[1, 2], cmap=diverging, center=0.0, cbar=False,
                   aspect="auto", annot=len(tokens) <= 30, fmt=".1f")
    axes[1, 2].set_title("q \u00b7 k")
    matrix_heatmap(view.weights[:, None], tokens, [""], ax=axes[1, 3], cmap=cmap, vmin=0.0, vmax=1.0, cbar=False,
                   aspect="auto", annot=len(tokens) <= 30, fmt=".2f")
    axes[1, 3].set_title("softmax")
    for ax in axes[1, 1:]:
        ax.set_yticks([])
    for ax in axes.ravel():
        ax.set_xticks([])
    for ax, label in ((axes[1, 0], "q, k"), (axes[1, 1], "q × k")):
        add_colorbar(figure, ax.images[0], ax=ax, location="bottom", shrink=0.8, aspect=25, label=label)
    return figure
