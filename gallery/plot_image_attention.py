"""Attention over an image: a vision transformer's [CLS] attention on a photograph
===============================================================================

A tiny vision transformer (4 layers, 6 heads, 16-pixel patches on a 224-pixel input, built from
a config with its weights drawn at random: this is not a trained model, so the maps show the
mechanics, not what a trained ViT looks at) reads matplotlib's sample photograph of Grace
Hopper. `attnfig.from_model` keeps the image as the model saw it (resized to 224 x 224) and
its 14 x 14 grid of patches. Top: the last layer's heads, one panel each, as in DINO's figures
(`attnfig.image_attention_grid`). Bottom: the mean of the heads laid over the image, on the
heads' color scale and so read on their colorbar (`vmin`/`vmax`: a color is the same weight in
every one of these panels), and attention rollout through every layer with DINO's threshold
(the patches holding 60% of the mass stay visible, outlined; its title says so)
(`attnfig.plot_image_attention`). At a text column's width the heads go in two rows of three,
so each stays about an inch wide.
"""
import matplotlib.pyplot as plt
from matplotlib.cbook import get_sample_data
from PIL import Image

import attnfig
from _seed import publish


def random_vit():
    import torch
    import transformers as tf

    config = tf.ViTConfig(hidden_size=96, num_hidden_layers=4, num_attention_heads=6, intermediate_size=192,
                          image_size=224, patch_size=16)
    torch.manual_seed(0)
    model = tf.ViTModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.ndim >= 2:
                parameter.normal_(0.0, 0.08)
    processor = tf.ViTImageProcessorPil(size={"height": 224, "width": 224})
    return model, processor


model, processor = random_vit()
photo = Image.open(get_sample_data("grace_hopper.jpg")).convert("RGB")
attention = attnfig.from_model(model, processor, photo)


def composite(attention, venue):
    """The heads of the last layer above their mean and the rollout, sized for `venue`."""
    width = attnfig.figsize(venue)[0]
    ncols = 6 if width >= 5 else 3  # a head's panel about an inch wide, or wider
    rows = len(attention.head_indices) // ncols
    maps = [attnfig.image_attention_map(attention, layer=-1, head=head) for head in attention.head_indices]
    scale = {"vmin": min(m.min() for m in maps), "vmax": max(m.max() for m in maps)}  # heads' and mean's
    fig = plt.figure(figsize=attnfig.figsize(venue, aspect=1.25 if rows == 1 else 0.75), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[rows, 1.25])
    attnfig.image_attention_grid(attention, layer=-1, ncols=ncols, figure=top, **scale)
    left, right = bottom.subplots(1, 2)
    attnfig.plot_image_attention(attention, layer=-1, ax=left, **scale)  # one scale, one colorbar: the heads'
    attnfig.plot_image_attention(attention, rollout=True, mode="threshold", ax=right)
    return fig


with attnfig.style("neurips"):
    publish(composite(attention, "neurips"), "image_attention")
