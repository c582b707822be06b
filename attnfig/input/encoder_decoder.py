"""The attention of an encoder-decoder model, as `from_model` returns it and the views take it."""
from __future__ import annotations

from dataclasses import dataclass

from .data import AttentionData


@dataclass(frozen=True)
class EncoderDecoderAttention:
    """The three attention sets of an encoder-decoder model (BART, T5, Marian, Whisper...).

    ``cross`` has decoder tokens as queries and encoder tokens as keys. `head_view` and
    `model_view` take it as `attention` and draw one panel per set.

    >>> import numpy as np, attnfig
    >>> part = attnfig.as_attention(np.full((1, 2, 3, 3), 1 / 3))
    >>> result = EncoderDecoderAttention(encoder=part, decoder=part, cross=part)
    >>> len(attnfig.head_view(result).axes)
    3
    """

    encoder: AttentionData
    decoder: AttentionData
    cross: AttentionData
