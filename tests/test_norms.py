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


def _value_and_output(model, family, layer):
    """The module whose output holds layer `layer`'s values, a function picking them, and W_O as [in, out]."""
    config = model.config
    hidden = config.hidden_size
    if family == "bert":
        attention = model.encoder.layer[layer].attention
        return attention.self.value, lambda out: out, attention.output.dense.weight.T
    if family == "gpt2":
        attention = model.h[layer].attn
        return attention.c_attn, lambda out: out[..., 2 * hidden:], attention.c_proj.weight
    attention = model.layers[layer].self_attn
    return attention.v_proj, lambda out: out, attention.o_proj.weight.T


def direct_norms(model, tokenizer, family):
    """alpha (eager output_attentions) times ||(x W_V + b_V) W_O^h||, values read by forward hooks."""
    config = model.config
    n_heads = config.num_attention_heads
    head_size = config.hidden_size // n_heads
    groups = n_heads // getattr(config, "num_key_value_heads", n_heads)
    values, handles = {}, []
    for layer in range(config.num_hidden_layers):
        module, pick, _ = _value_and_output(model, family, layer)
        handles.append(module.register_forward_hook(
            lambda m, args, out, layer=layer, pick=pick: values.__setitem__(layer, pick(out)[0].detach())))
    try:
        alpha = attnfig.from_model(model, tokenizer, TEXT).weights
    finally:
        for handle in handles:
            handle.remove()
    expected = np.zeros_like(alpha)
    for layer in range(config.num_hidden_layers):
        _, _, output = _value_and_output(model, family, layer)
        for head in range(n_heads):
            kv = head // groups
            value = values[layer][:, kv * head_size:(kv + 1) * head_size]
            sent = value @ output[head * head_size:(head + 1) * head_size].detach()
            expected[layer, head] = alpha[layer, head] * sent.norm(dim=-1).numpy()[None, :]
    return expected


@pytest.mark.parametrize("family", ["bert", "gpt2", "llama"])
def test_norms_equal_a_direct_computation_from_the_models_projections(family):
    model, tokenizer = build_family_model(family)
    if family == "llama":
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
    with pytest.raises(AttentionInputError, match="does not hand its value vectors"):
        attnfig.attention_norms(model, tokenizer, TEXT)
