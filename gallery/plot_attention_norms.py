"""Norm-based attention beside the attention weights
=================================================

Kobayashi et al. (2020) weigh each key by the length of the vector it really sends,
``||alpha_ij (x_j W_V + b_V) W_O||``. For all-MiniLM-L6-v2 on the seed pair (layer 2,
head 0), captured with `attnfig.attention_norms` from the model as loaded: the weight on
[CLS] and [SEP] is large, but the vectors they send are short, so the norms shift the
credit to the words.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import PAIR, TEXT, model, publish, seed_attention

norms = attnfig.attention_norms(*model(), TEXT, PAIR, layers=[2], heads=[0])
fig, (left, right) = plt.subplots(1, 2, figsize=(7.5, 3.6), layout="constrained")
attnfig.heatmap(seed_attention(), layer=2, head=0, ax=left)
attnfig.heatmap(norms, layer=2, head=0, ax=right)
left.set_title("Attention weight, layer 2, head 0")
right.set_title("Norm ||\u03b1 f(x)||, layer 2, head 0")
publish(fig, "attention_norms")
