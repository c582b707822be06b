"""TransformerLens caches go through `as_attention` (TransformerLens 4's TransformerBridge, offline)."""
from __future__ import annotations

import numpy as np
import pytest

import attnfig

torch = pytest.importorskip("torch")
pytest.importorskip("transformer_lens")

TOKENS = ["<bos>", "the", "rabbit", "quickly", "hopped", "."]


@pytest.fixture(scope="module")
def bridge_cache():
    from transformer_lens.model_bridge.sources.native import boot

    torch.manual_seed(0)
    bridge = boot(dict(n_layers=3, d_model=64, n_ctx=64, d_head=16, n_heads=4, d_vocab=100, act_fn="gelu"))
    with torch.no_grad():
        for parameter in bridge.parameters():
            if parameter.ndim >= 2:
                parameter.normal_(0.0, 0.25)
    tokens = torch.tensor([[1, 7, 42, 9, 13, 5]])
    return bridge, bridge.run_with_cache(tokens)[1], tokens


def test_a_cache_gives_its_hook_patterns_layer_by_layer(bridge_cache):
    _, cache, _ = bridge_cache
    data = attnfig.as_attention(cache, TOKENS)
    assert data.weights.shape == (3, 4, 6, 6) and data.tokens == tuple(TOKENS)
    for layer in range(3):
        np.testing.assert_array_equal(data.weights[layer], cache[f"blocks.{layer}.attn.hook_pattern"][0].numpy())
    assert data.is_causal and data.weights.max() > 0.5


def test_a_filtered_cache_keeps_its_layer_indices(bridge_cache):
    bridge, _, tokens = bridge_cache
    _, cache = bridge.run_with_cache(tokens, names_filter=lambda name: name == "blocks.2.attn.hook_pattern")
    data = attnfig.as_attention(cache, TOKENS)
    assert data.layer_indices == (2,)
    np.testing.assert_array_equal(data.weights[0], cache["blocks.2.attn.hook_pattern"][0].numpy())
    ax = attnfig.heatmap(cache, TOKENS, layer=2, head=1)
    np.testing.assert_allclose(np.ma.filled(ax.images[0].get_array(), 0), data.weights[0, 1], atol=1e-7)


def test_per_layer_two_d_maps_are_layers_of_one_head_from_a_list_and_from_a_cache(bridge_cache):
    _, cache, _ = bridge_cache
    maps = [cache[f"blocks.{layer}.attn.hook_pattern"][0, 1] for layer in range(3)]  # head 1, [q, k] each
    from_list = attnfig.as_attention(maps, TOKENS)
    from_cache = attnfig.as_attention({f"blocks.{layer}.attn.hook_pattern": m for layer, m in enumerate(maps)}, TOKENS)
    for data in (from_list, from_cache):
        assert data.weights.shape == (3, 1, 6, 6) and data.layer_indices == (0, 1, 2) and data.n_layers == 3
        np.testing.assert_array_equal(data.weights[:, 0], np.stack([m.numpy() for m in maps]))
    (grid,) = attnfig.model_view({f"blocks.{layer}.attn.hook_pattern": m for layer, m in enumerate(maps)}, TOKENS).axes
    assert [t.get_text() for t in grid.get_yticklabels()] == ["0", "1", "2"] and len(grid.collections) == 3
