"""attnfig's views against what a user writes by hand today, measured in the same run.

    python benchmarks/bench_views.py            # the full run (several minutes: the naive ways are slow)
    python benchmarks/bench_views.py --quick    # 2 x 2 grids, small sizes: a smoke test of the script

Attention is shaped like BERT's (12 layers x 12 heads), each row the softmax of
standard-normal scores times 3, fixed seed. Every figure is saved to PDF in memory.
Each comparison runs ours and the naive way interleaved, a fresh process per run (3 rounds,
`--repeats`; 1 with --quick), and prints the ratio ours / naive, best and median, with its
target; then a scaling table from 32 to 512 tokens; the same goes as Markdown to
benchmarks/output/views.md.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matplotlib as mpl  # noqa: E402
from common import (TABLE_HEADER, Comparison, add_harness_arguments, bert_like_attention, interleaved,  # noqa: E402
                    machine_note, pdf_bytes, peak_rss_mb, plt, render_png, run_in_fresh_process, timer, token_labels)
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
    from attnfig.views.colors import layer_colors
    from attnfig.views.contrast import axes_background
    from attnfig.views.model_view import GAP

    ax = fig.axes[0]
    for collection in list(ax.collections):
        collection.remove()
    origin = np.arange(max(weights.shape[:2])) * (1 + GAP)
    colors = layer_colors(weights.shape[0], background=axes_background(ax))  # model_view's layer colors
    for layer in range(weights.shape[0]):
        for head in range(weights.shape[1]):
            ax.add_collection(thumbnail_collection(weights[layer, head], colors[layer], origin[head], origin[layer]),
                              autolim=False)
    return fig


# --- runs -----------------------------------------------------------------------------------


def timed_pdf(make):
    """Seconds to build the figure and save it to PDF, and the PDF's size in bytes."""
    with timer() as t:
        size = pdf_bytes(make())
    return t["seconds"], size


FIGURES = {  # cell name: the figure it saves, from BERT-shaped attention of `layers` x `layers` heads
    "model_view heatmap": lambda w, t: attnfig.model_view(w, kind="heatmap"),
    "bare imshow grid": lambda w, t: naive_imshow_grid(w),
    "seaborn.heatmap grid": lambda w, t: naive_seaborn_grid(w),
    "model_view lines": lambda w, t: attnfig.model_view(w),
    "LineCollection grid": lambda w, t: naive_line_grid(w),
    "head_view": lambda w, t: attnfig.head_view(w[:1], t),
    "ax.plot per line": lambda w, t: naive_plot_per_line(w[0], t),
}


def figure_cell(name: str, n: int, layers: int) -> dict:
    """Seconds to build `name` at n tokens and save it to PDF, the PDF's bytes (fresh process)."""
    weights, tokens = bert_like_attention(n, layers=layers, heads=layers), token_labels(n)
    seconds, size = timed_pdf(lambda: FIGURES[name](weights, tokens))
    return {"seconds": seconds, "bytes": size, "peak_mb": peak_rss_mb()}


