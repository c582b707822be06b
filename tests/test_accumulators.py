"""Each statistic's accumulator: the same result from a model's chunks, from whole maps, split and merged."""
from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

import attnfig
from attnfig.input.chunks import Chunk, whole_map_chunks
from attnfig.summaries.accumulators import summarize
from attnfig.summaries.head_map import HeadDistanceAccumulator

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from attnfig.testing import build_family_model  # noqa: E402

CORPUS = [("the rabbit quickly hopped .", "the turtle slowly crawled , then sat ."), "a cat , a dog .",
          "the quick brown fox jumped over the lazy dog"]
ACCUMULATORS = [attnfig.EntropyAccumulator, attnfig.SpecialTokenAccumulator, attnfig.PatternAccumulator]


@pytest.fixture(scope="module")
def bert():
    model, tokenizer = build_family_model("bert")
    maps = [attnfig.from_model(model, tokenizer, *item) if isinstance(item, tuple) else
            attnfig.from_model(model, tokenizer, item) for item in CORPUS]
    return model, tokenizer, maps


def assert_same(actual, expected):
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for name in expected:
            np.testing.assert_allclose(actual[name], expected[name], atol=1e-5, err_msg=name)
    elif np.asarray(expected).dtype.kind in "UO":
        np.testing.assert_array_equal(np.asarray(actual), np.asarray(expected))
    else:
        np.testing.assert_allclose(actual, expected, atol=1e-5)


@pytest.mark.parametrize("make", ACCUMULATORS)
def test_streamed_chunks_and_whole_maps_give_the_same_statistic(bert, make):
    model, tokenizer, maps = bert
    streamed = attnfig.stream_corpus(model, tokenizer, CORPUS, make(), rows_per_chunk=4)
    in_memory = summarize(make(), whole_map_chunks(maps))
    assert_same(streamed.per_input(), in_memory.per_input())
    assert_same(streamed.result(), in_memory.result())


@pytest.mark.parametrize("make", ACCUMULATORS)
def test_a_corpus_split_pickled_and_merged_gives_the_whole(bert, make):
    _, _, maps = bert
    chunks = list(whole_map_chunks(maps))
    first = summarize(make(), [c for c in chunks if c.input_index == 0])
    rest = summarize(make(), [c for c in chunks if c.input_index > 0])
    merged = first.merge(pickle.loads(pickle.dumps(rest)))
    assert merged.inputs() == [0, 1, 2]
    assert_same(merged.result(), summarize(make(), chunks).result())


def test_streamed_parts_of_a_corpus_keep_their_corpus_indices(bert):
    model, tokenizer, maps = bert
    first = attnfig.stream_corpus(model, tokenizer, CORPUS[:1], attnfig.EntropyAccumulator())
    rest = attnfig.stream_corpus(model, tokenizer, CORPUS[1:], attnfig.EntropyAccumulator(), first_index=1)
    merged = first.merge(rest)
    assert merged.inputs() == [0, 1, 2]
    assert_same(merged.per_input(), summarize(attnfig.EntropyAccumulator(), whole_map_chunks(maps)).per_input())


def test_heads_fed_apart_merge_into_the_grid(bert):
    """Chunks of some heads go to one accumulator, the rest to another (as a distributed engine may)."""
    model, tokenizer, maps = bert
    layers = model.config.num_hidden_layers
    chunks = list(whole_map_chunks(maps))
    split = [dataclasses.replace(c, rows=c.rows[:, :2], heads=c.heads[:2]) for c in chunks]
    other = [dataclasses.replace(c, rows=c.rows[:, 2:], heads=c.heads[2:]) for c in chunks]
    merged = summarize(attnfig.SpecialTokenAccumulator(), split).merge(summarize(attnfig.SpecialTokenAccumulator(), other))
    assert_same(merged.per_input(), summarize(attnfig.SpecialTokenAccumulator(), chunks).per_input())
    assert merged.per_input()["[CLS]"].shape == (len(CORPUS), layers, model.config.num_attention_heads)


def test_a_selection_streams_its_own_heads(bert):
    model, tokenizer, maps = bert
    streamed = attnfig.stream_corpus(model, tokenizer, CORPUS, attnfig.EntropyAccumulator(), layers=[1], heads=[3, 0])
    full = summarize(attnfig.EntropyAccumulator(), whole_map_chunks(maps)).per_input()
    np.testing.assert_allclose(streamed.per_input(), full[:, [1]][:, :, [3, 0]], atol=1e-5)


@pytest.mark.parametrize("make", ACCUMULATORS)
def test_torch_chunks_of_a_few_rows_equal_numpy_whole_maps(make):
    """One formula serves numpy and torch: torch chunks of 2 queries give the numpy maps' result."""
    rng = np.random.default_rng(0)
    weights = rng.dirichlet(np.ones(7), size=(2, 3, 7))
    tokens = ("[CLS]", "a", ",", "b", "[SEP]", "c", "[SEP]")
    data = attnfig.as_attention(weights, list(tokens), sentence_b_start=5)
    chunks = [Chunk(torch.from_numpy(weights[layer : layer + 1, :, start : start + 2]).float(), start, (layer,),
                    (0, 1, 2), (2, 3), 7, tokens, 5) for layer in range(2) for start in range(0, 7, 2)]
    assert_same(summarize(make(), chunks).per_input(), summarize(make(), whole_map_chunks([data])).per_input())


