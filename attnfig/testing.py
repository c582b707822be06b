"""Tiny random transformers models, built from configs, for tests and offline examples.

Nothing is downloaded: the weights are random (seeded) and the tokenizers are built from
vocabularies written here. They show the shapes and the plumbing, not real attention.
`build_family_model` gives one model per family in `FAMILIES` (BERT to Whisper and ViT),
weights re-drawn far from uniform; `build_tiny_model` and `save_tiny_model` write BERT,
GPT-2 and BART models to a folder.

>>> # folder = attnfig.testing.save_tiny_model("gpt2", "/tmp/tiny-gpt2")
>>> # model, tokenizer = attnfig.load_model(folder)
"""
from __future__ import annotations

import functools
import json
import tempfile
from pathlib import Path
from typing import Any

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
    """Each entry once, so that its line number is its id and ``len(tokenizer)`` (the models'
    `vocab_size`) covers every id the tokenizer gives."""
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    punctuation = list(".,;:!?'\"-()")
    suffixes = ["##" + s for s in letters + ["ly", "ed", "ped", "led", "ing"]]
    entries = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + letters + punctuation + list(_WORDS) + suffixes
    return list(dict.fromkeys(entries))  # "a" is a letter and a word


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
    config: Any  # each kind's own config and model classes
    model: Any
    if kind == "bert":
        vocab_file = folder / "vocab.txt"
        vocab_file.write_text("\n".join(_wordpiece_vocab()) + "\n", encoding="utf-8")
        tokenizer = tf.BertTokenizerFast.from_pretrained(str(folder), do_lower_case=True)  # type: ignore[attr-defined]  # transformers 5: a runtime alias the stubs lack
        config = tf.BertConfig(
            vocab_size=len(tokenizer), hidden_size=hidden, num_hidden_layers=layers,
            num_attention_heads=heads, intermediate_size=2 * hidden, max_position_embeddings=128,
        )
        model = tf.BertModel(config)
    else:
        _write_bpe_tokenizer_files(folder)
        if kind == "gpt2":
            tokenizer = tf.GPT2TokenizerFast.from_pretrained(str(folder))  # type: ignore[attr-defined]  # transformers 5: a runtime alias the stubs lack
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
    from .recording.runtime import quiet_transformers

    folder = Path(folder)
    model, tokenizer = build_tiny_model(kind, folder, **options)
    with quiet_transformers():  # no progress bar while writing the shards
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
    (folder / "attnfig-tiny.json").write_text(json.dumps({"kind": kind, **options}), encoding="utf-8")
    return folder


# --- one tiny random model per architecture family ---------------------------------------

FAMILIES = (
    "bert", "roberta", "distilbert", "albert", "electra", "deberta-v2", "xlm-roberta", "mpnet",
    "gpt2", "gpt-neo", "gpt-neox", "opt", "bloom", "falcon", "llama", "mistral", "qwen2", "gemma",
    "gemma2", "phi", "clip-text",
    "t5", "bart", "mbart", "pegasus", "marian", "whisper",
    "vit",
)
ENCODER_FAMILIES = FAMILIES[:8]
DECODER_FAMILIES = FAMILIES[8:21]
SEQ2SEQ_FAMILIES = FAMILIES[21:27]
VISION_FAMILIES = FAMILIES[27:]
SLIDING_WINDOW = 4  # shorter than the test sentences: the window really cuts
_HIDDEN, _HEADS, _LAYERS = 32, 4, 2

# family: (model class, config class, tokenizer, config keywords). Sizes: 2 layers, 4 heads of 8.
_ENCODER = dict(hidden_size=_HIDDEN, num_hidden_layers=_LAYERS, num_attention_heads=_HEADS, intermediate_size=64,
                max_position_embeddings=64)
_ROTARY = dict(hidden_size=_HIDDEN, num_hidden_layers=_LAYERS, num_attention_heads=_HEADS, intermediate_size=64,
               max_position_embeddings=64)
