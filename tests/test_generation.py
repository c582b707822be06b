"""`capture_generation` against an eager forward over the prompt and the generated ids."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import attnfig
from attnfig.errors import ArgumentError, AttentionInputError
from attnfig.input.generated import query_rows

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from attnfig.testing import build_generation_model  # noqa: E402

PROMPT = "the quick brown fox jumped over"


@functools.lru_cache(maxsize=None)
def _generation(family):
    model, tokenizer = build_generation_model(family)
    data = attnfig.capture_generation(model, tokenizer, PROMPT, max_new_tokens=6)
    prompt_ids = tokenizer(PROMPT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        ids = model.generate(prompt_ids, attention_mask=torch.ones_like(prompt_ids), max_new_tokens=6,
                             do_sample=False, pad_token_id=tokenizer.pad_token_id)
    eager, _ = build_generation_model(family)
    eager.set_attn_implementation("eager")
    with torch.no_grad():
        reference = np.stack([a[0].numpy() for a in eager(ids, output_attentions=True).attentions])
    return model, tokenizer, data, ids, prompt_ids.shape[1], reference


@pytest.mark.parametrize("family", ["gpt2", "llama"])
def test_the_weights_equal_an_eager_forward_over_prompt_and_generated_ids(family):
    model, tokenizer, data, ids, prompt_length, reference = _generation(family)
    assert data.generated_start == prompt_length
    assert data.tokens == tuple(tokenizer.convert_ids_to_tokens(ids[0]))
    assert data.weights.shape == reference.shape and ids.shape[1] == prompt_length + 6
    np.testing.assert_allclose(data.weights, reference, atol=1e-5)
    assert data.is_causal
    assert model.config._attn_implementation == "sdpa"                      # the model as loaded


def test_a_selection_of_heads_and_pooling():
    model, tokenizer, full, ids, prompt_length, reference = _generation("llama")
    one = attnfig.capture_generation(model, tokenizer, PROMPT, max_new_tokens=6, layers=[1], heads=[1])
    np.testing.assert_allclose(one.weights[0, 0], reference[1, 1], atol=1e-5)
    assert (one.layer_indices, one.head_indices) == ((1,), (1,))
    pooled = attnfig.capture_generation(model, tokenizer, PROMPT, max_new_tokens=6, layers=[1], heads=[1], pool=4)
    n = ids.shape[1]
    size = -(-n // 4)
    start, stop = pooled.token_blocks[pooled.generated_start]
    assert start <= prompt_length < stop                                     # the block holding the first new token
    np.testing.assert_allclose(pooled.weights[0, 0, 0, 0], reference[1, 1, :size, :size].max(), atol=1e-6)


def test_generated_queries_keep_the_generated_rows_over_every_key():
    _, _, data, ids, prompt_length, reference = _generation("gpt2")
    rows = query_rows(data, "generated")
    assert rows.query_tokens == data.tokens[prompt_length:] and rows.key_tokens == data.tokens
    np.testing.assert_allclose(rows.weights, reference[:, :, prompt_length:], atol=1e-5)


@pytest.mark.parametrize("arguments, error, match", [
    (dict(max_new_tokens=0), ArgumentError, "max_new_tokens"),
    (dict(max_new_tokens=2.5), ArgumentError, "max_new_tokens"),
    (dict(max_new_tokens=2, prompt=5), ArgumentError, "prompt"),
])
def test_bad_arguments_get_attnfig_errors(arguments, error, match):
    model, tokenizer = build_generation_model("gpt2")
    arguments = {"prompt": PROMPT, **arguments}
    with pytest.raises(error, match=match):
        attnfig.capture_generation(model, tokenizer, arguments.pop("prompt"), **arguments)


def test_a_model_without_a_language_head_is_told_how_to_load_one():
    from attnfig.testing import build_family_model

    model, tokenizer = build_family_model("gpt2")
    with pytest.raises(AttentionInputError, match="AutoModelForCausalLM"):
        attnfig.capture_generation(model, tokenizer, PROMPT, max_new_tokens=2)


def test_generated_queries_need_a_generation():
    data = attnfig.as_attention(np.full((1, 1, 2, 2), 0.5))
    with pytest.raises(ArgumentError, match="capture_generation"):
        query_rows(data, "generated")
    with pytest.raises(ArgumentError, match="queries"):
        query_rows(data, "prompt")


def test_heatmap_marks_the_boundary_and_shows_only_generated_queries_when_asked():
    import matplotlib.pyplot as plt

    _, _, data, ids, prompt_length, reference = _generation("gpt2")
    fig, (whole, generated) = plt.subplots(1, 2)
    attnfig.heatmap(data, layer=1, head=2, ax=whole)
    attnfig.heatmap(data, layer=1, head=2, ax=generated, queries="generated")
    (both_lines,) = [c for c in whole.collections if c.get_label() == "generated boundary"]
    assert len(both_lines.get_segments()) == 2                               # on the query and key axes
    (key_line,) = [c for c in generated.collections if c.get_label() == "generated boundary"]
    assert [s[0][0] for s in key_line.get_segments()] == [prompt_length - 0.5]
    shown = generated.images[0].get_array()
    assert shown.shape == (6, ids.shape[1])
    np.testing.assert_allclose(shown.filled(np.nan)[:, :prompt_length], reference[1, 2, prompt_length:, :prompt_length],
                               atol=1e-5)
    assert shown.mask[0, prompt_length + 1:].all() and not shown.mask[0, :prompt_length + 1].any()  # causal, offset


def test_head_view_letters_prompt_and_generated_beside_both_columns():
    _, _, data, _, _, _ = _generation("gpt2")
    figure = attnfig.head_view(data, layer=1, heads=[0, 1])
    letters = sorted(t.get_text() for ax in figure.axes for t in ax.texts if t.get_text() in ("P", "G"))
    assert letters == ["G", "G", "P", "P"]
    only = attnfig.head_view(data, layer=1, heads=[0], queries="generated")
    assert len(only.axes[0].get_yticks()) == 6


def test_generated_queries_keep_the_boundary_on_the_key_column():
    """Audit of issue 21: with queries="generated" the head view marked nothing, while the keys
    still run over prompt and generated tokens (the heatmap marks them on its key axis)."""
    import matplotlib.pyplot as plt

    _, _, data, _, prompt_length, _ = _generation("gpt2")
    figure = attnfig.head_view(data, layer=1, heads=[0], queries="generated")
    figure.draw_without_rendering()
    ax = figure.axes[0]
    marks = {side: [t for t in ax.texts if t.get_gid() == f"sentence mark {side}"] for side in ("left", "right")}
    assert [t.get_text() for t in marks["left"]] == ["G"] and [t.get_text() for t in marks["right"]] == ["P", "G"]
    ticks = ax.child_axes[0].get_yticks()                                   # the key column's rows
    assert len(ticks) == len(data.tokens)
    p_mark, g_mark = (t.get_position()[1] for t in marks["right"])
    assert ticks[0] < p_mark < ticks[prompt_length - 1] < ticks[prompt_length] < g_mark < ticks[-1]
    (bars,) = [c for c in ax.collections if c.get_label() == "sentence marks"]
    right = [segment[:, 1] for segment in bars.get_segments() if segment[0, 0] > 0]
    between = (ticks[prompt_length - 1] + ticks[prompt_length]) / 2            # no bar runs across the boundary
    assert right and not any(min(ys) < between < max(ys) for ys in right)
    assert min(min(ys) for ys in right) < ticks[0] and max(max(ys) for ys in right) > ticks[-1]
    plt.close(figure)


@pytest.mark.parametrize("venue", ["icml", "acl", "neurips"])
def test_generation_figures_pass_the_lint_at_venue_size(venue):
    """Audit of issue 21: the lint ran over the image figures at the three venues, never over the
    generation ones, and the gallery page was drawn at neurips only."""
    import matplotlib.pyplot as plt

    from attnfig.lint import figure_problems
    from conftest import gallery_script

    script = gallery_script("plot_generation.py")
    with attnfig.style(venue):
        figure = script["composite"](script["data"], venue)
        assert figure.get_size_inches()[0] == pytest.approx(attnfig.figsize(venue)[0])  # the column; height: its tokens
        assert figure_problems(figure) == []
        whole, generated = figure.subfigs[0].axes[:2]
        assert [c.get_label() for c in generated.collections if c.get_label() == "generated boundary"]
        assert sum(t.get_text() in ("P", "G") for ax in figure.subfigs[1].axes for t in ax.texts) == 4
        only = attnfig.head_view(script["data"], layer=1, heads=[0, 1], queries="generated",
                                 figsize=attnfig.figsize(venue))
        assert figure_problems(only) == []
    plt.close("all")


def test_merged_words_keep_the_generation_boundary():
    """Audit of issue 21: `merge_subwords=True` dropped `generated_start` unchanged onto the words
    (the boundary was drawn after the last word and queries="generated" refused, or, on longer
    inputs, took the wrong rows), and merged a generated piece into the prompt's last word."""
    import dataclasses

    import matplotlib.pyplot as plt

    from attnfig.input.data import merge_subword_tokens
    from conftest import random_attention

    tokens = ["the", "rab", "##bit", "hop", "##ped", "a", "##way", "and", "ran"]      # "##way" is generated
    data = dataclasses.replace(attnfig.as_attention(random_attention(1, 1, 9, causal=True), tokens), generated_start=6)
    merged = merge_subword_tokens(data)
    assert merged.generated_start == 4 and merged.tokens[3:5] == ("a", "##way")
    words = [[0], [1, 2], [3, 4], [5], [6], [7], [8]]
    keys = np.stack([data.weights[0, 0][:, w].sum(-1) for w in words], -1)             # keys summed
    expected = np.stack([keys[w].mean(0) for w in words[4:]])                          # queries averaged
    ax = attnfig.heatmap(data, head=0, merge_subwords=True, queries="generated", ax=plt.figure().subplots())
    np.testing.assert_allclose(ax.images[0].get_array().filled(0), expected, atol=1e-6)
    (boundary,) = [c for c in ax.collections if c.get_label() == "generated boundary"]
    assert [s[0][0] for s in boundary.get_segments()] == [3.5]
    figure = attnfig.head_view(data, layer=0, merge_subwords=True)
    ticks = figure.axes[0].get_yticks()                                               # one row per word
    left = {t.get_text(): t.get_position()[1] for t in figure.axes[0].texts if t.get_gid() == "sentence mark left"}
    assert len(ticks) == 7 and left["P"] < ticks[3] < ticks[4] < left["G"]
    plt.close("all")


