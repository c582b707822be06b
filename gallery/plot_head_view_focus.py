"""One token's attention, across a sentence pair
=============================================

The static equivalent of hovering over a token in BertViz: `focus=2` keeps only the
lines of "rabbit" (layer 2, heads 0, 3 and 7), each at its head's weight, and, as
BertViz's hover boxes, puts one mark per head beside each key, its opacity that head's
weight, the columns of marks numbered by head (the key); `direction="a->b"` keeps the
block from sentence A to sentence B (head 3 alone, its strongest line opaque).
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import publish, seed_attention

attention = seed_attention()
fig, (left, right) = plt.subplots(1, 2, figsize=(6.4, 3.6), layout="constrained")
attnfig.lines(attention, layer=2, heads=[0, 3, 7], focus=2, ax=left)
left.set_title("Focus on \u201crabbit\u201d")
attnfig.lines(attention, layer=2, heads=[3], direction="a->b", ax=right)
right.set_title("Sentence A \u2192 sentence B")
publish(fig, "head_view_focus")
