"""BertViz's argument conventions, resolved once for `head_view` and `model_view`.

Either `attention` with `tokens` (or the `EncoderDecoderAttention` that `from_model`
returns for an encoder-decoder model), or any of `encoder_attention`, `decoder_attention`,
`cross_attention` with `encoder_tokens` and `decoder_tokens`; `include_layers` and
`include_heads` keep original indices.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from .data import AttentionData, as_attention
from .encoder_decoder import EncoderDecoderAttention
from ..errors import AttentionInputError


@dataclass(frozen=True)
class PanelArguments:
    """The BertViz arguments that choose what `head_view` and `model_view` draw, as one object."""

    attention: Any = None
    tokens: Any = None
    sentence_b_start: int | None = None
    encoder_attention: Any = None
    decoder_attention: Any = None
    cross_attention: Any = None
    encoder_tokens: Any = None
    decoder_tokens: Any = None
    include_layers: Any = None
    include_heads: Any = None
    prettify_tokens: bool = True

    @classmethod
    def pick(cls, arguments: Mapping[str, Any]) -> "PanelArguments":
        """The fields out of a view's arguments (its ``locals()``); the view takes every one by name."""
        return cls(**{field.name: arguments[field.name] for field in fields(cls)})


def resolve_panels(arguments: PanelArguments) -> list[tuple[str, AttentionData]]:
    """Return ``[(title, data), ...]``: one untitled panel, or Encoder, Decoder and Cross."""
    attention, encoder_attention, decoder_attention, cross_attention = (
        arguments.attention, arguments.encoder_attention, arguments.decoder_attention, arguments.cross_attention)
    if isinstance(attention, EncoderDecoderAttention):  # what from_model returns for BART, T5...
        if encoder_attention is not None or decoder_attention is not None or cross_attention is not None:
            raise AttentionInputError(
                "`attention` is already an EncoderDecoderAttention (encoder, decoder and cross): "
                "do not pass `encoder_attention`/`decoder_attention`/`cross_attention` as well."
            )
        encoder_attention, decoder_attention, cross_attention = (
            attention.encoder, attention.decoder, attention.cross)
        attention = None
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
        panels = [("", as_attention(attention, arguments.tokens, sentence_b_start=arguments.sentence_b_start))]
    else:
        token_sets = {
            "Encoder": (arguments.encoder_tokens, None),
            "Decoder": (arguments.decoder_tokens, None),
            "Cross": (arguments.decoder_tokens, arguments.encoder_tokens),
        }
        panels = [
            (title, as_attention(part, token_sets[title][0], key_tokens=token_sets[title][1]))
            for title, part in given.items()
        ]
    if arguments.include_layers is not None or arguments.include_heads is not None:
        panels = [(title, data.select(layers=arguments.include_layers, heads=arguments.include_heads,
                                           arguments=("include_layers", "include_heads"))) for title, data in panels]
    if arguments.prettify_tokens:
        panels = [(title, data.prettified()) for title, data in panels]
    return panels
