"""Head pattern types
==================

Kovaleva et al.'s pattern types (vertical, diagonal, vertical plus diagonal, block,
heterogeneous) for every head of all-MiniLM-L6-v2, from attnfig's rule-based classifier
voting over the sentence pairs of gallery/corpus.jsonl, shown on the seed pair's grid.
"""
import attnfig
from _seed import corpus_attention, publish, seed_attention

pairs = [data for data in corpus_attention() if data.sentence_b_start is not None]
fig = attnfig.plot_head_patterns([seed_attention()] + pairs)
publish(fig, "patterns")
