"""Models spread over devices by accelerate (CPU offload, disk offload, a device map): every
recording path equals the same model undispatched."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import attnfig
from attnfig.errors import AttentionInputError

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
accelerate = pytest.importorskip("accelerate")
from attnfig.recording.devices import input_device, loaded_weight  # noqa: E402
from attnfig.testing import build_family_model, build_generation_model  # noqa: E402

TEXT = "the quick brown fox jumped over the lazy dog"
CORPUS = [TEXT, ("the rabbit quickly hopped", "the turtle slowly crawled")]
DECODER_CORPUS = [TEXT, "the rabbit quickly hopped and the turtle slowly crawled"]
FAMILIES = ("bert", "llama", "gpt2")  # llama: grouped-query (4 query heads read 2 key-value heads)
CPU = torch.device("cpu")


def split_device_map(model) -> dict:
    """Layers alternately kept on the CPU and on the disk, everything else on the CPU."""
    layers = next(name for name, module in model.named_modules()
                  if isinstance(module, torch.nn.ModuleList) and len(module) == model.config.num_hidden_layers)
    device_map = {}

    def place(module, prefix):
        for name, child in module.named_children():
            path = prefix + name
            if path == layers:
                device_map.update({f"{path}.{i}": "disk" if i % 2 else "cpu" for i in range(len(child))})
            elif layers.startswith(path + "."):
                place(child, path + ".")
            else:
                device_map[path] = "cpu"

    place(model, "")
    return device_map


def dispatched(model, how: str, folder):
    """A copy of `model` whose weights accelerate's hooks move in at forward time."""
    model = copy.deepcopy(model)
    if how == "cpu_offload":
        return accelerate.cpu_offload(model, execution_device=CPU)
    if how == "disk_offload":
        return accelerate.disk_offload(model, str(folder), execution_device=CPU)
    # "preloaded layers": each layer's hook loads the whole layer, so weights are in place during attention
    preload = model._no_split_modules if how == "preloaded layers" else None
    return accelerate.dispatch_model(model, device_map=split_device_map(model), offload_dir=str(folder),
                                     preload_module_classes=preload)


def results(model, tokenizer, corpus, *, every_summary: bool = False) -> dict:
    """What attnfig records from `model`: maps, norms and a streamed summary (all three with `every_summary`)."""
    found = {
        "capture": attnfig.capture(model, tokenizer, TEXT).weights,
        "capture pair": attnfig.capture(model, tokenizer, *CORPUS[1], layers=[1], heads=[0, 3]).weights,
        "from_model": attnfig.from_model(model, tokenizer, TEXT).weights,
        "attention_norms": attnfig.attention_norms(model, tokenizer, TEXT).weights,
        "head_entropy": attnfig.head_entropy(corpus, model=model, tokenizer=tokenizer),
    }
    if every_summary:
        texts = [item if isinstance(item, str) else item[0] for item in corpus]
        found["special_token_attention"] = attnfig.special_token_attention(texts, model=model, tokenizer=tokenizer)
        found["head_patterns"] = attnfig.head_patterns(corpus, model=model, tokenizer=tokenizer)
    return found


def assert_same(found: dict, expected: dict) -> None:
    for name, value in expected.items():
        if isinstance(value, dict):
            assert value.keys() == found[name].keys(), name
            for key in value:
                np.testing.assert_allclose(found[name][key], value[key], atol=1e-5, err_msg=f"{name} {key}")
        elif np.asarray(value).dtype.kind in "fc":
            np.testing.assert_allclose(found[name], value, atol=1e-5, err_msg=name)
        else:
            np.testing.assert_array_equal(found[name], value, err_msg=name)


@pytest.fixture(scope="module")
def undispatched():
    """{family: (model, tokenizer, corpus, results on the model as built)}."""
    built = {}
    for family in FAMILIES:
        model, tokenizer = build_family_model(family)
        corpus = CORPUS if family == "bert" else DECODER_CORPUS
        built[family] = model, tokenizer, corpus, results(model, tokenizer, corpus, every_summary=True)
    return built


@pytest.mark.parametrize("how", ["cpu_offload", "disk_offload", "device_map", "preloaded layers"])
@pytest.mark.parametrize("family", FAMILIES)
def test_every_recording_path_equals_the_undispatched_model(undispatched, family, how, tmp_path):
    model, tokenizer, corpus, expected = undispatched[family]
    spread = dispatched(model, how, tmp_path)
    offloaded = {name for name, weight in spread.named_parameters() if weight.device.type == "meta"}
    assert offloaded, "the test must run on weights that are not in the modules"
    if how != "cpu_offload":
        assert any(tmp_path.iterdir()), "weights written to the offload folder"
    assert expected["capture"].max() > 0.5 and expected["attention_norms"].max() > 0  # comparisons that can fail
    found = results(spread, tokenizer, corpus, every_summary=how == "device_map")
    assert_same(found, {name: value for name, value in expected.items() if name in found})
    # the weights read outside a forward (attention_norms' output projection) went back out
    assert {name for name, weight in spread.named_parameters() if weight.device.type == "meta"} == offloaded


