"""`capture`: the attention of chosen heads from a model as loaded, at any length.

The model runs once, unchanged (sdpa stays sdpa, its outputs are the same bits). Each attention
call of a selected layer is intercepted (`interface.intercepted_attention`) and the selected
heads' weights are recomputed from the queries and keys the model computed, a chunk of
queries at a time (`recompute.attention_rows`), so memory is the selection's maps, or with
``pool=N`` at most ``N x N`` per head (`pooling`), plus one chunk.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..errors import AttentionInputError
from ..input.data import AttentionData
from .inputs import encode_text, texts_and_pairs
from .interface import AttentionCall, intercepted_attention
from .models import _model_inputs
from .runtime import check_model, shared_eval_mode
from .windows import layer_windows
from .pooling import block_labels, block_max, block_size, blocks
from .recompute import attention_rows

# model_type values whose every attention call goes through AttentionInterface (GPT-Neo and
# Falcon: `interface.OWN_ATTENTION`) and follows the eager rule of `recompute` (each checked against eager output_attentions in tests/test_capture.py).
SUPPORTED_FAMILIES = (
    "albert", "bert", "clip_text_model", "distilbert", "electra", "falcon", "gemma", "gemma2", "gpt2", "gpt_neo", "gpt_neox", "llama",
    "mistral", "opt", "phi", "qwen2", "roberta", "xlm-roberta",
)
CHUNK_ELEMENTS = 1 << 22  # scores held at once per head: 16 MB in float32


@dataclass(frozen=True)
class Selection:
    """The original layer and head indices to capture, and the model's totals."""

    layers: tuple[int, ...]
    heads: tuple[int, ...]
    n_layers: int
    n_heads: int


def check_family(model) -> None:
    """Raise a clear error for a model `capture` cannot reproduce exactly."""
    check_model(model)
    config = model.config
    family = getattr(config, "model_type", None)
    if getattr(config, "is_encoder_decoder", False) or family not in SUPPORTED_FAMILIES:
        raise AttentionInputError(
            f"`capture` supports the model families {list(SUPPORTED_FAMILIES)}, but the model is a "
            f"{type(model).__name__} (model_type {family!r}). Use `attnfig.from_model`, which runs "
            "any model with eager attention and output_attentions=True."
        )
    implementation = getattr(config, "_attn_implementation", None)
    if getattr(config, "attn_logit_softcapping", None) and implementation == "sdpa":
        # transformers 5.0 to 5.20 ran Gemma 2 on sdpa, which drops the soft-capping: the model then
        # computes other attention than it declares, and recomputed weights would not be the ones it used.
        raise AttentionInputError(
            f"{type(model).__name__} runs `sdpa` attention, which ignores its attention soft-capping "
            f"(attn_logit_softcapping={config.attn_logit_softcapping}), so its outputs are not those of the model "
            "and `capture` cannot give the weights it used. Load it with `attn_implementation=\"eager\"` (newer "
            "transformers do so for this family), or use `attnfig.from_model`."
        )


def select(model, layers, heads) -> Selection:
    """Check `layers` and `heads` against the model and return the selection (None = all)."""
    config = model.config
    n_layers, n_heads = config.num_hidden_layers, config.num_attention_heads
    return Selection(
        _indices(layers, n_layers, "layers"), _indices(heads, n_heads, "heads"), n_layers, n_heads
    )


def _indices(values, total: int, argument: str) -> tuple[int, ...]:
    if values is None:
        return tuple(range(total))
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        values = [values]
    try:
        chosen = [v for v in values]
    except TypeError:
        chosen = None
    valid = chosen is not None and chosen and all(
        isinstance(v, (int, np.integer)) and not isinstance(v, bool) and -total <= v < total for v in chosen
    )
    if not valid or chosen is None:
        raise AttentionInputError(
            f"`{argument}` must be None (all), an integer or a list of integers in [0, {total}) "
            f"(the model has {total}), but {values!r} was passed."
        )
    return tuple(dict.fromkeys(int(v) % total for v in chosen))


