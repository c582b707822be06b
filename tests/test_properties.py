"""Property-based: whatever is thrown at as_attention, it returns valid data or raises
AttentionInputError, never anything else."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from attnfig import AttentionData, AttentionInputError, as_attention

DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.bool_, np.complex64])
TORCH_DTYPES = st.sampled_from([torch.bfloat16, torch.float16, torch.float32])


def check(attention, **kwargs):
    try:
        data = as_attention(attention, **kwargs)
    except AttentionInputError as err:
        assert str(err)
        return None
    assert isinstance(data, AttentionData)
    assert data.weights.ndim == 4 and data.weights.dtype == np.float32
    assert len(data.query_tokens) == data.weights.shape[2]
    assert len(data.key_tokens) == data.weights.shape[3]
    assert np.isfinite(data.weights).all()
    return data


@settings(max_examples=150, deadline=None)
@given(arrays(DTYPES, array_shapes(min_dims=0, max_dims=6, max_side=4),
              elements={"allow_nan": True, "allow_infinity": True}))
def test_arbitrary_arrays(array):
    check(array)


@settings(max_examples=100, deadline=None)
@given(array_shapes(min_dims=2, max_dims=5, max_side=5), TORCH_DTYPES, st.integers(-2, 3),
       st.one_of(st.none(), st.integers(-1, 6)))
def test_softmax_tensors_of_random_shape(shape, dtype, batch, sentence_b_start):
    scores = torch.randn(shape) * 3
    data = check(scores.softmax(-1).to(dtype), batch=batch, sentence_b_start=sentence_b_start)
    if data is not None:
        np.testing.assert_allclose(data.weights.sum(-1), 1, atol=2e-2)


@settings(max_examples=100, deadline=None)
@given(st.lists(arrays(np.float32, array_shapes(min_dims=1, max_dims=4, max_side=3),
                       elements=st.floats(-1, 2, width=32)), max_size=3),
       st.one_of(st.none(), st.lists(st.text(max_size=3), max_size=4)),
       st.one_of(st.none(), st.lists(st.integers(0, 1), max_size=4)))
def test_lists_of_layers_with_tokens_and_masks(layers, tokens, mask):
    check(layers, tokens=tokens, attention_mask=mask, normalized=bool(len(layers) % 2))


# --- every figure function: a figure (saved as PNG, PDF or SVG) or an attnfig error ------------

import tempfile  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402

import attnfig  # noqa: E402
from attnfig import SaveError  # noqa: E402

TOKEN_POOL = ["$", "\\", "%", "#", "&", "_", "$x^2$", "a$b$c", "$$", "\U0001F600", "\u05e9\u05dc\u05d5\u05dd",
              "\u0645\u0631\u062d\u0628\u0627", "\ud800", "", "x" * 500, "[CLS]", "[SEP]", "##ing", "\u0120the",
              "\u2581cat", ".", "rabbit"]
INDEX = st.integers(-4, 4)
SELECTION = st.one_of(st.none(), st.lists(st.integers(-3, 3), max_size=3))
MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF-", "svg": b"<?xml"}


@st.composite
def attention_inputs(draw):
    """Softmax attention of a random shape and dtype (sometimes raw, unnormalised values)."""
    layers, heads, n = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 5))
    keys = draw(st.sampled_from([n, n, n, n + 2]))  # sometimes cross-attention: more keys than queries
    scores = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal((layers, heads, n, keys)) * 3
    if keys == n and draw(st.booleans()):
        scores = np.where(np.triu(np.ones((n, n), bool), 1), -np.inf, scores)  # causal
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights = weights / weights.sum(-1, keepdims=True)
    if draw(st.integers(0, 9)) == 0:
        weights = weights * draw(st.sampled_from([-1.0, 2.0, np.nan]))
    weights = weights.astype(draw(st.sampled_from([np.float16, np.float32, np.float64])))
    weights = weights[draw(st.sampled_from([(), (), (0,), (0, 0)]))]  # [layers, heads, q, k], [heads, q, k] or [q, k]
    token_count = draw(st.sampled_from([n, n, n, n + 1]))
    tokens = draw(st.one_of(st.none(), st.lists(st.sampled_from(TOKEN_POOL), min_size=token_count,
                                                max_size=token_count)))
    return weights, tokens


def neuron_view_of(weights, tokens, draw):
    """A `NeuronView` with random query and key vectors, as many keys as `weights` has."""
    keys = weights.shape[-1]
    rng = np.random.default_rng(keys)
    query, key_vectors = rng.standard_normal(4), rng.standard_normal((keys, 4))
    scores = (query * key_vectors).sum(-1) / 2
    softmax = np.exp(scores - scores.max()) / np.exp(scores - scores.max()).sum()
    labels = tuple(tokens) if tokens is not None and len(tokens) == keys else tuple(map(str, range(keys)))
    return attnfig.NeuronView(query, key_vectors, query * key_vectors, scores, softmax, labels,
                              draw(st.integers(0, keys - 1)), 0, 0)


FIGURE_CALLS = {
    "plot_neuron_view": lambda w, t, d: attnfig.plot_neuron_view(neuron_view_of(w, t, d)),
    "lines": lambda w, t, d: attnfig.lines(w, t, layer=d(INDEX), heads=d(SELECTION), top_k=d(st.sampled_from([None, 1, 2])),
                                           focus=d(st.sampled_from([None, 0, 7]))),
    "head_view": lambda w, t, d: attnfig.head_view(w, t, layer=d(st.one_of(st.none(), INDEX)), heads=d(SELECTION),
                                                   include_layers=d(SELECTION), palette=d(st.sampled_from([None, [], ["red"]]))),
    "model_view": lambda w, t, d: attnfig.model_view(w, t, kind=d(st.sampled_from(["lines", "heatmap"])),
                                                     include_heads=d(SELECTION), include_layers=d(SELECTION),
                                                     vmin=d(st.sampled_from([None, 0.0, 0.9])), vmax=d(st.sampled_from([None, 0.5, "a"]))),
    "heatmap": lambda w, t, d: attnfig.heatmap(w, t, layer=d(INDEX), head=d(st.one_of(INDEX, st.just("mean"))),
                                               annot=d(st.booleans()), robust=d(st.booleans())),
    "plot_difference": lambda w, t, d: attnfig.plot_difference(w, w[::-1], t, layer=d(INDEX), head=d(INDEX),
                                                               vmax=d(st.sampled_from([None, 0, 0.5]))),
    "difference_grid": lambda w, t, d: attnfig.difference_grid(w, w[:, ::-1], t),
    "plot_head_entropy": lambda w, t, d: attnfig.plot_head_entropy(w, t, annot=d(st.booleans())),
    "plot_rollout": lambda w, t, d: attnfig.plot_rollout(w, t, start_layer=d(INDEX), kind=d(st.sampled_from(["heatmap", "lines"])),
                                                         residual=d(st.sampled_from([0.5, 0.0, 1.5, "x"]))),
    "plot_special_token_attention": lambda w, t, d: attnfig.plot_special_token_attention(
        w, t, spread=d(st.sampled_from(["heads", "corpus", None]))),
    "plot_head_patterns": lambda w, t, d: attnfig.plot_head_patterns(w, t),
}


@settings(max_examples=int(__import__("os").environ.get("N_EX", 60)), deadline=None)
@given(st.sampled_from(sorted(FIGURE_CALLS)), attention_inputs(), st.sampled_from(sorted(MAGIC)), st.data())
def test_every_figure_function_gives_a_figure_or_an_attnfig_error(name, attention, fmt, data):
    weights, tokens = attention
    try:
        result = FIGURE_CALLS[name](weights, tokens, data.draw)
    except AttentionInputError as err:  # ArgumentError included
        assert str(err)
        event(f"{name}: refused")
        return
    event(f"{name}: drawn")
    figure = result if isinstance(result, plt.Figure) else result.figure
    try:
        with tempfile.TemporaryDirectory() as folder:
            try:
                path = attnfig.save(figure, f"{folder}/figure.{fmt}")[0]
            except SaveError as err:
                assert "No file was written" in str(err)
                return
            assert path.read_bytes().startswith(MAGIC[fmt])
    finally:
        plt.close(figure)


# --- highlight=, focus= with span=: shown, or an attnfig error ---------------------------------------

POSITION = st.one_of(st.integers(-7, 7), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=2),
                     st.booleans(), st.none(), st.just([1]))
HIGHLIGHT = st.one_of(st.none(), st.integers(-7, 7), st.text(max_size=3), st.lists(POSITION, max_size=3),
                      st.just(np.array([[1]])), st.just(np.array([0, -1])))
SPAN = st.one_of(st.none(), st.tuples(st.integers(-1, 7), st.integers(-1, 8)), st.just("ab"), st.just((0.5, 2)))

FIGURE_CALLS.update({
    "lines with span": lambda w, t, d: attnfig.lines(w, t, highlight=d(HIGHLIGHT), span=d(SPAN), focus=d(POSITION),
                                                     heads=d(st.one_of(st.none(), st.integers(-2, 2), SELECTION))),
    "heatmap with span": lambda w, t, d: attnfig.heatmap(w, t, highlight=d(HIGHLIGHT), span=d(SPAN)),
    "head_view with span": lambda w, t, d: attnfig.head_view(w, t, highlight=d(HIGHLIGHT), span=d(SPAN), focus=d(POSITION)),
})


# --- pooled data: every summary refuses it -------------------------------------------------------------

import dataclasses  # noqa: E402

POOLED_SUMMARIES = {
    "head_entropy": attnfig.head_entropy, "uniform_entropy": attnfig.uniform_entropy,
    "special_token_attention": attnfig.special_token_attention, "head_patterns": attnfig.head_patterns,
    "attention_rollout": attnfig.attention_rollout, "attention_difference": lambda p: attnfig.attention_difference(p, p),
    "plot_head_entropy": attnfig.plot_head_entropy, "plot_special_token_attention": attnfig.plot_special_token_attention,
    "plot_head_patterns": attnfig.plot_head_patterns, "plot_rollout": attnfig.plot_rollout,
    "plot_difference": lambda p: attnfig.plot_difference(p, p), "difference_grid": lambda p: attnfig.difference_grid(p, p),
    "head_distances": attnfig.head_distances, "plot_head_map": attnfig.plot_head_map,
    "pattern_shares": attnfig.pattern_shares, "plot_pattern_shares": attnfig.plot_pattern_shares,
}


@settings(max_examples=int(__import__("os").environ.get("N_EX", 60)) // 3, deadline=None)
@given(st.sampled_from(sorted(POOLED_SUMMARIES)), attention_inputs(), st.integers(1, 3), st.booleans())
def test_every_summary_refuses_pooled_data(name, attention, block, as_list):
    weights, tokens = attention
    try:
        exact = as_attention(weights, tokens)
    except AttentionInputError:
        return
    n = exact.weights.shape[-1]
    if exact.weights.shape[2] != n:
        return
    spans = tuple((start, min(start + block, n)) for start in range(0, n, block))
    pooled_weights = np.array([[[[exact.weights[l, h, a:b, c:d].max() for c, d in spans] for a, b in spans]
                                for h in range(exact.n_heads)] for l in range(exact.n_layers)], dtype=np.float32)
    pooled = dataclasses.replace(exact, weights=pooled_weights, normalized=False, token_blocks=spans,
                                 query_tokens=exact.query_tokens[::block], key_tokens=exact.key_tokens[::block])
    try:
        with __import__("pytest").raises(AttentionInputError, match="pooled"):
            POOLED_SUMMARIES[name]([pooled] if as_list and not name.startswith(("attention_", "plot_rollout", "plot_diff", "difference")) else pooled)
    finally:
        plt.close("all")


# --- texts into capture: maps of the real tokens, or an attnfig error -----------------------------------

import functools  # noqa: E402


@functools.lru_cache(maxsize=None)
def tiny_gpt2():
    from attnfig.testing import build_family_model

    return build_family_model("gpt2")


WORDS = st.lists(st.sampled_from(["the", "cat", ",", "sat", "\u00fcn\u00efc\u00f6de", "\U0001F600", "  ", "\n"]),
                 min_size=1, max_size=6).map(" ".join)
BAD = st.one_of(st.just(""), st.just("word " * 80), st.binary(max_size=3), st.integers(), st.none(), st.floats())
TEXT = st.one_of(WORDS, WORDS, WORDS, st.text(max_size=12), BAD)
TEXTS = st.one_of(TEXT, st.lists(WORDS, max_size=3), st.lists(TEXT, max_size=2), st.tuples(WORDS, WORDS))


@settings(max_examples=int(__import__("os").environ.get("N_EX", 60)) // 4, deadline=None)
@given(TEXTS, st.sampled_from([None, 2]), st.booleans())
def test_texts_into_capture_give_maps_or_an_attnfig_error(texts, pool, summary):
    model, tokenizer = tiny_gpt2()
    try:
        if summary:
            entropy = attnfig.head_entropy(texts, model=model, tokenizer=tokenizer)
            assert entropy.shape == (2, 4) and np.isfinite(entropy).all()
            event("streamed")
            return
        result = attnfig.capture(model, tokenizer, texts, pool=pool, layers=[0])
    except AttentionInputError as err:
        assert str(err)
        event(f"refused: {str(err)[:50]}")
        return
    event("captured")
    for data in result if isinstance(result, list) else [result]:
        assert data.weights.shape[2] == len(data.tokens) and np.isfinite(data.weights).all()
        if pool is None:
            np.testing.assert_allclose(data.weights.sum(-1), 1, atol=1e-5)
