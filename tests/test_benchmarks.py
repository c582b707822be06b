"""The benchmark scripts keep working (their --quick mode; the real numbers come from full runs)."""
from __future__ import annotations

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
