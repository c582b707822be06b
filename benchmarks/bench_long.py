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
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bert_like_attention, plt, run_in_fresh_process, timer, token_labels  # noqa: E402

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


IN_PROCESS = False  # --quick: no fresh process per cell (its memory numbers mean little)


def run_cell(name: str, n: int, fmt: str, layers: int) -> dict:
    if IN_PROCESS:
        return cell(name, n, fmt, layers)
    return run_in_fresh_process(__file__, name, n, fmt, layers)


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


class Rows(list):
    def append(self, row):
        super().append(row)
        print("  " + " | ".join(str(v) for v in row), flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes: check that the script runs")
    parser.add_argument("--cell", nargs=4, metavar=("NAME", "TOKENS", "FORMAT", "LAYERS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell:
        name, n, fmt, layers = args.cell
        print(json.dumps(cell(name, int(n), fmt, int(layers))))
        return 0
    global IN_PROCESS
    IN_PROCESS = args.quick
    long_n, grid_n, layers, worst_n = (128, 24, 2, 256) if args.quick else (4096, 512, 12, 4096)
    rows = Rows()
    print("| comparison | measure | value | target | met | numbers |")
    ours, bare = run_cell("heatmap (1 head)", long_n, "pdf", 1), run_cell("bare imshow (1 head)", long_n, "pdf", 1)
    ratio = ours["seconds"] / bare["seconds"]
    rows.append((f"heatmap, 1 head, {long_n} tokens, to PDF, vs bare imshow", "time", f"{ratio:.2f}x", "<= 2x",
                 "yes" if ratio <= 2 else "NO", f"{ours['seconds']:.2f} s vs {bare['seconds']:.2f} s"))
    for kind in ("lines", "heatmap"):
        for fmt in ("pdf", "png"):
            result = run_cell(f"model_view {kind}", grid_n, fmt, layers)
            extra = result["peak_mb"] / result["input_mb"]
            rows.append((f"model_view {kind}, {layers} x {layers}, {grid_n} tokens, to {fmt.upper()}",
                         "peak memory above the input / input", f"{extra:.2f}x", "< 2x",
                         "yes" if extra < 2 else "NO", f"{result['seconds']:.2f} s, {result['peak_mb']:.0f} MB "
                         f"above a {result['input_mb']:.0f} MB input (time limit 30 s: "
                         f"{'met' if result['seconds'] < 30 else 'NOT met'})"))
            if kind == "heatmap":
                naive = run_cell("bare imshow grid", grid_n, fmt, layers)
                rows.append((f"  vs a grid of bare imshow Axes, to {fmt.upper()}", "time / memory",
                             f"{result['seconds'] / naive['seconds']:.2f}x / {result['peak_mb'] / max(naive['peak_mb'], 1):.2f}x",
                             "-", "-", f"{naive['seconds']:.2f} s, {naive['peak_mb']:.0f} MB"))
    worst = run_cell("lines, worst case", worst_n, "png", 1)
    rows.append((f"lines, 1 head, {worst_n} tokens, {min(512, worst_n // 2)} equal keys per query, to PNG", "time",
                 f"{worst['seconds']:.2f} s", "bounded (was > 120 s)", "yes" if worst["seconds"] < 30 else "NO",
                 f"{worst['peak_mb']:.0f} MB above a {worst['input_mb']:.0f} MB input"))
    for dpi in (288,) if args.quick else (300, 288):
        for name, share in agreement(grid_n, layers if args.quick else 12, dpi):
            rows.append((f"PNG vs PDF at {dpi} dpi, {name}, {grid_n} tokens", "pixels off by > 8/255",
                         f"{share:.2%}", "< 2%", "yes" if share < 0.02 else "NO", "pdfium render"))
    text = "\n".join(["| comparison | measure | value | target | met | numbers |", "|---|---|---|---|---|---|"]
                     + ["| " + " | ".join(str(v) for v in row) + " |" for row in rows])
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / ("long-quick.md" if args.quick else "long.md")).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
