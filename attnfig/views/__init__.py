"""Views: the bipartite line plot, BertViz's head and model views, heatmaps."""
