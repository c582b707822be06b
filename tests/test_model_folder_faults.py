"""load_model on incomplete or hostile folders: a ModelFolderError from the API, one `error:` line
and exit status 2 from the CLI (issue #17, items 9 and 15)."""
from __future__ import annotations

import json
import os
import pickle
import shutil

import pytest

import attnfig
from attnfig.cli import main


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    from attnfig.testing import save_tiny_model

    root = tmp_path_factory.mktemp("folders")
    return save_tiny_model("bert", root / "bert"), save_tiny_model("gpt2", root / "gpt2"), root


def _rewrite_weights(folder, change):
    from safetensors.torch import load_file, save_file

    tensors = load_file(folder / "model.safetensors")
    change(tensors)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})


def _missing(folder, gpt2):
    _rewrite_weights(folder, lambda t: [t.pop(name) for name in sorted(t)[:10]])


def _unexpected(folder, gpt2):
    import torch

    _rewrite_weights(folder, lambda t: t.update({"encoder.layer.5.attention.self.query.weight": torch.zeros(2, 2)}))


def _gpt2_vocabulary(folder, gpt2):
    for path in folder.iterdir():
        if path.name.startswith(("vocab", "tokenizer")):
            path.unlink()
    for name in ("vocab.json", "merges.txt"):
        shutil.copy(gpt2 / name, folder / name)


def _config(folder, **values):
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, **values}))


class _RunsCode:
    def __reduce__(self):
        return (os.getpid, ())


def _pickle(folder, gpt2):
    (folder / "model.safetensors").unlink()
    (folder / "pytorch_model.bin").write_bytes(pickle.dumps(_RunsCode()))


def _weights_folder(folder, gpt2):
    (folder / "model.safetensors").unlink()
    (folder / "model.safetensors").mkdir()


def _vocabulary(words):
    def change(folder, gpt2):
        (folder / "tokenizer.json").unlink()
        lines = (folder / "vocab.txt").read_text().splitlines()
        (folder / "vocab.txt").write_text("".join(f"{w}\n" for w in words(lines)))
    return change


def _bert_vocabulary_in_gpt2(folder, gpt2):
    """A GPT-2 folder whose tokenizer files were replaced by BERT's vocab.txt (the folder under test is BERT's)."""
    bert_vocabulary = (folder / "vocab.txt").read_bytes()
    shutil.rmtree(folder)
    shutil.copytree(gpt2, folder)
    for path in folder.iterdir():
        if path.name.startswith(("vocab", "merges", "tokenizer")):
            path.unlink()
    (folder / "vocab.txt").write_bytes(bert_vocabulary)


DAMAGES = {
    "missing tensors": (_missing, r"lack 10 tensor\(s\) the model needs \(embeddings.*: they would be random"),
    "unexpected tensors": (_unexpected, r"hold 1 tensor\(s\) this model has no place for \(encoder.layer.5"),
    "GPT-2 vocabulary": (_gpt2_vocabulary, r"turns every word into \[UNK\] \(its vocabulary has 5 entries\)"),
    "BERT vocabulary in GPT-2": (_bert_vocabulary_in_gpt2, r"gives no token at all for common English words"),
    "no heads": (lambda f, g: _config(f, num_attention_heads=0), r"gives `num_attention_heads` 0: a model needs"),
    "pickle": (_pickle, r"are a pickle that holds more than tensors \(loading it could run code\)"),
    "weights folder": (_weights_folder, r"model.safetensors' is not a weights file \(it is a folder"),
    "ids past the embeddings": (_vocabulary(lambda words: words + [f"word{i}" for i in range(500)]),
                                r"has 6\d\d tokens, but the model has 1\d\d token embeddings"),
    "empty vocab.txt": (_vocabulary(lambda words: []), r"Cannot load the model in .*Missing \[UNK\] token"),
}


@pytest.fixture(params=list(DAMAGES))
def damaged(request, folders, tmp_path):
    bert, gpt2, _ = folders
    damage, message = DAMAGES[request.param]
    folder = tmp_path / "model"
    shutil.copytree(bert, folder)
    damage(folder, gpt2)
    return folder, message


def test_a_damaged_folder_is_a_model_folder_error(damaged):
    folder, message = damaged
    with pytest.raises(attnfig.ModelFolderError, match=message):
        attnfig.load_model(folder)


@pytest.mark.parametrize("which", ["missing tensors", "no heads", "pickle", "empty vocab.txt"])
def test_the_cli_gives_one_error_line_and_exit_2(capfd, folders, tmp_path, which):
    bert, gpt2, _ = folders
    folder = tmp_path / "model"
    shutil.copytree(bert, folder)
    DAMAGES[which][0](folder, gpt2)
    status = main(["plot", "--model", str(folder), "--text", "a cat", "--out", str(tmp_path / "x.pdf")])
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(lines) == 1 and lines[0].startswith("attnfig plot: error: "), lines
    assert "Traceback" not in lines[0] and not (tmp_path / "x.pdf").exists()


def test_a_complete_folder_still_loads(folders):
    bert, gpt2, _ = folders
    for folder in (bert, gpt2):
        model, tokenizer = attnfig.load_model(folder)
        assert model.config.num_attention_heads >= 1 and tokenizer.tokenize("the cat")
