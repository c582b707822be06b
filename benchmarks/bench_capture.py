"""Peak memory and time of `attnfig.capture` against `from_model` (eager output_attentions).

    python benchmarks/bench_capture.py           # the full table (a few minutes, < 4 GB at any time)
    python benchmarks/bench_capture.py --quick   # small sizes, to check that it runs

The model is a random 4-layer x 8-head Llama (hidden 256, 2 key-value heads, sdpa as loaded).
Each cell runs in a fresh process and reports its peak resident memory (VmHWM of
/proc/self/status), so the numbers are each method's own. The machine is shared: from_model is
measured only where it needs less than 4 GB; beyond that its peak is extrapolated from the
measured cells as ``base + c * n^2`` (its attention tensors grow with n^2), and says so.

Then the ratios against their floors, each side in a fresh process, interleaved (from_model,
eager, from_model, eager...; `--repeats` rounds, at most `--long-repeats` at 4,096 tokens),
printed best and median: from_model against ``model(..., output_attentions=True)`` with
eager attention (time and peak memory above the model) at 2,048 and 4,096 tokens, and
capture (every head pooled, one head) against the model's own forward at 4,096 tokens.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from common import (Comparison, add_harness_arguments, interleaved, machine_note, peak_rss_mb, print_comparisons,
                    run_in_fresh_process)

LAYERS, HEADS, KV_HEADS, HIDDEN = 4, 8, 2, 256
MACHINE_GB = 24.0
FROM_MODEL_LIMIT_GB = 4.0


def build_model():
    """The benchmark's random Llama and a tokenizer cutting any long text to the wanted length."""
    import tempfile

    import torch
    import transformers as tf

    import attnfig.testing

    tokenizer = attnfig.testing.build_tiny_model("gpt2", Path(tempfile.mkdtemp()) / "tok", layers=1, heads=1)[1]
    config = tf.LlamaConfig(vocab_size=len(tokenizer), hidden_size=HIDDEN, intermediate_size=4 * HIDDEN,
                            num_hidden_layers=LAYERS, num_attention_heads=HEADS, num_key_value_heads=KV_HEADS,
                            max_position_embeddings=32768)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    model = tf.LlamaModel(config).eval()
    return model, tokenizer


def long_text(n_tokens: int) -> str:
    words = "the rabbit quickly hopped over the lazy dog and the turtle slowly crawled to the mat".split()
    return " ".join(words[i % len(words)] for i in range(n_tokens))


def cell(method: str, n: int) -> dict:
    """Run one method at n tokens in this (fresh) process; return its peak and seconds."""
    model, tokenizer = build_model()
    cut = dict(truncation=True, max_length=n)
    text = long_text(n)
    if method == "eager":  # the direct call from_model wraps: eager attention set by hand
        model.set_attn_implementation("eager")
    # warm up (first-call costs), then time
    run_method(model, tokenizer, method, long_text(32), dict(truncation=True, max_length=32))
    baseline = peak_rss_mb()
    started, cpu_started = time.perf_counter(), time.process_time()
    run_method(model, tokenizer, method, text, cut)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    return {"peak_mb": peak_rss_mb(), "baseline_mb": baseline, "seconds": seconds, "cpu_seconds": cpu_seconds}


def run_method(model, tokenizer, method: str, text: str, cut: dict) -> None:
    import torch

    import attnfig

    if method == "forward":
        inputs = tokenizer(text, return_tensors="pt", **cut)
        with torch.inference_mode():
            model(input_ids=inputs["input_ids"])
    elif method == "eager":
        inputs = tokenizer(text, return_tensors="pt", **cut)
        with torch.inference_mode():
            model(**inputs, output_attentions=True)
    elif method == "from_model":
        attnfig.from_model(model, tokenizer, text, **cut).select(layers=[1])
    elif method == "from_model_only":  # against the eager call: the same work, nothing selected after
        attnfig.from_model(model, tokenizer, text, **cut)
    elif method == "capture_head":
        attnfig.capture(model, tokenizer, text, layers=[1], heads=[2], **cut)
    elif method == "capture_layer":
        attnfig.capture(model, tokenizer, text, layers=[1], **cut)
    elif method == "capture_pool":
        attnfig.capture(model, tokenizer, text, pool=512, **cut)


ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
OUTPUT = Path(__file__).resolve().parent / "output"


def run_cell(method: str, n: int) -> dict:
    return run_in_fresh_process(__file__, method, n, env=ENV)


def from_model_estimate_mb(measured: dict[int, float], n: int) -> float:
    """Least-squares ``base + c * n^2`` through the measured from_model peaks."""
    import numpy as np

    sizes = np.array(sorted(measured), dtype=float)
    design = np.stack([np.ones_like(sizes), sizes**2], axis=1)
    (base, slope), *_ = np.linalg.lstsq(design, np.array([measured[int(s)] for s in sizes]), rcond=None)
    return float(base + slope * n * n)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--cell", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--long-repeats", type=int, default=2,
                        help="rounds at 4,096 tokens and more (default 2: each from_model run there holds GB)")
    parser.add_argument("--tables", action=argparse.BooleanOptionalAction, default=True,
                        help="the peak-memory table over 1,024..12,288 tokens first (--no-tables: ratios only)")
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(cell(args.cell[0], int(args.cell[1]))))
        return 0
    if args.quick:
        args.repeats = 1
    if args.tables:
        memory_tables(args)
    compare_with_floors(args)
    return 0


