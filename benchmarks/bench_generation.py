"""Peak memory and time of `attnfig.capture_generation` against `generate(output_attentions=True)`.

    python benchmarks/bench_generation.py           # 2,048-token prompt, 64 new tokens
    python benchmarks/bench_generation.py --quick   # small sizes, to check that it runs

The model is a random 4-layer x 8-head Llama with its language-modelling head (hidden 256, 2
key-value heads, sdpa as loaded). The naive way keeps every step's attention: eager attention and
``generate(output_attentions=True, return_dict_in_generate=True)``. capture_generation keeps one
head (layer 1, head 2) of the final sequence. The floor is the plain ``generate`` call. Each
cell runs in a fresh process and reports its peak resident memory above the loaded model
(VmHWM of /proc/self/status); times are the best of 3 alternated runs.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from common import peak_rss_mb, run_in_fresh_process

LAYERS, HEADS, KV_HEADS, HIDDEN = 4, 8, 2, 256
METHODS = ("generate", "generate_output_attentions", "capture_generation")


def build_model():
    import tempfile
    from pathlib import Path

    import torch
    import transformers as tf

    import attnfig.testing

    tokenizer = attnfig.testing.build_tiny_model("gpt2", Path(tempfile.mkdtemp()) / "tok", layers=1, heads=1)[1]
    config = tf.LlamaConfig(vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=4 * HIDDEN,
                            num_hidden_layers=LAYERS, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS,
                            max_position_embeddings=32768, pad_token_id=tokenizer.pad_token_id)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    return tf.LlamaForCausalLM(config).eval(), tokenizer


def prompt_text(n_tokens: int) -> str:
    words = "the rabbit quickly hopped over the lazy dog and the turtle slowly crawled to the mat".split()
    return " ".join(words[i % len(words)] for i in range(n_tokens))


def run_method(model, tokenizer, method: str, prompt: str, new_tokens: int) -> None:
    import torch

    import attnfig

    if method == "capture_generation":
        attnfig.capture_generation(model, tokenizer, prompt, max_new_tokens=new_tokens, layers=[1], heads=[2],
                                   min_new_tokens=new_tokens)
        return
    inputs = tokenizer(prompt, return_tensors="pt")
    options = dict(max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                   pad_token_id=tokenizer.pad_token_id)
    if method == "generate_output_attentions":
        model.set_attn_implementation("eager")
        options.update(output_attentions=True, return_dict_in_generate=True)
    with torch.inference_mode():
        model.generate(**inputs, **options)


def cell(method: str, prompt_tokens: int, new_tokens: int) -> dict:
    from attnfig.recording.runtime import quiet_transformers

    model, tokenizer = build_model()
    with quiet_transformers():
        run_method(model, tokenizer, method, prompt_text(16), 2)  # warm up: first-call costs
        baseline = peak_rss_mb()
        started = time.perf_counter()
        run_method(model, tokenizer, method, prompt_text(prompt_tokens), new_tokens)
        seconds = time.perf_counter() - started
    return {"peak_mb": peak_rss_mb(), "baseline_mb": baseline, "seconds": seconds}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--cell", nargs=3, metavar=("METHOD", "PROMPT", "NEW"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(cell(args.cell[0], int(args.cell[1]), int(args.cell[2]))))
        return 0
    prompt_tokens, new_tokens = (256, 8) if args.quick else (2048, 64)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    runs: dict[str, list[dict]] = {method: [] for method in METHODS}
    for _ in range(3):  # alternated: the machine is shared
        for method in METHODS:
            runs[method].append(run_in_fresh_process(__file__, method, prompt_tokens, new_tokens, env=env))
    print(f"Random Llama with LM head, {LAYERS} layers x {HEADS} heads ({KV_HEADS} kv), hidden {HIDDEN}, sdpa; "
          f"{prompt_tokens}-token prompt, {new_tokens} new tokens; fresh process per run, best of 3.\n")
    print("| method | seconds | peak MB above the model | time vs generate | memory vs output_attentions |")
    print("|---|---|---|---|---|")
    best = {m: min(r["seconds"] for r in rs) for m, rs in runs.items()}
    extra = {m: min(r["peak_mb"] - r["baseline_mb"] for r in rs) for m, rs in runs.items()}
    names = {"generate": "generate (floor)", "generate_output_attentions": "generate(output_attentions=True), eager",
             "capture_generation": "capture_generation, 1 head"}
    for method in METHODS:
        print(f"| {names[method]} | {best[method]:.2f} | {extra[method]:.0f} | {best[method] / best['generate']:.2f}x | "
              f"{extra[method] / max(extra['generate_output_attentions'], 1e-9):.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
