"""Attention flow's cost: attnfig's batched push-relabel against naive networkx max-flows.

    python benchmarks/bench_flow.py                     # 12 layers, 128 tokens, one query
    python benchmarks/bench_flow.py --quick             # 4 layers, 16 tokens

The naive way (the paper's code) builds the whole layered graph in networkx and runs one
maximum flow per (input token, output position) pair: all pairs. For one query that is one
flow per input token; networkx is timed on `--networkx-sources` of them and scaled to all (its cost
per source is the same graph each time). Both give the same values (checked on those sources).
Each side runs in a fresh process, interleaved, 3 rounds (`--repeats`): best and median.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import Comparison, add_harness_arguments, bert_like_attention, interleaved, machine_note  # noqa: E402


def networkx_flows(capacities: np.ndarray, sink: int, sources) -> np.ndarray:
    import networkx as nx

    layers, n, _ = capacities.shape
    graph = nx.DiGraph()
    for layer in range(layers):
        for i in range(n):
            for j in range(n):
                graph.add_edge((layer, j), (layer + 1, i), capacity=float(capacities[layer, i, j]))
    return np.array([nx.maximum_flow_value(graph, (0, s), (layers, sink)) for s in sources])


def cell(method: str, layers: int, tokens: int, sources: int) -> dict:
    """Seconds of one method (networkx scaled to every source) and its flows from the sampled sources."""
    from attnfig.summaries.flow import layered_max_flows, residual_attention

    capacities = residual_attention(bert_like_attention(tokens, layers=layers, heads=4))
    query, sampled = tokens // 2, np.arange(min(sources, tokens))
    started = time.perf_counter()
    if method == "attnfig":
        flows = layered_max_flows(capacities, query)[sampled]
        seconds = time.perf_counter() - started
    else:
        flows = networkx_flows(capacities, query, sampled)
        seconds = (time.perf_counter() - started) * tokens / len(sampled)
    return {"seconds": seconds, "flows": flows.tolist()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--networkx-sources", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="4 layers, 16 tokens, 1 round")
    parser.add_argument("--cell", nargs=4, metavar=("METHOD", "LAYERS", "TOKENS", "SOURCES"), help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        method, *sizes = args.cell
        print(json.dumps(cell(method, *map(int, sizes))))
        return 0
    if args.quick:
        args.layers, args.tokens, args.repeats = 4, 16, 1
    sizes = (args.layers, args.tokens, args.networkx_sources)
    runs = interleaved(__file__, {"attnfig": ("attnfig", *sizes), "networkx": ("networkx", *sizes)}, args.repeats)
    error = max(float(np.abs(np.subtract(a["flows"], b["flows"])).max()) for a, b in zip(runs["attnfig"], runs["networkx"]))
    comparison = Comparison(f"attention flow, {args.layers} layers x {args.tokens} tokens, one query, time",
                            [r["seconds"] for r in runs["attnfig"]], [r["seconds"] for r in runs["networkx"]],
                            floor_name=f"networkx max-flows (scaled from {min(args.networkx_sources, args.tokens)} sources)")
    print(machine_note(args.repeats))
    print(comparison.line())
    print(f"ratio networkx / attnfig: {1 / comparison.best_ratio:.1f}x best, {1 / comparison.median_ratio:.1f}x median; "
          f"largest difference {error:.1e}")
    return 0 if error < 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
