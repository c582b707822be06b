"""The way into a model's attention: wrap its own attention function, then put it back.

transformers (4.48 and later) looks the attention function up at every call in
``AttentionInterface`` under ``config._attn_implementation`` ("sdpa", "eager", "flash_attention_2"...).
`intercepted_attention` puts a wrapper under that same name for the length of a ``with`` block:
the wrapper calls the model's own function with the arguments it received (so the model's
outputs do not change) and then hands the call (module, queries, keys, mask, scaling, extra
keyword arguments) to a callback. The mapping is as it was afterwards, even when the model raises, and
`config._attn_implementation` is never touched.
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from ..errors import AttentionInputError


@dataclass(frozen=True)
class AttentionCall:
    """One call of a model's attention function: what it needs to recompute the weights.

    `layer` is the number of the call within the forward pass (an ALBERT layer shares its
    module with the others, so the call order, not the module, names the layer).
    """

    layer: int
    module: Any
    query: Any  # [batch, heads, queries, head_dim], after rotary embeddings
    key: Any  # [batch, kv_heads, keys, head_dim]
    attention_mask: Any  # None, boolean (True = attend) or additive float
    scaling: float | None
    options: dict  # the remaining keyword arguments: sliding_window, softcap, is_causal...
    value: Any = None  # [batch, kv_heads, keys, head_dim], None where the family does not show it


def _model_eager_function(module) -> Callable:
    """The eager attention function of the file that defines `module` (each family has its own)."""
    function = getattr(sys.modules[type(module).__module__], "eager_attention_forward", None)
    if function is None:
        raise AttentionInputError(
            f"{type(module).__name__} has no `eager_attention_forward` in its modeling file: "
            "attnfig cannot wrap its attention."
        )
    return function


@contextlib.contextmanager
def intercepted_attention(model, on_call: Callable[[AttentionCall], None]) -> Iterator[list[int]]:
    """Within the block, every attention call of `model` also goes to `on_call`.

    Yields a one-item list holding the number of calls seen so far (checked by the caller:
    a model whose attention bypasses ``AttentionInterface`` makes no call).

    >>> # with intercepted_attention(model, calls.append): model(**inputs)
    """
    from transformers import AttentionInterface

    name = model.config._attn_implementation
    mapping = AttentionInterface._global_mapping
    had_entry = name in mapping
    previous = mapping.get(name)
    own_modules = {id(module) for module in model.modules()}
    count = [0]

    def wrapper(module, query, key, value, attention_mask, *args, **kwargs):
        original = previous if had_entry else _model_eager_function(module)
        result = original(module, query, key, value, attention_mask, *args, **kwargs)
        if id(module) in own_modules:
            options = dict(kwargs)  # every family passes scaling, window and softcap by keyword
            scaling = options.pop("scaling", None)
            on_call(AttentionCall(count[0], module, query, key, attention_mask, scaling, options, value))
            count[0] += 1
        return result

    undo = []
    try:
        undo += OWN_ATTENTION.get(getattr(model.config, "model_type", None), _no_patch)(model, on_call, count)
        mapping[name] = wrapper
        undo.append(lambda: mapping.__setitem__(name, previous) if had_entry else mapping.pop(name))
        yield count
    finally:
        for step in reversed(undo):
            step()


def _no_patch(model, on_call, count) -> list:
    return []


def _patch_gpt_neo(model, on_call, count) -> list:
    """GPT-Neo computes attention in its modules' own ``_attn``: wrap it per instance.

    Its causal (and, in "local" layers, sliding-window) bias is applied inside ``_attn``, apart
    from the mask it receives, and it does not scale q . k: the call says so. Returns the undo steps.
    """
    undo = []
    for module in model.modules():
        if type(module).__name__ != "GPTNeoSelfAttention":
            continue
        original = module._attn
        window = model.config.window_size if module.attention_type == "local" else None

        def wrapped(query, key, value, attention_mask=None, *, _module=module, _original=original, _window=window):
            result = _original(query, key, value, attention_mask)
            options = {"causal_bias": True, "sliding_window": _window}
            on_call(AttentionCall(count[0], _module, query, key, attention_mask, 1.0, options, value))
            count[0] += 1
            return result

        module._attn = wrapped
        undo.append(lambda module=module: module.__dict__.pop("_attn"))
    return undo


def _patch_falcon(model, on_call, count) -> list:
    """Falcon calls sdpa itself: read q and k after its rotary embedding, the mask from its call.

    ALiBi Falcons add a position bias that q . k does not show: they are refused.
    """
    if getattr(model.config, "alibi", False):
        raise AttentionInputError("Falcon models with ALiBi (`config.alibi=True`) add a position bias to q . k; "
                                  "attnfig cannot recompute it: use `attnfig.from_model`.")
    modeling = sys.modules[type(model).__module__]
    original_rotary = modeling.apply_rotary_pos_emb
    current = {}

    def rotary(query, key, *args, **kwargs):
        query, key = original_rotary(query, key, *args, **kwargs)
        current.update(query=query, key=key)
        return query, key

    def before(module, args, kwargs):
        current.clear()
        current["mask"] = kwargs.get("attention_mask", args[2] if len(args) > 2 else None)

    def after(module, args, kwargs, output):
        on_call(AttentionCall(count[0], module, current["query"], current["key"], current["mask"],
                              module.head_dim**-0.5, {"is_causal": module.is_causal}))
        count[0] += 1

    handles = []
    for module in model.modules():
        if type(module).__name__ == "FalconAttention":
            handles.append(module.register_forward_pre_hook(before, with_kwargs=True))
            handles.append(module.register_forward_hook(after, with_kwargs=True))
    modeling.apply_rotary_pos_emb = rotary
    return [handle.remove for handle in handles] + [lambda: setattr(modeling, "apply_rotary_pos_emb", original_rotary)]


# Families whose attention does not go through AttentionInterface, and how to reach it.
OWN_ATTENTION = {"gpt_neo": _patch_gpt_neo, "falcon": _patch_falcon}