def ratios(tokens_grid, tokens_seaborn, tokens_head, layers=12, repeats=3):
    """Each view against what a user writes by hand, interleaved in fresh processes."""
    def compare(ours, naive, n, name, **options):
        runs = interleaved(__file__, {"ours": ("figure", ours, n, layers), "naive": ("figure", naive, n, layers)},
                           repeats)
        times = [r["seconds"] for r in runs["ours"]], [r["seconds"] for r in runs["naive"]]
        return runs, Comparison(name, *times, floor_name=naive, **options)

    comparisons = []
    _, grid = compare("model_view heatmap", "bare imshow grid", tokens_grid,
                      f"model_view(kind='heatmap'), {tokens_grid} tokens vs bare imshow grid, time",
                      target="<= 1.3x", met=lambda r: r <= 1.3)
    comparisons.append(grid)
    runs, seaborn = compare("model_view heatmap", "seaborn.heatmap grid", tokens_seaborn,
                            f"model_view(kind='heatmap'), {tokens_seaborn} tokens vs seaborn.heatmap grid, time",
                            target="<= 1/30x", met=lambda r: r <= 1 / 30)
    comparisons.append(seaborn)
    comparisons.append(Comparison(f"model_view(kind='heatmap'), {tokens_seaborn} tokens vs seaborn.heatmap grid, PDF size",
                                  [r["bytes"] / 1e6 for r in runs["ours"]], [r["bytes"] / 1e6 for r in runs["naive"]],
                                  floor_name="seaborn.heatmap grid", unit="MB", target="<= 1/10x",
                                  met=lambda r: r <= 0.1))
    comparisons.append(compare("model_view lines", "LineCollection grid", tokens_grid,
                               f"model_view(kind='lines'), {tokens_grid} tokens vs LineCollection of all pairs per "
                               "thumbnail, time", target="<= 0.3x", met=lambda r: r <= 0.3)[1])
    comparisons.append(compare("head_view", "ax.plot per line", tokens_head,
                               f"head_view, {layers} heads, {tokens_head} tokens vs one ax.plot per line, time",
                               target="<= 1/20x", met=lambda r: r <= 1 / 20)[1])
    for comparison in comparisons:
        print("  " + comparison.line(), flush=True)
    w = bert_like_attention(tokens_grid, layers=layers, heads=layers)
    ours_png = render_png(attnfig.model_view(w), dpi=150)
    reference_png = render_png(reference_of(attnfig.model_view(w), w), dpi=150)
    difference = np.abs(ours_png[..., :3] - reference_png[..., :3]) * 255
    visible = float((difference > 8).mean())
    pixels = (f"same at 150 dpi: pixels differing by more than 8 of 255 | share | "
              f"{visible:.3g} | max {difference.max():.0f}/255, mean {difference.mean():.2f}/255")
    print("  " + pixels, flush=True)
    return comparisons, pixels


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
            seconds, size, peak = run_in_fresh_process(__file__, "scaling", name, n)
            table.append((name, n, seconds, size / 1e6, peak))
            print(f"  {name}, {n} tokens: {seconds:.2f} s, {size / 1e6:.2f} MB, peak RSS {peak:.0f} MB", flush=True)
    return table


def report(comparisons, pixels, table, grid_limit_tokens, note):
    lines = [note, "", TABLE_HEADER] + [comparison.row() for comparison in comparisons]
    lines += ["", f"| {pixels} |"]
    lines += ["", "| view | tokens | seconds | PDF MB | peak RSS MB |", "|---|---|---|---|---|"]
    lines += [f"| {name} | {n} | {s:.2f} | {mb:.2f} | {peak:.0f} |" for name, n, s, mb, peak in table]
    at_limit = [(name, s) for name, n, s, _, _ in table if n == grid_limit_tokens and "12 x 12" in name]
    lines += [""] + [f"12 x 12 grid at {grid_limit_tokens} tokens, {name}: {s:.1f} s to PDF "
                     f"({'under' if s < 30 else 'OVER'} the 30 s limit)" for name, s in at_limit]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that the script runs")
    parser.add_argument("--cell", nargs="+", help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        import json

        kind, *rest = args.cell
        if kind == "figure":
            print(json.dumps(figure_cell(rest[0], int(rest[1]), int(rest[2]))))
        else:
            print(json.dumps(scaling_cell(rest[0], int(rest[1]))))
        return 0
    repeats = 1 if args.quick else args.repeats
    note = machine_note(repeats)
    print(note, flush=True)
    if args.quick:
        (comparisons, pixels), table, limit = ratios(16, 8, 16, layers=2, repeats=repeats), scaling([16, 32]), 32
    else:
        (comparisons, pixels), table, limit = ratios(128, 64, 128, repeats=repeats), scaling([32, 64, 128, 256, 512]), 512
    text = report(comparisons, pixels, table, limit, note)
    print(text)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / ("views-quick.md" if args.quick else "views.md")).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
