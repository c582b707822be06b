"""attnfig's views against what a user writes by hand today, measured in the same run.

    python benchmarks/bench_views.py            # the full run (several minutes: the naive ways are slow)
    python benchmarks/bench_views.py --quick    # 2 x 2 grids, small sizes: a smoke test of the script

Attention is shaped like BERT's (12 layers x 12 heads), each row the softmax of
standard-normal scores times 3, fixed seed. Every figure is saved to PDF in memory.
Prints each ratio with its target, a scaling table from 32 to 512 tokens, and writes
the same as Markdown to benchmarks/output/views.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matplotlib as mpl  # noqa: E402
from common import bert_like_attention, pdf_bytes, peak_rss_mb, plt, render_png, run_in_fresh_process, timer, token_labels  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

import attnfig  # noqa: E402
from attnfig.views.model_view import THUMBNAIL_LINEWIDTH  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output"


# --- what users write by hand ---------------------------------------------------------------


def naive_imshow_grid(weights):
    fig, axes = plt.subplots(weights.shape[0], weights.shape[1])
    for layer in range(weights.shape[0]):
        for head in range(weights.shape[1]):
            axes[layer, head].imshow(weights[layer, head])
            axes[layer, head].set_axis_off()
    return fig


def naive_seaborn_grid(weights):
    import seaborn as sns

    fig, axes = plt.subplots(weights.shape[0], weights.shape[1])
    for layer in range(weights.shape[0]):
        for head in range(weights.shape[1]):
            sns.heatmap(weights[layer, head], ax=axes[layer, head], cbar=False, xticklabels=False, yticklabels=False)
    return fig


def all_pairs_segments(n_tokens, x0=0.0, y0=0.0):
    y = (np.arange(n_tokens) + 0.5) / n_tokens
    q, k = np.meshgrid(np.arange(n_tokens), np.arange(n_tokens), indexing="ij")
    segments = np.empty((n_tokens * n_tokens, 2, 2))
    segments[:, 0, 0], segments[:, 0, 1] = x0, y0 + y[q.ravel()]
    segments[:, 1, 0], segments[:, 1, 1] = x0 + 1, y0 + y[k.ravel()]
    return segments


def thumbnail_collection(weights_qk, color, x0=0.0, y0=0.0):
    """One LineCollection holding every query-key pair of a thumbnail, opacity = weight."""
    rgba = np.tile(mpl.colors.to_rgba(color), (weights_qk.size, 1))
    rgba[:, 3] = weights_qk.ravel()
    return LineCollection(all_pairs_segments(weights_qk.shape[0], x0, y0), colors=rgba,
                          linewidths=THUMBNAIL_LINEWIDTH * mpl.rcParams["lines.linewidth"], rasterized=True)


def naive_line_grid(weights):
    fig, axes = plt.subplots(weights.shape[0], weights.shape[1])
    for layer in range(weights.shape[0]):
        for head in range(weights.shape[1]):
            ax = axes[layer, head]
            ax.add_collection(thumbnail_collection(weights[layer, head], f"C{layer % 10}"))
            ax.set_xlim(0, 1)
            ax.set_ylim(1, 0)
            ax.set_axis_off()
    return fig


def naive_plot_per_line(weights_layer, tokens):
    fig, ax = plt.subplots(figsize=(4, 8))
    n = len(tokens)
    for head in range(weights_layer.shape[0]):
        for q in range(n):
            for k in range(n):
                ax.plot([0, 1], [q, k], color=f"C{head % 10}", alpha=float(weights_layer[head, q, k]) / weights_layer.shape[0])
    ax.set_yticks(range(n), tokens)
    ax.invert_yaxis()
    return fig


def reference_of(fig, weights):
    """The same mosaic as `model_view(kind="lines")`, every pair drawn, one LineCollection a thumbnail."""
    from attnfig.views.model_view import GAP

    ax = fig.axes[0]
    for collection in list(ax.collections):
        collection.remove()
    origin = np.arange(max(weights.shape[:2])) * (1 + GAP)
    for layer in range(weights.shape[0]):
        for head in range(weights.shape[1]):
            ax.add_collection(thumbnail_collection(weights[layer, head], f"C{layer % 10}", origin[head], origin[layer]),
                              autolim=False)
    return fig


# --- runs -----------------------------------------------------------------------------------


def timed_pdf(make):
    """Seconds to build the figure and save it to PDF, and the PDF's size in bytes."""
    with timer() as t:
        size = pdf_bytes(make())
    return t["seconds"], size


class _Rows(list):
    def append(self, row):
        super().append(row)
        name, what, value, target, ok, detail = row
        print(f"  {name}: {what} {value:.3g} (target {target}) {detail}", flush=True)


