"""At one column of a paper, as drawn
==================================

The figures a paper takes most, each at its venue's column width and fonts
(`attnfig.figsize(venue)` under `attnfig.style(venue)`), with no manual fixing: layer 4,
head 3 as a heatmap at ACL's 3.03 in, every token labelled on both axes, query and key
named, the colorbar labelled; `focus=2` ("rabbit") at ICML's 3.25 in, one mark per head
beside each key at full strength, as BertViz's hover boxes (head 3's weight on "hopped"
reads off its red box); the head view at NeurIPS's 5.5 in, heads in their own colors.
README.md shows the first two beside attnfig 0.1's.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import publish, seed_attention

attention = seed_attention()
with attnfig.style("acl"):
    fig, ax = plt.subplots(figsize=attnfig.figsize("acl"), layout="constrained")
    attnfig.heatmap(attention, layer=4, head=3, ax=ax)
    publish(fig, "heatmap_acl", preview_dpi=150)

with attnfig.style("icml"):
    fig, ax = plt.subplots(figsize=attnfig.figsize("icml"), layout="constrained")
    attnfig.lines(attention, layer=2, heads=[0, 3, 7], focus=2, ax=ax)
    publish(fig, "focus_icml", preview_dpi=150)

with attnfig.style("neurips"):
    publish(attnfig.head_view(attention, layer=2), "head_view_neurips", preview_dpi=150)
