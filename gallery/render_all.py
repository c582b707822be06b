"""Render every gallery script (``plot_*.py``) in one process, the model loaded once.

    python gallery/render_all.py            # all of them
    python gallery/render_all.py heatmap    # those whose name contains "heatmap"
"""
from __future__ import annotations

import runpy
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt

HERE = Path(__file__).resolve().parent


def main(patterns: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    scripts = sorted(p for p in HERE.glob("plot_*.py") if not patterns or any(s in p.stem for s in patterns))
    failed = []
    for script in scripts:
        started = time.perf_counter()
        try:
            runpy.run_path(str(script), run_name="__main__")
        except Exception as err:  # one broken script must not hide the others
            failed.append(script.name)
            print(f"FAILED {script.name}: {type(err).__name__}: {err}", file=sys.stderr)
        finally:
            plt.close("all")
        print(f"{script.name}: {time.perf_counter() - started:.1f} s")
    print(f"rendered {len(scripts) - len(failed)} of {len(scripts)} gallery scripts")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
