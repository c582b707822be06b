"""Shared by the benchmarks: BERT-shaped random attention, timing, PDF size, peak memory,
and the harness every benchmark measures with.

The harness (`interleaved`, `compare`): each measured thing is a *cell*, run by the
benchmark script itself as ``script --cell ARGS...`` in a fresh interpreter that prints one
JSON line. The cells of a comparison run interleaved, A, B, A, B, A, B (3 rounds by default),
so that a load change on this shared machine hits both sides; each comparison prints the
ratio of ours to its floor (the naive way, or the least the task costs), best and median
over the rounds, with the raw best and median of each side.
"""
from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SEED = 0


def bert_like_attention(tokens: int, layers: int = 12, heads: int = 12, seed: int = SEED) -> np.ndarray:
    """Each row the softmax of standard-normal scores times 3: ``[layers, heads, q, k]``."""
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((layers, heads, tokens, tokens), dtype=np.float32) * 3
    scores -= scores.max(-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(-1, keepdims=True)
    return scores


def token_labels(n: int) -> list[str]:
    return [f"tok{i}" for i in range(n)]


@contextmanager
def timer():
    """Yields a dict whose "seconds" is filled on exit."""
    result = {}
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started


def pdf_bytes(fig, **kwargs) -> int:
    """Size of the figure saved as PDF (as `attnfig.save` writes it)."""
    import attnfig

    buffer = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}), attnfig.export.save.laid_out_once(fig):
        fig.savefig(buffer, format="pdf", **kwargs)
    plt.close(fig)
    return buffer.tell()


def render_png(fig, dpi=150) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    buffer.seek(0)
    return plt.imread(buffer)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM of /proc/self/status.

    Unlike ru_maxrss it is not inherited from the parent that forked this process.
    """
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def run_in_fresh_process(script: str, *cell_arguments, env=None):
    """Run `script --cell ARGS...` in a new interpreter and return the JSON of its last line.

    Each measurement gets a process of its own, so that its peak memory is its own.
    """
    command = [sys.executable, str(script), "--cell", *map(str, cell_arguments)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])


REPEATS = 3  # rounds of every comparison; `--repeats` in each script changes it


def add_harness_arguments(parser) -> None:
    """`--repeats N`: rounds of each interleaved comparison (3 by default)."""
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help=f"rounds of each interleaved comparison, a fresh process per cell and round "
                             f"(default {REPEATS}); the best and the median are printed")


def interleaved(script, cells: dict, repeats: int = REPEATS, env=None) -> dict[str, list[dict]]:
    """Run each cell `repeats` times, each run in a fresh process, in the order A, B, A, B...

    `cells` maps a name to the arguments of ``script --cell``; returns each name's results
    (the JSON each run printed), in run order.
    """
    runs: dict[str, list[dict]] = {name: [] for name in cells}
    for _ in range(repeats):
        for name, arguments in cells.items():
            runs[name].append(run_in_fresh_process(script, *arguments, env=env))
    return runs


def best_and_median(values) -> tuple[float, float]:
    values = list(values)
    return min(values), statistics.median(values)


class Comparison:
    """One measure of ours against its floor over interleaved rounds: ratio, best and median.

    `ours` and `floor` are the values of each round (seconds, MB...), in run order, so that
    round i of each ran side by side; the ratio's best and median are over the rounds'
    ratios.
    """

    def __init__(self, name: str, ours, floor, *, floor_name: str, unit: str = "s", target: str | None = None,
                 met=None, higher_is_better: bool = False):
        self.name, self.floor_name, self.unit, self.target = name, floor_name, unit, target
        self.ours, self.floor = list(ours), list(floor)
        ratios = [a / b if b else float("inf") for a, b in zip(self.ours, self.floor)]
        best = max if higher_is_better else min
        self.best_ratio, self.median_ratio = best(ratios), statistics.median(ratios)
        self.met = None if met is None else bool(met(self.median_ratio))

    def line(self) -> str:
        ours_best, ours_median = best_and_median(self.ours)
        floor_best, floor_median = best_and_median(self.floor)
        target = "" if self.target is None else (
            f"; target {self.target}: {'met' if self.met else 'NOT met'} (median)" if self.met is not None
            else f"; target {self.target}")
        return (f"{self.name}: {self.best_ratio:.2f}x {self.floor_name} (best of {len(self.ours)}; median "
                f"{self.median_ratio:.2f}x{target}) | ours best {ours_best:.3g} {self.unit}, median "
                f"{ours_median:.3g} | floor best {floor_best:.3g} {self.unit}, median {floor_median:.3g}")

    def row(self) -> str:
        """A Markdown table row: measure | ratio best | ratio median | ours | floor | target."""
        ours_best, ours_median = best_and_median(self.ours)
        floor_best, floor_median = best_and_median(self.floor)
        met = "" if self.met is None else (" (met)" if self.met else " (NOT met)")
        return (f"| {self.name} | {self.floor_name} | {self.best_ratio:.2f}x | {self.median_ratio:.2f}x | "
                f"{ours_best:.3g} / {ours_median:.3g} {self.unit} | {floor_best:.3g} / {floor_median:.3g} {self.unit} | "
                f"{self.target or '-'}{met} |")


TABLE_HEADER = ("| measure | floor | ratio, best | ratio, median | ours, best / median | floor, best / median | target |\n"
                "|---|---|---|---|---|---|---|")


def machine_note(repeats: int) -> str:
    """What the numbers were measured on: cores, load, rounds."""
    try:
        load = " / ".join(f"{v:.1f}" for v in os.getloadavg())
    except OSError:
        load = "unknown"
    return (f"{os.cpu_count()} cores, shared with other jobs (load average {load} at the start); every cell in a "
            f"fresh process, {repeats} interleaved round(s); ratios are ours / floor per round, best and median.")


def print_comparisons(comparisons, title: str | None = None, output: Path | None = None, note: str = "") -> str:
    """Print the comparisons as a Markdown table (and write it to `output`)."""
    lines = ([f"### {title}", ""] if title else []) + ([note, ""] if note else []) + [TABLE_HEADER]
    lines += [comparison.row() for comparison in comparisons]
    text = "\n".join(lines)
    print(text, flush=True)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
    return text
