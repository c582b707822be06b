"""Checks of a saved model folder before anything loads it (no torch import).

A folder without tokenizer files would load a fallback tokenizer that turns every word into
``[UNK]``; a truncated ``.safetensors`` file fails deep inside the loader. Both are refused
here, with what is wrong and how to fix it.
"""
from __future__ import annotations

import json
import struct
from pathlib import Path

from ..errors import ModelFolderError

# Any one of these holds a vocabulary transformers can load (tokenizer.json, vocab.txt / .json,
# SentencePiece *.model / *.spm such as spiece.model or spm.model, BPE codes, tiktoken files).
TOKENIZER_FILES = ("tokenizer.json", "vocab*", "*.model", "*.spm", "merges.txt", "bpe.codes", "*.tiktoken")
# An image or audio model reads no words: its processor's settings stand in for a tokenizer.
PROCESSOR_FILES = ("preprocessor_config.json", "processor_config.json")
WEIGHT_PATTERNS = ("*.safetensors", "pytorch_model*.bin", "model*.bin")


def check_model_folder(folder) -> None:
    """Raise `ModelFolderError` unless `folder` holds a tokenizer (or, for an image or audio
    model, a processor) and complete weights.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp()); _ = (folder / "config.json").write_text("{}")
    >>> check_model_folder(folder)
    Traceback (most recent call last):
    ...
    attnfig.errors.ModelFolderError: ... has no tokenizer files ...
    """
    folder = Path(folder)
    if not any(path.is_file() for pattern in TOKENIZER_FILES + PROCESSOR_FILES for path in folder.glob(pattern)):
        raise ModelFolderError(
            f"The model folder {str(folder)!r} has no tokenizer files (one of {list(TOKENIZER_FILES)}): "
            "without them every word would become [UNK]. Save the tokenizer beside the model with "
            "`tokenizer.save_pretrained(folder)` (an image or audio model: `processor.save_pretrained(folder)`)."
        )
    weights = sorted({path for pattern in WEIGHT_PATTERNS for path in folder.glob(pattern)})
    if not weights:
        raise ModelFolderError(
            f"The model folder {str(folder)!r} has no weights file (model.safetensors or pytorch_model.bin). "
            "Save the model with `model.save_pretrained(folder)`."
        )
    for path in weights:
        if not path.is_file():
            raise ModelFolderError(f"{str(path)!r} is not a weights file (it is a folder or a special file): "
                                   "remove it, then save the model with `model.save_pretrained(folder)`.")
        if path.suffix == ".safetensors":
            check_safetensors(path)


def check_safetensors(path) -> None:
    """Raise `ModelFolderError` if the file is shorter than its own header says (truncated)."""
    path = Path(path)
    size = path.stat().st_size
    problem = None
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            problem = f"it has {size} bytes, fewer than a header"
        else:
            (header_length,) = struct.unpack("<Q", prefix)
            if 8 + header_length > size:
                problem = f"its header announces {header_length} bytes but the file has {size}"
            else:
                try:
                    header = json.loads(handle.read(header_length))
                    ends = [entry["data_offsets"][1] for name, entry in header.items() if name != "__metadata__"]
                except (ValueError, KeyError, TypeError, IndexError):
                    problem = "its header is not valid"
                else:
                    needed = 8 + header_length + max(ends, default=0)
                    if needed > size:
                        problem = f"it has {size} bytes but its tensors need {needed}"
    if problem:
        raise ModelFolderError(
            f"The weights file {str(path)!r} is truncated or damaged: {problem}. Copy or download it again."
        )
