"""A long prompt: 8,192 tokens of a decoder, drawn with capture
============================================================

`attnfig.capture` runs a tiny random Llama (2 layers, 4 heads, 2 key-value heads, built from a
config, weights drawn at random: this is not a trained model) on an 8,192-token prompt with
its default sdpa attention, and recomputes only what is drawn. Left: head 2 of layer 1 over
the whole prompt with ``pool=128`` (each cell the largest weight of its 64 x 64 block of
tokens, so no strong link disappears). Right: the exact map of the same head for the first 40
tokens. output_attentions would hold 2 x 4 x 8,192^2 floats (2.1 GB) for this.
"""
import matplotlib.pyplot as plt

import attnfig
from _seed import publish

N_TOKENS, LAYER, HEAD, WINDOW = 8192, 1, 2, 40


def random_llama():
    import torch
    import transformers as tf

    from attnfig.testing import build_tiny_model
    from _seed import OUTPUT

    tokenizer = build_tiny_model("gpt2", OUTPUT / "models" / "long-tokenizer", layers=1, heads=1)[1]
    config = tf.LlamaConfig(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=N_TOKENS)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = tf.LlamaModel(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.ndim >= 2:
                parameter.normal_(0.0, 0.25)
    return model, tokenizer


model, tokenizer = random_llama()
words = "the rabbit quickly hopped over the lazy dog , and the turtle slowly crawled to the mat .".split()
prompt = " ".join(words[i % len(words)] for i in range(N_TOKENS))
cut = dict(truncation=True, max_length=N_TOKENS)
overview = attnfig.capture(model, tokenizer, prompt, layers=[LAYER], heads=[HEAD], pool=128, **cut)
# A causal model's first tokens attend only among themselves: a 40-token prefix gives them exactly.
start = attnfig.capture(model, tokenizer, prompt, layers=[LAYER], heads=[HEAD], truncation=True, max_length=WINDOW)

fig, (left, right) = plt.subplots(1, 2, figsize=attnfig.figsize("neurips", columns=2, aspect=1.7), layout="constrained")
attnfig.heatmap(overview, layer=LAYER, head=HEAD, ax=left, cbar_kws={"label": "block max"}, aspect="auto")
step = len(overview.tokens) // 8
left.set_xticks(range(0, len(overview.tokens), step), [str(b[0]) for b in overview.token_blocks[::step]])
left.set_yticks(range(0, len(overview.tokens), step), [str(b[0]) for b in overview.token_blocks[::step]])
left.set_xlabel("key position")
left.set_ylabel("query position")
left.set_title(f"All {N_TOKENS}, pool=128")
attnfig.heatmap(start, layer=LAYER, head=HEAD, ax=right, cbar_kws={"label": "attention"}, aspect="auto")
right.set_title(f"First {WINDOW} tokens, exact")
publish(fig, "long_prompt")
