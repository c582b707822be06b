"""Model inputs that are not text: Whisper's audio features and ViT's image patches.

Each helper returns the keyword arguments for ``model(...)`` and the labels of the positions
the attention runs over (seconds for audio frames, grid cells for image patches).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import AttentionInputError

INPUT_KINDS = {"input_ids": "text", "input_features": "audio", "pixel_values": "image"}


def input_kind(model) -> str:
    """"text", "audio" or "image", from the model's main input (``input_ids``, ``input_features``...).

    >>> from types import SimpleNamespace as Model
    >>> input_kind(Model(main_input_name="pixel_values")), input_kind(Model(main_input_name="input_ids"))
    ('image', 'text')
    """
    return INPUT_KINDS.get(getattr(model, "main_input_name", "input_ids"), "text")


def is_array(value) -> bool:
    """True for a numpy array or a torch tensor."""
    return isinstance(value, np.ndarray) or (hasattr(value, "detach") and hasattr(value, "shape"))


def _as_tensor(value):
    import torch

    return value.detach().float() if hasattr(value, "detach") else torch.as_tensor(np.asarray(value, dtype=np.float32))


def _part(processor, name: str):
    """The feature extractor or image processor inside a processor (or the object itself)."""
    return getattr(processor, name, processor)


def audio_inputs(model, processor, audio) -> tuple[dict[str, Any], list[str]]:
    """``{"input_features": ...}`` and one time label per encoder position ("0.02s", ...).

    `audio` is a 1-D waveform (turned into features by `processor`, a feature extractor or a
    processor holding one) or ready ``input_features`` ``[mel_bins, frames]`` / ``[1, mel_bins, frames]``.
    """
    mel_bins = model.config.num_mel_bins
    if isinstance(audio, str) or not is_array(audio):
        raise AttentionInputError(
            f"{type(model).__name__} reads audio, but {type(audio).__name__} was passed as `text`. Pass a 1-D "
            "waveform array (with the model's feature extractor or processor as `tokenizer`) or "
            f"input_features shaped [{mel_bins}, frames]."
        )
    extractor = _part(processor, "feature_extractor")
    ndim = len(audio.shape)
    if ndim == 1:
        if extractor is None or not callable(extractor) or not hasattr(extractor, "sampling_rate"):
            raise AttentionInputError(
                "A waveform needs the model's feature extractor (or processor) as `tokenizer` to become "
                f"input_features, but {type(processor).__name__} was passed. Pass e.g. "
                "WhisperProcessor.from_pretrained(path), or input_features yourself."
            )
        features = extractor(np.asarray(audio, dtype=np.float32), sampling_rate=extractor.sampling_rate,
                             return_tensors="pt")["input_features"]
        seconds_per_frame = extractor.hop_length / extractor.sampling_rate
    elif ndim in (2, 3) and audio.shape[-2] == mel_bins and (ndim == 2 or audio.shape[0] == 1):
        features = _as_tensor(audio).reshape(1, mel_bins, -1)
        seconds_per_frame = getattr(extractor, "hop_length", 160) / getattr(extractor, "sampling_rate", 16000)
    else:
        raise AttentionInputError(
            f"audio must be a 1-D waveform or input_features [{mel_bins}, frames], but an array of shape "
            f"{list(audio.shape)} was passed."
        )
    expected = 2 * model.config.max_source_positions
    if features.shape[-1] != expected:
        raise AttentionInputError(
            f"{type(model).__name__} takes input_features of exactly {expected} frames "
            f"({expected * seconds_per_frame:g} s), but {features.shape[-1]} arrived. Let the feature extractor "
            "pad the waveform (it pads to its chunk length) or pad the features yourself."
        )
    stride = features.shape[-1] // model.config.max_source_positions
    labels = [f"{i * stride * seconds_per_frame:.2f}s" for i in range(model.config.max_source_positions)]
    return {"input_features": features}, labels


def image_inputs(model, processor, image) -> tuple[dict[str, Any], list[str]]:
    """``{"pixel_values": ...}`` and labels "[CLS]", then "(row,col)" per patch of the grid.

    `image` is anything `processor` (an image processor, or a processor holding one) takes:
    a PIL image or a ``[height, width, channels]`` array; or, without a processor, ready
    ``pixel_values`` ``[channels, height, width]`` / ``[1, channels, height, width]``.
    Prefix tokens come first: "[CLS]", DeiT's "[DIST]", registers "[REG0]", "[REG1]"...

    >>> # inputs, labels = image_inputs(vit, AutoImageProcessor.from_pretrained(path), image)
    >>> # labels[:3] == ["[CLS]", "(0,0)", "(0,1)"]
    """
    config = model.config
    if isinstance(image, str):
        raise AttentionInputError(
            f"{type(model).__name__} reads images, but a string was passed as `text`. Pass a PIL image or an "
            "array with the model's image processor as `tokenizer`, or pixel_values "
            f"[{config.num_channels}, {config.image_size}, {config.image_size}]."
        )
    image_processor = _part(processor, "image_processor")
    if image_processor is not None and callable(image_processor):
        pixel_values = image_processor(images=image, return_tensors="pt")["pixel_values"]
    elif is_array(image) and len(image.shape) in (3, 4) and image.shape[-3] == config.num_channels:
        pixel_values = _as_tensor(image).reshape(1, *image.shape[-3:])
    else:
        raise AttentionInputError(
            "An image needs the model's image processor as `tokenizer` (e.g. "
            "AutoImageProcessor.from_pretrained(path)), or pixel_values shaped "
            f"[{config.num_channels}, height, width]; got {type(image).__name__} with {type(processor).__name__}."
        )
    if pixel_values.shape[0] != 1:
        raise AttentionInputError(
            f"`text` holds {pixel_values.shape[0]} images; pass them as a list to get one result each."
        )
    rows, columns = patch_grid(config, pixel_values.shape[-2:])
    patches = [f"({row},{column})" for row in range(rows) for column in range(columns)]
    return {"pixel_values": pixel_values}, [*prefix_labels(config), *patches]


def patch_grid(config, pixel_size) -> tuple[int, int]:
    """(rows, columns) of patches a ViT-style model cuts an image of ``(height, width)`` pixels into.

    >>> from types import SimpleNamespace as Config
    >>> patch_grid(Config(patch_size=16), (224, 160))
    (14, 10)
    """
    patch = config.patch_size
    patch_rows, patch_columns = (patch, patch) if isinstance(patch, int) else tuple(patch)
    height, width = (int(size) for size in pixel_size)
    return height // patch_rows, width // patch_columns


def prefix_labels(config) -> list[str]:
    """Labels of the tokens a vision transformer puts before its patches, from its config.

    >>> from types import SimpleNamespace as Config
    >>> prefix_labels(Config(model_type="deit")), prefix_labels(Config(model_type="dinov2_with_registers", num_register_tokens=2))
    (['[CLS]', '[DIST]'], ['[CLS]', '[REG0]', '[REG1]'])
    """
    labels = ["[CLS]"]
    if getattr(config, "model_type", "") == "deit":
        labels.append("[DIST]")
    labels += [f"[REG{i}]" for i in range(int(getattr(config, "num_register_tokens", 0) or 0))]
    return labels


def seen_image(pixel_values, processor) -> np.ndarray:
    """The image as the model saw it (after resizing and cropping): ``[height, width, channels]`` in [0, 1].

    The processor's normalisation is undone (mean and std); without them the pixels are
    rescaled to [0, 1] by their own range.

    >>> from types import SimpleNamespace as Processor
    >>> seen_image(np.zeros((1, 3, 2, 2)), Processor(image_mean=[0.5] * 3, image_std=[0.5] * 3))[0, 0].tolist()
    [0.5, 0.5, 0.5]
    """
    pixels = np.asarray(pixel_values.detach().float().cpu() if hasattr(pixel_values, "detach") else pixel_values,
                        dtype=np.float64)
    pixels = pixels.reshape(pixels.shape[-3:]).transpose(1, 2, 0)
    image_processor = _part(processor, "image_processor")
    mean, std = getattr(image_processor, "image_mean", None), getattr(image_processor, "image_std", None)
    if mean is not None and std is not None and getattr(image_processor, "do_normalize", True):
        pixels = pixels * np.asarray(std, dtype=np.float64) + np.asarray(mean, dtype=np.float64)
    else:
        low, high = pixels.min(), pixels.max()
        pixels = (pixels - low) / (high - low) if high > low else np.zeros_like(pixels)
    if pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    return np.clip(pixels, 0.0, 1.0).astype(np.float32)


# --- texts ---------------------------------------------------------------------------------

# Names of learned absolute position tables (BERT family, GPT-2/GPT-Neo, OPT/BART, CLIP).
POSITION_TABLES = ("position_embeddings", "position_embedding", "wpe", "embed_positions")


def check_corpus(texts, *, argument: str = "text", pairs: bool = True) -> list[tuple[str, str | None]]:
    """One text or a corpus as a list of ``(text, pair)``; anything else is an `AttentionInputError`.

    A string is one text; a list or tuple is a corpus, each item a string or (with `pairs`)
    a ``(text, pair)`` tuple of two strings. A tuple of strings is never read as one pair.

    >>> check_corpus(("doc one", "doc two"))
    [('doc one', None), ('doc two', None)]
    >>> check_corpus([("a", "b")])
    [('a', 'b')]
    """
    if isinstance(texts, str):
        return [(texts, None)]
    shape = "a string or a non-empty list of strings" + (" or (text, pair) tuples of two strings" if pairs else "")
    if not isinstance(texts, (list, tuple)):
        raise AttentionInputError(f"`{argument}` must be {shape}, but {texts!r} ({type(texts).__name__}) was passed.")
    if not texts:
        raise AttentionInputError(f"`{argument}` is an empty {type(texts).__name__}: pass at least one text.")
    corpus: list[tuple[str, str | None]] = []
    for position, item in enumerate(texts):
        if isinstance(item, str):
            corpus.append((item, None))
        elif pairs and isinstance(item, tuple) and len(item) == 2 and all(isinstance(part, str) for part in item):
            corpus.append(item)
        else:
            raise AttentionInputError(
                f"`{argument}` must be {shape}, but item {position} is {item!r} ({type(item).__name__})."
            )
    return corpus


def texts_and_pairs(text, text_pair) -> tuple[list[str], list[str | None]]:
    """`capture`'s `text` and `text_pair` checked (`check_corpus`) as two lists of as many items.

    >>> texts_and_pairs("a", "b"), texts_and_pairs(["a", "c"], None)
    ((['a'], ['b']), (['a', 'c'], [None, None]))
    """
    texts = [item for item, _ in check_corpus(text, pairs=False)]
    if text_pair is None:
        return texts, [None] * len(texts)
    pairs: list[str | None] = [pair for pair, _ in check_corpus(text_pair, argument="text_pair", pairs=False)]
    if isinstance(text, str) != isinstance(text_pair, str) or len(pairs) != len(texts):
        wanted = "one text" if isinstance(text, str) else f"a list of as many texts ({len(texts)})"
        raise AttentionInputError(f"`text_pair` must be None or {wanted}, like `text`, but {text_pair!r} was passed.")
    return texts, pairs


def position_limit(model) -> int | None:
    """How many tokens a model with a learned absolute position table takes (None: no table).

    The table's rows, less the offset OPT and BART add and, for RoBERTa-style tables that
    start after the padding index, ``padding_idx + 1``. Rotary and relative models have no table.

    >>> import torch
    >>> model = torch.nn.Module(); model.wpe = torch.nn.Embedding(64, 4)
    >>> position_limit(model)
    64
    """
    import torch

    for name, module in model.named_modules():
        if isinstance(module, torch.nn.Embedding) and name.rsplit(".", 1)[-1] in POSITION_TABLES:
            limit = module.num_embeddings - getattr(module, "offset", 0)
            return limit - (module.padding_idx + 1 if module.padding_idx is not None else 0)
    return None


def encode_text(model, tokenizer, text: str, pair: str | None, tokenizer_kwargs: dict | None = None):
    """Tokenize one input for a forward pass of `model`, padding dropped, its length checked.

    Returns ``(encoded, tokens, sentence_b_start)``: the tensors ``[1, n]`` by name, the n token
    strings and where the pair starts (None without a pair). Padding (``padding="max_length"``)
    is removed, so the tokens are the real ones at the positions a single run gives them.
    """
    from .models import _sentence_b_start

    encoded = tokenizer(text, pair, return_tensors="pt", **(tokenizer_kwargs or {}))
    b_start = _sentence_b_start(encoded, 0) if pair is not None else None
    encoded = dict(encoded)
    mask = encoded.get("attention_mask")
    if mask is not None and mask.shape[0] == 1 and not bool(mask.all()):
        keep = mask[0].bool()
        if b_start is not None:
            b_start = int(keep[:b_start].sum())
        encoded = {name: value[:, keep] if value.shape[-1] == keep.shape[0] else value for name, value in encoded.items()}
    check_some_tokens(tokenizer, text, encoded["input_ids"].shape[-1])
    check_input_ids(model, encoded["input_ids"])
    tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    return encoded, tokens, b_start


def check_some_tokens(tokenizer, text, n_tokens: int) -> None:
    """Refuse a text that gives no token (``""`` with a tokenizer that adds no special token).

    >>> check_some_tokens(object(), "", 0)
    Traceback (most recent call last):
    ...
    attnfig.errors.AttentionInputError: '' gives no tokens (object adds no special token to it): ...
    """
    if n_tokens == 0:
        raise AttentionInputError(
            f"{text!r} gives no tokens ({type(tokenizer).__name__} adds no special token to it): pass a text "
            "with at least one word."
        )


def check_input_ids(model, input_ids, *, argument: str = "text") -> None:
    """Refuse token ids `model` cannot embed: more tokens than its learned position table (saying
    how to cut them) or ids past its token embeddings (a tokenizer of another model).

    >>> import torch
    >>> model = torch.nn.Embedding(10, 4); model.get_input_embeddings = lambda: model
    >>> check_input_ids(model, torch.tensor([[1, 12]]))
    Traceback (most recent call last):
    ...
    attnfig.errors.AttentionInputError: The tokenizer gave token id 12 for the text, but Embedding has ...
    """
    n_tokens = input_ids.shape[-1]
    limit = position_limit(model)
    if limit is not None and n_tokens > limit:
        raise AttentionInputError(
            f"The text has {n_tokens} tokens but {type(model).__name__} has learned positions for {limit}: "
            f"shorten or split it, or pass `truncation=True, max_length={limit}` (to `capture` or "
            "`from_model`) to keep its first tokens."
        )
    embeddings = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    rows = getattr(embeddings, "num_embeddings", None)
    if rows is not None and n_tokens and (int(input_ids.max()) >= rows or int(input_ids.min()) < 0):
        bad = int(input_ids.max()) if int(input_ids.max()) >= rows else int(input_ids.min())
        raise AttentionInputError(
            f"The tokenizer gave token id {bad} for the {argument}, but {type(model).__name__} has embeddings for "
            f"ids 0 to {rows - 1} only: the tokenizer does not belong to this model (or its vocabulary grew "
            "after the model was made). Pass the model's own tokenizer, or call "
            "`model.resize_token_embeddings(len(tokenizer))` after adding tokens."
        )
