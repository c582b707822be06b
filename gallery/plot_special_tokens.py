"""Attention to special tokens by layer, over a corpus
===================================================

The figure of Clark et al. (2019, "What Does BERT Look At?") for all-MiniLM-L6-v2 over
the 36 sentences and pairs of gallery/corpus.jsonl: the mean attention each token pays to
[CLS], [SEP], punctuation, itself and its neighbours, per layer; the band spans the 25th to
75th percentile over heads. The second figure adds the share of attention on the first
token, the attention sink of Xiao et al. (2023); in a BERT-like model it is [CLS].
``special_token_attention(texts, model=model, tokenizer=tokenizer)["first"]`` gives the same
number streamed a chunk of queries at a time, at LLM lengths.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import corpus_attention, publish

corpus = list(corpus_attention())
fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
attnfig.plot_special_token_attention(corpus, ax=ax)
ax.set_xlabel(f"Layer (all-MiniLM-L6-v2, {len(corpus)} inputs)")
publish(fig, "special_tokens")

fig, ax = plt.subplots(figsize=(5.5, 3.4), layout="constrained")
attnfig.plot_special_token_attention(corpus, targets=["first", "[SEP]", "punctuation"], ax=ax)
ax.set_xlabel(f"Layer (all-MiniLM-L6-v2, {len(corpus)} inputs)")
ax.set_ylabel("Share of attention")
publish(fig, "attention_sinks")
