"""First-figure latency in a fresh process: `attnfig plot`, and a first figure from numpy.

    python benchmarks/bench_cli.py                      # 3 interleaved rounds
    python benchmarks/bench_cli.py --before ../old/tree # also against another checkout

Each run is a new interpreter, as a user's command is. Measured are the wall-clock seconds
and the CPU seconds (user + system) of that process; on a shared machine the CPU seconds
move less with the load. Floors:
- `attnfig plot --model minilm ... --out fig.pdf` (one head view) against the model alone:
  a script importing transformers, loading the same folder and calling it with
  ``output_attentions=True`` (eager), which any figure of it needs first;
- ``import attnfig`` + `head_view` of numpy attention saved to PDF, against
  ``import matplotlib`` + a labelled `imshow` saved to PDF.
With ``--before DIR`` the same commands also run with DIR first on PYTHONPATH (an older
attnfig), interleaved, and the ratio now / before is printed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Comparison, add_harness_arguments, interleaved, machine_note, print_comparisons  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(__file__).resolve().parent / "output"
TEXT, PAIR = "the rabbit quickly hopped", "The turtle slowly crawled"

MODEL_ALONE = f"""
import torch, transformers
from attnfig.recording.models import minilm_path
path = minilm_path()
tokenizer = transformers.AutoTokenizer.from_pretrained(path)
model = transformers.AutoModel.from_pretrained(path, attn_implementation="eager").eval()
with torch.inference_mode():
    attentions = model(**tokenizer({TEXT!r}, {PAIR!r}, return_tensors="pt"), output_attentions=True).attentions
"""
NUMPY_FIGURE = """
import sys, numpy as np, attnfig
tokens = "[CLS] the rabbit quickly hopped [SEP] the turtle slowly crawled [SEP]".split()
weights = np.random.default_rng(0).random((6, 12, 11, 11)); weights /= weights.sum(-1, keepdims=True)
attnfig.save(attnfig.head_view(weights, tokens, layer=2), sys.argv[1])
"""
BARE_FIGURE = """
import sys, numpy as np, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
tokens = "[CLS] the rabbit quickly hopped [SEP] the turtle slowly crawled [SEP]".split()
weights = np.random.default_rng(0).random((11, 11)); weights /= weights.sum(-1, keepdims=True)
fig, ax = plt.subplots(layout="constrained")
ax.imshow(weights)
ax.set_xticks(range(11), tokens, rotation=90)
ax.set_yticks(range(11), tokens)
fig.savefig(sys.argv[1])
"""


def command(name: str, out: str) -> list[str]:
    if name == "plot":
        return [sys.executable, "-m", "attnfig.cli", "plot", "--model", "minilm", "--text", TEXT, "--pair", PAIR,
                "--out", out]
    script = {"model alone": MODEL_ALONE, "numpy figure": NUMPY_FIGURE, "bare figure": BARE_FIGURE}[name]
    return [sys.executable, "-c", script, out]


def cell(name: str, pythonpath: str) -> dict:
    """Run one command in a new interpreter: its wall-clock and CPU seconds."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, str(ROOT), env.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory() as folder:
        before, started = os.times(), time.perf_counter()
        subprocess.run(command(name, os.path.join(folder, "figure.pdf")), check=True, env=env, capture_output=True)
        wall, after = time.perf_counter() - started, os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"seconds": wall, "cpu_seconds": cpu}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=None, help="another attnfig checkout to compare with (its root folder)")
    parser.add_argument("--cell", nargs=2, metavar=("NAME", "PYTHONPATH"), help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(cell(args.cell[0], args.cell[1] if args.cell[1] != "-" else "")))
        return 0
    cells = {name: (name, "-") for name in ("plot", "model alone", "numpy figure", "bare figure")}
    if args.before:
        cells.update({f"{name}, before": (name, str(Path(args.before).resolve())) for name in ("plot", "numpy figure")})
    note = machine_note(args.repeats)
    print(note, flush=True)
    runs = interleaved(__file__, cells, args.repeats)
    comparisons = []
    for measure, unit in (("cpu_seconds", "CPU s"), ("seconds", "s")):
        def values(name, measure=measure):
            return [r[measure] for r in runs[name]]

        what = "CPU time" if measure == "cpu_seconds" else "wall-clock time"
        comparisons.append(Comparison(f"attnfig plot, one head view to PDF, fresh process, {what}", values("plot"),
                                      values("model alone"), unit=unit,
                                      floor_name="loading MiniLM and one output_attentions call"))
        comparisons.append(Comparison(f"import attnfig + head_view to PDF, fresh process, {what}", values("numpy figure"),
                                      values("bare figure"), unit=unit, floor_name="import matplotlib + labelled imshow"))
        if args.before:
            comparisons.append(Comparison(f"attnfig plot now vs before, {what}", values("plot"), values("plot, before"),
                                          unit=unit, floor_name="the same command, older checkout"))
            comparisons.append(Comparison(f"import attnfig + head_view now vs before, {what}", values("numpy figure"),
                                          values("numpy figure, before"), unit=unit,
                                          floor_name="the same script, older checkout"))
    for comparison in comparisons:
        print(comparison.line(), flush=True)
    print()
    print_comparisons(comparisons, note=note, output=OUTPUT / "cli.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