_SEQ2SEQ = dict(d_model=_HIDDEN, encoder_layers=_LAYERS, decoder_layers=_LAYERS, encoder_attention_heads=_HEADS,
                decoder_attention_heads=_HEADS, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64)
_FAMILY_SPECS: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "bert": ("BertModel", "BertConfig", "wordpiece", _ENCODER),
    "roberta": ("RobertaModel", "RobertaConfig", "roberta", dict(_ENCODER, type_vocab_size=1)),
    "distilbert": ("DistilBertModel", "DistilBertConfig", "wordpiece",
                   dict(dim=_HIDDEN, n_layers=_LAYERS, n_heads=_HEADS, hidden_dim=64, max_position_embeddings=64)),
    "albert": ("AlbertModel", "AlbertConfig", "wordpiece", dict(_ENCODER, embedding_size=16)),
    "electra": ("ElectraModel", "ElectraConfig", "wordpiece", dict(_ENCODER, embedding_size=16)),
    "deberta-v2": ("DebertaV2Model", "DebertaV2Config", "wordpiece",
                   dict(_ENCODER, relative_attention=True, position_buckets=8, max_relative_positions=16,
                        pos_att_type=["p2c", "c2p"])),
    "xlm-roberta": ("XLMRobertaModel", "XLMRobertaConfig", "roberta", dict(_ENCODER, type_vocab_size=1)),
    "mpnet": ("MPNetModel", "MPNetConfig", "wordpiece", _ENCODER),  # MPNet hard-codes 32 buckets
    "gpt2": ("GPT2Model", "GPT2Config", "bpe", dict(n_embd=_HIDDEN, n_layer=_LAYERS, n_head=_HEADS, n_positions=64)),
    "gpt-neo": ("GPTNeoModel", "GPTNeoConfig", "bpe",
                dict(hidden_size=_HIDDEN, num_layers=_LAYERS, num_heads=_HEADS, max_position_embeddings=64,
                     attention_types=[[["global", "local"], 1]], window_size=SLIDING_WINDOW)),
    "gpt-neox": ("GPTNeoXModel", "GPTNeoXConfig", "bpe", _ROTARY),
    "opt": ("OPTModel", "OPTConfig", "bpe",
            dict(hidden_size=_HIDDEN, num_hidden_layers=_LAYERS, num_attention_heads=_HEADS, ffn_dim=64,
                 max_position_embeddings=64, word_embed_proj_dim=_HIDDEN)),
    "bloom": ("BloomModel", "BloomConfig", "bpe", dict(hidden_size=_HIDDEN, n_layer=_LAYERS, n_head=_HEADS)),
    "falcon": ("FalconModel", "FalconConfig", "bpe",
               dict(hidden_size=_HIDDEN, num_hidden_layers=_LAYERS, num_attention_heads=_HEADS)),
    "llama": ("LlamaModel", "LlamaConfig", "bpe", dict(_ROTARY, num_key_value_heads=2)),
    "mistral": ("MistralModel", "MistralConfig", "bpe",
                dict(_ROTARY, num_key_value_heads=2, sliding_window=SLIDING_WINDOW)),
    "qwen2": ("Qwen2Model", "Qwen2Config", "bpe", dict(_ROTARY, num_key_value_heads=2)),
    "gemma": ("GemmaModel", "GemmaConfig", "bpe", dict(_ROTARY, num_key_value_heads=2, head_dim=8)),
    "gemma2": ("Gemma2Model", "Gemma2Config", "bpe",
               dict(_ROTARY, num_key_value_heads=2, head_dim=8, query_pre_attn_scalar=8,
                    sliding_window=SLIDING_WINDOW, layer_types=["sliding_attention", "full_attention"])),
    "phi": ("PhiModel", "PhiConfig", "bpe", _ROTARY),
    "clip-text": ("CLIPTextModel", "CLIPTextConfig", "bpe", dict(_ENCODER, projection_dim=_HIDDEN)),
    "t5": ("T5Model", "T5Config", "seq2seq",
           dict(d_model=_HIDDEN, d_kv=8, d_ff=64, num_layers=_LAYERS, num_heads=_HEADS,
                relative_attention_num_buckets=8)),
    "bart": ("BartModel", "BartConfig", "seq2seq", _SEQ2SEQ),
    "mbart": ("MBartModel", "MBartConfig", "seq2seq", _SEQ2SEQ),
    "pegasus": ("PegasusModel", "PegasusConfig", "seq2seq", _SEQ2SEQ),
    "marian": ("MarianModel", "MarianConfig", "seq2seq", _SEQ2SEQ),
    "whisper": ("WhisperModel", "WhisperConfig", "whisper",
                dict(_SEQ2SEQ, num_mel_bins=16, max_source_positions=50, max_target_positions=64)),
    "vit": ("ViTModel", "ViTConfig", "image",
            dict(_ENCODER, image_size=32, patch_size=8, num_channels=3)),
    # Vision transformers with more than one prefix token (not in the FAMILIES matrix).
    "deit": ("DeiTModel", "DeiTConfig", "image",
             dict(_ENCODER, image_size=32, patch_size=8, num_channels=3)),
    "dinov2-registers": ("Dinov2WithRegistersModel", "Dinov2WithRegistersConfig", "image",
                         dict(hidden_size=_HIDDEN, num_hidden_layers=_LAYERS, num_attention_heads=_HEADS, mlp_ratio=2,
                              image_size=32, patch_size=8, num_channels=3, num_register_tokens=2)),
}
# Built by `build_family_model` too: vision models whose prefix is [CLS] plus other tokens.
PREFIX_VISION_FAMILIES = ("deit", "dinov2-registers")
_CAUSAL_TOKENIZERS = ("bpe",)


