"""attnfig: transformer attention as publication-quality matplotlib figures.

>>> import numpy as np, attnfig
>>> data = attnfig.as_attention(np.full((6, 12, 4, 4), 0.25), ["[CLS]", "a", "b", "[SEP]"])
>>> data.n_layers, data.n_heads
(6, 12)
"""
from .data import AttentionData, as_attention, merge_subword_tokens
from .lines import lines
from .errors import AttentionInputError, SaveError, StyleNotFoundError
from .models import EncoderDecoderAttention, from_model, load_model
from .tokens import prettify_tokens

__version__ = "0.1.0"

__all__ = [
    "AttentionData",
    "AttentionInputError",
    "EncoderDecoderAttention",
    "SaveError",
    "StyleNotFoundError",
    "as_attention",
    "from_model",
    "lines",
    "load_model",
    "merge_subword_tokens",
    "prettify_tokens",
]
