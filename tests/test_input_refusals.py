"""Inputs a user gets wrong, refused with an attnfig error that says what to pass; and the tiny
test tokenizers giving only ids their models can embed."""
from __future__ import annotations

import collections

import matplotlib
import numpy as np
import pytest
import torch

import attnfig
from attnfig.errors import ArgumentError, AttentionInputError
from attnfig.input.corpus import as_corpus
from attnfig.testing import _wordpiece_vocab, build_family_model, build_tiny_model

from conftest import random_attention

NOT_A_THING = [3, None, "bert", np.ones(3), [np.ones(3), np.ones(3)], {"a": 1}]


def test_the_wordpiece_vocabulary_has_each_entry_once():
    vocab = _wordpiece_vocab()
    assert [entry for entry, count in collections.Counter(vocab).items() if count > 1] == []


@pytest.mark.parametrize("builder", ["build_family_model", "build_tiny_model"])
def test_every_wordpiece_id_fits_the_tiny_bert_embeddings(builder, tmp_path):
    model, tokenizer = build_family_model("bert") if builder == "build_family_model" else build_tiny_model("bert", tmp_path)
    rows = model.get_input_embeddings().num_embeddings
    assert max(tokenizer.get_vocab().values()) == rows - 1
    # "cats" ends in "##s", the last entry: it was id 108 of a 107-row table (IndexError in the model).
    encoded = tokenizer("the cats sat", return_tensors="pt")
    assert "##s" in tokenizer.convert_ids_to_tokens(encoded["input_ids"][0])
    data = attnfig.from_model(model, tokenizer, "the cats sat")
    model.set_attn_implementation("eager")
    with torch.inference_mode():
        direct = model(**encoded, output_attentions=True).attentions
    np.testing.assert_allclose(data.weights, torch.cat(direct).numpy(), atol=1e-5)


@pytest.fixture(scope="module")
def small_vocabulary_bert():
    """A tiny BERT with 40 token embeddings beside a tokenizer of 107 entries."""
    return build_family_model("bert", vocab_size=40)


@pytest.mark.parametrize("run", [attnfig.from_model, attnfig.capture, attnfig.neuron_view,
                                 lambda m, t, text: attnfig.head_entropy([text], model=m, tokenizer=t)])
def test_ids_past_the_model_embeddings_are_an_attnfig_error(small_vocabulary_bert, run):
    model, tokenizer = small_vocabulary_bert
    with pytest.raises(AttentionInputError, match=r"token id \d+ .* ids 0 to 39 only.*own tokenizer"):
        run(model, tokenizer, "the turtle slowly crawled")


@pytest.mark.parametrize("view", NOT_A_THING)
def test_plot_neuron_view_says_it_takes_a_neuron_view(view):
    with pytest.raises(ArgumentError, match=r"takes the `NeuronView` that `attnfig.neuron_view\("):
        attnfig.plot_neuron_view(view)


@pytest.mark.parametrize("matrix", [3, None, np.ones(3), np.ones((1, 1, 3, 3)) / 3, "abc", {"a": 1}])
def test_classify_head_names_the_shape_it_takes(matrix):
    with pytest.raises(AttentionInputError, match=r"one head's attention as a \[queries, keys\] matrix"):
        attnfig.classify_head(matrix)


def test_classify_head_checks_the_weights_too():
    with pytest.raises(AttentionInputError, match="rows must sum to 1"):
        attnfig.classify_head(np.ones((4, 4)))
    assert attnfig.classify_head(torch.eye(4)) == attnfig.classify_head(np.eye(4)) == "diagonal"


@pytest.mark.parametrize("data", NOT_A_THING)
def test_merge_subword_tokens_says_it_takes_attention_data(data):
    with pytest.raises(ArgumentError, match="takes the `AttentionData`"):
        attnfig.merge_subword_tokens(data)


@pytest.mark.parametrize("model", [3, "bert-base-uncased", np.ones(3)])
@pytest.mark.parametrize("run", [attnfig.from_model, attnfig.capture, attnfig.neuron_view, attnfig.attention_norms,
                                 lambda m, t, text: attnfig.capture_generation(m, t, text, max_new_tokens=2)])
def test_a_model_that_is_no_model_is_an_attnfig_error(model, run):
    with pytest.raises(ArgumentError, match="`model` must be a loaded transformers model"):
        run(model, None, "the rabbit")


@pytest.mark.parametrize("model", [3, np.ones(3)])
def test_a_corpus_summary_given_no_model_is_an_attnfig_error(model):
    with pytest.raises(ArgumentError, match="`model` must be a loaded transformers model"):
        attnfig.head_entropy(["the rabbit"], model=model)


def test_a_corpus_summary_reads_a_model_name_as_a_folder_and_says_where_it_looked():
    """The corpus summaries take a model folder (engine= may run it elsewhere): a hub name is refused
    by load_model, offline, with what to pass instead."""
    with pytest.raises(attnfig.ModelFolderError, match="No model folder at 'bert-base-uncased'"):
        attnfig.head_entropy(["the rabbit"], model="bert-base-uncased")


@pytest.mark.parametrize("model", [3, None, np.ones(3)])
def test_load_model_says_it_takes_a_folder(model):
    with pytest.raises(ArgumentError, match="must be the path of a local model folder"):
        attnfig.load_model(model)


