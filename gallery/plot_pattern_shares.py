"""Pattern types by layer
======================

Kovaleva et al.'s per-layer chart: the share of each layer's heads of each pattern type
(vertical, diagonal, vertical plus diagonal, block, heterogeneous) for all-MiniLM-L6-v2 over
the sentence pairs of gallery/corpus.jsonl, layers numbered as in every other figure
(``attnfig.set_options(layer_base=1)`` numbers them from 1, as in the paper).
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import corpus_attention, publish

pairs = [data for data in corpus_attention() if data.sentence_b_start is not None]
with attnfig.style("acl"):
    fig, ax = plt.subplots(figsize=attnfig.figsize("acl"), layout="constrained")
    attnfig.plot_pattern_shares(pairs, ax=ax)
publish(fig, "pattern_shares")
