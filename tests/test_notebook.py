"""The example notebook runs headless and makes its figures."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from matplotlib.figure import Figure

NOTEBOOK = Path(__file__).resolve().parents[1] / "gallery" / "seed.ipynb"


def code_cells(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            # IPython magics (%matplotlib inline) have no meaning outside a kernel.
            yield "".join(line for line in cell["source"] if not line.lstrip().startswith("%"))


@pytest.mark.real_model
def test_seed_notebook_runs_and_makes_its_figures(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for source in code_cells(NOTEBOOK):
        exec(compile(source, str(NOTEBOOK), "exec"), namespace)
    for name in ("head_fig", "model_fig", "grid_fig"):
        assert isinstance(namespace[name], Figure)
    assert namespace["sentence_b_start"] == 6
    head_axes = [ax for ax in namespace["head_fig"].axes if ax.collections]
    assert len(head_axes) == 12 and all(len(ax.collections) == 1 for ax in head_axes)  # 12 heads: one panel each
    assert [t.get_text() for t in head_axes[0].get_yticklabels()][:3] == ["[CLS]", "the", "rabbit"]
    assert (tmp_path / "output" / "seed_notebook_grid.pdf").read_bytes()[:5] == b"%PDF-"
    assert (tmp_path / "output" / "seed_notebook_grid.png").stat().st_size > 1000
