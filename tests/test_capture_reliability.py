"""`capture` and the streamed summaries under stress: train mode, threads, bad texts, padding, windows."""
from __future__ import annotations

import threading

import numpy as np
import pytest

import attnfig
from attnfig.errors import AttentionInputError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
from attnfig.testing import build_family_model  # noqa: E402

TEXT = "the quick brown fox jumped over the lazy dog and the cat sat on the mat"


@pytest.fixture(scope="module")
def llama():
    return build_family_model("llama")


@pytest.fixture(scope="module")
def gpt2():
    return build_family_model("gpt2")


def mapping():
    return dict(transformers.AttentionInterface._global_mapping)


# --- eval mode -------------------------------------------------------------------------------------


def test_capture_in_train_mode_runs_without_dropout_and_restores_the_modes(llama):
    model, tokenizer = llama
    expected = attnfig.from_model(model, tokenizer, TEXT).weights
    model.train()
    model.layers[1].eval()  # a mixed state comes back as it was (layer 0's dropout would move layer 1's keys)
    try:
        first = attnfig.capture(model, tokenizer, TEXT)
        second = attnfig.capture(model, tokenizer, TEXT)
        streamed = attnfig.head_entropy(TEXT, model=model, tokenizer=tokenizer)
        assert model.training and model.layers[0].training and not model.layers[1].training
    finally:
        model.eval()
    np.testing.assert_array_equal(first.weights, second.weights)
    np.testing.assert_allclose(first.weights, expected, atol=1e-5)
    np.testing.assert_allclose(streamed, attnfig.head_entropy(attnfig.from_model(model, tokenizer, TEXT)), atol=1e-5)


# --- sliding windows ---------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["mistral", "gemma2", "gpt-neo"])
def test_capture_keeps_the_layer_windows_of_from_model(family):
    model, tokenizer = build_family_model(family)
    exact = attnfig.from_model(model, tokenizer, TEXT)
    captured = attnfig.capture(model, tokenizer, TEXT)
    assert captured.layer_windows == exact.layer_windows and any(w is not None for w in exact.layer_windows)
    assert attnfig.uniform_entropy(captured) == pytest.approx(attnfig.uniform_entropy(exact))
    assert attnfig.capture(model, tokenizer, TEXT, layers=[1]).layer_windows == exact.layer_windows[1:]


# --- texts -------------------------------------------------------------------------------------------


def test_a_tuple_of_texts_is_a_corpus_not_a_pair(llama):
    model, tokenizer = llama
    texts = ("doc one is here", "doc two")
    as_tuple = attnfig.head_entropy(texts, model=model, tokenizer=tokenizer)
    np.testing.assert_allclose(as_tuple, attnfig.head_entropy(list(texts), model=model, tokenizer=tokenizer))
    maps = [attnfig.from_model(model, tokenizer, text) for text in texts]
    np.testing.assert_allclose(as_tuple, attnfig.head_entropy(maps), atol=1e-5)


def test_pairs_are_explicit_two_tuples_in_a_list():
    model, tokenizer = build_family_model("bert")
    pair = ("the rabbit hopped .", "the turtle crawled .")
    expected = attnfig.head_patterns(attnfig.from_model(model, tokenizer, *pair))
    np.testing.assert_array_equal(attnfig.head_patterns([pair], model=model, tokenizer=tokenizer), expected)


@pytest.mark.parametrize("text, message", [
    ([], r"empty list: pass at least one text"),
    ((), r"empty tuple"),
    (None, r"must be a string or a non-empty list of strings.*None \(NoneType\)"),
    (5, r"5 \(int\)"),
    (b"x", r"b'x' \(bytes\)"),
    (["a", 5], r"item 1 is 5 \(int\)"),
    ([("a", "b", "c")], r"item 0 is \('a', 'b', 'c'\)"),
])
def test_bad_texts_are_refused_by_capture_and_streaming(llama, text, message):
    model, tokenizer = llama
    state = mapping()
    with pytest.raises(AttentionInputError, match=message):
        attnfig.head_entropy(text, model=model, tokenizer=tokenizer)
    with pytest.raises(AttentionInputError, match=message.replace("(text, pair)", "")):
        attnfig.capture(model, tokenizer, text)
    with pytest.raises(AttentionInputError, match=message.replace("(text, pair)", "")):
        attnfig.attention_norms(model, tokenizer, text)  # captured the same way, checked the same way
    with pytest.raises(AttentionInputError, match=r"`text` (must be a string|is an empty)"):
        attnfig.from_model(model, tokenizer, text)
    assert mapping() == state


@pytest.mark.parametrize("text", [{"a": 1}, iter(["a"])])
def test_texts_in_containers_the_tokenizer_cannot_read_are_refused(llama, text):
    model, tokenizer = llama
    for run in (attnfig.capture, attnfig.attention_norms, attnfig.from_model):
        with pytest.raises(AttentionInputError, match=r"`text` must be a string or a (non-empty )?list of strings"):
            run(model, tokenizer, text)


def test_capture_takes_no_pair_tuples_in_its_text_list(llama):
    model, tokenizer = llama
    with pytest.raises(AttentionInputError, match=r"item 0 is \('a', 'b'\).*text_pair|item 0 is \('a', 'b'\)"):
        attnfig.capture(model, tokenizer, [("a", "b")])


