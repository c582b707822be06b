"""Attention flow's cost: attnfig's batched push-relabel against naive networkx max-flows.

    python benchmarks/bench_flow.py                     # 12 layers, 128 tokens, one query
    python benchmarks/bench_flow.py --quick             # 4 layers, 16 tokens

The naive way (the paper's code) builds the whole layered graph in networkx and runs one
maximum flow per (input token, output position) pair: all pairs. For one query that is one
flow per input token; networkx is timed on `--networkx-sources` of them and scaled to all (its cost
per source is the same graph each time). Both give the same values (checked on those sources).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.common import bert_like_attention  # noqa: E402


def networkx_flows(capacities: np.ndarray, sink: int, sources) -> np.ndarray:
    import networkx as nx

    layers, n, _ = capacities.shape
    graph = nx.DiGraph()
    for layer in range(layers):
        for i in range(n):
            for j in range(n):
                graph.add_edge((layer, j), (layer + 1, i), capacity=float(capacities[layer, i, j]))
    return np.array([nx.maximum_flow_value(graph, (0, s), (layers, sink)) for s in sources])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--networkx-sources", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="4 layers, 16 tokens")
    args = parser.parse_args(argv)
    if args.quick:
        args.layers, args.tokens = 4, 16
    from attnfig.summaries.flow import layered_max_flows, residual_attention

    weights = bert_like_attention(args.tokens, layers=args.layers, heads=4)
    capacities = residual_attention(weights)
    query = args.tokens // 2
    started = time.perf_counter()
    ours = layered_max_flows(capacities, query)
    ours_seconds = time.perf_counter() - started
    sampled = np.arange(min(args.networkx_sources, args.tokens))
    started = time.perf_counter()
    reference = networkx_flows(capacities, query, sampled)
    networkx_seconds = (time.perf_counter() - started) * args.tokens / len(sampled)
    error = float(np.abs(ours[sampled] - reference).max())
    print(f"attention flow, {args.layers} layers x {args.tokens} tokens, one query ({args.tokens} max-flows)")
    print(f"attnfig push-relabel: {ours_seconds:.2f} s")
    print(f"networkx (scaled from {len(sampled)} sources): {networkx_seconds:.2f} s")
    print(f"ratio networkx / attnfig: {networkx_seconds / ours_seconds:.1f}x; largest difference {error:.1e}")
    return 0 if error < 1e-9 else 1


if __name__ == "__main__":
    raise SystemExit(main())
