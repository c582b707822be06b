"""Model helpers without the `hf` extra, and quiet transformers logs in the CLI."""
from __future__ import annotations

import subprocess
import sys

import pytest

import attnfig
from attnfig import cli
from attnfig.errors import MissingDependencyError

pytest.importorskip("transformers")


@pytest.mark.parametrize("missing", ["torch", "transformers"])
def test_model_helpers_without_the_hf_extra_say_how_to_install_it(monkeypatch, missing, tiny_model_folders):
    monkeypatch.setitem(sys.modules, missing, None)  # what `import` sees when the package is absent
    with pytest.raises(MissingDependencyError, match=r'pip install "attnfig\[hf\]"'):
        attnfig.load_model(tiny_model_folders["bert"])


def test_from_model_without_torch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"torch is not installed.*attnfig\[hf\]"):
        attnfig.from_model(object(), object(), "a cat")


def test_cli_plot_without_the_hf_extra_says_how_to_install_it(monkeypatch, capsys, tiny_model_folders, tmp_path):
    monkeypatch.setitem(sys.modules, "transformers", None)
    status = cli.main(["plot", "--model", str(tiny_model_folders["bert"]), "--text", "a cat", "--out",
                       str(tmp_path / "a.png")])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("attnfig plot: error:") and 'pip install "attnfig[hf]"' in error
    assert "Traceback" not in error


def test_cli_plot_prints_no_transformers_progress_bars_or_warnings(tiny_model_folders, tmp_path):
    # Falcon-like warnings and "Loading weights" bars went to stderr before.
    result = subprocess.run(
        [sys.executable, "-m", "attnfig.cli", "plot", "--model", str(tiny_model_folders["gpt2"]), "--text",
         "the cat sat", "--view", "model", "--out", str(tmp_path / "g.png")],
        capture_output=True, text=True, timeout=600, env={"HF_HUB_OFFLINE": "1", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.strip() == f"wrote {tmp_path / 'g.png'}"


def test_quiet_transformers_restores_the_verbosity():
    from transformers.utils import logging

    from attnfig.recording.runtime import quiet_transformers

    before = logging.get_verbosity()
    with quiet_transformers():
        assert logging.get_verbosity() == logging.ERROR and not logging.is_progress_bar_enabled()
    assert logging.get_verbosity() == before and logging.is_progress_bar_enabled()
