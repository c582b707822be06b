"""Peak memory and time of `attnfig.capture_generation` against `generate(output_attentions=True)`.

    python benchmarks/bench_generation.py           # 2,048-token prompt, 64 new tokens
    python benchmarks/bench_generation.py --quick   # small sizes, to check that it runs

The model is a random 4-layer x 8-head Llama with its language-modelling head (hidden 256, 2
key-value heads, sdpa as loaded). The naive way keeps every step's attention: eager attention and
``generate(output_attentions=True, return_dict_in_generate=True)``. capture_generation keeps one
head (layer 1, head 2) of the final sequence. The floor is the plain ``generate`` call. Each
cell runs in a fresh process and reports its peak resident memory above the loaded model
(VmHWM of /proc/self/status); the methods run interleaved, 3 rounds (`--repeats`), and each
ratio is printed best and median.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

from common import Comparison, add_harness_arguments, interleaved, machine_note, peak_rss_mb, print_comparisons

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
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(cell(args.cell[0], int(args.cell[1]), int(args.cell[2]))))
        return 0
    prompt_tokens, new_tokens = (256, 8) if args.quick else (2048, 64)
    repeats = 1 if args.quick else args.repeats
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    runs = interleaved(__file__, {method: (method, prompt_tokens, new_tokens) for method in METHODS}, repeats, env=env)
    note = (f"Random Llama with LM head, {LAYERS} layers x {HEADS} heads ({KV_HEADS} kv), hidden {HIDDEN}, sdpa; "
            f"{prompt_tokens}-token prompt, {new_tokens} new tokens. " + machine_note(repeats)
            + " Peak memory is counted above the loaded, warmed-up model.")

    def seconds(method):
        return [r["seconds"] for r in runs[method]]

    def extra(method):
        return [r["peak_mb"] - r["baseline_mb"] for r in runs[method]]

    comparisons = [
        Comparison("capture_generation, 1 head, time", seconds("capture_generation"), seconds("generate"),
                   floor_name="generate (the floor)"),
        Comparison("generate(output_attentions=True), eager, time", seconds("generate_output_attentions"),
                   seconds("generate"), floor_name="generate (the floor)"),
        Comparison("capture_generation, 1 head, peak memory above the model", extra("capture_generation"),
                   [max(v, 1e-9) for v in extra("generate_output_attentions")], unit="MB",
                   floor_name="generate(output_attentions=True)"),
    ]
    for comparison in comparisons:
        print(comparison.line(), flush=True)
    print()
    print_comparisons(comparisons, note=note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
