"""Summaries of a corpus straight from `capture`'s chunks: no attention map is ever kept.

Each summary is a sum over queries, so it is accumulated chunk by chunk of rows while the
model runs; a corpus of long documents costs the memory of one chunk. Reached through the
summaries' ``model=`` and ``tokenizer=`` arguments (`attnfig.head_entropy(texts, model=m,
tokenizer=t)`), which give what the same functions give on `from_model`'s maps.
"""
from __future__ import annotations

import numpy as np

from .capture import Selection, check_family, stream_rows
from .inputs import check_corpus, encode_text
from .models import _model_inputs


def _run(model, tokenizer, texts, make_accumulator):
    """Run each input once; feed every chunk to a fresh accumulator; return their results."""
    check_family(model)
    corpus = check_corpus(texts)
    config = model.config
    selection = Selection(tuple(range(config.num_hidden_layers)), tuple(range(config.num_attention_heads)),
                          config.num_hidden_layers, config.num_attention_heads)
    results = []
    for text, pair in corpus:
        encoded, tokens, b_start = encode_text(model, tokenizer, text, pair)
        accumulator = make_accumulator(selection, tokens, b_start)
        stream_rows(model, _model_inputs(model, encoded), selection, accumulator.add)
        results.append(accumulator.result())
    return results


class _Entropy:
    def __init__(self, selection, tokens, b_start):
        self.sums = np.zeros((len(selection.layers), len(selection.heads)))
        self.n = len(tokens)

    def add(self, layer, head, start, rows):
        import torch

        p = rows.double()
        self.sums[layer, head] -= float(torch.where(p > 0, p * torch.log(p), 0.0).sum())

    def result(self):
        return self.sums / self.n


class _SpecialTokens:
    def __init__(self, selection, tokens, b_start):
        from ..summaries.special_tokens import CLS_TOKENS, SEP_TOKENS, TARGETS, is_punctuation

        self.n = len(tokens)
        self.key_masks = {
            "[CLS]": np.array([t in CLS_TOKENS for t in tokens]),
            "[SEP]": np.array([t in SEP_TOKENS for t in tokens]),
            "punctuation": np.array([is_punctuation(t) for t in tokens]),
        }
        self.sums = {name: np.zeros((len(selection.layers), len(selection.heads))) for name in TARGETS}

    def add(self, layer, head, start, rows):
        import torch

        for name, selected in self.key_masks.items():
            if selected.any():
                self.sums[name][layer, head] += float(rows[:, torch.from_numpy(selected)].sum())
        queries = torch.arange(start, start + rows.shape[0])
        for name, offset in (("self", 0), ("next", 1), ("previous", -1)):
            keys = queries + offset
            valid = (keys >= 0) & (keys < self.n)
            self.sums[name][layer, head] += float(rows[valid.nonzero()[:, 0], keys[valid]].sum())

    def result(self):
        counts = {name: (self.n if selected.any() else 0) for name, selected in self.key_masks.items()}
        counts.update({"self": self.n, "next": self.n - 1, "previous": self.n - 1})
        return {name: total / counts[name] if counts[name] else np.full(total.shape, np.nan)
                for name, total in self.sums.items()}


class _Patterns:
    def __init__(self, selection, tokens, b_start):
        shape = (len(selection.layers), len(selection.heads))
        self.n, self.b_start = len(tokens), b_start
        self.diagonal, self.block = np.zeros(shape), np.zeros(shape)
        self.key_sums = np.zeros(shape + (self.n,))

    def add(self, layer, head, start, rows):
        import torch

        queries = torch.arange(start, start + rows.shape[0])[:, None]
        keys = torch.arange(rows.shape[1])[None, :]
        self.diagonal[layer, head] += float(rows[(queries - keys).abs() <= 1].sum())
        self.key_sums[layer, head] += rows.double().sum(dim=0).cpu().numpy()
        if self.b_start is not None:
            self.block[layer, head] += float(rows[(queries >= self.b_start) == (keys >= self.b_start)].sum())

    def result(self):
        from ..summaries.patterns import label_for, scores_from_masses

        n, b_start = self.n, self.b_start
        return [[label_for(scores_from_masses(self.diagonal[l, h] / n, self.key_sums[l, h] / n,
                                              None if b_start is None else self.block[l, h] / n, n, b_start))
                 for h in range(self.diagonal.shape[1])] for l in range(self.diagonal.shape[0])]


def streamed_head_entropy(model, tokenizer, texts) -> list[np.ndarray]:
    """Mean row entropy (nats) of every head, ``[layers, heads]`` per input."""
    return _run(model, tokenizer, texts, _Entropy)


def streamed_special_token_attention(model, tokenizer, texts) -> dict[str, np.ndarray]:
    """``{target: array[inputs, layers, heads]}``, as `special_token_attention_per_input`."""
    per_input = _run(model, tokenizer, texts, _SpecialTokens)
    return {name: np.stack([values[name] for values in per_input]) for name in per_input[0]}


def streamed_pattern_labels(model, tokenizer, texts) -> list[list[list[str]]]:
    """The pattern type of every head, ``[layers][heads]`` per input."""
    return _run(model, tokenizer, texts, _Patterns)