@pytest.mark.parametrize("kind", ["lines", "heatmap"])
def test_model_view_marks_the_boundary_in_every_thumbnail(kind):
    """Audit of issue 21: "every view marks the prompt/generated boundary", but model_view drew none."""
    import matplotlib.pyplot as plt

    from attnfig.views.model_view import gap_pixels

    _, _, data, ids, prompt_length, _ = _generation("gpt2")
    figure = attnfig.model_view(data, kind=kind)
    ax = figure.axes[0]
    (marks,) = [c for c in ax.collections if c.get_label() == "generated boundary"]
    segments = np.array(marks.get_segments())
    n = ids.shape[1]
    across = segments[segments[:, 0, 1] == segments[:, 1, 1]]                      # horizontal: the rows' boundary
    assert len(across) == data.n_layers * data.n_heads
    assert len(segments) == (2 if kind == "heatmap" else 1) * len(across)
    if kind == "heatmap":  # on the mosaic's own pixels: between query prompt_length - 1 and prompt_length
        height = ax.images[0].get_array().shape[0]
        rows_per_unit = height / ax.images[0].get_extent()[2]
        pixel_rows = sorted({round(y * rows_per_unit, 6) for y in across[:, 0, 1]})
        assert pixel_rows == [layer * (n + gap_pixels(n)) + prompt_length for layer in range(data.n_layers)]
    else:  # between the line ends of the last prompt token and the first generated one, in each thumbnail
        first = sorted({y for y in across[:, 0, 1]})[0]
        assert (prompt_length - 0.5) / n < first < (prompt_length + 0.5) / n
    plt.close(figure)
