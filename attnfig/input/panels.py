"""BertViz's argument conventions, resolved once for `head_view` and `model_view`.

Either `attention` with `tokens` (or the `EncoderDecoderAttention` that `from_model`
returns for an encoder-decoder model), or any of `encoder_attention`, `decoder_attention`,
`cross_attention` with `encoder_tokens` and `decoder_tokens`; `include_layers` and
`include_heads` keep original indices.
"""
from __future__ import annotations

from .data import AttentionData, as_attention
from .encoder_decoder import EncoderDecoderAttention
from ..errors import AttentionInputError


def resolve_panels(
    attention=None,
    tokens=None,
    sentence_b_start=None,
    *,
    encoder_attention=None,
    decoder_attention=None,
    cross_attention=None,
    encoder_tokens=None,
    decoder_tokens=None,
    include_layers=None,
    include_heads=None,
    prettify_tokens=True,
) -> list[tuple[str, AttentionData]]:
    """Return ``[(title, data), ...]``: one untitled panel, or Encoder, Decoder and Cross."""
    if isinstance(attention, EncoderDecoderAttention):  # what from_model returns for BART, T5...
        if encoder_attention is not None or decoder_attention is not None or cross_attention is not None:
            raise AttentionInputError(
                "`attention` is already an EncoderDecoderAttention (encoder, decoder and cross): "
                "do not pass `encoder_attention`/`decoder_attention`/`cross_attention` as well."
            )
        attention, encoder_attention, decoder_attention, cross_attention = (
            None, attention.encoder, attention.decoder, attention.cross)
    parts = {"Encoder": encoder_attention, "Decoder": decoder_attention, "Cross": cross_attention}
    given = {title: part for title, part in parts.items() if part is not None}
    if attention is not None and given:
        raise AttentionInputError(
            "Pass either `attention` or `encoder_attention`/`decoder_attention`/`cross_attention`, not both."
        )
    if attention is None and not given:
        raise AttentionInputError(
            "No attention was passed: give `attention` (an encoder or decoder-only model) or "
            "`encoder_attention`, `decoder_attention` and/or `cross_attention` (an encoder-decoder model)."
        )
    if attention is not None:
        panels = [("", as_attention(attention, tokens, sentence_b_start=sentence_b_start))]
    else:
        token_sets = {
            "Encoder": (encoder_tokens, None),
            "Decoder": (decoder_tokens, None),
            "Cross": (decoder_tokens, encoder_tokens),
        }
        panels = [
            (title, as_attention(part, token_sets[title][0], key_tokens=token_sets[title][1]))
            for title, part in given.items()
        ]
    if include_layers is not None or include_heads is not None:
        panels = [(title, data.select(layers=include_layers, heads=include_heads,
                                           arguments=("include_layers", "include_heads"))) for title, data in panels]
    if prettify_tokens:
        panels = [(title, data.prettified()) for title, data in panels]
    return panels
