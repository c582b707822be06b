"""Layer x head grid of heatmaps
=============================

The same grid as the model view with `kind="heatmap"`: one shared color scale and one
colorbar, so heads can be compared at a glance (the vertical stripes are heads that
attend to [SEP] or [CLS]).
"""
import attnfig
from _seed import publish, seed_attention

fig = attnfig.model_view(seed_attention(), kind="heatmap")
publish(fig, "model_view_heatmap")
