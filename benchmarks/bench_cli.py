"""First-figure latency in a fresh process: `attnfig plot`, and a first figure from numpy.

    python benchmarks/bench_cli.py                      # 3 interleaved rounds
    python benchmarks/bench_cli.py --before ../old/tree # also against another checkout
    python benchmarks/bench_cli.py --filed ../base25 --before ../main  # issue #25's target, and main

Each run is a new interpreter, as a user's command is. Measured are the wall-clock seconds
and the CPU seconds (user + system) of that process; on a shared machine the CPU seconds
move less with the load. Floors:
- `attnfig plot --model minilm ... --out fig.pdf` (one head view) against the model alone:
  a script importing transformers, loading the same folder and calling it with
  ``output_attentions=True`` (eager), which any figure of it needs first;
- ``import attnfig`` + `head_view` of numpy attention saved to PDF, against
  ``import matplotlib`` + a labelled `imshow` saved to PDF.
With ``--before DIR`` (repeatable) the same commands also run with DIR first on PYTHONPATH (an
older attnfig), interleaved, and the ratio now / before is printed, named by DIR's commit.
``--filed DIR`` is such a checkout as it was when issue #25 was filed: its ratio is printed
against the issue's target, the command's first figure in half the time (0.5x).
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


def cell_environment(pythonpath: str) -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "MPLBACKEND": "Agg"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (pythonpath, str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def check_checkout(folder: str) -> None:
    """Fail unless the cells given `folder` import that checkout's attnfig (not this one)."""
    with tempfile.TemporaryDirectory() as empty:
        found = subprocess.run([sys.executable, "-c", "import attnfig; print(attnfig.__file__)"], check=True,
                               env=cell_environment(str(Path(folder).resolve())), capture_output=True, text=True,
                               cwd=empty).stdout.strip()
    if Path(found).resolve().parent != (Path(folder) / "attnfig").resolve():
        raise SystemExit(f"--before/--filed {folder}: the cells would import {found}, not that checkout's attnfig")


def cell(name: str, pythonpath: str) -> dict:
    """Run one command in a new interpreter: its wall-clock and CPU seconds."""
    env = cell_environment(pythonpath)
    with tempfile.TemporaryDirectory() as folder:
        before, started = os.times(), time.perf_counter()
        # Run from an empty folder: `python -m` and `-c` put the working folder first on sys.path,
        # and from a checkout's root it would shadow PYTHONPATH (every "before" ran this code).
        subprocess.run(command(name, os.path.join(folder, "figure.pdf")), check=True, env=env, capture_output=True,
                       cwd=folder)
        wall, after = time.perf_counter() - started, os.times()
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return {"seconds": wall, "cpu_seconds": cpu}


FILED_TARGET = 0.5  # issue #25: "CLI first-figure latency halved"


def checkout_name(folder: str) -> str:
    """A checkout's short commit (``git rev-parse``), else its folder's name."""
    try:
        commit = subprocess.run(["git", "-C", folder, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = ""
    return f"{Path(folder).name} at {commit}" if commit else Path(folder).name


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", action="append", default=[],
                        help="another attnfig checkout to compare with (its root folder); repeatable")
    parser.add_argument("--filed", default=None,
                        help="the checkout as it was when issue #25 was filed: compared against the 0.5x target")
    parser.add_argument("--cell", nargs=2, metavar=("NAME", "PYTHONPATH"), help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(cell(args.cell[0], args.cell[1] if args.cell[1] != "-" else "")))
        return 0
    cells = {name: (name, "-") for name in ("plot", "model alone", "numpy figure", "bare figure")}
    befores = [(folder, False) for folder in args.before] + ([(args.filed, True)] if args.filed else [])
    for folder, _ in befores:
        check_checkout(folder)
        cells.update({f"{name}, {folder}": (name, str(Path(folder).resolve())) for name in ("plot", "numpy figure")})
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
        for folder, filed in befores:
            name = checkout_name(folder) + (" (when issue #25 was filed)" if filed else "")
            target = dict(target=f"<= {FILED_TARGET}x (halved)", met=lambda ratio: ratio <= FILED_TARGET) if filed else {}
            comparisons.append(Comparison(f"attnfig plot now vs {name}, {what}", values("plot"),
                                          values(f"plot, {folder}"), unit=unit,
                                          floor_name="the same command, that checkout", **target))
            comparisons.append(Comparison(f"import attnfig + head_view now vs {name}, {what}", values("numpy figure"),
                                          values(f"numpy figure, {folder}"), unit=unit,
                                          floor_name="the same script, that checkout"))
    for comparison in comparisons:
        print(comparison.line(), flush=True)
    print()
    print_comparisons(comparisons, note=note, output=OUTPUT / "cli.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
