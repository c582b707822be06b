"""`attnfig.capture` against eager output_attentions, on every supported family."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import attnfig
from attnfig.errors import AttentionInputError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from attnfig.testing import build_family_model  # noqa: E402

import attnfig.recording.capture as capture_module  # noqa: E402

TEXT = "the quick brown fox jumped over the lazy dog and the cat sat on the mat"
ENCODERS = ("bert", "roberta", "distilbert", "albert", "electra", "xlm-roberta")
FAMILIES = ENCODERS + ("gpt2", "gpt-neo", "gpt-neox", "falcon", "opt", "llama", "mistral", "qwen2", "gemma", "gemma2", "phi", "clip-text")
CORE = ("bert", "gpt2", "llama", "mistral", "qwen2", "gemma")


@pytest.fixture(scope="module")
def llama():
    return build_family_model("llama")


def eager_weights(model, tokenizer, text=TEXT, **kwargs):
    return attnfig.from_model(model, tokenizer, text, **kwargs).weights


def interface_state(model):
    return dict(transformers.AttentionInterface._global_mapping), model.config._attn_implementation


@pytest.mark.parametrize("family", FAMILIES)
def test_capture_equals_eager_output_attentions(family):
    model, tokenizer = build_family_model(family)
    expected = eager_weights(model, tokenizer)
    data = attnfig.capture(model, tokenizer, TEXT)
    assert data.weights.shape == expected.shape
    np.testing.assert_allclose(data.weights, expected, atol=1e-5)
    assert data.is_causal == (family not in ENCODERS)
    assert expected.max() > 0.5  # far from uniform, so the comparison means something
    assert not any("_attn" in vars(module) for module in model.modules())  # GPT-Neo's patch removed


@pytest.mark.parametrize("family", CORE)
def test_a_selection_keeps_its_original_indices(family):
    model, tokenizer = build_family_model(family)
    data = attnfig.capture(model, tokenizer, TEXT, layers=[1], heads=[2])
    assert (data.layer_indices, data.head_indices) == ((1,), (2,))
    np.testing.assert_allclose(data.weights[0, 0], eager_weights(model, tokenizer)[1, 2], atol=1e-5)


def test_sliding_window_shorter_than_the_input_is_respected():
    model, tokenizer = build_family_model("mistral")
    data = attnfig.capture(model, tokenizer, TEXT, layers=[0])
    n = data.weights.shape[-1]
    assert n > model.config.sliding_window
    far = np.tril(np.ones((n, n), bool), -model.config.sliding_window)
    assert np.all(data.weights[..., far] == 0)


def test_outputs_are_bit_identical_and_sdpa_stays_sdpa(llama):
    model, tokenizer = llama
    inputs = tokenizer(TEXT, return_tensors="pt")
    state = interface_state(model)
    with torch.inference_mode():
        before = model(**inputs).last_hidden_state
        calls = []
        from attnfig.recording.interface import intercepted_attention

        with intercepted_attention(model, calls.append):
            during = model(**inputs).last_hidden_state
    assert torch.equal(before, during) and len(calls) == model.config.num_hidden_layers
    attnfig.capture(model, tokenizer, TEXT, heads=[0])
    assert interface_state(model) == state and state[1] == "sdpa"


def full_state(model):
    modeling = sys.modules[type(model).__module__]
    hooks = sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())
    patched = [m for m in model.modules() if "_attn" in vars(m)]
    return interface_state(model), hooks, patched, getattr(modeling, "apply_rotary_pos_emb", None)


@pytest.mark.parametrize("family", ["llama", "gpt-neo", "falcon"])
def test_nothing_is_left_behind_when_the_model_raises(family):
    model, tokenizer = build_family_model(family)
    state = full_state(model)

    def fail(module, args):
        raise RuntimeError("boom")

    last_norm = getattr(model, "norm", None) or model.ln_f  # runs after every attention call
    hook = last_norm.register_forward_pre_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            attnfig.capture(model, tokenizer, TEXT)
    finally:
        hook.remove()
    assert full_state(model) == state
    assert attnfig.capture(model, tokenizer, TEXT, layers=[0]).weights.shape[0] == 1
    assert full_state(model) == state


def test_small_chunks_give_the_same_maps(llama, monkeypatch):
    model, tokenizer = llama
    whole = attnfig.capture(model, tokenizer, TEXT, layers=[1])
    monkeypatch.setattr(capture_module, "CHUNK_ELEMENTS", 3 * whole.weights.shape[-1])  # 3 queries a chunk
    np.testing.assert_allclose(attnfig.capture(model, tokenizer, TEXT, layers=[1]).weights, whole.weights, atol=1e-6)


def test_pool_keeps_the_maximum_of_each_block(llama):
    model, tokenizer = llama
    exact = attnfig.capture(model, tokenizer, TEXT, layers=[0, 1])
    pooled = attnfig.capture(model, tokenizer, TEXT, layers=[0, 1], pool=4)
    n = exact.weights.shape[-1]
    size = -(-n // 4)
    assert pooled.weights.shape == (2, 4, 4, 4) and pooled.token_blocks[0] == (0, size)
    for row, (r0, r1) in enumerate(pooled.token_blocks):
        for col, (c0, c1) in enumerate(pooled.token_blocks):
            np.testing.assert_array_equal(pooled.weights[..., row, col], exact.weights[..., r0:r1, c0:c1].max(axis=(-1, -2)))
    assert not pooled.normalized and pooled.tokens[0].endswith(f"(0-{size - 1})")
    assert pooled.layer_indices == (0, 1)


def test_pooled_data_draws_through_a_view(llama):
    model, tokenizer = llama
    pooled = attnfig.capture(model, tokenizer, TEXT * 3, layers=[1], heads=[0], pool=8)
    ax = attnfig.heatmap(pooled, layer=1, head=0)
    assert ax.images[0].get_array().shape == (8, 8)
    assert [t.get_text() for t in ax.get_yticklabels()][0] == pooled.tokens[0]


def test_a_list_of_texts_gives_a_list(llama):
    model, tokenizer = llama
    results = attnfig.capture(model, tokenizer, [TEXT, "the cat sat"], heads=[1])
    assert [r.weights.shape[-1] for r in results] == [len(tokenizer(TEXT)["input_ids"]), len(tokenizer("the cat sat")["input_ids"])]
    np.testing.assert_allclose(results[1].weights, eager_weights(model, tokenizer, "the cat sat")[:, [1]], atol=1e-5)


def test_a_sentence_pair_keeps_sentence_b_start():
    model, tokenizer = build_family_model("bert")
    data = attnfig.capture(model, tokenizer, "the rabbit quickly hopped", "the turtle slowly crawled")
    assert data.sentence_b_start == attnfig.from_model(model, tokenizer, "the rabbit quickly hopped",
                                                       "the turtle slowly crawled").sentence_b_start


def test_unsupported_families_get_a_clear_error(tiny_models):
    model, tokenizer = tiny_models["bart"]
    with pytest.raises(AttentionInputError, match=r"supports the model families \[.*'llama'.*from_model"):
        attnfig.capture(model, tokenizer, TEXT)


@pytest.mark.parametrize("argument, value, message", [
    ("layers", [7], r"`layers` must be .* \[0, 2\)"),
    ("heads", "all", r"`heads` must be"),
    ("pool", 0, r"`pool` must be None .* positive integer"),
])
def test_bad_selections_are_rejected_before_running(llama, argument, value, message):
    model, tokenizer = llama
    with pytest.raises(AttentionInputError, match=message):
        attnfig.capture(model, tokenizer, TEXT, **{argument: value})


# --- neuron_view on the same mechanism ------------------------------------------------------------

NEURON_FAMILIES = ("distilbert", "albert", "gpt-neo", "falcon", "llama", "mistral", "qwen2", "gemma", "gemma2", "phi", "gpt-neox", "opt",
                   "clip-text")


@pytest.mark.parametrize("family", NEURON_FAMILIES)
def test_neuron_view_matches_the_models_attention_row(family):
    model, tokenizer = build_family_model(family)
    eager = eager_weights(model, tokenizer)
    query = 9
    for layer in (0, 1):  # ALBERT shares one module: each layer must still be its own
        view = attnfig.neuron_view(model, tokenizer, TEXT, layer=layer, head=3, query=query)
        np.testing.assert_allclose(view.weights, eager[layer, 3, query], atol=1e-5)
        visible = np.isfinite(view.scores)
        raw = view.products.sum(-1)[visible] * view.scaling
        softcap = getattr(model.config, "attn_logit_softcapping", None)
        expected = np.tanh(raw / softcap) * softcap if softcap else raw
        np.testing.assert_allclose(view.scores[visible], expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(attnfig.neuron_view(model, tokenizer, TEXT, layer=0, head=3, query=query).weights,
                           view.weights)
    if family in ("llama", "mistral", "qwen2", "gemma", "gemma2"):
        assert view.key_value_head == 3 // (model.config.num_attention_heads // model.config.num_key_value_heads)
        titles = [ax.get_title() for ax in attnfig.plot_neuron_view(view).axes]
        assert f"Keys k (kv head {view.key_value_head})" in titles


def test_neuron_view_names_the_missing_score_term():
    model, tokenizer = build_family_model("bloom")
    with pytest.raises(AttentionInputError, match="ALiBi"):
        attnfig.neuron_view(model, tokenizer, TEXT)


# --- summaries streamed from the chunks ------------------------------------------------------------

CORPUS = [("the rabbit quickly hopped .", "the turtle slowly crawled , then sat ."), TEXT, "a cat , a dog ."]


@pytest.mark.parametrize("family", ["bert", "llama"])
def test_streamed_summaries_equal_the_summaries_of_the_maps(family, monkeypatch):
    # Random weights: BERT's seed 11 gives a head of another pattern type than "heterogeneous".
    model, tokenizer = build_family_model(family, seed=11 if family == "bert" else 0)
    maps = [attnfig.from_model(model, tokenizer, *item) if isinstance(item, tuple) else
            attnfig.from_model(model, tokenizer, item) for item in CORPUS]
    monkeypatch.setattr(capture_module, "CHUNK_ELEMENTS", 40)  # a few queries per chunk
    streamed = {"model": model, "tokenizer": tokenizer}
    np.testing.assert_allclose(attnfig.head_entropy(CORPUS, **streamed), attnfig.head_entropy(maps), atol=1e-5)
    expected = attnfig.special_token_attention(maps)
    for target, values in attnfig.special_token_attention(CORPUS, **streamed).items():
        np.testing.assert_allclose(values, expected[target], atol=1e-5, err_msg=target)
    assert np.isfinite(expected["[SEP]" if family == "bert" else "punctuation"]).all()
    sinks = np.mean([data.weights[..., 0].mean(-1) for data in maps], axis=0)  # first key's column
    np.testing.assert_allclose(attnfig.special_token_attention(CORPUS, **streamed)["first"], sinks, atol=1e-5)
    labels = attnfig.head_patterns(CORPUS, **streamed)
    np.testing.assert_array_equal(labels, attnfig.head_patterns(maps))
    assert len(set(labels.ravel())) > 1


def test_a_list_of_texts_needs_a_list_of_pairs(llama):
    model, tokenizer = llama
    with pytest.raises(AttentionInputError, match=r"`text_pair` must be None or a list of as many texts"):
        attnfig.capture(model, tokenizer, [TEXT, TEXT], "the cat")


def test_bfloat16_models_are_captured_in_float32(llama):
    model, tokenizer = llama
    expected = eager_weights(model, tokenizer)
    try:
        model.to(torch.bfloat16)
        data = attnfig.capture(model, tokenizer, TEXT)
    finally:
        model.to(torch.float32)
    assert data.weights.dtype == np.float32
    np.testing.assert_allclose(data.weights.sum(-1), 1.0, atol=1e-5)  # float32 softmax of bf16 q and k
    np.testing.assert_allclose(data.weights, expected, atol=0.1)  # bf16 hidden states drift a little
