"""Encoder, decoder and cross attention of an encoder-decoder model
================================================================

A tiny random BART (built from a config) reads "the rabbit quickly hopped" and decodes
"The turtle slowly crawled". `head_view` with BertViz's `encoder_attention`,
`decoder_attention` and `cross_attention` gives one panel each; the cross panel has
decoder queries on the left and encoder keys on the right.
"""
import attnfig
from _seed import PAIR, TEXT, publish, tiny_model

result = attnfig.from_model(*tiny_model("bart"), TEXT, decoder_text=PAIR)
fig = attnfig.head_view(
    encoder_attention=result.encoder, decoder_attention=result.decoder, cross_attention=result.cross,
    encoder_tokens=result.encoder.tokens, decoder_tokens=result.decoder.tokens, layer=1,
)
publish(fig, "encoder_decoder")
