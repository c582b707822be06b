"""as_attention: every accepted input form, and a precise error for every bad one."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import attnfig
from attnfig import AttentionInputError, as_attention

from conftest import random_attention

TOKENS = ["[CLS]", "the", "rabbit", "hopped", "[SEP]"]


def hf_tuple(layers=2, batch=1, heads=3, tokens=5, dtype=torch.float32):
    weights = torch.from_numpy(random_attention(layers, heads, tokens))
    return tuple(weights[i].unsqueeze(0).expand(batch, -1, -1, -1).to(dtype) for i in range(layers))


def test_hf_tuple_becomes_layers_heads_q_k_float32():
    data = as_attention(hf_tuple(layers=4, heads=6), TOKENS)
    assert data.weights.shape == (4, 6, 5, 5)
    assert data.weights.dtype == np.float32
    assert data.query_tokens == tuple(TOKENS) == data.key_tokens
    assert data.layer_indices == (0, 1, 2, 3) and data.head_indices == tuple(range(6))


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda w: w, (2, 3, 5, 5)),
        (lambda w: w[:, None], (2, 3, 5, 5)),  # [layers, batch, heads, q, k]
        (lambda w: w[0], (1, 3, 5, 5)),  # [heads, q, k]
        (lambda w: w[0, 0], (1, 1, 5, 5)),  # [q, k]
        (lambda w: list(w[:, None]), (2, 3, 5, 5)),  # list of [batch, heads, q, k]
        (lambda w: [layer for layer in w], (2, 3, 5, 5)),  # list of [heads, q, k]
        (lambda w: w.tolist(), (2, 3, 5, 5)),  # nested Python lists
    ],
)
def test_every_documented_layout_is_accepted(make, shape):
    data = as_attention(make(random_attention()), TOKENS)
    assert data.weights.shape == shape
    np.testing.assert_allclose(data.weights.sum(-1), 1, atol=1e-5)


def test_batch_picks_the_item():
    weights = np.stack([random_attention(seed=0), random_attention(seed=1)], axis=1)
    data = as_attention(weights, TOKENS, batch=1)
    np.testing.assert_array_equal(data.weights, random_attention(seed=1))


def test_model_output_with_attentions_attribute_is_unwrapped():
    class Output:
        attentions = hf_tuple()

    assert as_attention(Output(), TOKENS).weights.shape == (2, 3, 5, 5)


def test_attention_data_is_returned_as_is():
    data = as_attention(random_attention(), TOKENS)
    assert as_attention(data) is data


def test_without_tokens_positions_are_labelled_by_index():
    assert as_attention(random_attention()).tokens == ("0", "1", "2", "3", "4")


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16, torch.float64])
def test_low_and_high_precision_tensors(dtype):
    data = as_attention(hf_tuple(dtype=dtype), TOKENS)
    assert data.weights.dtype == np.float32
    np.testing.assert_allclose(data.weights, random_attention(), atol=1e-2)


def test_tensor_requiring_grad_is_detached():
    scores = torch.randn(1, 2, 5, 5, requires_grad=True)
    data = as_attention((scores.softmax(-1),), TOKENS)
    assert data.weights.shape == (1, 2, 5, 5)


def test_numpy_half_precision_uses_the_wider_tolerance():
    weights = random_attention().astype(np.float16)
    weights[..., 0] += np.float16(0.01)  # bf16/fp16 rounding can leave rows ~1e-2 off
    assert as_attention(weights).weights.dtype == np.float32
    with pytest.raises(AttentionInputError, match="tolerance 0.001"):
        as_attention(weights.astype(np.float32))


def test_cross_attention_keeps_query_and_key_tokens_apart():
    rng = np.random.default_rng(0)
    weights = rng.random((2, 3, 4, 6))
    weights /= weights.sum(-1, keepdims=True)
    data = as_attention(weights, list("abcd"), key_tokens=list("uvwxyz"))
    assert data.query_tokens == tuple("abcd") and data.key_tokens == tuple("uvwxyz")
    assert not data.is_self_attention and not data.is_causal


def test_causal_attention_is_detected():
    assert as_attention(random_attention(causal=True)).is_causal
    assert not as_attention(random_attention()).is_causal


def test_right_padding_is_dropped_with_the_mask():
    weights = random_attention(tokens=5)
    weights[..., 3:] = 0
    weights[..., :3] /= weights[..., :3].sum(-1, keepdims=True)
    mask = [[1, 1, 1, 0, 0]]
    data = as_attention(weights[:, None], ["[CLS]", "a", "[SEP]", "[PAD]", "[PAD]"], attention_mask=mask)
    assert data.weights.shape == (2, 3, 3, 3)
    assert data.tokens == ("[CLS]", "a", "[SEP]")


def test_padding_removed_on_a_real_batch_of_two(tiny_models):
    model, tokenizer = tiny_models["bert"]
    texts = ["the rabbit quickly hopped", "a cat"]
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        outputs = model(**encoded, output_attentions=True)
    short = as_attention(outputs.attentions, tokenizer.convert_ids_to_tokens(encoded["input_ids"][1]),
                         batch=1, attention_mask=encoded["attention_mask"])
    alone = attnfig.from_model(model, tokenizer, "a cat")
    assert "[PAD]" not in short.tokens
    assert short.tokens == alone.tokens == ("[CLS]", "a", "cat", "[SEP]")
    np.testing.assert_allclose(short.weights, alone.weights, atol=1e-5)
    listed = attnfig.from_model(model, tokenizer, texts)
    assert [len(item.tokens) for item in listed] == [len(listed[0].tokens), 4]


def test_left_padding_shifts_sentence_b_start():
    weights = random_attention(tokens=4)
    padded = np.zeros((2, 3, 6, 6), np.float32)
    padded[..., 2:, 2:] = weights
    padded[..., :2, 2:] = weights[..., :2, :]  # padded query rows: anything that sums to 1
    data = as_attention(padded, ["<pad>", "<pad>", "a", "b", "c", "d"],
                        attention_mask=[0, 0, 1, 1, 1, 1], sentence_b_start=4)
    assert data.tokens == ("a", "b", "c", "d") and data.sentence_b_start == 2


def test_from_model_on_gpt2_is_causal_and_prettifiable(tiny_models):
    model, tokenizer = tiny_models["gpt2"]
    data = attnfig.from_model(model, tokenizer, "the rabbit quickly hopped")
    assert data.is_causal
    assert data.weights.shape[:2] == (2, 4)
    assert data.prettified().tokens == ("the", "rabbit", "quickly", "hopped")


def test_from_model_on_bart_gives_encoder_decoder_and_cross(tiny_models):
    model, tokenizer = tiny_models["bart"]
    result = attnfig.from_model(model, tokenizer, "the rabbit quickly hopped", decoder_text="the cat sat")
    assert isinstance(result, attnfig.EncoderDecoderAttention)
    assert result.encoder.tokens[0] == "<s>" and not result.encoder.is_causal
    assert result.decoder.is_causal
    assert result.cross.query_tokens == result.decoder.tokens
    assert result.cross.key_tokens == result.encoder.tokens
    assert result.cross.weights.shape[2:] == (len(result.decoder.tokens), len(result.encoder.tokens))


@pytest.mark.parametrize("kind", ["bert", "gpt2"])
def test_from_model_switches_sdpa_to_eager_and_restores_it(tiny_models, kind):
    model, tokenizer = tiny_models[kind]
    model.set_attn_implementation("sdpa")
    try:
        plain = model(**tokenizer("a cat", return_tensors="pt"), output_attentions=True)
        assert len(plain.attentions) == 0  # the trap users fall into
        data = attnfig.from_model(model, tokenizer, "a cat")
        assert data.weights.shape[0] == 2
        assert model.config._attn_implementation == "sdpa"
    finally:
        model.set_attn_implementation("eager")


def test_sentence_pair_sets_sentence_b_start(tiny_models):
    model, tokenizer = tiny_models["bert"]
    data = attnfig.from_model(model, tokenizer, "the cat", "a dog")
    assert data.tokens[data.sentence_b_start - 1] == "[SEP]"
    assert data.tokens[data.sentence_b_start:] == ("a", "dog", "[SEP]")


# --- errors: each names the argument, what was expected, what was given ---------------------


@pytest.mark.parametrize(
    "attention, kwargs, message",
    [
        (np.ones(5) / 5, {}, r"\[layers, batch, heads, q, k\].*\[5\] \(1-D\)"),
        (np.ones((1, 1, 1, 1, 1, 1)), {}, r"6-D"),
        ((np.full((1, 2, 3, 3), 1 / 3), np.full((1, 2, 4, 4), 1 / 4)), {}, r"same shape.*layer 1: \[1, 2, 4, 4\]"),
        ((np.full((3, 3), 1 / 3),) * 2, {"tokens": list("ab")}, r"`tokens` has 2 entries but the attention has 3 query positions"),
        (np.full((1, 2, 2, 3, 3), 1 / 3), {"batch": 2}, r"`batch` must be an integer in \[0, 2\).*2 was passed"),
        (np.full((2, 2, 3, 3), 1 / 3), {"batch": 1}, r"no batch axis \(shape \[2, 2, 3, 3\]\)"),
        (np.full((3, 3), np.nan), {}, r"9 NaN value\(s\), first at layer 0, head 0, query 0, key 0"),
        (np.array([[np.inf, 0], [0.5, 0.5]]), {}, r"infinite value"),
        (np.array([[1.5, -0.5], [0.5, 0.5]]), {}, r"negative weight.*normalized=False"),
        (np.array([[0.9, 0.0], [0.5, 0.5]]), {}, r"rows must sum to 1.*query 0 sums to 0.9"),
        (np.full((3, 3), 1 / 3), {"sentence_b_start": 3}, r"`sentence_b_start` must be an integer in \[1, 2\]"),
        ((), {}, r"empty tuple.*eager"),
        ([], {}, r"empty list.*sdpa"),
        (np.array([["a", "b"], ["c", "d"]]), {}, r"real numbers.*<U1"),
        (np.full((3, 3), 1 / 3), {"attention_mask": [1, 1]}, r"`attention_mask` has length 2 but the attention has 3 key positions"),
        (np.full((3, 3), 1 / 3), {"attention_mask": [0, 0, 0]}, r"no real token"),
        (np.full((3, 3), 1 / 3), {"tokens": "abc"}, r"single string"),
        (np.zeros((0, 3)), {}, r"empty"),
        ([[1.0, 0.0], [1.0]], {}, r"different lengths"),
        (np.full((3, 3), 1 / 3) + 0j, {}, r"complex|real numbers"),
        (None, {}, r"is None"),
    ],
)
def test_bad_input_raises_a_precise_attention_input_error(attention, kwargs, message):
    with pytest.raises(AttentionInputError, match=message):
        as_attention(attention, **kwargs)


def test_error_is_a_value_error():
    assert issubclass(AttentionInputError, ValueError)


def test_raw_scores_pass_with_normalized_false():
    scores = np.array([[2.0, -np.inf], [-1.0, 3.0]])
    data = as_attention(scores, normalized=False)
    assert not data.normalized and np.isneginf(data.weights[0, 0, 0, 1])


def test_select_keeps_original_indices_and_rejects_missing_ones():
    data = as_attention(random_attention(layers=4, heads=6))
    subset = data.select(layers=[1, 3], heads=[0, 5])
    assert subset.layer_indices == (1, 3) and subset.head_indices == (0, 5)
    np.testing.assert_array_equal(subset.weights[1, 1], data.weights[3, 5])
    assert subset.layer_position(3) == 1
    with pytest.raises(AttentionInputError, match=r"`layer` 7 is not in the attention.*\[0, 1, 2, 3\]"):
        data.select(layers=[7])


# --- tokens ---------------------------------------------------------------------------------


def test_prettify_tokens_strips_word_start_marks_and_keeps_specials():
    raw = ["[CLS]", "hop", "##ped", "\u0120the", "\u2581cat", "\u010a", "\u0120dog</w>", "<|endoftext|>", "##"]
    assert attnfig.prettify_tokens(raw) == ["[CLS]", "hop", "##ped", "the", "cat", "\u21b5", "dog", "<|endoftext|>", "##"]


@pytest.mark.parametrize("raw", [
    ["[CLS]", "un", "##quest", "##ion", "##ably", "inc", "[SEP]"],  # WordPiece
    ["<s>", "\u0120un", "quest", "ion", "ably", "\u0120inc", "</s>"],  # byte-level BPE
    ["\u2581un", "quest", "ion", "ably", "\u2581inc", "</s>"],  # SentencePiece
])
def test_word_pieces_stay_distinguishable_from_words_for_every_tokenizer(raw):
    pretty = [t for t in attnfig.prettify_tokens(raw) if not t.startswith(("[", "<"))]
    assert pretty == ["un", "##quest", "##ion", "##ably", "inc"]


def test_merge_subwords_sums_keys_averages_queries():
    weights = random_attention(layers=1, heads=1, tokens=4)
    data = as_attention(weights, ["[CLS]", "hop", "##ped", "[SEP]"], merge_subwords=True)
    assert data.tokens == ("[CLS]", "hopped", "[SEP]")
    w = weights[0, 0]
    np.testing.assert_allclose(data.weights[0, 0, 0, 1], w[0, 1] + w[0, 2], rtol=1e-6)
    np.testing.assert_allclose(data.weights[0, 0, 1, 0], (w[1, 0] + w[2, 0]) / 2, rtol=1e-6)
    np.testing.assert_allclose(data.weights.sum(-1), 1, atol=1e-6)


def test_merge_subwords_on_bpe_respects_sentence_b():
    tokens = ["\u0120the", "\u0120rab", "bit", "\u0120the", "\u0120tur", "tle"]
    data = as_attention(random_attention(tokens=6), tokens, sentence_b_start=3, merge_subwords=True)
    assert data.tokens == ("the", "rabbit", "the", "turtle")
    assert data.sentence_b_start == 2


# --- the real model -------------------------------------------------------------------------


@pytest.mark.real_model
def test_real_minilm_on_the_seed_pair(seed_attention):
    data = seed_attention
    assert data.weights.shape == (6, 12, 11, 11)
    assert data.tokens == ("[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]",
                           "the", "turtle", "slowly", "crawled", "[SEP]")
    assert data.sentence_b_start == 6
    assert not data.is_causal
    np.testing.assert_allclose(data.weights.sum(-1), 1, atol=1e-4)


def test_batched_token_lists_follow_batch():
    weights = np.stack([random_attention(seed=0), random_attention(seed=1)], axis=1)
    tokens = [list("abcde"), list("vwxyz")]
    assert as_attention(weights, tokens, batch=1).tokens == tuple("vwxyz")


def test_mask_on_cross_attention_drops_padded_keys_only():
    rng = np.random.default_rng(0)
    weights = rng.random((1, 2, 3, 5))
    weights[..., 3:] = 0
    weights /= weights.sum(-1, keepdims=True)
    data = as_attention(weights, list("xyz"), key_tokens=list("abc") + ["<pad>", "<pad>"],
                        attention_mask=[1, 1, 1, 0, 0])
    assert data.weights.shape == (1, 2, 3, 3)
    assert data.query_tokens == tuple("xyz") and data.key_tokens == tuple("abc")
