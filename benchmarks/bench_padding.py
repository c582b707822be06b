"""What running left-padded lists one text at a time costs, against the one padded batch.

    python benchmarks/bench_padding.py           # 16 texts of 8..128 tokens, 6 x 12 GPT-2 (hidden 384)
    python benchmarks/bench_padding.py --quick   # small sizes, to check that it runs

GPT-2 has absolute positions: in a left-padded batch every shorter text gets shifted
positions, so the naive batch is fast but wrong (its error is printed). `from_model` runs
left-padded lists item by item; with right padding the batch itself is correct.
Attention memory is computed from the shapes (float32 weights of all layers and heads):
the batch holds ``batch x n_max²`` per head at once, one-by-one runs ``n_i²``. Times: each method in a
fresh process, interleaved, 3 rounds (`--repeats`), best of 2 calls inside each.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import Comparison, add_harness_arguments, interleaved, machine_note  # noqa: E402

WORDS = "the rabbit quickly hopped over the lazy dog and the turtle slowly crawled to the mat".split()


def texts(count: int, longest: int) -> list[str]:
    lengths = np.linspace(8, longest, count).astype(int)
    return [" ".join(WORDS[i % len(WORDS)] for i in range(n)) for n in lengths]


def timed(function, repeat: int = 2):
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def setup(quick: bool):
    import torch

    from attnfig.testing import build_family_model

    torch.set_num_threads(1)
    layers, heads, hidden = (2, 4, 32) if quick else (6, 12, 384)
    model, tokenizer = build_family_model("gpt2", n_layer=layers, n_head=heads, n_embd=hidden, n_positions=256)
    inputs = texts(4, 24) if quick else texts(16, 128)
    return model, tokenizer, inputs, (layers, heads, hidden)


def methods(model, tokenizer, inputs) -> dict:
    import torch

    import attnfig

    def naive_left_batch():
        encoded = tokenizer(inputs, padding=True, return_tensors="pt")
        with torch.inference_mode():
            model.config._attn_implementation = "eager"
            outputs = model(**encoded, output_attentions=True)
            model.config._attn_implementation = "sdpa"
        return [attnfig.as_attention(outputs.attentions, batch=i, attention_mask=encoded["attention_mask"])
                for i in range(len(inputs))]

    def right_padded():
        tokenizer.padding_side = "right"
        try:
            return attnfig.from_model(model, tokenizer, inputs)
        finally:
            tokenizer.padding_side = "left"

    return {"naive": naive_left_batch, "per_item": lambda: attnfig.from_model(model, tokenizer, inputs),
            "right": right_padded}


def cell(method: str, quick: bool) -> dict:
    """Seconds of one method (best of 2 in this fresh process: the first pays first-call costs)."""
    model, tokenizer, inputs, _ = setup(quick)
    return {"seconds": timed(methods(model, tokenizer, inputs)[method])[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cell", nargs=2, metavar=("METHOD", "QUICK"), help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args()
    if args.cell:
        print(json.dumps(cell(args.cell[0], args.cell[1] == "1")))
        return
    model, tokenizer, inputs, (layers, heads, hidden) = setup(args.quick)
    lengths = [len(tokenizer(t)["input_ids"]) for t in inputs]
    results = {name: run() for name, run in methods(model, tokenizer, inputs).items()}  # the values, compared
    error = max(float(np.abs(a.weights - b.weights).max()) for a, b in zip(results["naive"], results["per_item"]))
    right_error = max(float(np.abs(a.weights - b.weights).max()) for a, b in zip(results["right"], results["per_item"]))
    repeats = 1 if args.quick else args.repeats
    runs = interleaved(__file__, {name: (name, int(args.quick)) for name in results}, repeats,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    seconds = {name: [r["seconds"] for r in values] for name, values in runs.items()}
    median = {name: statistics.median(values) for name, values in seconds.items()}
    per_head = layers * heads * 4 / 2**20
    batch_mb = len(inputs) * max(lengths) ** 2 * per_head
    single_mb = max(lengths) ** 2 * per_head
    print(f"{len(inputs)} texts of {min(lengths)}..{max(lengths)} tokens, GPT-2 {layers} layers x {heads} heads, hidden {hidden}")
    print(machine_note(repeats) + " Seconds are medians.")
    print("| method | seconds | vs one left-padded batch | max error vs single runs | attention MB held at once |")
    print("|---|---|---|---|---|")
    print(f"| one left-padded batch (naive, wrong) | {median['naive']:.3f} | 1.00 | {error:.3f} | {batch_mb:.1f} |")
    print(f"| from_model, left padding (one by one) | {median['per_item']:.3f} | {median['per_item'] / median['naive']:.2f} | 0 | {single_mb:.1f} |")
    print(f"| from_model, right padding (one batch) | {median['right']:.3f} | {median['right'] / median['naive']:.2f} | {right_error:.1e} | {batch_mb:.1f} |")
    for name, label in (("per_item", "from_model, left padding, one by one"), ("right", "from_model, right padding")):
        print(Comparison(f"{label}, time", seconds[name], seconds["naive"],
                         floor_name="one left-padded batch (naive, wrong)").line())


if __name__ == "__main__":
    main()