@functools.lru_cache(maxsize=None)
def _tokenizer_folder(kind: str) -> Path:
    """Vocabulary files for `kind` ("wordpiece" or "bpe"), written once per process."""
    folder = Path(tempfile.mkdtemp(prefix=f"attnfig-{kind}-"))
    if kind == "wordpiece":
        (folder / "vocab.txt").write_text("\n".join(_wordpiece_vocab()) + "\n", encoding="utf-8")
    else:
        _write_bpe_tokenizer_files(folder)
    return folder


def _family_tokenizer(kind: str):
    import transformers as tf

    if kind == "wordpiece":
        return tf.BertTokenizerFast.from_pretrained(str(_tokenizer_folder("wordpiece")), do_lower_case=True)  # type: ignore[attr-defined]  # transformers 5: a runtime alias the stubs lack
    if kind == "image":
        # transformers 5 names the PIL (no torchvision) processor ViTImageProcessorPil; 4.x's is PIL.
        processor = getattr(tf, "ViTImageProcessorPil", None) or tf.ViTImageProcessor
        return processor(size={"height": 32, "width": 32})
    folder = str(_tokenizer_folder("bpe"))
    if kind == "roberta":  # RobertaTokenizerFast is the same class from 5.18; before, it fails on these files
        return tf.RobertaTokenizer.from_pretrained(folder)
    if kind == "seq2seq":
        return tf.BartTokenizerFast.from_pretrained(folder)
    if kind == "whisper":
        features = tf.WhisperFeatureExtractor(feature_size=16, chunk_length=1)  # 100 frames: 50 encoder positions
        return tf.WhisperProcessor(feature_extractor=features, tokenizer=tf.WhisperTokenizerFast.from_pretrained(folder, pad_token="<pad>"))  # type: ignore[attr-defined]  # transformers 5: a runtime alias the stubs lack
    tokenizer = tf.GPT2TokenizerFast.from_pretrained(folder, pad_token="<pad>", padding_side="left")  # type: ignore[attr-defined]  # transformers 5: a runtime alias the stubs lack
    return tokenizer  # decoder-only models pad on the left, the hard case for absolute positions


