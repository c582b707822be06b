"""Pooled captures (`capture(..., pool=N)`): views take them, summaries refuse them with the way out."""
from __future__ import annotations

import matplotlib.pyplot as plt
import pytest

import attnfig
from attnfig.errors import AttentionInputError

torch = pytest.importorskip("torch")
from attnfig.testing import build_family_model  # noqa: E402

TEXT = " ".join(["the quick brown fox jumped over the lazy dog ."] * 4)


@pytest.fixture(scope="module")
def pooled():
    model, tokenizer = build_family_model("bert")
    return attnfig.capture(model, tokenizer, TEXT, pool=4)


STREAMED = {
    "head_entropy": lambda p: attnfig.head_entropy(p),
    "special_token_attention": lambda p: attnfig.special_token_attention(p),
    "head_patterns": lambda p: attnfig.head_patterns([p, p]),
    "plot_head_entropy": lambda p: attnfig.plot_head_entropy(p),
    "plot_special_token_attention": lambda p: attnfig.plot_special_token_attention(p),
    "plot_head_patterns": lambda p: attnfig.plot_head_patterns(p),
    "head_distances": lambda p: attnfig.head_distances([p, p]),
    "plot_head_map": lambda p: attnfig.plot_head_map(p),
    "pattern_shares": lambda p: attnfig.pattern_shares(p),
    "plot_pattern_shares": lambda p: attnfig.plot_pattern_shares(p),
}
NOT_STREAMED = {
    "uniform_entropy": lambda p: attnfig.uniform_entropy(p),
    "attention_rollout": lambda p: attnfig.attention_rollout(p),
    "plot_rollout": lambda p: attnfig.plot_rollout(p),
    "attention_difference": lambda p: attnfig.attention_difference(p, p),
    "plot_difference": lambda p: attnfig.plot_difference(p, p),
    "difference_grid": lambda p: attnfig.difference_grid(p, p),
}


@pytest.mark.parametrize("name", list(STREAMED))
def test_summaries_with_a_streaming_form_point_to_it(pooled, name):
    # the message names the function called, and the streamed statistic's call
    with pytest.raises(AttentionInputError, match=rf"^`{name}` needs the exact attention .*pooled .*4 blocks.*"
                                                  r"`attnfig\.\w+\(texts, model=model, tokenizer=tokenizer\)`"):
        STREAMED[name](pooled)
    plt.close("all")


@pytest.mark.parametrize("name", list(NOT_STREAMED))
def test_other_summaries_refuse_pooled_data_and_say_capture_without_pool(pooled, name):
    with pytest.raises(AttentionInputError, match=r"`(attention_difference|attention_rollout|plot_rollout|uniform_entropy)` "
                                                  r"needs the exact attention .* Capture without `pool`"):
        NOT_STREAMED[name](pooled)
    plt.close("all")


def test_head_view_of_pooled_data_takes_a_token_span_as_lines_and_heatmap_do():
    model, tokenizer = build_family_model("llama")
    text = " ".join(["w"] * 150)
    pooled = attnfig.capture(model, tokenizer, text, layers=[0], pool=16)
    n_tokens = pooled.token_blocks[-1][1]
    assert n_tokens > 100 and len(pooled.tokens) <= 16
    span = (20, 60)
    shown = attnfig.lines(pooled, span=span).get_yticklabels()
    figure = attnfig.head_view(pooled, span=span)
    rows = [b for b in pooled.token_blocks if b[1] > 20 and b[0] < 60]
    assert len(figure.axes[0].get_yticks()) == len(rows) == len(shown)
    with pytest.raises(AttentionInputError, match=rf"0 <= start < stop <= {n_tokens}"):
        attnfig.head_view(pooled, span=(0, n_tokens + 1))
    plt.close("all")
