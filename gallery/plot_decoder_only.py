"""Causal attention of a decoder-only model
========================================

A tiny random GPT-2 (built from a config, nothing downloaded) on "the rabbit quickly
hopped": attnfig detects the causal mask, so the heatmap shows the upper triangle as
masked rather than as zeros, and the head view draws no line to a later token.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import TEXT, publish, tiny_model

attention = attnfig.from_model(*tiny_model("gpt2"), TEXT)
fig, (left, right) = plt.subplots(1, 2, figsize=(7, 3.4), layout="constrained")
attnfig.heatmap(attention, layer=1, head="mean", ax=left)
attnfig.lines(attention, layer=1, ax=right)
right.set_title("Layer 1, all heads")
publish(fig, "decoder_only")
