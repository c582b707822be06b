"""Attention rollout of the seed pair
==================================

Abnar and Zuidema's rollout for all-MiniLM-L6-v2 on the seed sentence pair: heads
averaged, the residual added as 0.5 A + 0.5 I, rows renormalised, layers multiplied
from the first up; as a heatmap and as a bipartite plot.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import publish, seed_attention

fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 3.6), layout="constrained")
attnfig.plot_rollout(seed_attention(), ax=left)
attnfig.plot_rollout(seed_attention(), kind="lines", ax=right)
publish(fig, "rollout")