def ratios(tokens_grid, tokens_seaborn, tokens_head, layers=12):
    rows = _Rows()
    w = bert_like_attention(tokens_grid, layers=layers, heads=layers)
    ours, ours_size = timed_pdf(lambda: attnfig.model_view(w, kind="heatmap"))
    bare, _ = timed_pdf(lambda: naive_imshow_grid(w))
    rows.append((f"model_view(kind='heatmap'), {tokens_grid} tokens vs bare imshow grid", "time", ours / bare, "<= 1.3x",
                 ours / bare <= 1.3, f"{ours:.2f} s vs {bare:.2f} s"))

    w_small = bert_like_attention(tokens_seaborn, layers=layers, heads=layers)
    ours, ours_size = timed_pdf(lambda: attnfig.model_view(w_small, kind="heatmap"))
    sns_time, sns_size = timed_pdf(lambda: naive_seaborn_grid(w_small))
    rows.append((f"model_view(kind='heatmap'), {tokens_seaborn} tokens vs seaborn.heatmap grid", "speed-up",
                 sns_time / ours, ">= 30x", sns_time / ours >= 30, f"{ours:.2f} s vs {sns_time:.1f} s"))
    rows.append((f"model_view(kind='heatmap'), {tokens_seaborn} tokens vs seaborn.heatmap grid", "PDF smaller",
                 sns_size / ours_size, ">= 10x", sns_size / ours_size >= 10,
                 f"{ours_size / 1e6:.2f} MB vs {sns_size / 1e6:.1f} MB"))

    ours, _ = timed_pdf(lambda: attnfig.model_view(w))
    naive, _ = timed_pdf(lambda: naive_line_grid(w))
    rows.append((f"model_view(kind='lines'), {tokens_grid} tokens vs LineCollection of all pairs per thumbnail",
                 "time", ours / naive, "<= 0.3x", ours / naive <= 0.3, f"{ours:.2f} s vs {naive:.1f} s"))
    ours_png = render_png(attnfig.model_view(w), dpi=150)
    reference_png = render_png(reference_of(attnfig.model_view(w), w), dpi=150)
    difference = np.abs(ours_png[..., :3] - reference_png[..., :3]) * 255
    visible = float((difference > 8).mean())
    rows.append(("  same at 150 dpi: pixels differing by more than 8 of 255", "share", visible, "< 0.1%",
                 visible < 0.001, f"max {difference.max():.0f}/255, mean {difference.mean():.2f}/255"))

    tokens = token_labels(tokens_head)
    w_head = bert_like_attention(tokens_head, layers=1, heads=layers)
    ours, _ = timed_pdf(lambda: attnfig.head_view(w_head, tokens))
    naive, _ = timed_pdf(lambda: naive_plot_per_line(w_head[0], tokens))
    rows.append((f"head_view, 12 heads, {tokens_head} tokens vs one ax.plot per line", "speed-up", naive / ours,
                 ">= 20x", naive / ours >= 20, f"{ours:.2f} s vs {naive:.1f} s"))
    return rows


VIEWS = {
    "head_view (1 layer, 12 heads)": lambda w, t: attnfig.head_view(w[:1], t),
    "model_view lines (12 x 12)": lambda w, t: attnfig.model_view(w, t),
    "model_view heatmap (12 x 12)": lambda w, t: attnfig.model_view(w, t, kind="heatmap"),
    "heatmap (1 head)": lambda w, t: _single_heatmap(w, t),
}


def _single_heatmap(weights, tokens):
    fig, ax = plt.subplots(figsize=(5, 5), layout="constrained")
    attnfig.heatmap(weights[:1, :1], tokens, ax=ax)
    return fig


def scaling_cell(name: str, n: int) -> tuple[float, int, float]:
    """Time and PDF size of one view at n tokens, and this process's peak RSS in MB.

    The peak is VmHWM of /proc/self/status: unlike ru_maxrss it is not inherited from the
    parent that forked this process.
    """
    weights, tokens = bert_like_attention(n), token_labels(n)
    seconds, size = timed_pdf(lambda: VIEWS[name](weights, tokens))
    return seconds, size, peak_rss_mb()


def scaling(sizes):
    """Each view at each size in a fresh process, so that peak memory is that view's own."""
    table = []
    for n in sizes:
        for name in VIEWS:
            seconds, size, peak = run_in_fresh_process(__file__, name, n)
            table.append((name, n, seconds, size / 1e6, peak))
            print(f"  {name}, {n} tokens: {seconds:.2f} s, {size / 1e6:.2f} MB, peak RSS {peak:.0f} MB", flush=True)
    return table


def report(rows, table, grid_limit_tokens):
    lines = ["| comparison | measure | ratio | target | met | numbers |", "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {what} | {value:.3g} | {target} | {'yes' if ok else 'NO'} | {detail} |"
              for name, what, value, target, ok, detail in rows]
    lines += ["", "| view | tokens | seconds | PDF MB | peak RSS MB |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {n} | {s:.2f} | {mb:.2f} | {peak:.0f} |" for name, n, s, mb, peak in table]
    at_limit = [(name, s) for name, n, s, _, _ in table if n == grid_limit_tokens and "12 x 12" in name]
    lines += [""] + [f"12 x 12 grid at {grid_limit_tokens} tokens, {name}: {s:.1f} s to PDF "
                     f"({'under' if s < 30 else 'OVER'} the 30 s limit)" for name, s in at_limit]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that the script runs")
    parser.add_argument("--cell", nargs=2, metavar=("VIEW", "TOKENS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        import json

        print(json.dumps(scaling_cell(args.cell[0], int(args.cell[1]))))
        return 0
    if args.quick:
        rows, table, limit = ratios(16, 8, 16, layers=2), scaling([16, 32]), 32
    else:
        rows, table, limit = ratios(128, 64, 128), scaling([32, 64, 128, 256, 512]), 512
    text = report(rows, table, limit)
    print(text)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / ("views-quick.md" if args.quick else "views.md")).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