def redraw_weights(model, *, std: float = 0.25, seed: int = 0):
    """Re-draw every weight matrix of `model` from N(0, std²) so attention is far from uniform.

    Norm scales and biases keep their values. Returns the model.
    """
    import torch

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.dim() >= 2 and parameter.is_floating_point():
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * std)
    return model


def build_family_model(family: str, *, seed: int = 0, **config_overrides):
    """Return ``(model, tokenizer_or_processor)``: a tiny random `family` model in eval mode.

    2 layers and 4 heads (2 key-value heads where the family groups queries), weights re-drawn
    from N(0, 0.25²) so attention is far from uniform. Decoder-only tokenizers pad on the left;
    Whisper gets a `WhisperProcessor` (1-second clips), ViT a `ViTImageProcessor` (32 x 32).
    `config_overrides` go to the family's config class.

    >>> model, tokenizer = build_family_model("llama", num_hidden_layers=1)
    >>> type(model).__name__, model.config.num_key_value_heads, model.training
    ('LlamaModel', 2, False)
    """
    import transformers as tf

    if family not in _FAMILY_SPECS:
        raise ValueError(f"The value for `family` must be one of {list(FAMILIES)}, but {family!r} was passed.")
    model_class, config_class, tokenizer_kind, defaults = _FAMILY_SPECS[family]
    tokenizer = _family_tokenizer(tokenizer_kind)
    options = dict(defaults, attention_dropout=0.1)  # dropout on: eval() must really switch it off
    if tokenizer_kind != "image":
        text_tokenizer = getattr(tokenizer, "tokenizer", tokenizer)
        special = {
            "pad_token_id": text_tokenizer.pad_token_id, "bos_token_id": text_tokenizer.bos_token_id,
            "eos_token_id": text_tokenizer.eos_token_id,
        }
        options.update(vocab_size=len(text_tokenizer), **{k: v for k, v in special.items() if v is not None})
        if tokenizer_kind in ("seq2seq", "whisper"):
            options["decoder_start_token_id"] = text_tokenizer.eos_token_id
    options.update(config_overrides)
    config = getattr(tf, config_class)(**options)
    model = getattr(tf, model_class)(config)
    redraw_weights(model, seed=seed)
    model.eval()
    return model, tokenizer


# A long real input: the opening of *A Tale of Two Cities* (147 all-MiniLM-L6-v2 tokens).
TALE_OF_TWO_CITIES = ("It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of "
        "foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, "
        "it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had "
        "everything before us, we had nothing before us, we were all going direct to Heaven, we were all going "
        "direct the other way – in short, the period was so far like the present period, that some of its "
        "noisiest authorities insisted on its being received, for good or for evil, in the superlative degree "
        "of comparison only.")


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


def build_generation_model(family: str, *, seed: int = 0, **config_overrides):
    """Return ``(model, tokenizer)``: a tiny random decoder `family` with its language-modelling head.

    The same configuration and weights as `build_family_model` (re-drawn from N(0, 0.25²)), in
    eval mode, so ``model.generate`` runs.

    >>> model, tokenizer = build_generation_model("llama")
    >>> type(model).__name__, model.can_generate()
    ('LlamaForCausalLM', True)
    """
    import transformers as tf

    from .recording.runtime import quiet_transformers

    if family not in DECODER_FAMILIES:
        raise ValueError(f"The value for `family` must be one of {list(DECODER_FAMILIES)}, but {family!r} was passed.")
    base, tokenizer = build_family_model(family, seed=seed, **config_overrides)
    with quiet_transformers():
        model = tf.AutoModelForCausalLM.from_config(base.config)
    redraw_weights(model, seed=seed)
    model.eval()
    return model, tokenizer

