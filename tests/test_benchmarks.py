"""The benchmark scripts keep working (their --quick mode; the real numbers come from full runs)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.slow
def test_view_benchmark_runs_and_reports_every_comparison():
    result = subprocess.run([sys.executable, str(BENCHMARKS / "bench_views.py"), "--quick"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for needle in ("vs bare imshow grid", "vs seaborn.heatmap grid", "vs LineCollection of all pairs",
                   "same at 150 dpi", "vs one ax.plot per line", "| view | tokens | seconds | PDF MB | peak RSS MB |"):
        assert needle in result.stdout
    assert "pixels differing by more than 8 of 255 | share | 0 |" in result.stdout


@pytest.mark.slow
def test_long_input_benchmark_runs_and_reports_every_comparison():
    result = subprocess.run([sys.executable, str(BENCHMARKS / "bench_long.py"), "--quick"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    for needle in ("heatmap, 1 head, 128 tokens, to PDF, vs bare imshow", "model_view lines, 2 x 2, 24 tokens, to PNG",
                   "model_view heatmap, 2 x 2, 24 tokens, to PDF", "vs a grid of bare imshow Axes",
                   "lines, 1 head, 256 tokens, 128 equal keys per query", "PNG vs PDF at 288 dpi, head_view, span of 64"):
        assert needle in result.stdout


@pytest.mark.slow
def test_padding_benchmark_runs_and_shows_the_naive_batch_is_wrong():
    result = subprocess.run([sys.executable, str(BENCHMARKS / "bench_padding.py"), "--quick"], capture_output=True,
                            text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in result.stdout.splitlines()
            if line.startswith("| ") and not line.startswith("| method")}
    assert float(rows["one left-padded batch (naive, wrong)"][2]) > 0.1
    assert float(rows["from_model, left padding (one by one)"][2]) == 0
    assert float(rows["from_model, right padding (one batch)"][2]) < 1e-5


def test_capture_benchmark_cell_reports_its_own_peak():
    import json

    command = [sys.executable, str(BENCHMARKS / "bench_capture.py"), "--cell", "capture_pool", "256"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    cell = json.loads(result.stdout.strip().splitlines()[-1])
    assert cell["peak_mb"] >= cell["baseline_mb"] > 50 and cell["seconds"] > 0


@pytest.mark.slow
def test_manifest_benchmark_runs_and_reports_the_per_input_ratio():
    result = subprocess.run([sys.executable, str(BENCHMARKS / "bench_manifest.py"), "--quick"], capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert "| inputs | record, us per input | re-run check, us per input | total overhead, s |" in result.stdout
    assert "per-input cost ratio, 2000 vs 200 inputs:" in result.stdout


def test_generation_benchmark_cell_reports_its_own_peak():
    import json

    command = [sys.executable, str(BENCHMARKS / "bench_generation.py"), "--cell", "capture_generation", "64", "4"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 0, result.stderr
    cell = json.loads(result.stdout.strip().splitlines()[-1])
    assert cell["peak_mb"] >= cell["baseline_mb"] > 50 and cell["seconds"] > 0


def test_flow_benchmark_agrees_with_networkx_and_reports_the_ratio():
    command = [sys.executable, str(BENCHMARKS / "bench_flow.py"), "--quick", "--networkx-sources", "1"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "ratio networkx / attnfig" in result.stdout
