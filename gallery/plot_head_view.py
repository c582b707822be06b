"""Static head view of the seed sentence pair
==========================================

BertViz's `head_view(attention, tokens)` as a figure: layer 2 of all-MiniLM-L6-v2 on
"the rabbit quickly hopped" / "The turtle slowly crawled", the twelve heads overlaid in
the palette's colors, each line's opacity its weight divided by the number of heads.
"""
import attnfig
from _seed import publish, seed_attention

attention = seed_attention()
fig = attnfig.head_view(attention, attention.tokens, attention.sentence_b_start, layer=2)
publish(fig, "head_view")
