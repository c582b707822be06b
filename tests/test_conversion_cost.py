"""What the conversion and capture paths cost: no full-size copies, no work on masked keys (issue 25)."""
from __future__ import annotations

import io
import tracemalloc

import numpy as np
import pytest

import attnfig
from attnfig.input import data as data_module


def _peak_bytes(function, *args, **kwargs):
    tracemalloc.start()
    try:
        result = function(*args, **kwargs)
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _softmax_rows(shape, causal: bool, seed: int = 0) -> np.ndarray:
    scores = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    if causal:
        scores[..., np.triu(np.ones(shape[-2:], dtype=bool), 1)] = -np.inf
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return weights / weights.sum(-1, keepdims=True)


@pytest.mark.parametrize("causal", [False, True])
def test_as_attention_checks_a_grid_without_full_size_copies(causal):
    weights = _softmax_rows((2, 2, 512, 512), causal)
    data, peak = _peak_bytes(attnfig.as_attention, weights)
    assert data.weights is weights and data.is_causal == causal
    assert peak < 0.15 * weights.nbytes  # was 1.2x: three boolean masks, the gathered upper triangle


def test_an_all_ones_attention_mask_drops_nothing_and_copies_nothing():
    weights = _softmax_rows((2, 2, 256, 256), causal=False)
    data, peak = _peak_bytes(attnfig.as_attention, weights, attention_mask=np.ones(256, dtype=np.int64))
    assert data.weights is weights and peak < 0.1 * weights.nbytes


def test_padding_is_dropped_from_both_axes_in_one_copy():
    weights = _softmax_rows((2, 3, 6, 6), causal=False)
    mask = np.array([1, 1, 0, 1, 0, 1])
    kept = np.flatnonzero(mask)
    weights[..., mask == 0] = 0
    weights /= weights.sum(-1, keepdims=True)
    data = attnfig.as_attention(weights, list("abcdef"), attention_mask=mask)
    np.testing.assert_array_equal(data.weights, weights[..., kept, :][..., kept])
    assert data.weights.flags.c_contiguous and data.tokens == ("a", "b", "d", "f")


def test_from_model_layers_are_freed_as_they_are_copied():
    torch = pytest.importorskip("torch")
    layers = [torch.softmax(torch.randn(1, 2, 5, 5), -1).to(torch.bfloat16) for _ in range(3)]
    expected = np.stack([layer[0].float().numpy() for layer in layers])
    data = data_module.attention_from_layers(layers, list("abcde"))
    assert layers == [None, None, None]
    np.testing.assert_array_equal(data.weights, expected)


@pytest.mark.parametrize("weights, future", [
    (np.tril(np.ones((2, 300, 300))), False),
    (np.tril(np.ones((2, 300, 300))) + np.eye(300, k=1) * (np.arange(300) == 250)[:, None], True),
    (np.tril(np.ones((300, 300))) + np.eye(300, k=299), True),
])
def test_future_weights_are_found_in_every_block_of_rows(weights, future):
    assert data_module.has_future_weights(weights, rows_per_block=64) is future
    torch = pytest.importorskip("torch")
    assert data_module.has_future_weights(torch.from_numpy(weights), rows_per_block=64) is future


def test_model_view_thumbnails_are_reduced_only_when_drawn(monkeypatch):
    import attnfig.views.model_view as model_view_module

    weights = _softmax_rows((2, 2, 600, 600), causal=False)  # above SMALL_MOSAIC_CELLS
    calls = []
    original = model_view_module.fit_to_pixels
    monkeypatch.setattr(model_view_module, "fit_to_pixels", lambda *a, **k: calls.append(a[1:3]) or original(*a, **k))
    fig = attnfig.model_view(weights, kind="heatmap")
    assert calls == []  # was once per layer at 1 x 1 pixel, before any drawing
    fig.savefig(io.BytesIO(), format="png")
    assert len(calls) == 2 and min(calls[0]) > 1
