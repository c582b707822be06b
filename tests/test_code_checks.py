"""ruff (configured in pyproject.toml) is clean on the repository, and mypy on attnfig/
reports no more errors than the recorded baseline (to be brought to zero: see issue #20)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# mypy's error count on attnfig/ when the check was added; lower it as errors are fixed.
MYPY_BASELINE = 96


def test_ruff_is_clean():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr


@pytest.mark.slow
def test_mypy_errors_do_not_grow():
    run = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", "/dev/null"], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    found = re.search(r"Found (\d+) errors?", run.stdout)
    errors = int(found.group(1)) if found else 0
    assert run.returncode in (0, 1) and (found or "Success" in run.stdout), run.stdout[-2000:] + run.stderr
    assert errors <= MYPY_BASELINE, run.stdout[-4000:]
