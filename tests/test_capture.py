"""`attnfig.capture` against eager output_attentions, on every supported family."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import attnfig
from attnfig.errors import AttentionInputError

from capture_models import FAMILIES, build

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
capture_module = sys.modules["attnfig.capture.capture"]
TEXT = "the quick brown fox jumped over the lazy dog and the cat sat on the mat"
CORE = ("bert", "gpt2", "llama", "mistral", "qwen2", "gemma")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return str(tmp_path_factory.mktemp("capture-tokenizers"))


@pytest.fixture(scope="module")
def llama(folder):
    return build("llama", folder)


def eager_weights(model, tokenizer, text=TEXT, **kwargs):
    return attnfig.from_model(model, tokenizer, text, **kwargs).weights


def interface_state(model):
    return dict(transformers.AttentionInterface._global_mapping), model.config._attn_implementation


@pytest.mark.parametrize("family", FAMILIES)
def test_capture_equals_eager_output_attentions(family, folder):
    model, tokenizer = build(family, folder)
    expected = eager_weights(model, tokenizer)
    data = attnfig.capture(model, tokenizer, TEXT)
    assert data.weights.shape == expected.shape
    np.testing.assert_allclose(data.weights, expected, atol=1e-5)
    assert data.is_causal == (family not in ("bert", "roberta", "distilbert", "albert"))
    assert expected.max() > 0.5  # far from uniform, so the comparison means something


@pytest.mark.parametrize("family", CORE)
def test_a_selection_keeps_its_original_indices(family, folder):
    model, tokenizer = build(family, folder)
    data = attnfig.capture(model, tokenizer, TEXT, layers=[1], heads=[2])
    assert (data.layer_indices, data.head_indices) == ((1,), (2,))
    np.testing.assert_allclose(data.weights[0, 0], eager_weights(model, tokenizer)[1, 2], atol=1e-5)


def test_sliding_window_shorter_than_the_input_is_respected(folder):
    model, tokenizer = build("mistral", folder)
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
        from attnfig.capture.interface import intercepted_attention

        with intercepted_attention(model, calls.append):
            during = model(**inputs).last_hidden_state
    assert torch.equal(before, during) and len(calls) == model.config.num_hidden_layers
    attnfig.capture(model, tokenizer, TEXT, heads=[0])
    assert interface_state(model) == state and state[1] == "sdpa"


def test_nothing_is_left_behind_when_the_model_raises(llama):
    model, tokenizer = llama
    state = interface_state(model)

    def fail(module, args):
        raise RuntimeError("boom")

    hook = model.layers[1].register_forward_pre_hook(fail)
    try:
        with pytest.raises(RuntimeError, match="boom"):
            attnfig.capture(model, tokenizer, TEXT)
    finally:
        hook.remove()
    assert interface_state(model) == state
    assert attnfig.capture(model, tokenizer, TEXT, layers=[0]).weights.shape[0] == 1


def test_small_chunks_give_the_same_maps(llama, monkeypatch):
    model, tokenizer = llama
    whole = attnfig.capture(model, tokenizer, TEXT, layers=[2])
    monkeypatch.setattr(capture_module, "CHUNK_ELEMENTS", 3 * whole.weights.shape[-1])  # 3 queries a chunk
    np.testing.assert_allclose(attnfig.capture(model, tokenizer, TEXT, layers=[2]).weights, whole.weights, atol=1e-6)


def test_pool_keeps_the_maximum_of_each_block(llama):
    model, tokenizer = llama
    exact = attnfig.capture(model, tokenizer, TEXT, layers=[0, 2])
    pooled = attnfig.capture(model, tokenizer, TEXT, layers=[0, 2], pool=4)
    n = exact.weights.shape[-1]
    size = -(-n // 4)
    assert pooled.weights.shape == (2, 4, 4, 4) and pooled.token_blocks[0] == (0, size)
    for row, (r0, r1) in enumerate(pooled.token_blocks):
        for col, (c0, c1) in enumerate(pooled.token_blocks):
            np.testing.assert_array_equal(pooled.weights[..., row, col], exact.weights[..., r0:r1, c0:c1].max(axis=(-1, -2)))
    assert not pooled.normalized and pooled.tokens[0].endswith(f"(0-{size - 1})")
    assert pooled.layer_indices == (0, 2)


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


def test_a_sentence_pair_keeps_sentence_b_start(folder):
    model, tokenizer = build("bert", folder)
    data = attnfig.capture(model, tokenizer, "the rabbit quickly hopped", "the turtle slowly crawled")
    assert data.sentence_b_start == attnfig.from_model(model, tokenizer, "the rabbit quickly hopped",
                                                       "the turtle slowly crawled").sentence_b_start


def test_unsupported_families_get_a_clear_error(tiny_models):
    model, tokenizer = tiny_models["bart"]
    with pytest.raises(AttentionInputError, match=r"supports the model families \[.*'llama'.*from_model"):
        attnfig.capture(model, tokenizer, TEXT)


@pytest.mark.parametrize("argument, value, message", [
    ("layers", [7], r"`layers` must be .* \[0, 3\)"),
    ("heads", "all", r"`heads` must be"),
    ("pool", 0, r"`pool` must be None .* positive integer"),
])
def test_bad_selections_are_rejected_before_running(llama, argument, value, message):
    model, tokenizer = llama
    with pytest.raises(AttentionInputError, match=message):
        attnfig.capture(model, tokenizer, TEXT, **{argument: value})
