"""Norm-based attention (Kobayashi et al. 2020, "Attention is Not Only a Weight").

What key ``j`` really sends to query ``i`` in head ``h`` is the vector ``alpha_ij f_h(x_j)``,
``f_h(x) = (x W_V^h + b_V^h) W_O^h``: its value vector through the head's slice of the output
projection. Its norm, ``alpha_ij ||f_h(x_j)||``, is captured the way `capture` captures: the
model runs once as loaded, its attention calls hand over the values they computed (biases
included), and only the selected heads' weights and value norms are computed.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import AttentionInputError
from ..input.data import AttentionData
from .capture import SUPPORTED_FAMILIES, check_family, select, stream_rows
from .devices import loaded_weight
from .inputs import encode_text, texts_and_pairs
from .runtime import check_model
from .interface import AttentionCall
from .models import _model_inputs
from .recompute import key_value_head

# Attribute names of the output projection on a family's attention module (BERT-like models keep
# it on the sibling ``output.dense``).
OUTPUT_PROJECTIONS = ("o_proj", "out_proj", "c_proj", "out_lin", "dense")
# Families `capture` supports whose attention calls carry no value vectors (Falcon's own sdpa path).
NO_VALUES = frozenset({"falcon"})


def attention_norms(model: Any, tokenizer: Any, text: str | Sequence[str], text_pair: str | Sequence[str] | None = None, *,
                    layers: int | Sequence[int] | None = None,
                    heads: int | Sequence[int] | None = None) -> AttentionData | list[AttentionData]:
    """The norms ``||alpha_ij f_h(x_j)||`` of the selected heads, as `AttentionData` labelled "norm".

    Parameters
    ----------
    model : transformers.PreTrainedModel
        A model of a family `attnfig.capture` supports, as loaded (sdpa stays sdpa).
    tokenizer : transformers tokenizer
        Its tokenizer.
    text : str or list of str
        The input; a list gives a list.
    text_pair : str or list of str, optional
        A second text (sentence pair), or one per text.
    layers, heads : int or list of int, optional
        The original layer and head indices to compute; None, all.

    Returns
    -------
    AttentionData
        ``weights[layer, head, query, key]`` = ``alpha_ij ||(x_j W_V^h + b_V^h) W_O^h||``, with
        ``value_label == "norm"`` and ``normalized == False`` (rows do not sum to 1).

    Raises
    ------
    AttentionInputError
        For a family `capture` does not support (encoder-decoder models, ViT, ...) or whose
        attention call shows no values (Falcon), naming the family; or a selection outside the model.

    Examples
    --------
    >>> import attnfig, attnfig.testing
    >>> model, tokenizer = attnfig.testing.build_tiny_model("gpt2", "/tmp/attnfig-doctest-gpt2")
    >>> data = attnfig.attention_norms(model, tokenizer, "the rabbit hopped", layers=[1], heads=[0, 2])
    >>> data.weights.shape[:2], data.value_label, data.normalized
    ((1, 2), 'norm', False)
    """
    _check_norm_family(model)
    selection = select(model, layers, heads)
    texts, pairs = texts_and_pairs(text, text_pair)  # checked as `capture` checks them
    results = [_norms_of_one(model, tokenizer, t, p, selection) for t, p in zip(texts, pairs)]
    return results[0] if isinstance(text, str) else results


def _check_norm_family(model) -> None:
    """A clear error, naming the family, for a model whose value vectors attnfig cannot reach."""
    check_model(model)
    family = getattr(model.config, "model_type", None)
    try:
        check_family(model)
    except AttentionInputError:
        supported = sorted(set(SUPPORTED_FAMILIES) - NO_VALUES)
        raise AttentionInputError(
            f"`attention_norms` supports the model families {supported}, but the model is a "
            f"{type(model).__name__} (model_type {family!r}). `attnfig.from_model` still gives its attention weights."
        ) from None
    if family in NO_VALUES:
        raise AttentionInputError(
            f"{type(model).__name__} (model_type {family!r}) does not hand its value vectors to attnfig, so "
            "`attention_norms` cannot compute them for this family; `attnfig.capture` still gives its attention weights."
        )


def _norms_of_one(model, tokenizer, text, text_pair, selection) -> AttentionData:
    import torch

    encoded, tokens, b_start = encode_text(model, tokenizer, text, text_pair)
    n = len(tokens)
    weights = np.zeros((len(selection.layers), len(selection.heads), n, n), dtype=np.float32)
    target = torch.from_numpy(weights)
    wanted = {layer: position for position, layer in enumerate(selection.layers)}
    value_norms = torch.zeros((len(selection.layers), len(selection.heads), n))
    parents = {id(child): module for module in model.modules() for child in module.children()}

    def on_call(call: AttentionCall) -> None:
        if call.layer in wanted:
            value_norms[wanted[call.layer]] = _value_norms(call, selection.heads, parents)

    def store(layer_position, head_position, start, rows):
        target[layer_position, head_position, start : start + rows.shape[0]] = (
            rows * value_norms[layer_position, head_position][None, : rows.shape[1]].to(rows.device)
        ).cpu()

    is_causal = stream_rows(model, _model_inputs(model, encoded), selection, store, on_call=on_call)
    return AttentionData(
        weights=weights, query_tokens=tuple(tokens), key_tokens=tuple(tokens),
        sentence_b_start=b_start,
        is_causal=is_causal, layer_indices=selection.layers, head_indices=selection.heads,
        normalized=False, value_label="norm",
    )


def _value_norms(call: AttentionCall, heads, parents):
    """``[heads, keys]``: ``||f_h(x_j)||`` for each selected head, in float32."""
    import torch

    if call.value is None:
        raise AttentionInputError(
            f"{type(call.module).__name__} does not hand its value vectors to attnfig, so `attention_norms` "
            "cannot compute them for this family; `attnfig.capture` still gives its attention weights."
        )
    layer = output_projection(call.module, parents)
    norms = []
    with loaded_weight(layer, parents) as weight:  # offloaded by accelerate: moved in for the block
        # GPT-2's Conv1D stores [in, out] and computes x @ W; nn.Linear stores [out, in].
        projection = weight if type(layer).__name__ == "Conv1D" else weight.T
        for head in heads:
            value = call.value[0, key_value_head(call, head)].float()  # [keys, head_dim], bias included
            size = value.shape[-1]
            rows = projection[head * size : (head + 1) * size].to(value.device, torch.float32)
            norms.append(torch.linalg.vector_norm(value @ rows, dim=-1))  # ||f_h(x_j)||, [keys]
    return torch.stack(norms)


def output_projection(module, parents: dict):
    """The output projection layer of an attention module (its ``weight`` is read as x @ W)."""
    layer = next((getattr(module, name) for name in OUTPUT_PROJECTIONS if hasattr(module, name)), None)
    if layer is None:  # BERT, RoBERTa, ELECTRA: the self-attention's sibling `output.dense`
        layer = getattr(getattr(parents.get(id(module)), "output", None), "dense", None)
    if layer is None or not hasattr(layer, "weight"):
        raise AttentionInputError(
            f"attnfig cannot find the output projection of {type(module).__name__} (looked for "
            f"{list(OUTPUT_PROJECTIONS)} and its parent's `output.dense`), so `attention_norms` cannot compute f(x)."
        )
    return layer
