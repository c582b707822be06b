"""Shared by the benchmarks: BERT-shaped random attention, timing, PDF size, peak memory."""
from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from pathlib import Path
from contextlib import contextmanager

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

SEED = 0


def bert_like_attention(tokens: int, layers: int = 12, heads: int = 12, seed: int = SEED) -> np.ndarray:
    """Each row the softmax of standard-normal scores times 3: ``[layers, heads, q, k]``."""
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((layers, heads, tokens, tokens), dtype=np.float32) * 3
    scores -= scores.max(-1, keepdims=True)
    np.exp(scores, out=scores)
    scores /= scores.sum(-1, keepdims=True)
    return scores


def token_labels(n: int) -> list[str]:
    return [f"tok{i}" for i in range(n)]


@contextmanager
def timer():
    """Yields a dict whose "seconds" is filled on exit."""
    result = {}
    started = time.perf_counter()
    try:
        yield result
    finally:
        result["seconds"] = time.perf_counter() - started


def pdf_bytes(fig, **kwargs) -> int:
    """Size of the figure saved as PDF (as `attnfig.save` writes it)."""
    import attnfig

    buffer = io.BytesIO()
    with matplotlib.rc_context({"pdf.fonttype": 42}), attnfig.export.save.laid_out_once(fig):
        fig.savefig(buffer, format="pdf", **kwargs)
    plt.close(fig)
    return buffer.tell()


def render_png(fig, dpi=150) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    buffer.seek(0)
    return plt.imread(buffer)


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB: VmHWM of /proc/self/status.

    Unlike ru_maxrss it is not inherited from the parent that forked this process.
    """
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM"))) / 1024


def run_in_fresh_process(script: str, *cell_arguments, env=None):
    """Run `script --cell ARGS...` in a new interpreter and return the JSON of its last line.

    Each measurement gets a process of its own, so that its peak memory is its own.
    """
    command = [sys.executable, str(script), "--cell", *map(str, cell_arguments)]
    result = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    return json.loads(result.stdout.strip().splitlines()[-1])
