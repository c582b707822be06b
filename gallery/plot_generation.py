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
    """The two heatmaps above the head view of two heads, at `venue`'s width. The head view gets
    the height its tokens take (every one labelled at the style's tick size): head_view sizes a
    figure of its own so when the style's default height is smaller (and up to three times it)."""
    width, top_height = attnfig.figsize(venue, aspect=1.9)
    with plt.rc_context({"figure.figsize": (width, top_height / 2)}):
        view = attnfig.head_view(data, layer=1, heads=[0, 1])  # only to learn that height
    view_height = view.get_figheight()
    plt.close(view)
    fig = plt.figure(figsize=(width, top_height + view_height), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[top_height, view_height])
    left, right = top.subplots(1, 2)
    attnfig.heatmap(data, layer=1, head=0, ax=left)
    attnfig.heatmap(data, layer=1, head=0, ax=right, queries="generated")
    right.set_title("Generated queries")
    attnfig.head_view(data, layer=1, heads=[0, 1], figure=bottom)
    return fig


with attnfig.style("neurips"):
    publish(composite(data, "neurips"), "generation")
