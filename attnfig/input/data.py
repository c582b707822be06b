"""The input model: raw attention in, validated `AttentionData` out.

Every view calls `as_attention` once at its door and then trusts the result.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from .._docstrings import with_parameters
from ..errors import ArgumentError, AttentionInputError
from .tokens import join_word, prettify_tokens, word_groups
from .transformer_lens import cached_patterns, is_pattern_cache

# Rows of a softmax sum to 1. bf16/fp16 keep ~3 significant digits, so their rows may be
# off by a few 1e-3 after rounding; float32 rows are off by ~1e-6.
ROW_SUM_TOLERANCE = {16: 2e-2, 32: 1e-3, 64: 1e-3}
SDPA_HINT = (
    "The model returned no attention weights. transformers' default attention "
    "(`sdpa` or flash attention) cannot output them and returns an empty tuple. "
    "Load the model with `attn_implementation=\"eager\"` "
    "(AutoModel.from_pretrained(path, attn_implementation=\"eager\")), call "
    "`model.set_attn_implementation(\"eager\")`, or use `attnfig.from_model`, which does it for you."
)
# transformers 5 returns cross_attentions last, empty for an encoder: BertViz's `outputs[-1]`.
LAST_OUTPUT_HINT = (
    "If it is `model(...)[-1]` (BertViz's example code): on transformers 5 the last output is "
    "`cross_attentions`, empty for a model without cross-attention; pass `outputs.attentions`, "
    "or the output object itself. Otherwise: "
)


@dataclass(frozen=True, eq=False)
class AttentionData:
    """Validated attention of one input: ``weights[layer, head, query, key]``.

    >>> import numpy as np, attnfig
    >>> data = attnfig.as_attention(np.full((2, 3, 4, 4), 0.25), tokens=list("abcd"))
    >>> data.weights.shape, data.query_tokens[:2], data.layer_indices
    ((2, 3, 4, 4), ('a', 'b'), (0, 1))
    """

    weights: np.ndarray
    query_tokens: tuple[str, ...]
    key_tokens: tuple[str, ...]
    sentence_b_start: int | None = None
    is_causal: bool = False
    layer_indices: tuple[int, ...] = field(default=())
    head_indices: tuple[int, ...] = field(default=())
    normalized: bool = True
    # Keys a query can see per layer: None (all, or all earlier ones if causal) or a sliding
    # window (query i sees keys i - window + 1 .. i). Empty when unknown.
    layer_windows: tuple[int | None, ...] = field(default=())
    # (start, stop) token positions behind each row/column of pooled data (`capture(pool=N)`);
    # empty when each row and column is one token.
    token_blocks: tuple[tuple[int, int], ...] = field(default=())
    # What the values are, for colorbars: "norm" for `attnfig.attention_norms` (rows need not sum to 1).
    value_label: str = "attention weight"
    # Vision transformers (`from_model` on an image): the image as the model saw it
    # ([height, width, channels] in [0, 1]) and its (rows, columns) of patches.
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    patch_grid: tuple[int, int] | None = None
    # `capture_generation`: position of the first generated token (the prompt comes before).
    generated_start: int | None = None

    def __post_init__(self):
        layers, heads = self.weights.shape[:2]
        if not self.layer_indices:
            object.__setattr__(self, "layer_indices", tuple(range(layers)))
        if not self.head_indices:
            object.__setattr__(self, "head_indices", tuple(range(heads)))

    @property
    def n_layers(self) -> int:
        return self.weights.shape[0]

    @property
    def n_heads(self) -> int:
        return self.weights.shape[1]

    @property
    def tokens(self) -> tuple[str, ...]:
        """The query tokens (the tokens, for self-attention)."""
        return self.query_tokens

    @property
    def is_self_attention(self) -> bool:
        return self.query_tokens == self.key_tokens and self.weights.shape[2] == self.weights.shape[3]

    def layer_position(self, layer: int | None) -> int:
        """Position in `weights` of the original layer index `layer` (negative counts back; None: the first)."""
        return _position_of(layer, self.layer_indices, "layer")

    def head_position(self, head: int | None) -> int:
        """Position in `weights` of the original head index `head` (negative counts back; None: the first)."""
        return _position_of(head, self.head_indices, "head")

    def select(self, layers: int | Sequence[int] | None = None, heads: int | Sequence[int] | None = None, *,
               arguments: tuple[str, str] = ("include_layers", "heads")) -> "AttentionData":
        """Keep the given original layer and head indices, remembering them.

        `arguments` names the two selections in error messages.

        >>> import numpy as np, attnfig
        >>> data = attnfig.as_attention(np.full((4, 6, 3, 3), 1 / 3))
        >>> data.select(layers=[1, 3], heads=[5]).head_indices
        (5,)
        """
        layer_positions = [self.layer_position(i) for i in _as_index_list(layers, arguments[0], self.layer_indices)] if layers is not None else list(range(self.n_layers))
        head_positions = [self.head_position(i) for i in _as_index_list(heads, arguments[1], self.head_indices)] if heads is not None else list(range(self.n_heads))
        weights = self.weights[np.ix_(layer_positions, head_positions)]
        return dataclasses.replace(
            self,
            weights=weights,
            layer_indices=tuple(self.layer_indices[p] for p in layer_positions),
            head_indices=tuple(self.head_indices[p] for p in head_positions),
            layer_windows=tuple(self.layer_windows[p] for p in layer_positions) if self.layer_windows else (),
        )

    def prettified(self) -> "AttentionData":
        """The same data with token labels passed through `prettify_tokens`."""
        return dataclasses.replace(
            self,
            query_tokens=tuple(prettify_tokens(self.query_tokens)),
            key_tokens=tuple(prettify_tokens(self.key_tokens)),
        )


def _position_of(index: int | None, indices: Sequence[int], what: str) -> int:
    if index is None:  # the first one present: layer 0 unless the data holds a selection
        return 0
    if not isinstance(index, (int, np.integer)) or isinstance(index, bool):
        raise AttentionInputError(f"`{what}` must be an integer index, but {index!r} was passed.")
    index = int(index)
    if index in indices:
        return indices.index(index)
    total = len(indices)
    if index < 0 and -total <= index:
        return total + index
    raise AttentionInputError(
        f"`{what}` {index} is not in the attention: the available {what} indices are {list(indices)}."
    )


def _as_index_list(values, argument: str, available: Sequence[int] = ()) -> list[int]:
    if isinstance(values, (int, np.integer)) and not isinstance(values, bool):
        return [int(values)]
    try:
        chosen = [v for v in values] if not isinstance(values, (str, bytes)) else None
    except TypeError:
        chosen = None
    if chosen is None or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in chosen):
        raise AttentionInputError(
            f"`{argument}` must be an integer or a list of integers, but {values!r} was passed."
        )
    if not chosen:
        raise AttentionInputError(
            f"`{argument}` is empty: select at least one of {list(available)}, or pass None for all."
        )
    repeated = sorted({int(v) for v in chosen if chosen.count(v) > 1})
    if repeated:
        raise AttentionInputError(
            f"`{argument}` lists {repeated} more than once, but {chosen!r} was passed: "
            f"give each index once, e.g. {list(dict.fromkeys(int(v) for v in chosen))}."
        )
    return chosen


@with_parameters(raises=("attention",))
def as_attention(
    attention: Any,
    tokens: Sequence[str] | None = None,
    *,
    batch: int = 0,
    attention_mask: Any = None,
    normalized: bool = True,
    key_tokens: Sequence[str] | None = None,
    sentence_b_start: int | None = None,
    merge_subwords: bool = False,
) -> AttentionData:
    """Return validated `AttentionData` from whatever attention a user holds.

    `attention` may be transformers' ``output_attentions`` tuple (one ``[batch, heads, q, k]``
    tensor per layer), a list of those (or of ``[heads, q, k]`` or ``[q, k]`` arrays, one per
    layer: a list of 2-D maps is layers of one head each), a ``[layers, batch, heads, q, k]``,
    ``[layers, heads, q, k]``, ``[heads, q, k]`` or ``[q, k]`` array or tensor (any device,
    any float dtype, with or without grad), a model output with ``.attentions``, a
    TransformerLens ``ActivationCache`` (its ``blocks.{l}.attn.hook_pattern`` entries; tokens
    from ``model.to_str_tokens(prompt)``), or an `AttentionData` (returned as is). With `attention_mask` (1 = real token) padded
    positions are dropped from both axes and from the tokens.

    Parameters
    ----------
    attention : tuple, list, array, tensor, model output, ActivationCache or AttentionData
        The attention, in any of the forms above.
    tokens : list of str, optional
        One label per query position; positions are numbered when omitted.
    batch : int
        Which item of a batch to take.
    attention_mask : array or tensor, optional
        ``[batch, n]`` or ``[n]``, 1 for real tokens: padded positions are dropped.
    normalized : bool
        Check that every row sums to 1 (False for differences or pooled maps).
    key_tokens : list of str, optional
        Labels of the key positions when they differ from the queries (cross attention).
    sentence_b_start : int, optional
        Index of the first token of sentence B in a sentence pair.
    merge_subwords : bool
        Merge word pieces into words (`merge_subword_tokens`).

    Returns
    -------
    AttentionData
        ``weights`` as ``[layers, heads, q, k]`` float32, with the tokens and indices.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> raw = tuple(np.full((2, 12, 5, 5), 0.2) for _ in range(6))  # HF-style, batch of 2
    >>> data = attnfig.as_attention(raw, ["[CLS]", "a", "b", "c", "[SEP]"], batch=1)
    >>> data.weights.shape
    (6, 12, 5, 5)
    """
    if isinstance(attention, AttentionData):
        if tokens is None and key_tokens is None and sentence_b_start is None and not merge_subwords:
            return attention
        return _retokened(attention, tokens, key_tokens, sentence_b_start, merge_subwords)
    cache_layers: tuple[int, ...] = ()
    if is_pattern_cache(attention):
        attention, cache_layers = cached_patterns(attention)

    weights, bits, scan = _to_layer_array(attention, batch)
    return _validated(weights, bits, tokens, batch=batch, attention_mask=attention_mask, normalized=normalized,
                      key_tokens=key_tokens, sentence_b_start=sentence_b_start, merge_subwords=merge_subwords,
                      layer_indices=cache_layers, scan=scan)


def attention_from_layers(layers: list, tokens: Sequence[str] | None = None, *, on_future_weights=None,
                          **options) -> AttentionData:
    """`as_attention` of a list of per-layer tensors that it may empty as it converts them.

    Each layer is copied into the result and its list entry set to None, so that (when the
    caller holds no other reference) its memory is freed before the next one is copied: the
    conversion holds one layer more than the result, never a second copy of every layer.
    Used by `from_model` on the attentions it owns. `on_future_weights`, when given, is called
    with the ``[layers, heads, q, q]`` weights (before any other check) when some query gives
    weight to a later key: the check of a model that declares itself causal, found by the
    same pass that copies the layers.

    >>> import numpy as np
    >>> layers = [np.full((1, 2, 3, 3), 1 / 3, dtype=np.float32) for _ in range(2)]
    >>> attention_from_layers(layers).weights.shape, layers
    ((2, 2, 3, 3), [None, None])
    """
    batch = options.pop("batch", 0)
    weights, bits, scan = _stack_layers(layers, batch, release=True)
    if scan.future and on_future_weights is not None:
        on_future_weights(weights)
    return _validated(weights, bits, tokens, batch=batch, scan=scan, **options)


def _validated(weights: np.ndarray, bits: int, tokens, *, batch: int = 0, attention_mask: Any = None,
               normalized: bool = True, key_tokens=None, sentence_b_start=None, merge_subwords: bool = False,
               layer_indices: tuple[int, ...] = (), scan: "_Scan | None" = None) -> AttentionData:
    # A clean scan (gathered while the layers were copied) stands for the checks of the same
    # array; anything it flags, or an array changed since (padding dropped), is checked in full.
    scanned = weights
    if scan is None or not scan.values_valid(normalized):
        _check_values(weights, normalized)
    query_tokens = _pick_batch_tokens(tokens, batch, "tokens")
    key_tokens = _pick_batch_tokens(key_tokens, batch, "key_tokens")
    if key_tokens is None and weights.shape[2] == weights.shape[3]:
        key_tokens = query_tokens
    if attention_mask is not None:
        weights, query_tokens, key_tokens, sentence_b_start = _drop_padding(
            weights, attention_mask, batch, query_tokens, key_tokens, sentence_b_start
        )
    if normalized and not (weights is scanned and scan is not None and scan.rows_valid(bits)):
        _check_rows(weights, bits)
    query_tokens = _check_tokens(query_tokens, weights.shape[2], "tokens", "query")
    key_tokens = _check_tokens(key_tokens, weights.shape[3], "key_tokens", "key")
    _check_sentence_b_start(sentence_b_start, weights.shape[2])
    data = AttentionData(
        weights=weights,
        query_tokens=query_tokens,
        key_tokens=key_tokens,
        sentence_b_start=None if sentence_b_start is None else int(sentence_b_start),
        is_causal=(scan.square and not scan.future) if weights is scanned and scan is not None
        else detect_causal(weights),
        normalized=normalized,
        layer_indices=layer_indices,
    )
    return merge_subword_tokens(data) if merge_subwords else data


def future_mask(n_queries: int, n_keys: int) -> np.ndarray:
    """True where a key comes after its query: what a causal model cannot attend to.

    >>> future_mask(2, 2).tolist()
    [[False, True], [False, False]]
    """
    return np.triu(np.ones((n_queries, n_keys), dtype=bool), 1)


def detect_causal(weights: np.ndarray) -> bool:
    """True when no query attends to a later key (square attention, more than one token)."""
    q, k = weights.shape[-2:]
    if q != k or q < 2:
        return False
    return not has_future_weights(weights)


def has_future_weights(weights, rows_per_block: int = 128) -> bool:
    """True when some query of square ``[..., q, q]`` attention gives weight to a later key.

    Works on numpy arrays and torch tensors alike, a block of query rows at a time: the keys
    right of a block are checked by min and max of a view (no copy), the block's own triangle
    by a small copy. Non-causal attention usually stops at the first row.

    >>> import numpy as np
    >>> has_future_weights(np.tril(np.ones((3, 3)))), has_future_weights(np.ones((3, 3)))
    (False, True)
    """
    n = weights.shape[-1]
    for start in range(0, n, rows_per_block):
        stop = min(start + rows_per_block, n)
        first = start == 0 and _nonzero(weights[..., 0:1, 1:])  # the first row: early exit
        if first or (stop < n and _nonzero(weights[..., start:stop, stop:])):
            return True
        diagonal = weights[..., start:stop, start:stop]
        if _nonzero(np.triu(diagonal, 1) if isinstance(diagonal, np.ndarray) else diagonal.triu(1)):
            return True
    return False


def _nonzero(block) -> bool:
    """True when `block` (numpy or torch) holds a non-zero value, NaN included."""
    if isinstance(block, np.ndarray):
        lowest, highest = (block.min(), block.max()) if block.size else (0, 0)
    else:
        lowest, highest = block.aminmax() if block.numel() else (0, 0)
    return not (float(lowest) == 0 and float(highest) == 0)


def merge_subword_tokens(data: AttentionData) -> AttentionData:
    """Merge sub-word tokens into words: keys summed, queries averaged, rows still sum to 1.

    Parameters
    ----------
    data : AttentionData
        Attention whose tokens mark word pieces (``##``, or word-start marks).

    Returns
    -------
    AttentionData
        One position per word. No word crosses `sentence_b_start` or `generated_start`, and
        both become positions among the words.

    Raises
    ------
    ArgumentError
        When `data` is not `AttentionData`.
    AttentionInputError
        When the query and key tokens differ (cross attention).

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> data = attnfig.as_attention(np.full((1, 1, 4, 4), 0.25), ["[CLS]", "hop", "##ped", "[SEP]"])
    >>> merged = attnfig.merge_subword_tokens(data)
    >>> merged.tokens, merged.weights[0, 0].sum(axis=1).round(3).tolist()
    (('[CLS]', 'hopped', '[SEP]'), [1.0, 1.0, 1.0])
    """
    if not isinstance(data, AttentionData):
        raise ArgumentError(
            f"`merge_subword_tokens` takes the `AttentionData` that `attnfig.as_attention(attention, tokens)` "
            f"returns, but {type(data).__name__} was passed. Or pass `merge_subwords=True` to `as_attention`, "
            "`from_model` or `capture`."
        )
    if not data.is_self_attention:
        raise AttentionInputError(
            "`merge_subwords=True` needs self-attention with one token list; "
            "merge the encoder and decoder attention separately."
        )
    groups = word_groups(data.tokens, data.sentence_b_start, data.generated_start)
    grouping = np.zeros((len(groups), len(data.tokens)), dtype=np.float32)
    for word, positions in enumerate(groups):
        grouping[word, positions] = 1.0
    mean_rows = grouping / grouping.sum(axis=1, keepdims=True)
    weights = np.einsum("wq,lhqk,vk->lhwv", mean_rows, data.weights, grouping, optimize=True)
    pieces = prettify_tokens(data.tokens)
    words = tuple(join_word([pieces[p] for p in positions]) for positions in groups)

    def word_of(position: int | None) -> int | None:  # the first word from `position` on (a break starts a word)
        if position is None:
            return None
        return next((w for w, positions in enumerate(groups) if positions[0] >= position), len(groups))

    return dataclasses.replace(
        data,
        weights=weights.astype(np.float32),
        query_tokens=words,
        key_tokens=words,
        sentence_b_start=word_of(data.sentence_b_start),
        generated_start=word_of(data.generated_start),
        is_causal=detect_causal(weights),
    )


# --- conversion -------------------------------------------------------------------------


def _is_tensor(value) -> bool:
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def _tensor_to_numpy(tensor) -> tuple[np.ndarray, int]:
    bits = _tensor_bits(tensor)
    # bf16 has no numpy dtype: go through float32 on the CPU; detach drops grad.
    return tensor.detach().to(device="cpu").float().numpy(), bits


def _tensor_bits(tensor) -> int:
    """The float width of `tensor` (32 for integers); complex tensors are refused."""
    if tensor.is_complex():
        raise AttentionInputError(
            f"attention must hold real numbers, but a complex tensor ({tensor.dtype}) was passed."
        )
    return tensor.element_size() * 8 if tensor.is_floating_point() else 32


def _array_to_numpy(value, argument: str = "attention") -> tuple[np.ndarray, int]:
    if _is_tensor(value):
        return _tensor_to_numpy(value)
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as err:
        raise AttentionInputError(
            f"{argument} must be a numeric array or tensor; converting it failed ({err}). "
            "Are the layers or rows of different lengths?"
        ) from None
    if array.dtype.kind in "biuf":
        bits = array.dtype.itemsize * 8 if array.dtype.kind == "f" else 32
        return array.astype(np.float32, copy=False) if array.dtype.kind != "f" else array, bits
    if array.dtype.kind == "O":
        try:
            return array.astype(np.float64), 64
        except (ValueError, TypeError):
            pass
    raise AttentionInputError(
        f"{argument} must hold real numbers, but it has dtype {array.dtype} "
        f"(a {type(value).__name__}). Pass the attention weights as a float array or tensor."
    )


def _unwrap_model_output(attention):
    if hasattr(attention, "attentions") and not isinstance(attention, (tuple, list, np.ndarray)):
        return attention.attentions
    if all(hasattr(attention, part) for part in ("encoder", "decoder", "cross")):
        raise AttentionInputError(
            "attention is an EncoderDecoderAttention: pass it to `head_view` or `model_view` as is, "
            "or pick one of its parts: `.encoder`, `.decoder` or `.cross`."
        )
    if hasattr(attention, "encoder_attentions") and not _is_tensor(attention):
        raise AttentionInputError(
            "attention is an encoder-decoder model output: pass one of its "
            "`encoder_attentions`, `decoder_attentions` or `cross_attentions`."
        )
    return attention


def _to_layer_array(attention, batch: int) -> tuple[np.ndarray, int, "_Scan | None"]:
    """Convert to float32 ``[layers, heads, q, k]``; also return the source float width and,
    for a list of layers, the `_Scan` of the checks gathered as they were copied."""
    attention = _unwrap_model_output(attention)
    if attention is None:
        raise AttentionInputError("attention is None. " + SDPA_HINT)
    if isinstance(attention, (tuple, list)) and len(attention) == 0:
        raise AttentionInputError(f"attention is an empty {type(attention).__name__}. " + LAST_OUTPUT_HINT + SDPA_HINT)
    if isinstance(attention, (tuple, list)) and all(_is_tensor(a) or isinstance(a, np.ndarray) for a in attention):
        return _stack_layers(attention, batch)
    stacked, bits = _array_to_numpy(attention)
    ndim = stacked.ndim
    if ndim == 5:
        stacked = stacked[:, _check_batch(batch, stacked.shape[1])]
    elif batch not in (0, -1):
        raise AttentionInputError(
            f"`batch` is {batch!r} but the attention has no batch axis (shape {list(stacked.shape)}); "
            "batch selection needs transformers' tuple of [batch, heads, q, k] or a "
            "[layers, batch, heads, q, k] array."
        )
    if ndim == 3:
        stacked = stacked[None]
    elif ndim == 2:
        stacked = stacked[None, None]
    elif ndim not in (4, 5):
        raise AttentionInputError(
            "attention must be [layers, batch, heads, q, k], [layers, heads, q, k], [heads, q, k] "
            f"or [q, k] (or transformers' tuple of [batch, heads, q, k]), but it has shape "
            f"{list(stacked.shape)} ({ndim}-D)."
        )
    if 0 in stacked.shape:
        raise AttentionInputError(
            f"attention is empty: its shape [layers, heads, q, k] is {list(stacked.shape)}."
        )
    with np.errstate(over="ignore"):  # values beyond float32 become inf, reported next
        return np.ascontiguousarray(stacked, dtype=np.float32), bits, None


def _stack_layers(layers, batch: int, release: bool = False) -> tuple[np.ndarray, int, "_Scan"]:
    """Copy per-layer ``[batch, heads, q, k]`` (or ``[heads, q, k]``, ``[q, k]``) arrays or tensors
    into one float32 ``[layers, heads, q, k]`` array, converting each layer as it is copied.

    With `release`, each list entry is set to None once copied (see `attention_from_layers`).
    """
    shapes = [tuple(layer.shape) for layer in layers]
    if len(set(shapes)) > 1:
        listing = ", ".join(f"layer {i}: {list(shape)}" for i, shape in enumerate(shapes))
        raise AttentionInputError(f"All layers of attention must have the same shape, but got {listing}.")
    shape = shapes[0]
    if len(shape) not in (2, 3, 4):
        raise AttentionInputError(
            f"Each layer of attention must be [batch, heads, q, k] (as transformers returns), "
            f"[heads, q, k] or [q, k], but layer 0 has shape {list(shape)} ({len(shape)}-D)."
        )
    if len(shape) == 4:
        item = _check_batch(batch, shape[0])
    elif batch not in (0, -1):
        raise AttentionInputError(
            f"`batch` is {batch!r} but the attention has no batch axis (shape {[len(layers), *shape]}); "
            "batch selection needs transformers' tuple of [batch, heads, q, k] or a "
            "[layers, batch, heads, q, k] array."
        )
    # One [q, k] map per layer: layers of one head, never heads.
    total = (len(layers), 1, *shape) if len(shape) == 2 else (len(layers), *shape[-3:])
    if 0 in total:
        raise AttentionInputError(f"attention is empty: its shape [layers, heads, q, k] is {list(total)}.")
    stacked = _empty_float32(total, tensors=_is_tensor(layers[0]))
    bits = 64
    scan = _Scan(square=total[2] == total[3] and total[2] > 1)
    rows = _rows_per_chunk(total[1] * total[3])
    for position, layer in enumerate(layers):
        source = layer[item] if len(shape) == 4 else layer
        target = stacked[position]  # [heads, q, k]; a [q, k] layer is one head
        array = None
        if _is_tensor(source):
            bits = min(bits, _tensor_bits(source))
            array = _numpy_view(source.detach())
            if array is None:  # on another device, or bfloat16: torch converts the whole layer
                import torch  # a tensor was passed, so torch is there

                torch.from_numpy(target if len(shape) != 2 else target[0]).copy_(source.detach())
                for start in range(0, total[2], rows):
                    scan.add(target[:, start:start + rows], start)
        else:
            array, layer_bits = _array_to_numpy(source, f"attention[{position}]")
            bits = min(bits, layer_bits)
        if array is not None:
            array = array[None] if len(shape) == 2 else array
            for start in range(0, total[2], rows):
                with np.errstate(over="ignore", invalid="ignore"):  # beyond float32: inf, reported next
                    target[:, start:start + rows] = array[:, start:start + rows]
                scan.add(target[:, start:start + rows], start)
        if release:
            layers[position] = None
            del layer, source, array
    return stacked, bits, scan


def _empty_float32(shape, tensors: bool) -> np.ndarray:
    """An uninitialised float32 array; from torch's allocator when the layers are tensors.

    numpy asks the kernel for huge pages on large arrays, and the first such request of a
    process can stall on memory compaction (0.6 s for 0.5 GB measured on a loaded machine,
    against 0.2 s from torch's memory): torch is already there when the layers are tensors.
    """
    if not tensors:
        return np.empty(shape, dtype=np.float32)
    import torch

    return torch.empty(shape, dtype=torch.float32).numpy()


def _numpy_view(tensor) -> np.ndarray | None:
    """`tensor`'s memory seen by numpy (no copy) when it is on the CPU in a dtype numpy has.

    numpy then copies it chunk by chunk, on one thread: torch's threaded copies of small
    chunks cost more than they save on a loaded machine.
    """
    if tensor.device.type != "cpu" or str(tensor.dtype) not in ("torch.float32", "torch.float16", "torch.float64"):
        return None
    return tensor.numpy()


CHUNK_VALUES = 1 << 18  # 1 MB of float32: a chunk copied and checked while it is in the cache


def _rows_per_chunk(values_per_row: int) -> int:
    return max(1, CHUNK_VALUES // max(1, values_per_row))


class _Scan:
    """What the checks need, gathered chunk by chunk as `_stack_layers` copies the layers.

    Each chunk (every head, a few query rows) is checked right after its copy, while it is in
    the cache, instead of a pass over the whole array per check: its min and max (NaN
    propagates), the largest distance of a row sum from 1 (`rows_valid`) and, for square
    attention until one is found, weight on later keys (as `has_future_weights`). `_validated` trusts only a clean scan; anything it flags is checked
    again by the full functions, which say where.
    """

    def __init__(self, square: bool):
        self.square = square
        self.future = False
        self.lows: list = []
        self.highs: list = []
        self.row_error = 0.0

    def add(self, chunk: np.ndarray, start: int) -> None:
        """Check `chunk`, rows ``start:`` of a layer's ``[heads, q, k]``."""
        self.lows.append(chunk.min())
        self.highs.append(chunk.max())
        with np.errstate(invalid="ignore", over="ignore"):  # inf and NaN are reported by the full checks
            error = float(np.abs(chunk.sum(axis=-1) - 1.0).max())
        if not error <= self.row_error:  # NaN is kept, and fails every later comparison
            self.row_error = error
        if self.square and not self.future:  # any() is True for NaN and False for -0.0, as `_nonzero`
            stop = start + chunk.shape[1]
            self.future = bool(chunk[..., stop:].any() or np.triu(chunk[..., start:stop], 1).any())

    def rows_valid(self, bits: int) -> bool:
        """True only when `_check_rows` would pass: the float32 row sums are within half its
        tolerance (their rounding, below 1e-5 for rows of weights >= 0 summing to about 1,
        cannot bridge the other half); otherwise `_check_rows` decides."""
        return self.row_error <= ROW_SUM_TOLERANCE.get(bits, 1e-3) / 2

    def values_valid(self, normalized: bool) -> bool:
        """The condition of `_check_values`, from the chunks' min and max."""
        return _values_ok(np.min(self.lows), np.max(self.highs), normalized)


def _check_batch(batch, size: int) -> int:
    if not isinstance(batch, (int, np.integer)) or isinstance(batch, bool) or not -size <= batch < size:
        raise AttentionInputError(
            f"`batch` must be an integer in [0, {size}) for attention with a batch of {size}, "
            f"but {batch!r} was passed."
        )
    return int(batch)


# --- validation -------------------------------------------------------------------------


def _locate(mask: np.ndarray) -> str:
    layer, head, q, k = (int(i) for i in np.argwhere(mask)[0])
    return f"first at layer {layer}, head {head}, query {q}, key {k}"


def _check_values(weights: np.ndarray, normalized: bool) -> np.ndarray:
    """Refuse NaN, infinite and (for softmax weights) negative values.

    The common case, valid weights, costs two reductions (min and max: NaN propagates through
    both) and no array of the input's size; the masks that locate a bad value are built one at
    a time, only when there is one.
    """
    if _values_ok(weights.min(), weights.max(), normalized):
        return weights
    for problem in ("nan", "inf", "negative"):
        _raise_if(problem, weights, normalized)
    return weights


def _values_ok(lowest, highest, normalized: bool) -> bool:
    """Whether values from `lowest` to `highest` pass `_check_values`: no NaN (it propagates
    through min and max), nothing infinite above, and nothing negative in softmax weights."""
    return bool(not (np.isnan(lowest) or np.isnan(highest)) and highest < np.inf
                and (lowest >= 0 if normalized else True))


def _raise_if(problem: str, weights: np.ndarray, normalized: bool) -> None:
    if problem == "nan":
        found = np.isnan(weights)
        if found.any():
            raise AttentionInputError(
                f"attention holds {int(found.sum())} NaN value(s), {_locate(found)}. "
                "NaN usually comes from a fully masked row or an fp16 overflow; run the model in float32."
            )
    elif problem == "inf":
        found = np.isposinf(weights) if not normalized else np.isinf(weights)
        if found.any():
            raise AttentionInputError(
                f"attention holds {int(found.sum())} infinite value(s), {_locate(found)}. "
                "Attention weights must be finite (raw scores with `normalized=False` may use -inf for masked keys)."
            )
    elif normalized:
        found = weights < 0
        if found.any():
            raise AttentionInputError(
                f"attention holds {int(found.sum())} negative weight(s), {_locate(found)} "
                f"(value {float(weights[found][0]):.4g}). Softmax weights are >= 0; "
                "pass `normalized=False` for raw scores or differences."
            )


def _check_rows(weights: np.ndarray, bits: int) -> None:
    tolerance = ROW_SUM_TOLERANCE.get(bits, 1e-3)
    sums = weights.sum(axis=-1, dtype=np.float64)
    off = np.abs(sums - 1.0) > tolerance
    if off.any():
        layer, head, q = (int(i) for i in np.argwhere(off)[0])
        raise AttentionInputError(
            f"attention rows must sum to 1 (softmax weights, tolerance {tolerance:g}), but "
            f"{int(off.sum())} row(s) do not: layer {layer}, head {head}, query {q} sums to "
            f"{sums[layer, head, q]:.4g}. A model in training mode drops attention weights "
            "(dropout): call `model.eval()` before the forward pass, or use `attnfig.from_model`. "
            "Pass `normalized=False` for raw scores; with padding, pass the tokenizer's `attention_mask` too."
        )


def _pick_batch_tokens(tokens, batch: int, argument: str):
    if tokens is None:
        return None
    if isinstance(tokens, str):
        raise AttentionInputError(
            f"`{argument}` must be a list of token strings, but a single string {tokens[:30]!r} "
            "was passed. Use tokenizer.convert_ids_to_tokens(input_ids[0])."
        )
    try:
        tokens = list(tokens)
    except TypeError:
        raise AttentionInputError(
            f"`{argument}` must be a list of token strings (one per position), but {tokens!r} "
            f"({type(tokens).__name__}) was passed. Use tokenizer.convert_ids_to_tokens(input_ids[0])."
        ) from None
    if tokens and all(isinstance(t, (list, tuple)) for t in tokens):
        tokens = list(tokens[_check_batch(batch, len(tokens))])
    return tokens


def _check_tokens(tokens, length: int, argument: str, axis: str) -> tuple[str, ...]:
    if tokens is None:
        return tuple(str(i) for i in range(length))
    if len(tokens) != length:
        raise AttentionInputError(
            f"`{argument}` has {len(tokens)} entries but the attention has {length} {axis} "
            f"positions. Pass one token per position (with padding, pass the tokenizer's "
            f"`attention_mask` so padded positions are dropped)."
        )
    for position, token in enumerate(tokens):
        if not isinstance(token, str):
            raise AttentionInputError(
                f"`{argument}` must hold strings (one label per position), but entry {position} is "
                f"{token!r} (a {type(token).__name__}). Decode bytes and convert ids with "
                "tokenizer.convert_ids_to_tokens(...)."
            )
    return tuple(str(t) for t in tokens)


def _check_sentence_b_start(sentence_b_start, length: int) -> None:
    if sentence_b_start is None:
        return
    if (
        not isinstance(sentence_b_start, (int, np.integer))
        or isinstance(sentence_b_start, bool)
        or not 0 < sentence_b_start < length
    ):
        raise AttentionInputError(
            f"`sentence_b_start` must be an integer in [1, {length - 1}] (the index of the first "
            f"token of sentence B among {length} tokens), but {sentence_b_start!r} was passed."
        )


def _drop_padding(weights, attention_mask, batch, query_tokens, key_tokens, sentence_b_start):
    mask, _ = _array_to_numpy(attention_mask, "attention_mask")
    if mask.ndim == 2:
        mask = mask[_check_batch(batch, mask.shape[0])]
    if mask.ndim != 1:
        raise AttentionInputError(
            f"`attention_mask` must be [seq] or [batch, seq] (the tokenizer's), but it has shape {list(mask.shape)}."
        )
    keep = mask > 0
    n_queries, n_keys = weights.shape[2:]
    if len(keep) != n_keys:
        raise AttentionInputError(
            f"`attention_mask` has length {len(keep)} but the attention has {n_keys} key positions; "
            "pass the mask the tokenizer returned with these inputs."
        )
    if not keep.any():
        raise AttentionInputError("`attention_mask` marks no real token (it is all zeros).")
    if keep.all():  # no padding: nothing to drop, no copy
        return weights, query_tokens, key_tokens, sentence_b_start
    kept = np.flatnonzero(keep)
    rows = kept if n_queries == n_keys else np.arange(n_queries)
    unpadded = np.empty((*weights.shape[:2], len(rows), len(kept)), dtype=weights.dtype)
    for layer in range(weights.shape[0]):  # one layer's temporary at a time
        unpadded[layer] = weights[layer][:, rows][:, :, kept]
    weights = unpadded
    if n_queries == n_keys:
        query_tokens = _drop_masked_tokens(query_tokens, keep, "tokens")
        if sentence_b_start is not None and 0 <= sentence_b_start <= len(keep):
            sentence_b_start = int(keep[:sentence_b_start].sum())
    key_tokens = _drop_masked_tokens(key_tokens, keep, "key_tokens")
    return weights, query_tokens, key_tokens, sentence_b_start


def _drop_masked_tokens(tokens, keep: np.ndarray, argument: str):
    if tokens is None or len(tokens) != len(keep):
        return tokens  # already unpadded, or a mismatch _check_tokens reports
    return [t for t, k in zip(tokens, keep) if k]


def _retokened(data: AttentionData, tokens, key_tokens, sentence_b_start, merge_subwords):
    tokens = _pick_batch_tokens(tokens, 0, "tokens")  # read an iterator once
    key_tokens = _pick_batch_tokens(key_tokens, 0, "key_tokens")
    query_tokens = _check_tokens(tokens, data.weights.shape[2], "tokens", "query") if tokens is not None else data.query_tokens
    if key_tokens is None and tokens is not None and data.is_self_attention:
        key_tokens = query_tokens
    key_tokens = _check_tokens(key_tokens, data.weights.shape[3], "key_tokens", "key") if key_tokens is not None else data.key_tokens
    if sentence_b_start is not None:
        _check_sentence_b_start(sentence_b_start, data.weights.shape[2])
    data = dataclasses.replace(
        data,
        query_tokens=query_tokens,
        key_tokens=key_tokens,
        sentence_b_start=data.sentence_b_start if sentence_b_start is None else int(sentence_b_start),
    )
    return merge_subword_tokens(data) if merge_subwords else data
