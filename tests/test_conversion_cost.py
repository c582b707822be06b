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


def _changed(case: str) -> tuple[np.ndarray, bool]:
    """Causal softmax layers with one change in a late row of the last layer; whether normalized."""
    weights = _softmax_rows((3, 2, 40, 40), causal=True)
    row = weights[2, 1, 37]
    if case == "future":  # weight on a later key, far from the first rows
        row[39] = 0.01
        row /= row.sum()
    elif case == "negative zero":
        row[39] = -0.0
    elif case == "nan":
        row[3] = np.nan
    elif case == "negative":
        row[3] = -0.1
    elif case == "row sum":
        row[3] += 0.05  # beyond the tolerance of bfloat16 rows too
    elif case == "raw scores":
        with np.errstate(divide="ignore"):
            weights = np.log(weights)  # -inf on later keys (not causal: not zero), rows far from 1
        return weights, False
    return weights, True


def _outcome(attention, normalized):
    try:
        data = attnfig.as_attention(attention, normalized=normalized)
    except attnfig.AttentionInputError as err:
        return str(err)
    return np.asarray(data.weights).copy(), data.is_causal


@pytest.mark.parametrize("kind", ["numpy", "float32", "bfloat16"])
@pytest.mark.parametrize("case", ["clean", "future", "negative zero", "nan", "negative", "row sum", "raw scores"])
def test_the_checks_made_while_copying_layers_agree_with_the_full_checks(monkeypatch, case, kind):
    monkeypatch.setattr(data_module, "CHUNK_VALUES", 2 * 40 * 4)  # 4 rows a chunk: 10 chunks a layer
    weights, normalized = _changed(case)
    layers, whole = list(weights), weights
    if kind != "numpy":
        torch = pytest.importorskip("torch")
        layers = [torch.from_numpy(layer).to(getattr(torch, kind)) for layer in weights]
        whole = torch.stack(layers)  # one tensor: converted whole, then checked by the full functions
    scanned, full = _outcome(layers, normalized), _outcome(whole, normalized)
    if isinstance(full, str):
        assert scanned == full
    else:
        np.testing.assert_array_equal(scanned[0], full[0])
        assert scanned[1] == full[1] == (case in ("clean", "negative zero"))


@pytest.mark.parametrize("case", ["clean", "future"])
def test_layers_with_weight_on_later_keys_are_reported_before_any_other_check(monkeypatch, case):
    monkeypatch.setattr(data_module, "CHUNK_VALUES", 2 * 40 * 4)
    weights, _ = _changed(case)
    seen = []
    data_module.attention_from_layers(list(weights), on_future_weights=seen.append)
    assert len(seen) == (case == "future")
    if seen:
        np.testing.assert_array_equal(seen[0], weights)