def memory_tables(args) -> None:
    """Peak memory per method and size, one fresh process per cell."""
    sizes = [256, 512] if args.quick else [1024, 2048, 4096, 8192]
    long = 1024 if args.quick else 12288
    measured_from_model = {}
    print(f"Random Llama, {LAYERS} layers x {HEADS} heads, hidden {HIDDEN}, sdpa; peak RSS (MB) per fresh process.")
    print("Selection compared: layer 1 (8 heads); from_model computes every layer and head, then selects.\n")
    print("| tokens | from_model | capture, layer 1 | capture, 1 head | capture, every head, pool=512 | from_model / capture layer |")
    print("|---|---|---|---|---|---|")
    for n in sizes:
        # measured: eager output_attentions peaks at about 4 copies of layers x heads x n^2 float32
        needed_gb = 4 * LAYERS * HEADS * n * n * 4 / 1e9
        if needed_gb < FROM_MODEL_LIMIT_GB:
            measured_from_model[n] = run_cell("from_model", n)["peak_mb"]
            shown, from_model = f"{measured_from_model[n]:.0f}", measured_from_model[n]
        else:
            from_model = from_model_estimate_mb(measured_from_model, n)
            shown = f"~{from_model:.0f} (extrapolated)"
        layer, head, pooled = (run_cell(m, n)["peak_mb"] for m in ("capture_layer", "capture_head", "capture_pool"))
        print(f"| {n} | {shown} | {layer:.0f} | {head:.0f} | {pooled:.0f} | {from_model / layer:.1f}x |")
    limit = next(n for n in range(1024, 1 << 20, 256) if from_model_estimate_mb(measured_from_model, n) > MACHINE_GB * 1024)
    print(f"\nfrom_model (output_attentions) passes {MACHINE_GB:.0f} GB at about {limit} tokens "
          f"(extrapolated from the measured cells: base + c * n^2).")
    head, pooled = run_cell("capture_head", long), run_cell("capture_pool", long)
    print(f"At {long} tokens: capture of one head peaks at {head['peak_mb']:.0f} MB; of every head with pool=512 "
          f"at {pooled['peak_mb']:.0f} MB (output_attentions would return "
          f"{LAYERS * HEADS * long * long * 4 / 1e9:.1f} GB of float32).")


def compare_with_floors(args) -> None:
    """from_model against the eager call it wraps, capture against the forward: ratios, interleaved."""
    note = machine_note(args.repeats)
    print("\n" + note, flush=True)
    comparisons = []

    def extra_mb(runs):
        return [r["peak_mb"] - r["baseline_mb"] for r in runs]

    for n in ([256, 512] if args.quick else [2048, 4096]):
        repeats = args.repeats if n <= 2048 else min(args.repeats, args.long_repeats)
        runs = interleaved(__file__, {"from_model": ("from_model_only", n), "eager": ("eager", n)}, repeats, env=ENV)
        comparisons.append(Comparison(f"from_model at {n} tokens vs the eager call it wraps, time",
                                      [r["seconds"] for r in runs["from_model"]], [r["seconds"] for r in runs["eager"]],
                                      floor_name="model(..., output_attentions=True), eager", target="<= 1.5x",
                                      met=lambda r: r <= 1.5))
        comparisons.append(Comparison(f"from_model at {n} tokens vs the eager call it wraps, peak memory above the model",
                                      extra_mb(runs["from_model"]), extra_mb(runs["eager"]), unit="MB",
                                      floor_name="model(..., output_attentions=True), eager", target="<= 1.5x",
                                      met=lambda r: r <= 1.5))
        for comparison in comparisons[-2:]:
            print(comparison.line(), flush=True)
    timing_n = 1024 if args.quick else 4096
    runs = interleaved(__file__, {"capture_pool": ("capture_pool", timing_n), "capture_head": ("capture_head", timing_n),
                                  "forward": ("forward", timing_n)}, min(args.repeats, args.long_repeats), env=ENV)
    forward = [r["seconds"] for r in runs["forward"]]
    comparisons.append(Comparison(f"capture of every head, pool=512, {timing_n} tokens, time",
                                  [r["seconds"] for r in runs["capture_pool"]], forward,
                                  floor_name="the model's own forward", target="<= 3x", met=lambda r: r <= 3))
    comparisons.append(Comparison(f"capture of one head, {timing_n} tokens, time", [r["seconds"] for r in runs["capture_head"]],
                                  forward, floor_name="the model's own forward"))
    for comparison in comparisons[-2:]:
        print(comparison.line(), flush=True)
    print()
    print_comparisons(comparisons, note=note + " Tokenizing is included on both sides; peak memory is counted "
                                                "above the loaded, warmed-up model.",
                      output=OUTPUT / ("capture-quick.md" if args.quick else "capture.md"))


if __name__ == "__main__":
    sys.exit(main())
