"""Tiny random models of every family `capture` supports, for its tests (weights re-drawn N(0, 0.25)).

Decoder families share the tiny byte-level BPE tokenizer of `attnfig.testing`, encoder
families its WordPiece one. Mistral's sliding window (4) is shorter than the test inputs.
"""
from __future__ import annotations

import functools

HIDDEN, HEADS, KV_HEADS, LAYERS, VOCAB = 32, 4, 2, 3, 512


def _configs(tf):
    llama_like = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=64, num_hidden_layers=LAYERS,
                      num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=256)
    bert_like = dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                     intermediate_size=64, max_position_embeddings=256)
    return {
        "bert": (tf.BertConfig(**bert_like), tf.BertModel, "wordpiece"),
        "roberta": (tf.RobertaConfig(**bert_like, pad_token_id=1), tf.RobertaModel, "bpe"),
        "distilbert": (tf.DistilBertConfig(vocab_size=VOCAB, dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS,
                                           hidden_dim=64, max_position_embeddings=256), tf.DistilBertModel, "wordpiece"),
        "albert": (tf.AlbertConfig(**bert_like, embedding_size=16), tf.AlbertModel, "wordpiece"),
        "gpt2": (tf.GPT2Config(vocab_size=VOCAB, n_embd=HIDDEN, n_layer=LAYERS, n_head=HEADS, n_positions=256),
                 tf.GPT2Model, "bpe"),
        "llama": (tf.LlamaConfig(**llama_like), tf.LlamaModel, "bpe"),
        "mistral": (tf.MistralConfig(**llama_like, sliding_window=4), tf.MistralModel, "bpe"),
        "qwen2": (tf.Qwen2Config(**llama_like), tf.Qwen2Model, "bpe"),
        "gemma": (tf.GemmaConfig(**llama_like, head_dim=8), tf.GemmaModel, "bpe"),
        "gemma2": (tf.Gemma2Config(**llama_like, head_dim=8, sliding_window=4, attn_logit_softcapping=5.0),
                   tf.Gemma2Model, "bpe"),
        "phi": (tf.PhiConfig(**llama_like), tf.PhiModel, "bpe"),
        "gpt_neox": (tf.GPTNeoXConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=64,
                                      num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                                      max_position_embeddings=256), tf.GPTNeoXModel, "bpe"),
        "opt": (tf.OPTConfig(vocab_size=VOCAB, hidden_size=HIDDEN, ffn_dim=64, num_hidden_layers=LAYERS,
                             num_attention_heads=HEADS, max_position_embeddings=256, word_embed_proj_dim=HIDDEN),
                tf.OPTModel, "bpe"),
        "clip_text_model": (tf.CLIPTextConfig(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=64,
                                              num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                                              max_position_embeddings=256), tf.CLIPTextModel, "bpe"),
    }


@functools.lru_cache(maxsize=None)
def tokenizer(kind: str, folder: str):
    import attnfig.testing

    return attnfig.testing.build_tiny_model("bert" if kind == "wordpiece" else "gpt2", f"{folder}/{kind}",
                                            layers=1, heads=1)[1]


EAGER_ONLY = ("gemma2",)  # transformers has no sdpa path for them


def build(family: str, folder: str, *, attn_implementation: str | None = None, seed: int = 0, **overrides):
    """``(model, tokenizer)`` of a tiny random `family` model, float32, in eval mode."""
    import torch
    import transformers as tf

    config, model_class, kind = _configs(tf)[family]
    for name, value in overrides.items():
        setattr(config, name, value)
    config._attn_implementation = attn_implementation or ("eager" if family in EAGER_ONLY else "sdpa")
    torch.manual_seed(seed)
    model = model_class(config)
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.ndim >= 2:  # matrices and embeddings; norms keep their unit scale
                parameter.normal_(0.0, 0.25)
    model.eval()
    return model, tokenizer(kind, folder)


FAMILIES = ("bert", "roberta", "distilbert", "albert", "gpt2", "llama", "mistral", "qwen2", "gemma", "gemma2",
            "phi", "gpt_neox", "opt", "clip_text_model")
