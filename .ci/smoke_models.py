"""Run attnfig's model helpers on tiny random models with an installed attnfig and its `hf` extra.

Run from outside the repository, with the package installed from its wheel and transformers,
tokenizers and torch at the versions under test (`tests/test_packaging.py` installs the lowest
ones pyproject.toml declares):

    python .ci/smoke_models.py OUTPUT_FOLDER

For BERT, GPT-2, Llama, T5 and ViT (`attnfig.testing.build_family_model`): `from_model`, and
where the family supports them `capture`, a summary streamed through the model
(`head_entropy(texts, model=, tokenizer=)`) checked against the same summary of `from_model`'s
maps, and a saved figure. Exits non-zero, naming what failed.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import attnfig  # noqa: E402
from attnfig.testing import build_family_model  # noqa: E402

TEXTS = ["the rabbit quickly hopped", "the quick brown fox jumped over the lazy dog"]
CAPTURED = ("bert", "gpt2", "llama")  # the families `capture` recomputes exactly


def check_family(family: str, output: Path) -> str:
    model, processor = build_family_model(family)
    if family == "vit":
        image = np.random.default_rng(0).integers(0, 255, size=(32, 32, 3), dtype=np.uint8)
        data = attnfig.from_model(model, processor, image)
        fig = attnfig.plot_image_attention(data)
        fig = getattr(fig, "figure", fig)
    elif family == "t5":
        result = attnfig.from_model(model, processor, TEXTS[0], decoder_text=TEXTS[1])
        data = result.encoder
        fig = attnfig.head_view(result)
    else:
        data = attnfig.from_model(model, processor, TEXTS[0])
        fig = attnfig.model_view(data)
    if data.weights.shape[:2] != (2, 4) or not np.allclose(data.weights.sum(-1), 1, atol=1e-4):
        raise AssertionError(f"from_model gave weights of shape {data.weights.shape} whose rows do not sum to 1")
    checks = ["from_model"]
    if family in CAPTURED:
        captured = attnfig.capture(model, processor, TEXTS[0], layers=[1], heads=[0, 3])
        expected = data.weights[1:2, [0, 3]]
        if not np.allclose(captured.weights, expected, atol=1e-5):
            raise AssertionError(f"capture differs from from_model by {np.abs(captured.weights - expected).max():.2g}")
        streamed = attnfig.head_entropy(TEXTS, model=model, tokenizer=processor)
        whole = attnfig.head_entropy([attnfig.from_model(model, processor, text) for text in TEXTS])
        if not np.allclose(streamed, whole, atol=1e-4):
            raise AssertionError(f"the streamed head entropy differs by {np.abs(streamed - whole).max():.2g}")
        checks += ["capture", "streamed head_entropy"]
    (path,) = attnfig.save(fig, output / family, formats=["png"])
    if path.stat().st_size < 1000:
        raise AssertionError(f"{path.name} holds {path.stat().st_size} bytes")
    return ", ".join(checks + ["saved"])


def main(output: Path) -> int:
    import tokenizers
    import torch
    import transformers

    output.mkdir(parents=True, exist_ok=True)
    families = ["bert", "gpt2", "llama", "t5", "vit"]
    failed = []
    for family in families:
        started = time.perf_counter()
        try:
            done = check_family(family, output)
        except Exception as err:  # report every family, not only the first failure
            done = "FAILED"
            failed.append(f"{family}: {type(err).__name__}: {err}")
        finally:
            plt.close("all")
        print(f"{family}: {done} ({time.perf_counter() - started:.1f} s)")
    print(f"attnfig {attnfig.__version__} from {Path(attnfig.__file__).parent}; transformers {transformers.__version__}, "
          f"tokenizers {tokenizers.__version__}, torch {torch.__version__}; "
          f"{len(families) - len(failed)} of {len(families)} families passed")
    print("\n".join(failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "smoke-models-output")))
