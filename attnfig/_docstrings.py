"""Parameter texts shared by the views, so each argument is described once (seaborn's way)."""
from __future__ import annotations

PARAMETERS = {
    "attention": """attention : tuple, list, array, tensor or AttentionData
        What transformers returns with ``output_attentions=True`` (one ``[batch, heads, q, k]``
        tensor per layer), a stacked array or tensor, or `as_attention`'s result.""",
    "tokens": """tokens : list of str, optional
        One label per position; positions are numbered when omitted.""",
    "sentence_b_start": """sentence_b_start : int, optional
        Index of the first token of sentence B in a sentence pair (BertViz's argument).""",
    "layer": """layer : int, optional
        Original index of the layer to draw (negative counts from the end); the first layer
        the attention holds by default (layer 0, or the first of a selection).""",
    "heads": """heads : list of int, optional
        Original indices of the heads to draw; all by default.""",
    "include_layers": """include_layers, include_heads : list of int, optional
        Keep only these original layer / head indices (BertViz's arguments); labels keep
        the original numbers.""",
    "encoder_decoder": """encoder_attention, decoder_attention, cross_attention : optional
        The three attention sets of an encoder-decoder model, instead of `attention`;
        with `encoder_tokens` and `decoder_tokens`. Cross attention has decoder queries and
        encoder keys.""",
    "prettify_tokens": """prettify_tokens : bool
        Drop ``Ġ`` and ``▁`` word-start marks; pieces that continue a word show ``##``, for
        every tokenizer (`attnfig.prettify_tokens`).""",
    "display_mode": """display_mode : {"light", "dark", None}
        Apply the light or dark theme to this figure only; None follows the active style.""",
    "html_action": """html_action : {"view", "return"}
        BertViz's argument, accepted for compatibility: a static figure has one action,
        and both values return the Figure (save it with `attnfig.save`).""",
    "ax": """ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.""",
    "thinning": """min_weight, top_k : optional
        Draw only lines of at least this weight / each query's k strongest keys; by default
        lines too faint to change a pixel are skipped (see `attnfig.views.readability`).""",
    "palette": """palette : str or list of colors, optional
        Head colors; the style's color cycle by default.""",
    "colors": """cmap, vmin, vmax, robust : optional
        Colormap (the style's ``image.cmap`` by default) and color limits, as in seaborn.""",
}


def with_parameters(*names: str):
    """Append a Parameters section built from `PARAMETERS` to the function's docstring."""

    def decorate(function):
        section = "\n\n    Parameters\n    ----------\n" + "\n".join(
            "    " + PARAMETERS[name] for name in names
        )
        function.__doc__ = (function.__doc__ or "").rstrip() + section + "\n"
        return function

    return decorate
