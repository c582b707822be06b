"""Shared fixtures: default rcParams per test, tiny random models built offline, the real model."""
from __future__ import annotations

import functools
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import matplotlib  # noqa: E402  (the root conftest.py selects the Agg backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

SEED_TEXT = "the rabbit quickly hopped"
SEED_PAIR = "The turtle slowly crawled"


@pytest.fixture(autouse=True)
def _default_rc():
    with matplotlib.rc_context():
        matplotlib.style.use("default")
        yield


def random_attention(layers=2, heads=3, tokens=5, seed=0, causal=False):
    """Softmax rows of random scores, shaped [layers, heads, q, k]."""
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((layers, heads, tokens, tokens)) * 3
    if causal:
        scores = np.where(np.triu(np.ones((tokens, tokens), bool), 1), -np.inf, scores)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    return (weights / weights.sum(-1, keepdims=True)).astype(np.float32)


@functools.lru_cache(maxsize=None)
def gallery_script(name: str) -> dict:
    """The globals of gallery/`name` (its data and its ``composite(data, venue)``), run without writing any file."""
    import runpy
    import sys
    from pathlib import Path

    import matplotlib.pyplot as plt

    gallery = Path(__file__).resolve().parents[1] / "gallery"
    saved = {key: os.environ.get(key) for key in ("ATTNFIG_GALLERY_FILES", "ATTNFIG_GALLERY_PREVIEWS")}
    os.environ.update(dict.fromkeys(saved, "0"))
    sys.path.insert(0, str(gallery))
    try:
        script = runpy.run_path(str(gallery / name))
        from _seed import FIGURES

        for figure in FIGURES:  # the one publish() saw
            plt.close(figure)
        FIGURES.clear()
        return script
    finally:
        sys.path.remove(str(gallery))
        for key, value in saved.items():
            os.environ.pop(key) if value is None else os.environ.__setitem__(key, value)


@pytest.fixture(scope="session")
def tiny_model_folders(tmp_path_factory):
    """Saved tiny random BERT, GPT-2 and BART models: {kind: folder}."""
    from attnfig.testing import KINDS, save_tiny_model

    root = tmp_path_factory.mktemp("tiny-models")
    return {kind: save_tiny_model(kind, root / kind) for kind in KINDS}


@pytest.fixture(scope="session")
def tiny_models(tiny_model_folders):
    """Loaded tiny models: {kind: (model, tokenizer)}."""
    from attnfig import load_model

    return {kind: load_model(folder) for kind, folder in tiny_model_folders.items()}


@pytest.fixture(scope="session")
def minilm():
    """The real pretrained all-MiniLM-L6-v2 model and tokenizer."""
    from attnfig import load_model

    return load_model("minilm")


@pytest.fixture(scope="session")
def seed_attention(minilm):
    """The seed sentence pair through the real MiniLM model."""
    from attnfig import from_model

    model, tokenizer = minilm
    return from_model(model, tokenizer, SEED_TEXT, SEED_PAIR)
