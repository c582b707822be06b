"""The seed example in every attnfig style
=======================================

One figure per style (`plt.style.use("attnfig.<name>")`), the mean attention of layer 2
on the seed pair, and the four venue styles side by side at their true column widths.
"""
import io

import matplotlib.pyplot as plt

import attnfig
from _seed import publish, seed_attention

attention = seed_attention()


def seed_heatmap():
    fig, ax = plt.subplots(layout="constrained")
    attnfig.heatmap(attention, layer=2, head="mean", ax=ax)
    ax.set_title(f"attnfig.{name}")
    return fig


for name in attnfig.available_styles():
    if name == "usetex":  # needs a LaTeX installation
        continue
    with attnfig.style(name):
        publish(seed_heatmap(), f"style_{name}")

# Venue styles side by side, each rendered at its own column width and fonts.
venues = ["neurips", "iclr", "icml", "acl"]
panels = []
for name in venues:
    with attnfig.style(name):
        buffer = io.BytesIO()
        seed_heatmap().savefig(buffer, format="png", dpi=150)
        buffer.seek(0)
        panels.append(plt.imread(buffer))
height = max(p.shape[0] for p in panels)
fig, axes = plt.subplots(1, len(venues), figsize=(sum(p.shape[1] for p in panels) / 150, height / 150 + 0.3),
                         width_ratios=[p.shape[1] for p in panels], layout="constrained")
for ax, panel in zip(axes, panels):
    ax.imshow(panel)
    ax.set_anchor("N")
    ax.set_axis_off()
publish(fig, "venues_side_by_side")
