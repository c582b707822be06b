"""`capture_generation`: a language model's attention from the tokens it generated back to its prompt.

`model.generate` runs as the user would run it (sdpa as loaded, the key-value cache on, no
attention kept), then `capture` reads the selected heads over the final sequence in one
forward pass. With causal attention each row of that pass is exactly the row the model computed
when it generated that token, so memory is the selection's maps (or ``pool x pool`` per head),
never every step's full attention as ``generate(output_attentions=True)`` keeps it.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Sequence

from ..errors import ArgumentError, AttentionInputError
from ..input.data import AttentionData
from .capture import capture, check_family
from .devices import input_device
from .inputs import check_input_ids
from .runtime import eval_mode, quiet_transformers, require_hf


class _TokenIds:
    """A tokenizer stand-in that gives back fixed token ids, so `capture` reads a generated sequence.

    `capture` tokenizes text; a generated sequence is ids already (decoding and re-encoding
    them need not give the same ids back), so this object returns them as they are.
    """

    def __init__(self, tokenizer, ids):
        self._tokenizer = tokenizer
        self._ids = ids

    def __call__(self, *args, return_tensors: str = "pt", **kwargs):
        import torch

        return {"input_ids": self._ids, "attention_mask": torch.ones_like(self._ids)}

    def convert_ids_to_tokens(self, ids):
        return self._tokenizer.convert_ids_to_tokens(ids)


def capture_generation(
    model: Any,
    tokenizer: Any,
    prompt: str,
    *,
    max_new_tokens: int,
    layers: int | Sequence[int] | None = None,
    heads: int | Sequence[int] | None = None,
    pool: int | None = None,
    **generate_kwargs: Any,
) -> AttentionData:
    """Generate from `prompt` and return the attention over prompt and generated tokens.

    Parameters
    ----------
    model : transformers model with a language-modelling head
        A decoder-only model of a family `attnfig.capture` supports (GPT-2, Llama, Mistral,
        Qwen2, Gemma...), as loaded (sdpa is kept).
    tokenizer : transformers tokenizer
        The model's tokenizer.
    prompt : str
        The prompt.
    max_new_tokens : int
        How many tokens to generate at most (generation stops earlier at the end-of-sequence
        token).
    layers, heads : int or list of int, optional
        The layers and heads to capture (original indices); all by default.
    pool : int, optional
        Reduce each map to at most ``pool x pool`` blocks by block max, as `attnfig.capture` does.
    **generate_kwargs
        Passed to ``model.generate`` (greedy decoding by default: ``do_sample=False``).

    Returns
    -------
    AttentionData
        ``weights[layer, head, query, key]`` over prompt + generated tokens, causal, with
        ``generated_start`` the position of the first generated token (the prompt's length; with
        `pool`, the first block holding a generated token). Views mark that boundary, and
        ``heatmap(..., queries="generated")`` shows the generated tokens' rows only.

    Raises
    ------
    AttentionInputError
        For a family `capture` cannot reproduce exactly, an encoder-decoder model, a model
        without ``generate``, or an empty prompt.
    ArgumentError
        For a `max_new_tokens` that is not a positive integer, or a prompt that is not a string.

    Examples
    --------
    >>> import attnfig
    >>> from attnfig.testing import build_generation_model
    >>> model, tokenizer = build_generation_model("gpt2")
    >>> data = attnfig.capture_generation(model, tokenizer, "the rabbit", max_new_tokens=3, layers=[1], heads=[0])
    >>> data.generated_start, data.weights.shape[-1] - data.generated_start
    (2, 3)
    """
    torch = require_hf("torch")
    check_family(model)
    if not callable(getattr(model, "generate", None)) or not getattr(model, "can_generate", lambda: True)():
        raise AttentionInputError(
            f"{type(model).__name__} cannot generate: load the model with its language-modelling head, "
            "e.g. AutoModelForCausalLM.from_pretrained(path)."
        )
    if not isinstance(prompt, str):
        raise ArgumentError(f"`prompt` must be a string, but {prompt!r} ({type(prompt).__name__}) was passed.")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ArgumentError(f"`max_new_tokens` must be a positive integer, but {max_new_tokens!r} was passed.")
    encoded = tokenizer(prompt, return_tensors="pt")
    prompt_length = int(encoded["input_ids"].shape[1])
    if prompt_length == 0:
        raise AttentionInputError("The prompt has no tokens: pass some text (or a tokenizer that adds a start token).")
    check_input_ids(model, encoded["input_ids"], argument="prompt")
    device = input_device(model)
    generate_kwargs.setdefault("do_sample", False)
    pad = getattr(tokenizer, "pad_token_id", None)
    if pad is None:
        pad = getattr(tokenizer, "eos_token_id", None)
    if pad is not None:
        generate_kwargs.setdefault("pad_token_id", pad)
    with quiet_transformers(), eval_mode(model), torch.inference_mode():
        sequence = model.generate(**{key: value.to(device) for key, value in encoded.items()},
                                  max_new_tokens=max_new_tokens, **generate_kwargs)
    ids = sequence[:1].cpu() if hasattr(sequence, "cpu") else sequence.sequences[:1].cpu()
    data = capture(model, _TokenIds(tokenizer, ids), "", layers=layers, heads=heads, pool=pool)
    if not isinstance(data, AttentionData):  # one text in, one AttentionData out
        raise AttentionInputError(f"capture returned {type(data).__name__} for one generated sequence.")
    generated_start = prompt_length
    if data.token_blocks:
        generated_start = next(i for i, (start, stop) in enumerate(data.token_blocks) if stop > prompt_length)
    return dataclasses.replace(data, generated_start=generated_start)
