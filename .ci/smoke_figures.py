"""Draw and save every attnfig figure with an installed attnfig (no model, numpy input only).

Run from outside the repository, with the package installed from its wheel, to check that
the wheel is complete (styles included) and that the declared minimum versions of its
dependencies really work:

    python .ci/smoke_figures.py OUTPUT_FOLDER

Exits non-zero, naming what failed, when any figure cannot be drawn or saved.
"""
from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import attnfig  # noqa: E402

TOKENS = ["[CLS]", "the", "rabbit", "hopped", "[SEP]", "a", "turtle", "[SEP]"]


def attention(seed: int, layers: int = 3, heads: int = 4, n: int = len(TOKENS)) -> np.ndarray:
    scores = np.random.default_rng(seed).normal(size=(layers, heads, n, n)) * 2
    weights = np.exp(scores)
    return weights / weights.sum(-1, keepdims=True)


def neuron() -> "attnfig.NeuronView":
    rng = np.random.default_rng(3)
    query, keys = rng.normal(size=8), rng.normal(size=(len(TOKENS), 8))
    scores = keys @ query / np.sqrt(8)
    weights = np.exp(scores) / np.exp(scores).sum()
    return attnfig.NeuronView(query, keys, keys * query, scores, weights, tuple(TOKENS), 2, 1, 3, 8 ** -0.5)


def axes_figure(draw):
    fig, ax = plt.subplots(layout="constrained")
    draw(ax)
    return fig


def figures() -> dict:
    first, second = attention(0), attention(1)
    return {
        "head_view": lambda: attnfig.head_view(first, TOKENS, sentence_b_start=5),
        "model_view": lambda: attnfig.model_view(first, TOKENS, sentence_b_start=5),
        "model_view_heatmap": lambda: attnfig.model_view(first, TOKENS, kind="heatmap"),
        "heatmap": lambda: axes_figure(lambda ax: attnfig.heatmap(first, TOKENS, layer=1, head=2, annot=True, ax=ax)),
        "lines": lambda: axes_figure(lambda ax: attnfig.lines(first, TOKENS, layer=0, ax=ax)),
        "difference": lambda: axes_figure(lambda ax: attnfig.plot_difference(first, second, TOKENS, layer=0, head=0, ax=ax)),
        "difference_grid": lambda: attnfig.difference_grid(first, second, TOKENS),
        "entropy": lambda: axes_figure(lambda ax: attnfig.plot_head_entropy(first, TOKENS, ax=ax)),
        "patterns": lambda: attnfig.plot_head_patterns(first, TOKENS),
        "rollout": lambda: axes_figure(lambda ax: attnfig.plot_rollout(first, TOKENS, ax=ax)),
        "special_tokens": lambda: axes_figure(lambda ax: attnfig.plot_special_token_attention(first, TOKENS, ax=ax)),
        "neuron_view": lambda: attnfig.plot_neuron_view(neuron()),
    }


def main(output: Path) -> int:
    output.mkdir(parents=True, exist_ok=True)
    failed = []
    # usetex needs a LaTeX installation, which is no dependency of attnfig.
    styles = [s for s in attnfig.available_styles() if s != "usetex" or shutil.which("latex")]
    formats = ["png", "pdf", "svg"]
    cases = [(name, make, "paper", formats) for name, make in figures().items()]
    small = lambda: axes_figure(lambda ax: attnfig.heatmap(attention(2, 1, 1, 4), TOKENS[:4], ax=ax))  # noqa: E731
    cases += [("heatmap", small, style, ["png"]) for style in styles]
    for name, make, style, formats in cases:
        label = f"{name}_{style}"
        started = time.perf_counter()
        try:
            with attnfig.style(style):
                fig = make()
                fig = getattr(fig, "figure", fig)
                paths = attnfig.save(fig, output / label, formats=formats)
            empty = [p.name for p in paths if p.stat().st_size == 0]
            if len(paths) != len(formats) or empty:
                raise RuntimeError(f"saved {[p.name for p in paths]}, empty: {empty}")
        except Exception as err:  # report every failure, not only the first
            failed.append(f"{label}: {type(err).__name__}: {err}")
        finally:
            plt.close("all")
        print(f"{label}: {time.perf_counter() - started:.1f} s")
    print(f"attnfig {attnfig.__version__} from {Path(attnfig.__file__).parent}; matplotlib {matplotlib.__version__}, "
          f"numpy {np.__version__}; {len(cases) - len(failed)} of {len(cases)} figures saved; styles: {', '.join(styles)}")
    print("\n".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "smoke-output")))
