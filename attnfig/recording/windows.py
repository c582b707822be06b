"""Which keys each query of a model can see: the sliding window of each layer, from the config."""
from __future__ import annotations


def layer_windows(config, n_layers: int) -> tuple[int | None, ...]:
    """Sliding window of each layer (None: every earlier key), read from a transformers config.

    GPT-Neo names its layers in ``attention_layers`` ("local" ones see ``window_size`` keys);
    Gemma2, Qwen2 and newer configs list ``layer_types`` ("sliding_attention"); Mistral's
    ``sliding_window`` applies to every layer.

    >>> from types import SimpleNamespace as Config
    >>> layer_windows(Config(attention_layers=["global", "local"], window_size=256), 2)
    (None, 256)
    >>> layer_windows(Config(sliding_window=4096), 2)
    (4096, 4096)
    >>> layer_windows(Config(), 2)
    (None, None)
    """
    names = getattr(config, "attention_layers", None)
    if names is not None and getattr(config, "window_size", None):
        return _per_layer(names, "local", config.window_size, n_layers)
    window = getattr(config, "sliding_window", None)
    if not isinstance(window, int) or isinstance(window, bool) or window <= 0:
        return (None,) * n_layers
    types = getattr(config, "layer_types", None)
    if types is not None:
        return _per_layer(types, "sliding_attention", window, n_layers)
    if getattr(config, "use_sliding_window", True) is False:
        return (None,) * n_layers
    return (window,) * n_layers


def _per_layer(names, local_name: str, window: int, n_layers: int) -> tuple[int | None, ...]:
    if len(names) != n_layers:  # a config that does not describe these attentions
        return (None,) * n_layers
    return tuple(window if name == local_name else None for name in names)
