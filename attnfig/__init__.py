"""attnfig: transformer attention as publication-quality matplotlib figures.

>>> import numpy as np, attnfig
>>> data = attnfig.as_attention(np.full((6, 12, 4, 4), 0.25), ["[CLS]", "a", "b", "[SEP]"])
>>> data.n_layers, data.n_heads
(6, 12)
"""
from .data import AttentionData, as_attention, merge_subword_tokens
from .export import save
from .grid import model_view
from .head_view import head_view
from .heatmap import heatmap
from .lines import lines
from .errors import AttentionInputError, SaveError, StyleNotFoundError
from .models import EncoderDecoderAttention, from_model, load_model
from .themes import available_styles, figsize, style
from .themes import register as _register_styles
from .tokens import prettify_tokens

_register_styles()

__version__ = "0.1.0"

__all__ = [
    "AttentionData",
    "AttentionInputError",
    "EncoderDecoderAttention",
    "SaveError",
    "StyleNotFoundError",
    "as_attention",
    "available_styles",
    "figsize",
    "head_view",
    "heatmap",
    "model_view",
    "style",
    "from_model",
    "lines",
    "load_model",
    "merge_subword_tokens",
    "prettify_tokens",
    "save",
]