def test_special_token_sums_against_a_direct_computation():
    weights = np.random.default_rng(1).dirichlet(np.ones(4), size=(1, 1, 4))
    data = attnfig.as_attention(weights, ["[CLS]", "a", ".", "[SEP]"])
    chunks = [Chunk(weights[..., start : start + 1, :], start, (0,), (0,), (1, 1), 4, tuple(data.key_tokens))
              for start in range(4)]
    values = summarize(attnfig.SpecialTokenAccumulator(), chunks).result()
    w = weights[0, 0]
    assert values["punctuation"][0, 0] == pytest.approx(w[:, 2].mean())
    assert values["next"][0, 0] == pytest.approx(np.mean([w[i, i + 1] for i in range(3)]))
    assert values["previous"][0, 0] == pytest.approx(np.mean([w[i, i - 1] for i in range(1, 4)]))
    assert values["self"][0, 0] == pytest.approx(np.trace(w) / 4)
    assert values["first"][0, 0] == pytest.approx(w[:, 0].mean())  # the attention sink, chunk by chunk


@pytest.mark.parametrize("texts", [None, [], [3], [("a", "b", "c")], "".join])
def test_stream_corpus_names_texts_that_are_not_texts(bert, texts):
    model, tokenizer, _ = bert
    with pytest.raises(attnfig.AttentionInputError, match=r"`text` (must be a string or a non-empty list of strings|is an empty list)"):
        attnfig.stream_corpus(model, tokenizer, texts, attnfig.EntropyAccumulator())


def test_stream_corpus_names_an_accumulator_without_update(bert):
    model, tokenizer, _ = bert
    with pytest.raises(attnfig.ArgumentError, match=r"`accumulator` must have an `update\(chunk\)` method"):
        attnfig.stream_corpus(model, tokenizer, "a cat", np.zeros(3))


# --- head distances: heads of different layers paired on the same queries -------------------


class _WatchedHeadDistances(HeadDistanceAccumulator):
    """Records the most attention weights it ever held waiting for their block's other heads."""

    def __init__(self):
        super().__init__()
        self.most_held = 0

    def update(self, chunk):
        super().update(chunk)
        held = sum(rows.numel() for block in self.pending.values() for rows in block.values())
        self.most_held = max(self.most_held, held)


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_head_distances_stream_block_by_block_and_equal_the_maps(family):
    model, tokenizer = build_family_model(family)
    corpus = CORPUS if family == "bert" else CORPUS[1:]
    maps = [attnfig.from_model(model, tokenizer, *item) if isinstance(item, tuple) else
            attnfig.from_model(model, tokenizer, item) for item in corpus]
    expected = attnfig.head_distances(maps)
    np.testing.assert_allclose(attnfig.head_distances(corpus, model=model, tokenizer=tokenizer), expected,
                               rtol=1e-5, atol=1e-7)
    watched = attnfig.stream_corpus(model, tokenizer, corpus, _WatchedHeadDistances(), order="queries",
                                    rows_per_chunk=2)
    np.testing.assert_allclose(watched.result(), expected, rtol=1e-5, atol=1e-7)
    n_heads = model.config.num_hidden_layers * model.config.num_attention_heads
    longest = max(m.weights.shape[-1] for m in maps)
    assert not watched.pending
    assert 0 < watched.most_held <= n_heads * 2 * longest  # one block of 2 queries, never a whole map
    assert watched.most_held < n_heads * longest * longest / 2


def test_head_distances_of_a_corpus_split_and_merged_give_the_whole(bert):
    model, tokenizer, maps = bert
    first = attnfig.stream_corpus(model, tokenizer, CORPUS[:1], HeadDistanceAccumulator(), order="queries")
    rest = attnfig.stream_corpus(model, tokenizer, CORPUS[1:], HeadDistanceAccumulator(), order="queries",
                                 first_index=1)
    merged = first.merge(pickle.loads(pickle.dumps(rest)))
    np.testing.assert_allclose(merged.result(), attnfig.head_distances(maps), rtol=1e-5, atol=1e-7)
    # heads fed to different accumulators: their blocks complete when merged
    chunks = list(whole_map_chunks(maps))
    half = [dataclasses.replace(c, rows=c.rows[:, :2], heads=c.heads[:2]) for c in chunks]
    other = [dataclasses.replace(c, rows=c.rows[:, 2:], heads=c.heads[2:]) for c in chunks]
    merged = summarize(HeadDistanceAccumulator(), half).merge(summarize(HeadDistanceAccumulator(), other))
    np.testing.assert_allclose(merged.result(), attnfig.head_distances(maps), atol=1e-12)


def test_stream_corpus_names_an_unknown_order(bert):
    model, tokenizer, _ = bert
    with pytest.raises(attnfig.ArgumentError, match="`order` must be one of"):
        attnfig.stream_corpus(model, tokenizer, CORPUS, HeadDistanceAccumulator(), order="heads")
