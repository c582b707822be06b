"""Static model view: every layer and head
=======================================

BertViz's `model_view(attention, tokens, sentence_b_start)`: rows are the six layers of
all-MiniLM-L6-v2, columns its twelve heads, each thumbnail a bipartite plot colored per
layer with opacity equal to the weight.
"""
import attnfig
from _seed import publish, seed_attention

attention = seed_attention()
fig = attnfig.model_view(attention, attention.tokens, attention.sentence_b_start)
publish(fig, "model_view")
