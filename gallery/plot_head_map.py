"""A map of the heads by how alike they attend
===========================================

Clark et al. (2019, section 6) for all-MiniLM-L6-v2 over the sentences and pairs of
gallery/corpus.jsonl: the Jensen-Shannon distance between every two heads' attention
distributions, averaged over every token of every input, embedded in the plane by
classical multidimensional scaling. Color is the layer; labels are layer-head.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import corpus_attention, publish

fig, ax = plt.subplots(figsize=(5.5, 4.2), layout="constrained")
attnfig.plot_head_map(list(corpus_attention()), ax=ax)
publish(fig, "head_map")
