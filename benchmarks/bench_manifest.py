"""Batch manifest cost per input at 1,000 and 10,000 inputs: it must be linear (issue #17).

    python benchmarks/bench_manifest.py            # 1,000 and 10,000 inputs
    python benchmarks/bench_manifest.py --quick    # 200 and 2,000

No model and no drawing: each input is a 2 kB file written in place of a figure. Timed is
only the bookkeeping a batch adds per input: describing what was written (identity and
SHA-256), appending its record, and on a re-run reading the manifest and checking that each
file still holds what its record says. Linear means the per-input cost is the same at both
sizes (ratio near 1); the earlier manifest, rewritten whole after every input, grew with
the number of inputs (about 85 s of overhead at 10,000).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

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
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 inputs")
    args = parser.parse_args(argv)
    sizes = (200, 2000) if args.quick else (1000, 10000)
    results = {count: measure(count) for count in sizes}
    print("| inputs | record, us per input | re-run check, us per input | total overhead, s |")
    print("|---|---|---|---|")
    for count, cost in results.items():
        total = (cost["record"] + cost["check"]) * count
        print(f"| {count} | {cost['record'] * 1e6:.0f} | {cost['check'] * 1e6:.0f} | {total:.2f} |")
    small, large = (results[count] for count in sizes)
    ratio = (large["record"] + large["check"]) / (small["record"] + small["check"])
    print(f"per-input cost ratio, {sizes[1]} vs {sizes[0]} inputs: {ratio:.2f} (1.00 is linear)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
