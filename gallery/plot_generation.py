"""Attention while a model generates: generated tokens back to their prompt
==========================================================================

`attnfig.capture_generation` runs ``model.generate`` on a prompt as the model was loaded
(sdpa, key-value cache), then captures the chosen heads over prompt and generated tokens in
one pass; with causal attention each row is the one the model computed when it generated that
token. The model is a tiny random Llama with its language-modelling head (2 layers, 4 heads,
built from a config with weights drawn at random: it generates nonsense, and the figure shows
the mechanics). Left: layer 1, head 0 over the whole sequence, a dashed line where generation
starts. Right: only the generated tokens as queries (``queries="generated"``). Below: the head
view of two heads, prompt and generated tokens marked P and G beside both columns.
"""
import matplotlib.pyplot as plt

import attnfig
from attnfig.testing import build_generation_model
from _seed import publish

model, tokenizer = build_generation_model("llama")
data = attnfig.capture_generation(model, tokenizer, "the quick brown fox jumped over", max_new_tokens=6)


def composite(data, venue):
    """The whole map and the generated rows above the head view, sized for `venue`."""
    fig = plt.figure(figsize=attnfig.figsize(venue, aspect=1.0), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1, 1.1])
    left, right = top.subplots(1, 2)
    attnfig.heatmap(data, layer=1, head=0, ax=left)
    attnfig.heatmap(data, layer=1, head=0, ax=right, queries="generated")
    right.set_title("generated queries")
    attnfig.head_view(data, layer=1, heads=[0, 1], figure=bottom)
    return fig


with attnfig.style("neurips"):
    publish(composite(data, "neurips"), "generation")
