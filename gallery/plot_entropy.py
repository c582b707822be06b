"""Head entropy map over a corpus
==============================

The mean entropy (in nats) of every head's attention rows, layer by layer, averaged over
gallery/corpus.jsonl; the dashed line on the colorbar is the entropy uniform attention
would have over the same rows. Low values are focused heads, high values broad ones.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import corpus_attention, publish

fig, ax = plt.subplots(figsize=(5.5, 3.2), layout="constrained")
attnfig.plot_head_entropy(list(corpus_attention()), ax=ax, annot=True)
ax.set_title("Mean attention entropy per head")
publish(fig, "entropy")