def _check_pool(pool) -> None:
    if pool is not None and (not isinstance(pool, (int, np.integer)) or isinstance(pool, bool) or pool < 1):
        raise AttentionInputError(
            f"`pool` must be None (the exact maps) or a positive integer N (each map reduced to at most "
            f"N x N by block max), but {pool!r} was passed."
        )


def stream_rows(model, inputs: dict, selection: Selection, consume: Callable | None, *,
                rows_per_chunk: int | None = None, align: int = 1, on_call: Callable | None = None,
                all_heads: bool = False) -> bool:
    """Run `model` once on `inputs`; call ``consume(layer_pos, head_pos, start, rows)`` per chunk.

    `rows` is the float32 ``[chunk, keys]`` weights of queries ``start:start + chunk``; chunks are a
    multiple of `align` rows. With `all_heads`, each chunk is computed for every selected head
    at once and ``consume(layer_pos, start, rows)`` gets ``[heads, chunk, visible]``, where the
    keys after the chunk's last query are left out when they are causally masked (their
    weights are 0). `on_call`, if given, also sees every `AttentionCall`. The model runs in
    eval mode (no dropout), each module's mode restored afterwards. Checks that the model
    made one call per layer; returns whether the attention was causal.
    """
    import torch

    wanted = {layer: position for position, layer in enumerate(selection.layers)}
    causal: list[bool] = []

    def on_each_call(call: AttentionCall) -> None:
        if on_call is not None:
            on_call(call)
        if call.layer not in wanted:
            return
        if consume is None:  # only a caller that selects no layer may leave out `consume`
            raise AttentionInputError("Rows of the selected layers were computed, but no `consume` was given for them.")
        n_queries, n_keys = call.query.shape[2], call.key.shape[2]
        # every head at once: four heads' worth of scores (fewer, larger products run faster)
        per_chunk = 4 * CHUNK_ELEMENTS // len(selection.heads) if all_heads else CHUNK_ELEMENTS
        chunk = rows_per_chunk or max(1, per_chunk // n_keys)
        chunk = max(align, chunk // align * align)
        if all_heads:
            for start in range(0, n_queries, chunk):
                stop = min(start + chunk, n_queries)
                consume(wanted[call.layer], start, attention_rows(call, list(selection.heads), start, stop,
                                                                  skip_future=True))
        for head_position, head in enumerate(selection.heads if not all_heads else ()):
            for start in range(0, n_queries, chunk):
                stop = min(start + chunk, n_queries)
                consume(wanted[call.layer], head_position, start, attention_rows(call, head, start, stop))
        if not causal:
            causal.append(_call_is_causal(call))

    with shared_eval_mode(model), intercepted_attention(model, on_each_call) as calls, torch.inference_mode():
        model(**inputs)
    if calls[0] != selection.n_layers:
        raise AttentionInputError(
            f"{type(model).__name__} made {calls[0]} attention calls through transformers' AttentionInterface "
            f"for {selection.n_layers} layers, so `capture` cannot tell the layers apart (a configuration "
            "option may route its attention around the interface). Use `attnfig.from_model`."
        )
    return bool(causal and causal[0])


def _call_is_causal(call: AttentionCall) -> bool:
    from .recompute import _is_causal

    return _is_causal(call, call.query.shape[2]) if call.attention_mask is None else bool(
        getattr(call.module, "is_causal", False) or call.options.get("is_causal")
    )


def capture(model: Any, tokenizer: Any, text: str | Sequence[str], text_pair: str | Sequence[str] | None = None, *,
            layers: int | Sequence[int] | None = None, heads: int | Sequence[int] | None = None, pool: int | None = None,
            merge_subwords: bool = False, **tokenizer_kwargs: Any) -> AttentionData | list[AttentionData]:
    """The attention of the selected `layers` and `heads`, from `model` as loaded, as `AttentionData`.

    Exact (equal to eager ``output_attentions``) but computed only for the selection, a chunk of
    queries at a time, in eval mode (no dropout; each module's mode restored afterwards), padding
    dropped, the model's sliding windows kept in ``layer_windows``. Safe beside other threads
    running or capturing any model. ``pool=N`` reduces each map to at most ``N x N`` blocks by
    block max (see `attnfig.recording.pooling`); the rows then no longer sum to 1 and the tokens
    are block labels, with the blocks' positions in ``token_blocks`` (summaries refuse such data:
    use their ``model=``, ``tokenizer=`` form). A list or tuple of texts gives a list; a text longer
    than a learned position table needs ``truncation=True, max_length=...``.
    ``merge_subwords=True`` merges sub-word tokens into words (`attnfig.merge_subword_tokens`).

    Parameters
    ----------
    merge_subwords : bool
        Merge word pieces into words (keys summed, queries averaged; `attnfig.merge_subword_tokens`).
    model : transformers model
        A model of a supported family, as loaded (its attention implementation is kept).
    tokenizer : transformers tokenizer
        The model's tokenizer.
    text : str or list of str
        The input text, or a list of texts (one result each).
    text_pair : str or list of str, optional
        The second sentence of a pair (as many as `text` for a list).
    layers, heads : list of int, optional
        Original indices of the layers and heads to compute; all by default.
    pool : int, optional
        Reduce each map to at most ``pool x pool`` blocks, each cell the largest weight of its
        block.
    **tokenizer_kwargs
        Passed to the tokenizer (``truncation``, ``max_length``...).

    Returns
    -------
    AttentionData or list of AttentionData
        The selected layers and heads, which keep their original indices
        (``layer_indices``, ``head_indices``).

    Raises
    ------
    AttentionInputError
        For a model family whose attention cannot be recomputed exactly (use `from_model`),
        or invalid `layers`, `heads`, `pool` or texts.

    Examples
    --------
    >>> import attnfig
    >>> import attnfig.testing
    >>> model, tokenizer = attnfig.testing.build_tiny_model("gpt2", "/tmp/attnfig-doctest-gpt2")
    >>> data = attnfig.capture(model, tokenizer, "the rabbit quickly hopped", layers=[1], heads=[2])
    >>> data.weights.shape[:2], data.layer_indices, data.head_indices
    ((1, 1), (1,), (2,))
    """
    if merge_subwords:
        from .models import merged_words

        return merged_words(capture(model, tokenizer, text, text_pair, layers=layers, heads=heads, pool=pool,
                                    **tokenizer_kwargs))
    check_family(model)
    _check_pool(pool)
    selection = select(model, layers, heads)
    texts, pairs = texts_and_pairs(text, text_pair)
    results = [_capture_one(model, tokenizer, t, p, selection, pool, tokenizer_kwargs) for t, p in zip(texts, pairs)]
    return results[0] if isinstance(text, str) else results


def _capture_one(model, tokenizer, text, text_pair, selection: Selection, pool, tokenizer_kwargs) -> AttentionData:
    import torch

    encoded, tokens, b_start = encode_text(model, tokenizer, text, text_pair, tokenizer_kwargs)
    n = len(tokens)
    size = 1 if pool is None else block_size(n, pool)
    spans = blocks(n, size)
    weights = np.zeros((len(selection.layers), len(selection.heads), len(spans), len(spans)), dtype=np.float32)
    target = torch.from_numpy(weights)

    def store(layer_position, start, rows):  # rows: [heads, chunk, visible keys], pooled on the fly
        rows = rows if size == 1 else block_max(rows, size)
        first = start // size
        target[layer_position, :, first : first + rows.shape[1], : rows.shape[2]] = rows.cpu()

    is_causal = stream_rows(model, _model_inputs(model, encoded), selection, store, align=size, all_heads=True)
    token_blocks: tuple[tuple[int, int], ...]
    if pool is None:
        labels, token_blocks = tuple(tokens), ()
    else:
        labels, token_blocks = block_labels(tokens, spans), spans
        b_start = None if b_start is None or b_start % size else b_start // size
    windows = layer_windows(model.config, selection.n_layers)
    data = AttentionData(
        weights=weights, query_tokens=labels, key_tokens=labels, sentence_b_start=b_start,
        is_causal=is_causal, layer_indices=selection.layers, head_indices=selection.heads,
        normalized=pool is None, token_blocks=token_blocks,
    )
    if not any(window is not None for window in windows):
        return data
    return dataclasses.replace(data, layer_windows=tuple(windows[layer] for layer in selection.layers))
