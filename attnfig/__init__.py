"""attnfig: transformer attention as publication-quality matplotlib figures.

>>> import numpy as np, attnfig
>>> data = attnfig.as_attention(np.full((6, 12, 4, 4), 0.25), ["[CLS]", "a", "b", "[SEP]"])
>>> data.n_layers, data.n_heads
(6, 12)
"""
from .input.data import AttentionData, as_attention, merge_subword_tokens
from .summaries.difference import attention_difference, difference_grid, plot_difference
from .summaries.entropy import EntropyAccumulator, head_entropy, plot_head_entropy, uniform_entropy
from .export.save import save
from .views.model_view import model_view
from .views.head_view import head_view
from .views.heatmap import heatmap
from .views.lines import lines
from .errors import (ArgumentError, AttentionInputError, ModelFolderError, SaveError, SkippedInputsWarning,
                     StyleNotFoundError)
from .recording.models import EncoderDecoderAttention, from_model, load_model
from .summaries.neuron import NeuronView, neuron_view, plot_neuron_view
from .summaries.patterns import (PatternAccumulator, classify_head, head_patterns, pattern_shares, plot_head_patterns,
                                 plot_pattern_shares)
from .summaries.flow import attention_flow
from .summaries.head_map import HeadDistanceAccumulator, head_distances, plot_head_map
from .summaries.rollout import attention_rollout, plot_rollout
from .summaries.image_attention import image_attention_grid, image_attention_map, plot_image_attention
from .summaries.special_tokens import SpecialTokenAccumulator, plot_special_token_attention, special_token_attention
from .themes import available_styles, figsize, style
from .options import get_option, layer_label, set_options
from .themes import register as _register_styles
from .input.tokens import prettify_tokens
from .recording.capture import capture
from .recording.generation import capture_generation
from .recording.norms import attention_norms
from .recording.streaming import stream_corpus
from .recording.engine import RayEngine

_register_styles()

from ._version import __version__  # noqa: E402, F401  (re-exported)

__all__ = [
    "EntropyAccumulator",
    "HeadDistanceAccumulator",
    "NeuronView",
    "PatternAccumulator",
    "SpecialTokenAccumulator",
    "attention_difference",
    "attention_flow",
    "attention_norms",
    "attention_rollout",
    "classify_head",
    "difference_grid",
    "head_distances",
    "head_entropy",
    "head_patterns",
    "image_attention_grid",
    "image_attention_map",
    "plot_image_attention",
    "neuron_view",
    "plot_difference",
    "plot_head_entropy",
    "plot_head_map",
    "plot_head_patterns",
    "pattern_shares",
    "plot_pattern_shares",
    "plot_neuron_view",
    "plot_rollout",
    "plot_special_token_attention",
    "special_token_attention",
    "uniform_entropy",
    "AttentionData",
    "ArgumentError",
    "AttentionInputError",
    "EncoderDecoderAttention",
    "ModelFolderError",
    "SaveError",
    "SkippedInputsWarning",
    "RayEngine",
    "StyleNotFoundError",
    "as_attention",
    "available_styles",
    "capture",
    "capture_generation",
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
    "get_option",
    "layer_label",
    "set_options",
    "stream_corpus",
]
