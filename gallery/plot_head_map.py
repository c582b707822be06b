"""A map of the heads by how alike they attend
===========================================

Clark et al. (2019, section 6) for all-MiniLM-L6-v2 over the sentences and pairs of
gallery/corpus.jsonl: the Jensen-Shannon distance between every two heads' attention
distributions, averaged over every token of every input, embedded in the plane by
classical multidimensional scaling. Color is the layer; labels are layer-head.
The corpus is streamed through the model (``model=``, ``tokenizer=``): each text's
attention is recomputed a block of queries at a time for every head, so a corpus of long
documents never holds a whole attention map.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import corpus_texts, model, publish

fig, ax = plt.subplots(figsize=(5.5, 4.2), layout="constrained")
minilm, tokenizer = model()
attnfig.plot_head_map(corpus_texts(), model=minilm, tokenizer=tokenizer, ax=ax)
publish(fig, "head_map")
