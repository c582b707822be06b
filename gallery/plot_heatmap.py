"""A single head as a heatmap
==========================

Layer 4, head 3 of all-MiniLM-L6-v2 on the seed pair, query tokens down, key tokens
across, each cell annotated with its weight.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import publish, seed_attention

fig, ax = plt.subplots(figsize=(5.2, 4.2), layout="constrained")
attnfig.heatmap(seed_attention(), layer=4, head=3, annot=True, fmt=".1f", ax=ax)
publish(fig, "heatmap")
