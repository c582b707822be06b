"""Corpus statistics locally and on Ray: 64 texts through the real MiniLM model, in one run.

    python benchmarks/bench_ray.py            # local, Ray with 1 actor, Ray with 2 actors
    python benchmarks/bench_ray.py --texts 8  # a quicker check

The statistic is `special_token_attention` (every target, the attention sink included) over
64 texts of about 100 tokens (the sentences of gallery/corpus.jsonl, four to a text). Each
case runs in a fresh process, so its peak memory is its own: the local run loads the model in
that process; a Ray run starts a local cluster (``ray.init(num_cpus=2)``) and a pool of actors
that each load the model once (`attnfig.RayEngine`), then streams the texts on them.

Reported per case: the wall time of the corpus (model loading apart), the time to start the
pool, the per-text cost, the driver's CPU time while the corpus ran (its overhead: sharding,
merging, waiting), and the peak RSS of the driver and of each actor (VmHWM). The local run
is timed twice: with torch's default threads and with one thread, as each actor runs
(``num_cpus=1``); the ratios are against the latter. The results of every case are checked
to be equal.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = Path(__file__).resolve().parent / "output"
CASES = {"local": None, "local, 1 thread": 0, "ray, 1 actor": 1, "ray, 2 actors": 2}  # actors (0: one torch thread)


def corpus(count: int) -> list[str]:
    sentences = [json.loads(line)["text"] for line in (ROOT / "gallery" / "corpus.jsonl").read_text().splitlines()
                 if line]
    return [" ".join(sentences[(4 * i + j) % len(sentences)] for j in range(4)) for i in range(count)]


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _actor_peak(model, tokenizer) -> tuple[int, float]:
    return os.getpid(), peak_rss_mb()


def run_case(actors: int | None, count: int) -> dict:
    """One case, in this (fresh) process: its numbers as a dict."""
    import numpy as np

    import attnfig
    from attnfig.recording.models import minilm_path

    texts = corpus(count)
    folder = str(minilm_path())
    started = time.perf_counter()
    if not actors:
        if actors == 0:  # as each actor runs (num_cpus=1: one torch thread)
            attnfig.recording.runtime.require_hf("torch").set_num_threads(1)
        model, tokenizer = attnfig.load_model(folder)
        engine, options = "local", {"model": model, "tokenizer": tokenizer}
    else:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        engine = attnfig.RayEngine(folder, actors=actors, progress=False)
        engine.pids()  # wait until every actor has loaded the model
        options = {"engine": engine}
    start_seconds = time.perf_counter() - started
    cpu, wall = time.process_time(), time.perf_counter()
    result = attnfig.special_token_attention(texts, **options)
    seconds, driver_cpu = time.perf_counter() - wall, time.process_time() - cpu
    actor_peaks = []
    if actors:
        actor_peaks = [peak for _, peak in engine.ray.get([a.apply.remote(_actor_peak) for a in engine.actors])]
        engine.close()
    return {"texts": count, "start": start_seconds, "seconds": seconds, "driver_cpu": driver_cpu,
            "driver_peak": peak_rss_mb(), "actor_peaks": actor_peaks,
            "result": {name: np.nan_to_num(values, nan=-1.0).tolist() for name, values in result.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=64)
    parser.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)  # one case, in a child process
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(CASES[args.case], args.texts)))
        return 0

    import numpy as np

    runs, load = {}, os.getloadavg()[0]
    for case in CASES:
        child = subprocess.run([sys.executable, __file__, "--texts", str(args.texts), "--case", case],
                               capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        if child.returncode != 0:
            print(child.stderr[-3000:], file=sys.stderr)
            return 1
        runs[case] = json.loads(child.stdout.strip().splitlines()[-1])
    local = runs["local, 1 thread"]
    for case, run in runs.items():
        for name, values in run["result"].items():
            assert np.allclose(values, local["result"][name], rtol=1e-9, atol=1e-12), (case, name)
    one = runs["ray, 1 actor"]
    lines = ["| case | texts | pool start s | corpus s | per text s | vs local, 1 thread | vs 1 actor | driver CPU s "
             "| driver peak MB | actors' peak MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for case, run in runs.items():
        actors = ", ".join(f"{peak:.0f}" for peak in run["actor_peaks"]) or "-"
        start = f"{run['start']:.1f}" + (" (model load)" if case.startswith("local") else "")
        lines.append(f"| {case} | {run['texts']} | {start} | {run['seconds']:.1f} | {run['seconds'] / run['texts']:.3f} "
                     f"| {run['seconds'] / local['seconds']:.2f}x | {run['seconds'] / one['seconds']:.2f}x "
                     f"| {run['driver_cpu']:.2f} | {run['driver_peak']:.0f} | {actors} |")
    lines.append("")
    lines.append(f"Results equal to the local run in every case (float tolerance 1e-9). {os.cpu_count()} cores; "
                 f"load average {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end.")
    text = "\n".join(lines)
    print(text)
    OUTPUT.mkdir(exist_ok=True)
    (OUTPUT / "ray.md").write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
