"""Checks of a model and tokenizer just loaded from a folder: do the weights fill the model,
and does the tokenizer's vocabulary belong to it?

transformers loads a checkpoint that lacks tensors with those weights randomly initialised
(its warning is silenced in attnfig), ignores tensors the model has no place for, and loads
a BERT tokenizer from a folder holding GPT-2's ``vocab.json`` with an empty vocabulary, so
that every word is ``[UNK]``. Each would give figures of a model that is not the saved one.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import ModelFolderError

# Modules no attention weight depends on: a checkpoint of another task may lack them.
NOT_FEEDING_ATTENTION = frozenset({"pooler", "lm_head", "final_logits_bias"})
PROBE_TEXT = "the and of to a in is was he it that for on with as at by this"  # words every English vocabulary has
SHOWN = 5  # names listed in a message


SIZES = ("num_attention_heads", "num_hidden_layers", "hidden_size", "vocab_size", "n_head", "n_layer", "d_model",
         "encoder_attention_heads", "decoder_attention_heads", "encoder_layers", "decoder_layers")


def check_config_sizes(config, path: Path) -> None:
    """Refuse a config.json whose head, layer or width counts are not positive (a model cannot have them)."""
    for name in SIZES:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise ModelFolderError(
                f"The config.json in {str(path)!r} gives `{name}` {value}: a model needs at least 1. "
                "Fix config.json or save the model again with `model.save_pretrained(folder)`."
            )


def check_loading_info(model, info: dict, path: Path) -> None:
    """Refuse weights missing from the file, or tensors the model has no place for."""
    missing = sorted(name for name in info.get("missing_keys", ()) if not NOT_FEEDING_ATTENTION & set(name.split(".")))
    if missing:
        raise ModelFolderError(
            f"The weights in {str(path)!r} lack {len(missing)} tensor(s) the model needs ({_listed(missing)}): "
            "they would be random. The file is incomplete or belongs to another model; save it again with "
            "`model.save_pretrained(folder)`."
        )
    children = {name for name, _ in model.named_children()}
    prefix = f"{getattr(model, 'base_model_prefix', '')}."
    unexpected = sorted(name for name in info.get("unexpected_keys", ())
                        if name.removeprefix(prefix).split(".")[0] in children)
    if unexpected:
        raise ModelFolderError(
            f"The weights in {str(path)!r} hold {len(unexpected)} tensor(s) this model has no place for "
            f"({_listed(unexpected)}): config.json does not describe these weights (another number of layers?). "
            "Save the model and its config together with `model.save_pretrained(folder)`."
        )


def check_tokenizer_fits(model, tokenizer, path: Path) -> None:
    """Refuse a tokenizer that turns every word into its unknown token, or gives ids the model lacks."""
    vocabulary = tokenizer.get_vocab()
    rows = model.get_input_embeddings().num_embeddings if model.get_input_embeddings() is not None else None
    if rows is not None and len(vocabulary) > rows:
        raise ModelFolderError(
            f"The tokenizer in {str(path)!r} has {len(vocabulary)} tokens, but the model has {rows} token "
            "embeddings: the vocabulary files belong to another model (its ids past the embeddings would fail). "
            "Save the model's own tokenizer beside it with `tokenizer.save_pretrained(folder)`."
        )
    unknown = getattr(tokenizer, "unk_token_id", None)
    ids = tokenizer(PROBE_TEXT, add_special_tokens=False)["input_ids"]
    if not ids:
        raise ModelFolderError(
            f"The tokenizer in {str(path)!r} gives no token at all for common English words (its vocabulary has "
            f"{len(vocabulary)} entries): its files do not fit its type (BERT's vocab.txt beside a GPT-2 model?). "
            "Save the model's own tokenizer beside it with `tokenizer.save_pretrained(folder)`."
        )
    if unknown is not None and ids and all(i == unknown for i in ids):
        raise ModelFolderError(
            f"The tokenizer in {str(path)!r} turns every word into {tokenizer.unk_token} (its vocabulary has "
            f"{len(vocabulary)} entries): its files do not fit its type (GPT-2's vocab.json beside a BERT model?). "
            "Save the model's own tokenizer beside it with `tokenizer.save_pretrained(folder)`."
        )


def _listed(names) -> str:
    shown = ", ".join(names[:SHOWN])
    return shown + (f" and {len(names) - SHOWN} more" if len(names) > SHOWN else "")