@pytest.mark.real_model
def test_minilm_from_pretrained_with_a_device_map_and_an_offload_folder(minilm, tmp_path):
    from attnfig.recording.models import minilm_path

    model, tokenizer = minilm  # loaded with eager attention, on the CPU
    device_map = {"embeddings": "cpu", **{f"encoder.layer.{i}": "cpu" if i < 4 else "disk" for i in range(6)},
                  "pooler": "cpu"}
    spread = transformers.AutoModel.from_pretrained(minilm_path(), device_map=device_map, offload_folder=str(tmp_path),
                                                    attn_implementation="eager")
    assert spread.encoder.layer[5].attention.output.dense.weight.device.type == "meta"
    found, expected = ({
        "capture": attnfig.capture(m, tokenizer, *CORPUS[1], layers=[0, 5]).weights,
        "attention_norms": attnfig.attention_norms(m, tokenizer, TEXT, layers=[5]).weights,
        "neuron_view": attnfig.neuron_view(m, tokenizer, TEXT, layer=4, head=3, query=2).key_vectors,
    } for m in (spread, model))
    assert_same(found, expected)


def test_capture_generation_on_an_offloaded_model(tmp_path):
    model, tokenizer = build_generation_model("llama")
    expected = attnfig.capture_generation(model, tokenizer, "the rabbit", max_new_tokens=3)
    found = attnfig.capture_generation(dispatched(model, "disk_offload", tmp_path), tokenizer, "the rabbit",
                                       max_new_tokens=3)
    assert found.query_tokens == expected.query_tokens and found.generated_start == expected.generated_start
    np.testing.assert_allclose(found.weights, expected.weights, atol=1e-5)


def test_inputs_go_where_the_input_embedding_runs(undispatched):
    model = undispatched["gpt2"][0]
    spread = dispatched(model, "cpu_offload", None)
    assert next(spread.parameters()).device.type == "meta" and input_device(spread) == CPU
    assert input_device(model) == CPU


def test_a_model_with_no_weights_anywhere_is_refused():
    config = build_family_model("bert")[0].config
    tokenizer = build_family_model("bert")[1]
    with accelerate.init_empty_weights():
        empty = transformers.BertModel(config)
    for run in (attnfig.capture, attnfig.from_model, attnfig.attention_norms):
        with pytest.raises(AttentionInputError, match="'meta' device and no accelerate hook"):
            run(empty, tokenizer, TEXT)


def test_a_weight_no_hook_can_load_is_refused():
    with torch.device("meta"):
        layer = torch.nn.Linear(4, 4)
    with pytest.raises(AttentionInputError, match="no accelerate hook loads them"):
        with loaded_weight(layer, {}):
            pass


@pytest.mark.parametrize("family", ["falcon", "gpt-neo"])
def test_families_with_their_own_attention_path_under_disk_offload(family, tmp_path):
    # Falcon is read through forward hooks, GPT-Neo through its modules' `_attn`: both beside accelerate's hooks
    model, tokenizer = build_family_model(family)
    expected = attnfig.capture(model, tokenizer, TEXT).weights
    spread = dispatched(model, "disk_offload", tmp_path)
    np.testing.assert_allclose(attnfig.capture(spread, tokenizer, TEXT).weights, expected, atol=1e-5)
    np.testing.assert_allclose(attnfig.from_model(spread, tokenizer, TEXT).weights, expected, atol=1e-5)


@pytest.mark.real_model
def test_load_model_spreads_the_model_with_a_device_map(minilm, tmp_path):
    model, tokenizer = minilm
    spread, _ = attnfig.load_model("minilm", device_map={"embeddings": "cpu", "encoder": "disk", "pooler": "cpu"},
                                   offload_folder=tmp_path)
    assert spread.encoder.layer[0].attention.self.query.weight.device.type == "meta"
    assert spread.config._attn_implementation == "eager" and not spread.training
    np.testing.assert_allclose(attnfig.capture(spread, tokenizer, TEXT, layers=[5]).weights,
                               attnfig.capture(model, tokenizer, TEXT, layers=[5]).weights, atol=1e-5)


@pytest.mark.parametrize("options, message", [
    (dict(device_map=["cpu"]), "`device_map` must be"),
    (dict(device_map={"": "disk"}), "needs `offload_folder`"),
    (dict(offload_folder="offloaded"), "`offload_folder` needs a `device_map`"),
])
def test_load_model_refuses_a_placement_it_cannot_use(tiny_model_folders, options, message):
    with pytest.raises(attnfig.errors.ArgumentError, match=message):
        attnfig.load_model(tiny_model_folders["bert"], **options)
