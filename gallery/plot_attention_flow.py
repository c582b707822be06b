"""Attention flow beside attention rollout, on the seed pair
=========================================================

Abnar and Zuidema's two measures for all-MiniLM-L6-v2 on the seed sentence pair: rollout
multiplies the residual-augmented, head-averaged layers; flow is the exact maximum flow from
each input token to each output position through the graph whose capacities are those same
matrices, each row divided by its sum as in the paper's code. Flow spreads the credit more
evenly over the tokens a position can draw on.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import publish, seed_attention

fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 3.6), layout="constrained")
attnfig.plot_rollout(seed_attention(), ax=left)
attnfig.plot_rollout(seed_attention(), method="flow", ax=right)
publish(fig, "attention_flow")
