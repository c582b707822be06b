"""Tiny random transformers models, built from configs, for tests and offline examples.

Nothing is downloaded: the weights are random (seeded) and the tokenizers are built from
vocabularies written here. They show the shapes and the plumbing, not real attention.

>>> # folder = attnfig.testing.save_tiny_model("gpt2", "/tmp/tiny-gpt2")
>>> # model, tokenizer = attnfig.load_model(folder)
"""
from __future__ import annotations

import json
from pathlib import Path

KINDS = ("bert", "gpt2", "bart")
_WORDS = (
    "the a rabbit turtle quick slow hop crawl cat dog sat on mat and is was it to of in "
    "that he she they ran over lazy fox brown jumped attention model layer head token"
).split()
_TRAINING_TEXT = [
    "the rabbit quickly hopped",
    "The turtle slowly crawled",
    "the quick brown fox jumped over the lazy dog",
    "the cat sat on the mat and it was happy",
    "attention heads in every layer look at each token",
    "She said that they ran to the park, then home.",
]
_BPE_SPECIALS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>", "<|endoftext|>"]


def _wordpiece_vocab() -> list[str]:
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    punctuation = list(".,;:!?'\"-()")
    suffixes = ["##" + s for s in letters + ["ly", "ed", "ped", "led", "ing", "s"]]
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters + punctuation + list(_WORDS) + suffixes


def _write_bpe_tokenizer_files(folder: Path) -> None:
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_TRAINING_TEXT * 4, vocab_size=400, min_frequency=1, special_tokens=_BPE_SPECIALS, show_progress=False)
    bpe.save_model(str(folder))  # vocab.json and merges.txt, as GPT-2 and BART read them


def build_tiny_model(kind: str, folder: str | Path, *, layers: int = 2, heads: int = 4, seed: int = 0):
    """Return ``(model, tokenizer)`` of a tiny random `kind` model ("bert", "gpt2", "bart").

    The tokenizer's vocabulary files are written into `folder` and read back from there
    (``from_pretrained`` reads them the same way in transformers 4 and 5).
    """
    import torch
    import transformers as tf

    if kind not in KINDS:
        raise ValueError(f"The value for `kind` must be one of {list(KINDS)}, but {kind!r} was passed.")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    hidden = 8 * heads
    if kind == "bert":
        vocab_file = folder / "vocab.txt"
        vocab_file.write_text("\n".join(_wordpiece_vocab()) + "\n", encoding="utf-8")
        tokenizer = tf.BertTokenizerFast.from_pretrained(str(folder), do_lower_case=True)
        config = tf.BertConfig(
            vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
            num_attention_heads=heads, intermediate_size=2 * hidden, max_position_embeddings=128,
        )
        model = tf.BertModel(config)
    else:
        _write_bpe_tokenizer_files(folder)
        if kind == "gpt2":
            tokenizer = tf.GPT2TokenizerFast.from_pretrained(str(folder))
            config = tf.GPT2Config(
                vocab_size=len(tokenizer), n_embd=hidden, n_layer=layers, n_head=heads, n_positions=128,
                bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            )
            model = tf.GPT2Model(config)
        else:
            tokenizer = tf.BartTokenizerFast.from_pretrained(str(folder))
            config = tf.BartConfig(
                vocab_size=len(tokenizer), d_model=hidden, encoder_layers=layers, decoder_layers=layers,
                encoder_attention_heads=heads, decoder_attention_heads=heads,
                encoder_ffn_dim=2 * hidden, decoder_ffn_dim=2 * hidden, max_position_embeddings=128,
                pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                eos_token_id=tokenizer.eos_token_id, decoder_start_token_id=tokenizer.eos_token_id,
            )
            model = tf.BartForConditionalGeneration(config)
    model.eval()
    return model, tokenizer


def save_tiny_model(kind: str, folder: str | Path, **options) -> Path:
    """Build a tiny random `kind` model and save it with its tokenizer to `folder`."""
    folder = Path(folder)
    model, tokenizer = build_tiny_model(kind, folder, **options)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "attnfig-tiny.json").write_text(json.dumps({"kind": kind, **options}), encoding="utf-8")
    return folder


def render_pdf_page(path, dpi: float):
    """The first page of a PDF rendered with pdfium at `dpi`, as an RGB uint8 array.

    The page is mapped with the exact scale ``dpi / 72`` onto a bitmap of the page's size
    rounded to whole pixels. (`PdfPage.render(scale=)` sizes the bitmap with a ceiling of
    a float32 product, often one pixel too many, and stretches the page to fill it.)
    """
    import numpy as np
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    page = pdfium.PdfDocument(str(path))[0]
    scale = dpi / 72
    width, height = (round(side * scale) for side in page.get_size())
    bitmap = pdfium.PdfBitmap.new_native(width, height, raw.FPDFBitmap_BGRA)
    bitmap.fill_rect((255, 255, 255, 255), 0, 0, width, height)
    raw.FPDF_RenderPageBitmapWithMatrix(bitmap.raw, page.raw, raw.FS_MATRIX(scale, 0, 0, scale, 0, 0),
                                        raw.FS_RECTF(0, 0, width, height), raw.FPDF_ANNOT)
    return np.asarray(bitmap.to_pil().convert("RGB"))


def png_pdf_disagreement(png_path, pdf_path, dpi: float, tolerance: int = 8) -> float:
    """Share of pixels where the PNG and the PDF rendered at `dpi` differ by more than
    `tolerance` (of 255) in any channel; 1.0 when their sizes differ."""
    import numpy as np
    from PIL import Image

    png = np.asarray(Image.open(png_path).convert("RGB"), dtype=np.int16)
    pdf = render_pdf_page(pdf_path, dpi).astype(np.int16)
    if png.shape != pdf.shape:
        return 1.0
    return float((np.abs(png - pdf).max(-1) > tolerance).mean())