def test_an_empty_text_with_no_tokens_is_refused(gpt2):
    model, tokenizer = gpt2
    for call in (lambda: attnfig.capture(model, tokenizer, ""),
                 lambda: attnfig.special_token_attention([""], model=model, tokenizer=tokenizer),
                 lambda: attnfig.attention_norms(model, tokenizer, [""]),
                 lambda: attnfig.from_model(model, tokenizer, ""),
                 lambda: attnfig.from_model(model, tokenizer, ["a cat", ""]),
                 lambda: attnfig.from_model(model, tokenizer, "", "")):
        with pytest.raises(AttentionInputError, match=r"'' gives no tokens"):
            call()
    # In a corpus it is left out and named, as `attnfig batch` reports a bad line; the others go on.
    with pytest.warns(attnfig.SkippedInputsWarning, match=r"1 of 2 texts .* text 1 \(AttentionInputError: '' gives no"):
        shares = attnfig.special_token_attention(["a cat", ""], model=model, tokenizer=tokenizer)
    expected = attnfig.special_token_attention(["a cat"], model=model, tokenizer=tokenizer)
    assert all(np.array_equal(shares[name], expected[name], equal_nan=True) for name in expected)


@pytest.mark.parametrize("family", ["gpt2", "bert", "roberta"])
def test_a_text_longer_than_the_position_table_says_how_to_cut_it(family):
    model, tokenizer = build_family_model(family)
    long_text = " ".join(["word"] * 200)
    for call in (lambda: attnfig.capture(model, tokenizer, long_text),
                 lambda: attnfig.head_entropy([long_text], model=model, tokenizer=tokenizer),
                 lambda: attnfig.from_model(model, tokenizer, long_text)):
        with pytest.raises(AttentionInputError, match=r"has learned positions for \d+: .*truncation=True, max_length="):
            call()
    limit = attnfig.recording.inputs.position_limit(model)
    cut = attnfig.capture(model, tokenizer, long_text, truncation=True, max_length=limit, layers=[0])
    assert cut.weights.shape[-1] == limit


# --- padding -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("family", ["gpt2", "llama", "bert"])
def test_padding_to_max_length_is_dropped_by_capture_and_from_model(family):
    model, tokenizer = build_family_model(family)
    plain = attnfig.from_model(model, tokenizer, "the cat sat on the mat")
    padded = attnfig.from_model(model, tokenizer, "the cat sat on the mat", padding="max_length", max_length=20)
    captured = attnfig.capture(model, tokenizer, "the cat sat on the mat", padding="max_length", max_length=20)
    for data in (padded, captured):
        assert data.tokens == plain.tokens and tokenizer.pad_token not in data.tokens
        np.testing.assert_allclose(data.weights, plain.weights, atol=1e-5)


@pytest.mark.parametrize("family", ["mistral", "gemma2"])
def test_right_padding_of_a_sliding_window_model_is_not_blamed_on_the_causal_mask(family):
    # Past the window, a padding query sees only padding and is spread over any key, later ones
    # too; that row is dropped, so it must not fail the check that the causal mask was applied.
    model, tokenizer = build_family_model(family)
    tokenizer.padding_side = "right"
    texts = [TEXT, "a cat"]
    alone = [attnfig.from_model(model, tokenizer, text) for text in texts]
    padded = attnfig.from_model(model, tokenizer, "a cat", padding="max_length", max_length=20)
    batch = attnfig.from_model(model, tokenizer, texts)
    for data, expected in zip([padded, *batch], [alone[1], *alone]):
        assert data.tokens == expected.tokens and tokenizer.pad_token not in data.tokens
        np.testing.assert_allclose(data.weights, expected.weights, atol=1e-5)
    np.testing.assert_allclose(attnfig.capture(model, tokenizer, "a cat", padding="max_length", max_length=20).weights,
                               alone[1].weights, atol=1e-5)


# --- threads -----------------------------------------------------------------------------------------


def run_in_threads(*jobs):
    results, errors = [None] * len(jobs), []
    barrier = threading.Barrier(len(jobs))

    def run(position, job):
        try:
            barrier.wait()
            results[position] = job()
        except BaseException as err:  # noqa: BLE001 - reported by the test
            errors.append(err)

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.mark.parametrize("family", ["llama", "gpt-neo", "falcon"])
def test_two_threads_capturing_one_model_get_the_single_threaded_maps(family):
    model, tokenizer = build_family_model(family)
    texts = [TEXT, "a cat , a dog and a bird ."]
    expected = [attnfig.capture(model, tokenizer, text).weights for text in texts]
    state = mapping()
    for _ in range(3):
        results = run_in_threads(*[lambda text=text: [attnfig.capture(model, tokenizer, text).weights for _ in range(3)]
                                   for text in texts])
        for got, want in zip(results, expected):
            for weights in got:
                np.testing.assert_array_equal(weights, want)
    assert mapping() == state
    assert not any("_attn" in vars(module) for module in model.modules())
    assert sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()) == 0


def test_two_threads_capturing_two_models_leave_the_mapping_as_found(llama, gpt2):
    state = mapping()
    jobs = [lambda pair=pair: attnfig.capture(pair[0], pair[1], TEXT).weights for pair in (llama, gpt2)]
    results = run_in_threads(*jobs)
    assert mapping() == state
    for (model, tokenizer), weights in zip((llama, gpt2), results):
        np.testing.assert_allclose(weights, attnfig.from_model(model, tokenizer, TEXT).weights, atol=1e-5)


def test_a_plain_forward_beside_a_capture_is_unaffected(llama):
    model, tokenizer = llama
    inputs = tokenizer(TEXT, return_tensors="pt")
    with torch.inference_mode():
        expected = model(**inputs).last_hidden_state

    def plain():
        with torch.inference_mode():
            return [model(**inputs).last_hidden_state for _ in range(20)]

    def captures():
        return [attnfig.capture(model, tokenizer, TEXT, layers=[0]).weights for _ in range(5)]

    outputs, maps = run_in_threads(plain, captures)
    assert all(torch.equal(output, expected) for output in outputs)
    assert all(np.array_equal(weights, maps[0]) for weights in maps)
