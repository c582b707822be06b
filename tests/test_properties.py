"""Property-based: whatever is thrown at as_attention, it returns valid data or raises
AttentionInputError, never anything else."""
from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from attnfig import AttentionData, AttentionInputError, as_attention

DTYPES = st.sampled_from([np.float16, np.float32, np.float64, np.int32, np.bool_, np.complex64])
TORCH_DTYPES = st.sampled_from([torch.bfloat16, torch.float16, torch.float32])


def check(attention, **kwargs):
    try:
        data = as_attention(attention, **kwargs)
    except AttentionInputError as err:
        assert str(err)
        return None
    assert isinstance(data, AttentionData)
    assert data.weights.ndim == 4 and data.weights.dtype == np.float32
    assert len(data.query_tokens) == data.weights.shape[2]
    assert len(data.key_tokens) == data.weights.shape[3]
    assert np.isfinite(data.weights).all()
    return data


@settings(max_examples=150, deadline=None)
@given(arrays(DTYPES, array_shapes(min_dims=0, max_dims=6, max_side=4),
              elements={"allow_nan": True, "allow_infinity": True}))
def test_arbitrary_arrays(array):
    check(array)


@settings(max_examples=100, deadline=None)
@given(array_shapes(min_dims=2, max_dims=5, max_side=5), TORCH_DTYPES, st.integers(-2, 3),
       st.one_of(st.none(), st.integers(-1, 6)))
def test_softmax_tensors_of_random_shape(shape, dtype, batch, sentence_b_start):
    scores = torch.randn(shape) * 3
    data = check(scores.softmax(-1).to(dtype), batch=batch, sentence_b_start=sentence_b_start)
    if data is not None:
        np.testing.assert_allclose(data.weights.sum(-1), 1, atol=2e-2)


@settings(max_examples=100, deadline=None)
@given(st.lists(arrays(np.float32, array_shapes(min_dims=1, max_dims=4, max_side=3),
                       elements=st.floats(-1, 2, width=32)), max_size=3),
       st.one_of(st.none(), st.lists(st.text(max_size=3), max_size=4)),
       st.one_of(st.none(), st.lists(st.integers(0, 1), max_size=4)))
def test_lists_of_layers_with_tokens_and_masks(layers, tokens, mask):
    check(layers, tokens=tokens, attention_mask=mask, normalized=bool(len(layers) % 2))