@pytest.mark.parametrize("draw", [attnfig.heatmap, attnfig.head_view, attnfig.head_entropy])
def test_tokens_that_are_no_list_are_an_attnfig_error(draw):
    with pytest.raises(AttentionInputError, match=r"`tokens` must be a list of token strings.*3 \(int\)"):
        draw(random_attention(1, 1, 3), 3)


# --- a list of arrays: one input's layers, or a corpus? ------------------------------------

def test_a_list_of_head_maps_is_one_input_layer_by_layer():
    layers = list(random_attention(3, 2, 5))  # [heads, q, k] each
    (data,) = as_corpus(layers)
    np.testing.assert_array_equal(data.weights, np.stack(layers))
    np.testing.assert_allclose(attnfig.head_entropy(layers), attnfig.head_entropy(np.stack(layers)))


def test_transformers_layers_of_one_input_as_a_list_are_one_input():
    layers = [layer[None] for layer in random_attention(3, 2, 5)]  # list(outputs.attentions), batch 1
    (data,) = as_corpus(layers)
    assert data.weights.shape == (3, 2, 5, 5)


@pytest.mark.parametrize("arrays", [
    [random_attention(2, 3, 5, seed=s) for s in range(4)],  # 4 texts of 2 layers, or 4 layers of a batch of 2?
    [random_attention(2, 3, 5), random_attention(2, 3, 6)],  # texts of 5 and 6 tokens
    [random_attention(1, 3, 5), random_attention(1, 3, 6)],
])
def test_a_list_of_arrays_that_could_be_layers_or_texts_is_refused(arrays):
    for summary in (attnfig.head_entropy, attnfig.special_token_attention, attnfig.head_patterns):
        with pytest.raises(AttentionInputError, match=r"could be one input given layer by layer .* several inputs"):
            summary(arrays)


def test_a_corpus_is_a_list_of_attention_data_each_with_its_tokens():
    texts = [random_attention(2, 3, 5, seed=0), random_attention(2, 3, 6, seed=1)]
    corpus = [attnfig.as_attention(weights) for weights in texts]
    expected = np.mean([attnfig.head_entropy(weights) for weights in texts], axis=0)
    np.testing.assert_allclose(attnfig.head_entropy(corpus), expected, rtol=1e-6)
    with pytest.raises(AttentionInputError, match="`tokens` labels one input, but a corpus of 2 inputs"):
        attnfig.head_entropy(corpus, ["a"] * 5)


def test_capture_refuses_a_soft_capped_model_running_sdpa():
    """transformers 5.0 to 5.20 ran Gemma 2 on sdpa, which drops its soft-capping: the recomputed
    weights (capped) were not those the model used (0.0017 off eager's in the second layer)."""
    model, tokenizer = build_family_model("gemma2")
    model.config._attn_implementation = "sdpa"  # what those versions loaded; 5.24 refuses sdpa for Gemma 2
    with pytest.raises(AttentionInputError, match="ignores its attention soft-capping.*attn_implementation=\"eager\""):
        attnfig.capture(model, tokenizer, "the rabbit quickly hopped")
    model.config._attn_implementation = "eager"
    captured = attnfig.capture(model, tokenizer, "the rabbit quickly hopped")
    np.testing.assert_allclose(captured.weights, attnfig.from_model(model, tokenizer, "the rabbit quickly hopped").weights,
                               atol=1e-5)


# --- the small helpers given a scalar, None or an array ------------------------------------

@pytest.mark.parametrize("value", [3, None, "abc"])
def test_prettify_tokens_wants_a_list(value):
    with pytest.raises(ArgumentError, match="`tokens` must be a list of token strings"):
        attnfig.prettify_tokens(value)


@pytest.mark.parametrize("value", [None, "2", 2.0, np.ones(3), True])
def test_layer_label_wants_an_integer_index(value):
    with pytest.raises(ArgumentError, match="`index` must be a layer's 0-based index"):
        attnfig.layer_label(value)
    assert attnfig.layer_label(np.int64(2)) == "2"


@pytest.mark.parametrize("value", [3, None, ["layer_base"], "layer_bass"])
def test_get_option_names_the_options(value):
    with pytest.raises(ArgumentError, match=r"Unknown attnfig option .* the options are \['layer_base'\]"):
        attnfig.get_option(value)


@pytest.mark.parametrize("value", [3, None, np.ones(3)])
def test_style_names_what_a_style_is(value):
    with pytest.raises(ArgumentError, match="A style is a name"):
        with attnfig.style(value):
            pass
    with attnfig.style({"lines.linewidth": 3.0}):  # a dict of rcParams stays a style, as in matplotlib
        assert matplotlib.rcParams["lines.linewidth"] == 3.0


@pytest.mark.parametrize("value", [3, None, ["icml"], np.ones(2)])
def test_figsize_names_the_venues(value):
    with pytest.raises(attnfig.StyleNotFoundError, match="icml"):
        attnfig.figsize(value)


def test_capture_on_transformers_4_says_which_version_it_needs(monkeypatch):
    import sys
    import types

    model, tokenizer = build_family_model("gpt2")
    old = types.ModuleType("transformers")  # transformers 4.x has no AttentionInterface
    monkeypatch.setitem(sys.modules, "transformers", old)
    with pytest.raises(attnfig.errors.MissingDependencyError, match=r"needs transformers 5.0 or later .* is installed"):
        attnfig.capture(model, tokenizer, "the rabbit quickly hopped")
