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
            on_call(AttentionCall(count[0], module, query, key, attention_mask, scaling, options))
            count[0] += 1
        return result

    mapping[name] = wrapper
    try:
        yield count
    finally:
        if had_entry:
            mapping[name] = previous
        else:
            del mapping[name]
