"""A paper's Figure 1: three panels in one figure
==============================================

Figure-level functions draw into a ``SubFigure`` (``figure=``) and axes-level ones into an
Axes (``ax=``), so (a) a head view, (b) a heatmap and (c) a head entropy map share one
two-column figure, one style and one PDF.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import corpus_attention, publish, seed_attention

attention = seed_attention()
with attnfig.style("neurips"):
    fig = plt.figure(figsize=attnfig.figsize("neurips", columns=2), layout="constrained")
    left, middle, right = fig.subfigures(1, 3, width_ratios=[1, 1.3, 1.3])
    attnfig.head_view(attention, layer=2, heads=[0, 1], figure=left)
    attnfig.heatmap(attention, layer=2, head=0, ax=middle.subplots())
    attnfig.plot_head_entropy(list(corpus_attention()), ax=right.subplots())
    for panel, letter in zip((left, middle, right), "abc"):
        panel.text(0.0, 1.0, f"({letter})", fontweight="bold", va="top", ha="left", transform=panel.transSubfigure)
publish(fig, "paper_figure")
