"""The architecture matrix: every family a researcher opens, each result against a direct eager call.

Tiny random models (2 layers, 4 heads, weights re-drawn N(0, 0.25²)) from `attnfig.testing`,
built once per family and process.
"""
from __future__ import annotations

import copy
import functools
import inspect

import numpy as np
import pytest
from matplotlib.figure import Figure

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

import attnfig  # noqa: E402
from attnfig.summaries.entropy import uniform_row_entropy  # noqa: E402
from attnfig.testing import (  # noqa: E402
    DECODER_FAMILIES, FAMILIES, SEQ2SEQ_FAMILIES, SLIDING_WINDOW, VISION_FAMILIES, build_family_model,
)

TEXTS = ("the quick brown fox jumped over the lazy dog and the cat sat", "a cat sat")
DECODER_TEXT = "the cat sat on the mat"
CAUSAL_FAMILIES = DECODER_FAMILIES
AUDIO_SECONDS = 1


@functools.lru_cache(maxsize=None)
def family(name: str):
    return build_family_model(name)


def example_inputs(name: str) -> tuple:
    """Two inputs of the family's kind: texts, waveforms or images."""
    rng = np.random.default_rng(0)
    if name == "whisper":
        return tuple(rng.standard_normal(16000 * AUDIO_SECONDS // n).astype(np.float32) for n in (1, 2))
    if name == "vit":
        return tuple(rng.integers(0, 256, (32 + 8 * n, 32, 3)).astype(np.uint8) for n in (0, 1))
    return TEXTS


def run(name: str, model, processor, value):
    decoder_text = DECODER_TEXT if name in SEQ2SEQ_FAMILIES else None
    return attnfig.from_model(model, processor, value, decoder_text=decoder_text)


def parts(result) -> dict:
    """{name: AttentionData} of one result (encoder, decoder, cross for encoder-decoder models)."""
    if isinstance(result, attnfig.EncoderDecoderAttention):
        return {"encoder": result.encoder, "decoder": result.decoder, "cross": result.cross}
    return {"attentions": result}


def eager_reference(model):
    """A second model with the same weights, built with eager attention from the start."""
    config = copy.deepcopy(model.config)
    reference = type(model)._from_config(config, attn_implementation="eager")
    reference.load_state_dict(model.state_dict())
    for config in {id(m.config): m.config for m in reference.modules() if hasattr(m, "config")}.values():
        config._attn_implementation = "eager"  # Falcon ignores the keyword above
    return reference.eval()


def direct_eager_call(name: str, model, processor, value) -> dict:
    """The model's own attention from a hand-written call: {part: [layers, heads, q, k]}."""
    reference = eager_reference(model)
    if name == "vit":
        inputs = {"pixel_values": processor(images=value, return_tensors="pt")["pixel_values"]}
    elif name == "whisper":
        features = processor.feature_extractor(value, sampling_rate=16000, return_tensors="pt")["input_features"]
        ids = processor.tokenizer(DECODER_TEXT, add_special_tokens=False)["input_ids"]
        inputs = {"input_features": features,
                  "decoder_input_ids": torch.tensor([[model.config.decoder_start_token_id, *ids]])}
    else:
        encoded = processor(value, return_tensors="pt")
        accepted = inspect.signature(reference.forward).parameters
        inputs = {key: tensor for key, tensor in encoded.items() if key in accepted}
        if name in SEQ2SEQ_FAMILIES:
            inputs["decoder_input_ids"] = processor(DECODER_TEXT, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        outputs = reference(**inputs, output_attentions=True)
    stack = lambda layers: torch.stack([layer[0] for layer in layers]).float().numpy()  # noqa: E731
    if name in SEQ2SEQ_FAMILIES:
        return {"encoder": stack(outputs.encoder_attentions), "decoder": stack(outputs.decoder_attentions),
                "cross": stack(outputs.cross_attentions)}
    return {"attentions": stack(outputs.attentions)}


@pytest.mark.parametrize("name", FAMILIES)
def test_from_model_equals_a_direct_eager_call(name):
    model, processor = family(name)
    value = example_inputs(name)[0]
    expected = direct_eager_call(name, model, processor, value)
    got = parts(run(name, model, processor, value))
    assert got.keys() == expected.keys()
    for part, weights in expected.items():
        np.testing.assert_allclose(got[part].weights, weights, atol=1e-5, err_msg=f"{name} {part}")
        peak_over_uniform = weights.max(axis=-1) * weights.shape[-1]
        assert peak_over_uniform.mean() > 1.5, "attention too close to uniform to test anything"


@pytest.mark.parametrize("name", FAMILIES)
def test_causal_attention_is_detected_and_its_reference_counts_the_visible_keys(name):
    model, processor = family(name)
    result = parts(run(name, model, processor, example_inputs(name)[0]))
    self_attention = result.get("decoder", result.get("attentions"))
    causal = name in CAUSAL_FAMILIES or name in SEQ2SEQ_FAMILIES
    assert self_attention.is_causal == causal
    if "encoder" in result:
        assert not result["encoder"].is_causal and not result["cross"].is_causal
    if causal:
        # The uniform reference sees exactly the keys the model's own mask leaves open.
        visible = (self_attention.weights > 0).sum(axis=-1).max(axis=1)
        np.testing.assert_array_equal(np.exp(uniform_row_entropy(self_attention)).round(), visible)


@pytest.mark.parametrize("name", ["mistral", "gemma2", "gpt-neo"])
def test_sliding_window_layers_lower_the_uniform_entropy(name):
    model, processor = family(name)
    data = attnfig.from_model(model, processor, TEXTS[0])
    assert SLIDING_WINDOW in data.layer_windows
    seen = np.arange(1, len(data.tokens) + 1)
    for layer, window in enumerate(data.layer_windows):
        expected = np.log(np.minimum(seen, window or len(seen))).mean()
        assert attnfig.uniform_entropy(data.select(layers=[layer])) == pytest.approx(expected)
    assert data.select(layers=[1]).layer_windows == data.layer_windows[1:]


@pytest.mark.parametrize("name", FAMILIES)
def test_every_view_renders(name):
    model, processor = family(name)
    result = run(name, model, processor, example_inputs(name)[0])
    head = attnfig.head_view(result)
    grid = attnfig.model_view(result, kind="heatmap")
    thumbnails = attnfig.model_view(result)
    panels = 3 if name in SEQ2SEQ_FAMILIES else 1
    assert isinstance(head, Figure) and sum(1 for ax in head.axes if ax.collections) == panels
    assert sum(len(ax.images) for ax in grid.axes) == panels  # one mosaic image per part
    # thumbnails of long parts are drawn as the ink of their lines (one image, see views.density)
    assert sum(1 for ax in thumbnails.axes if ax.collections or ax.images) == panels
    first = parts(result)["decoder" if name in SEQ2SEQ_FAMILIES else "attentions"]
    import matplotlib.pyplot as plt

    ax = attnfig.heatmap(first, layer=1, head=0, ax=plt.figure().subplots())  # not the last view's Axes
    np.testing.assert_allclose(ax.images[0].get_array().filled(0), first.weights[1, 0], atol=1e-6)
    assert attnfig.plot_head_entropy(first).images


@pytest.mark.parametrize("name", FAMILIES)
def test_a_padded_batch_equals_single_runs(name):
    model, processor = family(name)
    inputs = example_inputs(name)
    decoder_text = [DECODER_TEXT, "a dog"] if name in SEQ2SEQ_FAMILIES else None
    batch = attnfig.from_model(model, processor, list(inputs), decoder_text=decoder_text)
    assert isinstance(batch, list) and len(batch) == 2
    for index, value in enumerate(inputs):
        single = attnfig.from_model(model, processor, value, decoder_text=decoder_text[index] if decoder_text else None)
        for part, data in parts(single).items():
            batched = parts(batch[index])[part]
            assert batched.tokens == data.tokens
            np.testing.assert_allclose(batched.weights, data.weights, atol=1e-5, err_msg=f"{name} item {index} {part}")


@pytest.mark.parametrize("name", FAMILIES)
def test_bf16_models_give_float32_attention_close_to_the_float32_run(name):
    model, processor = family(name)
    value = example_inputs(name)[0]
    low = copy.deepcopy(model).to(torch.bfloat16)
    result = parts(run(name, low, processor, value))
    exact = parts(run(name, model, processor, value))
    for part, data in result.items():
        assert data.weights.dtype == np.float32
        assert data.is_causal == exact[part].is_causal
        assert np.abs(data.weights - exact[part].weights).mean() < 0.02, f"{name} {part}"


@pytest.mark.parametrize("name", FAMILIES)
def test_training_mode_and_attention_implementation_are_restored(name):
    model, processor = family(name)
    value = example_inputs(name)[0]
    trained = copy.deepcopy(model).train()  # dropout on (attention_dropout=0.1)
    next(trained.children()).eval()  # mixed modes come back as they were
    modes = {module_name: module.training for module_name, module in trained.named_modules()}
    implementations = {type(m).__name__: m.config._attn_implementation for m in trained.modules() if hasattr(m, "config")}
    result = parts(run(name, trained, processor, value))
    exact = parts(run(name, model, processor, value))
    for part, data in result.items():
        np.testing.assert_allclose(data.weights, exact[part].weights, atol=1e-6)
    assert {module_name: module.training for module_name, module in trained.named_modules()} == modes
    assert {type(m).__name__: m.config._attn_implementation for m in trained.modules() if hasattr(m, "config")} == implementations


def test_falcon_stays_on_sdpa_when_asked_and_is_switched_all_the_same():
    model, processor = family("falcon")
    model.set_attn_implementation("eager")  # transformers 5: only a warning, still sdpa
    assert model.config._attn_implementation == "sdpa"
    data = attnfig.from_model(model, processor, TEXTS[0])
    future = np.triu(np.ones((len(data.tokens),) * 2, dtype=bool), 1)
    assert data.is_causal and not data.weights[..., future].any()
    assert model.config._attn_implementation == "sdpa"


def test_a_causal_model_whose_mask_was_ignored_raises(monkeypatch):
    import contextlib

    from attnfig.recording import runtime

    model, processor = family("falcon")
    monkeypatch.setattr(runtime, "eager_attention", lambda model: contextlib.nullcontext())
    with pytest.raises(attnfig.AttentionInputError, match="ignored the causal mask.*attn_implementation=\"eager\""):
        attnfig.from_model(model, processor, TEXTS[0])


def test_a_model_that_cannot_switch_to_eager_raises(monkeypatch):
    from attnfig.recording import runtime

    model, processor = family("bert")
    monkeypatch.setattr(runtime, "attention_implementations", lambda model: {"sdpa"})
    with pytest.raises(attnfig.AttentionInputError, match="could not be switched to eager"):
        attnfig.from_model(model, processor, TEXTS[0])
    assert model.config._attn_implementation == "sdpa"


@pytest.mark.parametrize("name", VISION_FAMILIES + ("whisper",))
def test_non_text_positions_are_labelled_by_patch_or_time(name):
    model, processor = family(name)
    result = run(name, model, processor, example_inputs(name)[0])
    if name == "vit":
        assert result.tokens[:3] == ("[CLS]", "(0,0)", "(0,1)") and result.tokens[-1] == "(3,3)"
    else:
        assert result.encoder.tokens[:3] == ("0.00s", "0.02s", "0.04s")
        assert result.cross.key_tokens == result.encoder.tokens


@pytest.mark.parametrize(
    "name, value, match",
    [
        ("vit", "a photo of a cat", "reads images.*image processor"),
        ("whisper", "hello", "reads audio.*waveform"),
        ("whisper", np.zeros((3, 4, 5)), "1-D waveform or input_features"),
        ("vit", np.zeros((2, 32, 32, 3), dtype=np.uint8), "2 images; pass them as a list"),
    ],
)
def test_non_text_models_say_what_to_pass(name, value, match):
    model, processor = family(name)
    with pytest.raises(attnfig.AttentionInputError, match=match):
        attnfig.from_model(model, processor, value)


def test_whisper_takes_input_features_without_a_processor():
    model, processor = family("whisper")
    waveform = example_inputs("whisper")[0]
    features = processor.feature_extractor(waveform, sampling_rate=16000, return_tensors="np")["input_features"][0]
    direct = attnfig.from_model(model, None, features)
    via_processor = attnfig.from_model(model, processor, waveform)
    np.testing.assert_allclose(direct.encoder.weights, via_processor.encoder.weights, atol=1e-6)


def test_attention_from_a_model_in_training_mode_points_to_eval():
    model, tokenizer = family("bert")
    trained = copy.deepcopy(model).train()
    reference = eager_reference(trained).train()
    torch.manual_seed(0)
    outputs = reference(**tokenizer(TEXTS[0], return_tensors="pt"), output_attentions=True)
    with pytest.raises(attnfig.AttentionInputError, match=r"training mode.*call `model\.eval\(\)`"):
        attnfig.as_attention(outputs.attentions)


def encoder_decoder_attention():
    uniform = attnfig.as_attention(np.full((1, 2, 3, 3), 1 / 3), ["a", "b", "c"])
    return attnfig.EncoderDecoderAttention(encoder=uniform, decoder=uniform, cross=uniform)


def test_as_attention_points_an_encoder_decoder_result_to_the_views_or_its_parts():
    with pytest.raises(attnfig.AttentionInputError, match=r"EncoderDecoderAttention.*`\.encoder`, `\.decoder` or `\.cross`"):
        attnfig.as_attention(encoder_decoder_attention())


def test_an_encoder_decoder_result_and_its_parts_together_are_rejected():
    result = encoder_decoder_attention()
    with pytest.raises(attnfig.AttentionInputError, match="already an EncoderDecoderAttention"):
        attnfig.head_view(result, encoder_attention=result.encoder)


NO_NEURON_VIEW = {"deberta-v2": "DeBERTa", "mpnet": "MPNet", "bloom": "ALiBi"}  # extra score terms


@pytest.mark.parametrize("name", [f for f in FAMILIES if f not in SEQ2SEQ_FAMILIES + VISION_FAMILIES])
def test_neuron_view_equals_the_attention_row_or_names_what_it_cannot_show(name):
    # The README's table of families; neuron_view itself is tested in test_capture.py.
    model, tokenizer = family(name)
    if name in NO_NEURON_VIEW:
        with pytest.raises(attnfig.AttentionInputError, match=NO_NEURON_VIEW[name]):
            attnfig.neuron_view(model, tokenizer, TEXTS[0], layer=1, head=1, query=3)
        return
    view = attnfig.neuron_view(model, tokenizer, TEXTS[0], layer=1, head=1, query=3)
    data = attnfig.from_model(model, tokenizer, TEXTS[0])
    np.testing.assert_allclose(view.weights, data.weights[1, 1, 3], atol=1e-5)
