"""The README's inline figure: the seed example's head view as a fresh Jupyter kernel shows it.

Runs two cells in a new kernel (nbclient + ipykernel, no ``%matplotlib`` magic, no
MPLBACKEND) and writes the one ``image/png`` output of the figure cell to
gallery/images/notebook_inline.png, byte for byte what the notebook shows.

    python gallery/notebook_inline.py
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent
CELLS = [
    "import attnfig\n"
    "model, tokenizer = attnfig.load_model('minilm')\n"
    "attention = attnfig.from_model(model, tokenizer, 'the rabbit quickly hopped', 'The turtle slowly crawled')",
    "attnfig.head_view(attention, layer=2)",
]


def main() -> Path:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])
    env.setdefault("HF_HUB_OFFLINE", "1")
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute(env=env)
    (image,) = [output["data"]["image/png"] for output in notebook.cells[-1].outputs if "image/png" in output.get("data", {})]
    path = HERE / "images" / "notebook_inline.png"
    path.write_bytes(base64.b64decode(image))
    return path


if __name__ == "__main__":
    print(f"wrote {main()}")
