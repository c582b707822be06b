"""Batch manifest cost per input at 1,000 and 10,000 inputs: it must be linear (issue #17).

    python benchmarks/bench_manifest.py            # 1,000 and 10,000 inputs
    python benchmarks/bench_manifest.py --quick    # 200 and 2,000

No model and no drawing: each input is a 2 kB file written in place of a figure. Timed is
only the bookkeeping a batch adds per input: describing what was written (identity and
SHA-256), appending its record, and on a re-run reading the manifest and checking that each
file still holds what its record says. Linear means the per-input cost is the same at both
sizes (ratio near 1); the earlier manifest, rewritten whole after every input, grew with
the number of inputs (about 85 s of overhead at 10,000). Each size runs in a fresh process,
interleaved, 3 rounds (`--repeats`).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import Comparison, add_harness_arguments, interleaved, machine_note  # noqa: E402

from attnfig.export.atomic import describe  # noqa: E402
from attnfig.export.manifest import Manifest, render_key  # noqa: E402


def measure(count: int) -> dict:
    """Seconds per input to record `count` inputs, and to check them all on a re-run."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"input{n:05d}.pdf" for n in range(count)]
        for path in paths:
            path.write_bytes(os.urandom(16) + bytes(2048))
        keys = [render_key(text=f"text {n}", options={"view": "head"}) for n in range(count)]

        started = time.perf_counter()
        manifest = Manifest(folder)
        for path, key in zip(paths, keys):
            manifest.record([describe(path)], key)
        record_seconds = time.perf_counter() - started

        started = time.perf_counter()
        manifest = Manifest(folder)
        current = sum(manifest.is_current([path], key) for path, key in zip(paths, keys))
        check_seconds = time.perf_counter() - started
    assert current == count, (current, count)
    return {"record": record_seconds / count, "check": check_seconds / count}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 inputs, 1 round")
    parser.add_argument("--cell", type=int, help=argparse.SUPPRESS)
    add_harness_arguments(parser)
    args = parser.parse_args(argv)
    if args.cell:
        print(json.dumps(measure(args.cell)))
        return 0
    sizes = (200, 2000) if args.quick else (1000, 10000)
    repeats = 1 if args.quick else args.repeats
    runs = interleaved(__file__, {count: (count,) for count in sizes}, repeats)
    print(machine_note(repeats))
    print("| inputs | record, us per input | re-run check, us per input | total overhead, s |")
    print("|---|---|---|---|")
    for count in sizes:
        record = statistics.median(r["record"] for r in runs[count])
        check = statistics.median(r["check"] for r in runs[count])
        print(f"| {count} | {record * 1e6:.0f} | {check * 1e6:.0f} | {(record + check) * count:.2f} |")
    small, large = ([r["record"] + r["check"] for r in runs[count]] for count in sizes)
    comparison = Comparison(f"per-input cost at {sizes[1]} inputs", large, small, unit="s",
                            floor_name=f"per-input cost at {sizes[0]} (linear: 1.00x)", target="~1x")
    print(comparison.line())
    print(f"per-input cost ratio, {sizes[1]} vs {sizes[0]} inputs: {comparison.median_ratio:.2f} median, "
          f"{comparison.best_ratio:.2f} best (1.00 is linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
