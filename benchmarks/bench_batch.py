"""Batch throughput: figures per second over 100 inputs of the real MiniLM model.

    python benchmarks/bench_batch.py              # --jobs 1 and --jobs 2, 100 inputs
    python benchmarks/bench_batch.py --inputs 10  # a quicker check

Inputs are the sentences and pairs of gallery/corpus.jsonl, repeated under new ids; each
gives one head view saved as PDF. The model loads once per process; its loading time is
included, as a user running the command would see it.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(__file__).resolve().parent / "output"


def jsonl_lines(count: int) -> list[str]:
    records = [json.loads(line) for line in (ROOT / "gallery" / "corpus.jsonl").read_text().splitlines() if line]
    return [json.dumps({**records[i % len(records)], "id": f"input{i:04d}"}) for i in range(count)]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=100)
    parser.add_argument("--view", default="head", choices=["head", "model", "heatmap"])
    args = parser.parse_args(argv)

    from attnfig.export.batch import ViewOptions, run_batch
    from attnfig.recording.models import minilm_path

    lines = jsonl_lines(args.inputs)
    rows = []
    for jobs in (1, 2):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            report = run_batch(str(minilm_path()), lines, out, formats=["pdf"], options=ViewOptions(view=args.view),
                               jobs=jobs, progress=False, log=io.StringIO())
            seconds = time.perf_counter() - started
        assert len(report.written) == args.inputs, report.summary()
        rows.append((jobs, seconds, args.inputs / seconds))
    text = "\n".join(
        ["| --jobs | inputs | seconds | figures per second | speed-up |", "|---|---|---|---|---|"]
        + [f"| {jobs} | {args.inputs} | {seconds:.1f} | {rate:.2f} | {rate / rows[0][2]:.2f}x |"
           for jobs, seconds, rate in rows]
    )
    print(text)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "batch.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
