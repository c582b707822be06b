"""`attnfig.attention_norms` against the norms computed from the model's own projections."""
from __future__ import annotations

import numpy as np
import pytest

import attnfig
from attnfig.errors import AttentionInputError

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from attnfig.testing import build_family_model  # noqa: E402

TEXT = "the quick brown fox jumped over the lazy dog"


# family: (the module whose output holds layer {layer}'s values, the module projecting the heads'
# outputs back to the hidden size). ALBERT shares one layer, called once per layer.
_BERT_LIKE = ("encoder.layer.{layer}.attention.self.value", "encoder.layer.{layer}.attention.output.dense")
_LLAMA_LIKE = ("layers.{layer}.self_attn.v_proj", "layers.{layer}.self_attn.o_proj")
PROJECTIONS = {
    "bert": _BERT_LIKE, "roberta": _BERT_LIKE, "electra": _BERT_LIKE, "xlm-roberta": _BERT_LIKE,
    "distilbert": ("transformer.layer.{layer}.attention.v_lin", "transformer.layer.{layer}.attention.out_lin"),
    "albert": ("encoder.albert_layer_groups.0.albert_layers.0.attention.value",
               "encoder.albert_layer_groups.0.albert_layers.0.attention.dense"),
    "gpt2": ("h.{layer}.attn.c_attn", "h.{layer}.attn.c_proj"),
    "gpt-neo": ("h.{layer}.attn.attention.v_proj", "h.{layer}.attn.attention.out_proj"),
    "gpt-neox": ("layers.{layer}.attention.query_key_value", "layers.{layer}.attention.dense"),
    "opt": ("decoder.layers.{layer}.self_attn.v_proj", "decoder.layers.{layer}.self_attn.out_proj"),
    "clip-text": ("encoder.layers.{layer}.self_attn.v_proj", "encoder.layers.{layer}.self_attn.out_proj"),
    "phi": ("layers.{layer}.self_attn.v_proj", "layers.{layer}.self_attn.dense"),
    "llama": _LLAMA_LIKE, "mistral": _LLAMA_LIKE, "qwen2": _LLAMA_LIKE, "gemma": _LLAMA_LIKE, "gemma2": _LLAMA_LIKE,
}


def _values(family, output, heads, head_size):
    """``[keys, kv_heads, head_size]``: the values in a projection's output (fused ones split as the model splits them)."""
    output = output[0].detach()
    if family == "gpt2":  # c_attn: [q | k | v], each heads x head_size
        return output[:, 2 * heads * head_size:].reshape(len(output), heads, head_size)
    if family == "gpt-neox":  # query_key_value: per head [q | k | v]
        return output.reshape(len(output), heads, 3, head_size)[:, :, 2]
    return output.reshape(len(output), -1, head_size)


def direct_norms(model, tokenizer, family):
    """alpha (eager output_attentions) times ||(x W_V + b_V) W_O^h||, values read by forward hooks."""
    value_path, output_path = PROJECTIONS[family]
    alpha = attnfig.from_model(model, tokenizer, TEXT).weights  # eager attention, every head
    n_layers, heads = alpha.shape[:2]
    outputs, handles = [], []
    for module in {id(m): m for m in (model.get_submodule(value_path.format(layer=i)) for i in range(n_layers))}.values():
        handles.append(module.register_forward_hook(lambda m, args, out: outputs.append(out)))
    try:
        with torch.no_grad():
            model(**tokenizer(TEXT, return_tensors="pt"))
    finally:
        for handle in handles:
            handle.remove()
    assert len(outputs) == n_layers  # one value projection per layer, in order
    expected = np.zeros_like(alpha)
    for layer in range(n_layers):
        projection = model.get_submodule(output_path.format(layer=layer))
        w_out = projection.weight if type(projection).__name__ == "Conv1D" else projection.weight.T  # [in, out]
        head_size = w_out.shape[0] // heads
        values = _values(family, outputs[layer], heads, head_size)
        groups = heads // values.shape[1]
        for head in range(heads):
            sent = values[:, head // groups] @ w_out[head * head_size:(head + 1) * head_size].detach()
            expected[layer, head] = alpha[layer, head] * sent.norm(dim=-1).numpy()[None, :]
    return expected


NORM_FAMILIES = list(PROJECTIONS)


@pytest.mark.parametrize("family", NORM_FAMILIES)
def test_norms_equal_a_direct_computation_from_the_models_projections(family):
    model, tokenizer = build_family_model(family)
    if family in ("llama", "mistral", "qwen2", "gemma", "gemma2"):
        assert model.config.num_key_value_heads < model.config.num_attention_heads  # grouped-query heads
    data = attnfig.attention_norms(model, tokenizer, TEXT)
    expected = direct_norms(model, tokenizer, family)
    assert data.value_label == "norm" and not data.normalized
    np.testing.assert_allclose(data.weights, expected, rtol=1e-4, atol=1e-7 * expected.max())
    assert not np.allclose(expected.sum(-1), 1)  # not the weights themselves
    chosen = attnfig.attention_norms(model, tokenizer, TEXT, layers=[1], heads=[3, 0])
    np.testing.assert_allclose(chosen.weights[0], expected[1, [3, 0]], rtol=1e-4, atol=1e-7 * expected.max())
    assert chosen.head_indices == (3, 0)


def test_norms_are_drawn_with_a_norm_colorbar():
    model, tokenizer = build_family_model("bert")
    data = attnfig.attention_norms(model, tokenizer, TEXT, layers=[0])
    ax = attnfig.heatmap(data, layer=0, head=1)
    assert ax.images[0].colorbar.ax.get_ylabel() == "norm"
    assert ax.images[0].norm.vmin == 0  # norms start at 0, as weights do
    np.testing.assert_allclose(ax.images[0].get_array().filled(0), data.weights[0, 1], rtol=1e-6)
    figure = attnfig.model_view(data, kind="heatmap")
    assert "norm" in [axis.get_ylabel() for axis in figure.axes]
    ax = attnfig.lines(data, layer=0, min_weight=0)
    alphas = np.concatenate([collection.get_colors()[:, 3] for collection in ax.collections])
    assert alphas.max() <= 1 and alphas.max() > 0


def test_a_family_without_values_gets_a_clear_error():
    model, tokenizer = build_family_model("falcon")
    with pytest.raises(AttentionInputError, match="model_type 'falcon'.*does not hand its value vectors"):
        attnfig.attention_norms(model, tokenizer, TEXT)


@pytest.mark.parametrize("family", ["t5", "vit", "bloom"])
def test_families_capture_cannot_run_get_an_error_naming_them(family):
    model, processor = build_family_model(family)
    model_type = model.config.model_type
    with pytest.raises(AttentionInputError, match=f"`attention_norms` supports.*model_type '{model_type}'"):
        attnfig.attention_norms(model, processor, TEXT)
