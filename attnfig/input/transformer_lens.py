"""TransformerLens caches: the ``blocks.{layer}.attn.hook_pattern`` entries of an ActivationCache.

``TransformerBridge.run_with_cache`` (TransformerLens 4) returns an ``ActivationCache``, a
mapping from hook names to tensors; each ``hook_pattern`` is ``[batch, heads, q, k]``, the
shape of transformers' ``output_attentions`` per layer. Nothing here imports transformer_lens.
"""
from __future__ import annotations

import re
from typing import Any

PATTERN_KEY = re.compile(r"^blocks\.(\d+)\.attn\.hook_pattern$")


def is_pattern_cache(value: Any) -> bool:
    """True for an ActivationCache (or a plain dict) holding attention patterns.

    >>> is_pattern_cache({"blocks.0.attn.hook_pattern": None}), is_pattern_cache({"a": 1})
    (True, False)
    """
    keys = getattr(value, "keys", None)
    if keys is None or isinstance(value, (tuple, list)) or type(value).__module__.startswith(("numpy", "torch")):
        return False
    return any(PATTERN_KEY.match(str(key)) for key in keys())


def cached_patterns(cache) -> tuple[list[Any], tuple[int, ...]]:
    """The cache's patterns in layer order, and the layer each one is.

    A cache filtered to some layers (``names_filter``) keeps their original indices.

    >>> import numpy as np
    >>> patterns, layers = cached_patterns({"blocks.3.attn.hook_pattern": np.ones((1, 2, 1, 1)),
    ...                                     "blocks.1.attn.hook_pattern": np.ones((1, 2, 1, 1))})
    >>> layers
    (1, 3)
    """
    found = {}
    for key in cache.keys():
        match = PATTERN_KEY.match(str(key))
        if match:
            found[int(match.group(1))] = cache[key]
    layers = tuple(sorted(found))
    return [found[layer] for layer in layers], layers
