"""Batch throughput: `--jobs 2` against `--jobs 1` over the real MiniLM model.

    python benchmarks/bench_batch.py              # 50 inputs, 3 interleaved rounds
    python benchmarks/bench_batch.py --inputs 10 --repeats 1  # a quicker check

Inputs are the sentences and pairs of gallery/corpus.jsonl, repeated under new ids; each
gives one head view saved as PDF. The model loads once per process; its loading time is
included, as a user running the command would see it. Each batch runs in a fresh process,
``--jobs 1`` and ``--jobs 2`` interleaved (1, 2, 1, 2, 1, 2); printed are the speed-up
(``--jobs 1`` seconds over ``--jobs 2`` seconds, per round: best and median) and the CPU
seconds each spends per figure (the processes' user + system time, children included),
which a loaded machine does not change as much as the wall-clock time.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Comparison, add_harness_arguments, interleaved, machine_note, print_comparisons  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(__file__).resolve().parent / "output"


def jsonl_lines(count: int) -> list[str]:
    records = [json.loads(line) for line in (ROOT / "gallery" / "corpus.jsonl").read_text().splitlines() if line]
    return [json.dumps({**records[i % len(records)], "id": f"input{i:04d}"}) for i in range(count)]


def cpu_seconds() -> float:
    """User + system seconds of this process and of its children that ended."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def cell(jobs: int, inputs: int, view: str) -> dict:
    """One batch of `inputs` figures with `jobs` processes, timed from before the model loads."""
    from attnfig.export.batch import ViewOptions, run_batch
    from attnfig.recording.models import minilm_path

    lines = jsonl_lines(inputs)
    with tempfile.TemporaryDirectory() as out:
        started, cpu = time.perf_counter(), cpu_seconds()
        report = run_batch(str(minilm_path()), lines, out, formats=["pdf"], options=ViewOptions(view=view),
                           jobs=jobs, progress=False, log=io.StringIO())
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    assert len(report.written) == inputs, report.summary()
    return {"seconds": seconds, "cpu_seconds": cpu}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=50)
    parser.add_argument("--view", default="head", choices=["head", "model", "heatmap"])
    parser.add_argument("--cell", nargs=3, metavar=("JOBS", "INPUTS", "VIEW"), help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(cell(int(args.cell[0]), int(args.cell[1]), args.cell[2])))
        return 0
    note = machine_note(args.repeats)
    print(note, flush=True)
    runs = interleaved(__file__, {jobs: (jobs, args.inputs, args.view) for jobs in (1, 2)}, args.repeats,
                       env={**os.environ, "HF_HUB_OFFLINE": "1"})
    one, two = runs[1], runs[2]
    comparisons = [
        Comparison(f"--jobs 2 speed-up over --jobs 1, {args.inputs} {args.view} views to PDF",
                   [r["seconds"] for r in one], [r["seconds"] for r in two], floor_name="--jobs 2 seconds",
                   target=">= 1.6x on 2 idle cores", met=lambda r: r >= 1.6, higher_is_better=True),
        Comparison("--jobs 2 CPU seconds per figure vs --jobs 1", [r["cpu_seconds"] / args.inputs for r in two],
                   [r["cpu_seconds"] / args.inputs for r in one], floor_name="--jobs 1 CPU seconds per figure"),
    ]
    for comparison in comparisons:
        print(comparison.line(), flush=True)
    rates = "\n".join(f"--jobs {jobs}: " + ", ".join(f"{args.inputs / r['seconds']:.2f}" for r in runs[jobs])
                      + " figures per second" for jobs in (1, 2))
    print_comparisons(comparisons, note=note + "\n\n" + rates, output=OUTPUT / "batch.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
