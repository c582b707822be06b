"""Long inputs: attnfig's views against the naive way, measured in the same run.

    python benchmarks/bench_long.py            # the full run (a few minutes)
    python benchmarks/bench_long.py --quick    # small sizes: a smoke test of the script

Prints, and writes as Markdown to benchmarks/output/long.md:
- one head of 4096 tokens as a heatmap to PDF, against a bare `imshow` of the same matrix;
- the 12 x 12 grid at 512 tokens, both kinds, to PDF and PNG: time and peak memory above
  the input (each in a fresh process; peak = VmHWM after resetting it once the input exists),
  the heatmap grid against a grid of bare `imshow` Axes;
- `lines` on worst-case attention (every query spreads its weight evenly over 512 keys);
- PNG against PDF (rendered with pdfium at the same dpi) for each view at 512 tokens.

Every timed cell runs in a fresh process, interleaved with its floor (A, B, A, B, A, B:
`--repeats`, 3 by default; 1 with --quick); each ratio is printed best and median.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (Comparison, add_harness_arguments, bert_like_attention, interleaved, machine_note,  # noqa: E402
                    plt, print_comparisons, timer, token_labels)

import attnfig  # noqa: E402

OUTPUT = Path(__file__).resolve().parent / "output"


def _status_mb(key: str) -> float:
    line = next(line for line in Path("/proc/self/status").read_text().splitlines() if line.startswith(key))
    return int(line.split()[1]) / 1024


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS (Linux)


def worst_case_attention(n: int, equal_keys: int) -> np.ndarray:
    """Each query gives 1/equal_keys to `equal_keys` keys: ``[1, 1, n, n]``."""
    weights = np.zeros((1, 1, n, n), dtype=np.float32)
    rows = np.arange(n)[:, None]
    weights[0, 0, rows, (rows * 7 + np.arange(equal_keys)) % n] = 1 / equal_keys
    return weights


def naive_imshow_grid(weights):
    fig, axes = plt.subplots(weights.shape[0], weights.shape[1], figsize=attnfig.figsize("neurips"))
    for layer in range(weights.shape[0]):
        for head in range(weights.shape[1]):
            axes[layer, head].imshow(weights[layer, head])
            axes[layer, head].set_axis_off()
    return fig


def _one_heatmap(weights, tokens):
    fig, ax = plt.subplots(figsize=attnfig.figsize("neurips"), layout="constrained")
    attnfig.heatmap(weights, tokens, ax=ax)
    return fig


def _bare_imshow(weights, tokens):
    fig, ax = plt.subplots(figsize=attnfig.figsize("neurips"), layout="constrained")
    ax.imshow(weights[0, 0])
    return fig


def _worst_lines(weights, tokens):
    fig, ax = plt.subplots(figsize=(3.25, 9.0), layout="constrained")
    attnfig.lines(weights, ax=ax)
    return fig


CELLS = {  # name: (how the attention is made, the figure)
    "model_view lines": ("bert", lambda w, t: attnfig.model_view(w, t)),
    "model_view heatmap": ("bert", lambda w, t: attnfig.model_view(w, t, kind="heatmap")),
    "bare imshow grid": ("bert", lambda w, t: naive_imshow_grid(w)),
    "heatmap (1 head)": ("one head", _one_heatmap),
    "bare imshow (1 head)": ("one head", _bare_imshow),
    "lines, worst case": ("worst", _worst_lines),
}


def cell(name: str, n: int, fmt: str, layers: int) -> dict:
    """Build `name` at n tokens under the neurips style, save it as `fmt`: time and memory."""
    source, make = CELLS[name]
    if source == "worst":
        weights = worst_case_attention(n, min(512, n // 2))
    else:
        weights = bert_like_attention(n, layers=layers if source == "bert" else 1,
                                      heads=layers if source == "bert" else 1)
    tokens = token_labels(n)
    _reset_peak()
    before = _status_mb("VmRSS")
    with attnfig.style("neurips"), timer() as t:
        fig = make(weights, tokens)
        folder = OUTPUT / "long"
        folder.mkdir(parents=True, exist_ok=True)
        attnfig.save(fig, folder / f"{name.replace(' ', '_')}-{n}.{fmt}")
        plt.close(fig)
    return {"seconds": t["seconds"], "peak_mb": _status_mb("VmHWM") - before, "input_mb": weights.nbytes / 1e6}


def fresh_runs(cells: dict, repeats: int) -> dict[str, list[dict]]:
    """`cells` (name: (cell name, tokens, format, layers)) interleaved, each run in a fresh process."""
    return interleaved(__file__, cells, repeats)


def agreement(n: int, layers: int, dpi: int) -> list[tuple[str, float]]:
    """Share of pixels off by more than 8/255 between PNG and PDF, per view, at `dpi`."""
    import matplotlib as mpl

    from attnfig.testing import png_pdf_disagreement

    weights, tokens = bert_like_attention(n, layers=layers, heads=layers), token_labels(n)
    views = {
        "model_view lines": lambda: attnfig.model_view(weights, tokens),
        "model_view heatmap": lambda: attnfig.model_view(weights, tokens, kind="heatmap"),
        "head_view, span of 64": lambda: attnfig.head_view(weights[:1], tokens, span=(0, min(n, 64))),
        "heatmap": lambda: _one_heatmap(weights, tokens),
    }
    folder = OUTPUT / "long"
    folder.mkdir(parents=True, exist_ok=True)
    shares = []
    for name, make in views.items():
        with attnfig.style("neurips"), mpl.rc_context({"savefig.dpi": dpi}):
            fig = make()
            png, pdf = attnfig.save(fig, folder / f"agree-{name.replace(' ', '_')}", formats=["png", "pdf"])
            plt.close(fig)
        shares.append((name, png_pdf_disagreement(png, pdf, dpi)))
    return shares


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that the script runs")
    parser.add_argument("--cell", nargs=4, metavar=("NAME", "TOKENS", "FORMAT", "LAYERS"), help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        name, n, fmt, layers = args.cell
        print(json.dumps(cell(name, int(n), fmt, int(layers))))
        return 0
    repeats = 1 if args.quick else args.repeats
    long_n, grid_n, layers, worst_n = (128, 24, 2, 256) if args.quick else (4096, 512, 12, 4096)
    note = machine_note(repeats)
    print(note, flush=True)
    comparisons = []

    def seconds(runs):
        return [run["seconds"] for run in runs]

    runs = fresh_runs({"ours": ("heatmap (1 head)", long_n, "pdf", 1),
                       "bare": ("bare imshow (1 head)", long_n, "pdf", 1)}, repeats)
    comparisons.append(Comparison(f"heatmap, 1 head, {long_n} tokens, to PDF, vs bare imshow, time", seconds(runs["ours"]),
                                  seconds(runs["bare"]), floor_name="bare imshow", target="<= 2x",
                                  met=lambda r: r <= 2))
    print(comparisons[-1].line(), flush=True)
    for kind in ("lines", "heatmap"):
        for fmt in ("pdf", "png"):
            cells = {"ours": (f"model_view {kind}", grid_n, fmt, layers)}
            if kind == "heatmap":
                cells["bare"] = ("bare imshow grid", grid_n, fmt, layers)
            runs = fresh_runs(cells, repeats)
            ours = runs["ours"]
            name = f"model_view {kind}, {layers} x {layers}, {grid_n} tokens, to {fmt.upper()}"
            comparisons.append(Comparison(f"{name}, peak memory above the input", [r["peak_mb"] for r in ours],
                                          [r["input_mb"] for r in ours], floor_name="the input's size", unit="MB",
                                          target="< 2x", met=lambda r: r < 2))
            print(comparisons[-1].line(), flush=True)
            if kind == "heatmap":
                bare = runs["bare"]
                comparisons.append(Comparison(f"  {name}, vs a grid of bare imshow Axes, time", seconds(ours),
                                              seconds(bare), floor_name="bare imshow grid"))
                print(comparisons[-1].line(), flush=True)
                comparisons.append(Comparison(f"  {name}, vs a grid of bare imshow Axes, peak memory above the input",
                                              [r["peak_mb"] for r in ours], [max(r["peak_mb"], 1) for r in bare],
                                              floor_name="bare imshow grid", unit="MB"))
                print(comparisons[-1].line(), flush=True)
            else:
                comparisons.append(Comparison(f"  {name}, time", seconds(ours), [30.0] * len(ours),
                                              floor_name="the 30 s limit", target="< 1x", met=lambda r: r < 1))
                print(comparisons[-1].line(), flush=True)
    equal_keys = min(512, worst_n // 2)
    worst = fresh_runs({"ours": ("lines, worst case", worst_n, "png", 1)}, repeats)["ours"]
    comparisons.append(Comparison(f"lines, 1 head, {worst_n} tokens, {equal_keys} equal keys per query, to PNG, time",
                                  seconds(worst), [30.0] * len(worst), floor_name="the 30 s bound (was > 120 s)",
                                  target="< 1x", met=lambda r: r < 1))
    print(comparisons[-1].line(), flush=True)
    rows = []
    for dpi in (288,) if args.quick else (300, 288):
        for name, share in agreement(grid_n, layers if args.quick else 12, dpi):
            rows.append(f"| PNG vs PDF at {dpi} dpi, {name}, {grid_n} tokens | pixels off by > 8/255 | {share:.2%} | "
                        f"< 2% | {'yes' if share < 0.02 else 'NO'} | pdfium render |")
            print(rows[-1], flush=True)
    text = print_comparisons(comparisons, note=note)
    text += "\n\n" + "\n".join(["| comparison | measure | value | target | met | numbers |", "|---|---|---|---|---|---|"]
                                 + rows)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / ("long-quick.md" if args.quick else "long.md")).write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
