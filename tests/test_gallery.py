"""Every gallery script runs offline and writes PNG and PDF; each has a title docstring."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

GALLERY = Path(__file__).resolve().parents[1] / "gallery"
SCRIPTS = sorted(GALLERY.glob("plot_*.py"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_script_opens_with_a_title_and_a_description(script):
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")))
    title, _, description = docstring.partition("\n")
    assert title and not title.endswith(".") and len(description.split()) >= 10


@pytest.mark.real_model
@pytest.mark.slow
def test_whole_gallery_renders_offline(tmp_path):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ATTNFIG_GALLERY_OUTPUT": str(tmp_path),
           "ATTNFIG_GALLERY_PREVIEWS": "0"}
    result = subprocess.run([sys.executable, str(GALLERY / "render_all.py"), "plot_"], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert f"rendered {len(SCRIPTS)} of {len(SCRIPTS)} gallery scripts" in result.stdout
    for name in ("head_view", "model_view", "model_view_heatmap", "heatmap", "decoder_only", "encoder_decoder",
                 "style_paper", "style_dark", "venues_side_by_side"):
        assert (tmp_path / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
        assert (tmp_path / f"{name}.png").stat().st_size > 5000
