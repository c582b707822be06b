"""attnfig in a real Jupyter kernel (issue #18): figures show once, saves and model loading are quiet."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

ROOT = Path(__file__).resolve().parents[1]

SETUP = """\
import numpy as np, attnfig
rng = np.random.default_rng(0)
attention = rng.dirichlet(np.ones(6), size=(2, 3, 6)).astype("float32")
tokens = ["[CLS]", "the", "rabbit", "quickly", "hopped", "[SEP]"]
q, k = rng.normal(size=8), rng.normal(size=(6, 8))
view = attnfig.NeuronView(q, k, q * k, k @ q, np.full(6, 1 / 6), tuple(tokens), 0, 1, 2)
vit = rng.dirichlet(np.ones(5), size=(1, 3, 5))"""
# Each figure call and the number of image/png outputs it must give.
FIGURE_CELLS = [
    ("attnfig.head_view(attention, tokens, layer=1)", 1),
    ("fig = attnfig.model_view(attention, tokens, kind='heatmap')", 1),
    ("ax = attnfig.heatmap(attention, tokens, layer=0, head=1)", 1),
    ("attnfig.plot_head_patterns(attention, tokens)", 1),
    ("attnfig.difference_grid(attention, attention[:, ::-1], tokens)", 1),
    ("attnfig.plot_neuron_view(view)", 1),
    ("attnfig.image_attention_grid(vit, np.zeros((32, 32)), grid=(2, 2))", 1),
    ("attnfig.save(fig, {path!r})", 0),
]


def _run(cells, tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    # A fresh kernel as a user starts one: this checkout's attnfig, and no MPLBACKEND (a test run's
    # Agg would stand in for the notebook's own backend).
    env = {name: value for name, value in os.environ.items() if name != "MPLBACKEND"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=env)
    return notebook.cells


def _outputs(cell, kind):
    return [o for o in cell.outputs if kind in o.get("data", {})]


def _stderr(cells):
    return [o.get("text", "") for cell in cells for o in cell.outputs if o.get("name") == "stderr"
            or o.get("output_type") == "error"]


@pytest.mark.slow
def test_in_a_kernel_each_figure_shows_once_and_nothing_else_is_printed(tmp_path):
    """One kernel (started once): the figure cells without and then with ``%matplotlib inline``,
    then a model loaded and captured."""
    from attnfig.testing import save_tiny_model

    folder = save_tiny_model("bert", tmp_path / "bert")
    figure_cells = [source.format(path=str(tmp_path / "grid.pdf")) for source, _ in FIGURE_CELLS]
    model_cells = [f"model, tokenizer = attnfig.load_model({str(folder)!r})",
                   "attention = attnfig.from_model(model, tokenizer, 'the cat sat')",
                   "attention = attnfig.capture(model, tokenizer, 'the cat sat')"]
    cells = _run([SETUP] + figure_cells + ["%matplotlib inline"] + figure_cells + model_cells, tmp_path)
    assert _stderr(cells) == []
    n = len(figure_cells)
    for run in (cells[1:1 + n], cells[2 + n:2 + 2 * n]):
        for cell, (source, images) in zip(run, FIGURE_CELLS):
            assert len(_outputs(cell, "image/png")) == images, (source, cell.outputs)
            assert not any("Figure size" in o.get("data", {}).get("text/plain", "") and "image/png" not in o["data"]
                           for o in cell.outputs), source
        assert run[-1].outputs == []  # `save` as the last line: no list of paths echoed
    assert [o for cell in cells[-3:] for o in cell.outputs] == []  # no TqdmWarning, no progress bar
    assert (tmp_path / "grid.pdf").stat().st_size > 0
