"""The `attnfig` command, run as a subprocess on tiny models saved to temporary folders."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

WORDS = "the rabbit quickly hopped the turtle slowly crawled a cat sat on the mat".split()


def attnfig_cli(*args, cwd=None):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "attnfig.cli", *map(str, args)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


def figure_names(folder):
    """The figures in a batch's output folder (not its hidden manifest)."""
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def write_jsonl(path, bad_lines=(4, 9, 15), count=20):
    lines = []
    for number in range(1, count + 1):
        if number == bad_lines[0]:
            lines.append('{"id": "broken", "text": ')  # invalid JSON
        elif number == bad_lines[1]:
            lines.append(json.dumps({"id": "../escape", "text": "the cat"}))  # unsafe id
        elif number == bad_lines[2]:
            lines.append(json.dumps({"id": "no-text", "pair": "the cat"}))  # missing text
        else:
            text = " ".join(WORDS[number % 5 : number % 5 + 3 + number % 4])
            lines.append(json.dumps({"id": f"ex{number:02d}", "text": text, "pair": "a cat sat"}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [[], ["plot"], ["batch"], ["styles"]])
def test_every_command_has_help_with_examples(command):
    result = attnfig_cli(*command, "--help")
    assert result.returncode == 0
    if command:
        assert "example" in result.stdout


def test_styles_lists_each_style_with_a_description():
    result = attnfig_cli("styles")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert any(line.startswith("attnfig.neurips") and "5.5 in" in line for line in lines)
    assert any(line.startswith("attnfig.colorblind") and "Okabe-Ito" in line for line in lines)


def test_plot_writes_each_out_in_its_format(tiny_model_folders, tmp_path):
    result = attnfig_cli("plot", "--model", tiny_model_folders["bert"], "--text", "the rabbit quickly hopped",
                         "--pair", "the turtle slowly crawled", "--view", "head", "--layer", 1, "--heads", "0,3",
                         "--style", "neurips", "--out", tmp_path / "head.pdf", "--out", tmp_path / "head.svg")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "head.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in (tmp_path / "head.svg").read_bytes()
    # written in the style asked for: tokens stay text in SVG, Times-like serif in the PDF
    assert b">rabbit</text>" in (tmp_path / "head.svg").read_bytes()
    assert b"STIXGeneral" in (tmp_path / "head.pdf").read_bytes()


@pytest.mark.parametrize("kind", ["gpt2", "bart"])
def test_plot_model_view_on_decoder_and_encoder_decoder_models(tiny_model_folders, tmp_path, kind):
    result = attnfig_cli("plot", "--model", tiny_model_folders[kind], "--text", "the cat sat",
                         "--view", "model", "--kind", "heatmap", "--out", tmp_path / "grid.png")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "grid.png").stat().st_size > 1000


def test_hub_names_fail_fast_with_a_hint(tmp_path):
    result = attnfig_cli("plot", "--model", "bert-base-uncased", "--text", "hi", "--out", tmp_path / "x.pdf")
    assert result.returncode == 2
    assert "No model folder at 'bert-base-uncased'" in result.stderr and "local folder" in result.stderr


def test_unknown_style_fails_before_loading_the_model(tiny_model_folders, tmp_path):
    result = attnfig_cli("plot", "--model", tiny_model_folders["bert"], "--text", "hi", "--style", "nature",
                         "--out", tmp_path / "x.pdf")
    assert result.returncode == 2 and "Unknown style 'nature'" in result.stderr


def test_batch_reports_bad_lines_and_renders_the_rest(tiny_model_folders, tmp_path):
    texts = write_jsonl(tmp_path / "texts.jsonl")
    out = tmp_path / "figs"
    result = attnfig_cli("batch", "--model", tiny_model_folders["bert"], "--input", texts, "--out-dir", out,
                         "--view", "heatmap", "--formats", "pdf,svg")
    assert result.returncode == 1
    assert len(list(out.glob("*.pdf"))) == 17 and len(list(out.glob("*.svg"))) == 17
    assert "line 4: invalid JSON" in result.stderr
    assert "line 9: unsafe id '../escape'" in result.stderr
    assert 'line 15: missing "text"' in result.stderr
    assert "17 written, 0 skipped (unchanged), 3 bad line(s): 4, 9, 15" in result.stderr
    assert not (tmp_path / "escape.pdf").exists()

    mtimes = {p: p.stat().st_mtime_ns for p in out.iterdir()}
    again = attnfig_cli("batch", "--model", tiny_model_folders["bert"], "--input", texts, "--out-dir", out,
                        "--view", "heatmap", "--formats", "pdf,svg")
    assert "0 written, 17 skipped" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in out.iterdir()} == mtimes


def test_batch_reports_texts_longer_than_the_model_takes(tiny_model_folders, tmp_path):
    texts = tmp_path / "texts.jsonl"
    texts.write_text(json.dumps({"id": "long", "text": " ".join(["cat"] * 300)}) + "\n"
                     + json.dumps({"id": "short", "text": "a cat"}) + "\n", encoding="utf-8")
    result = attnfig_cli("batch", "--model", tiny_model_folders["bert"], "--input", texts,
                         "--out-dir", tmp_path / "figs", "--view", "model", "--kind", "heatmap")
    assert result.returncode == 1
    assert "line 1: text too long: 302 tokens, the model takes at most 128" in result.stderr
    assert figure_names(tmp_path / "figs") == ["short.pdf"]


def test_batch_jobs_two_gives_the_same_bytes_as_jobs_one(tiny_model_folders, tmp_path):
    texts = write_jsonl(tmp_path / "texts.jsonl")
    outputs = {}
    for jobs in (1, 2):
        out = tmp_path / f"jobs{jobs}"
        result = attnfig_cli("batch", "--model", tiny_model_folders["bert"], "--input", texts, "--out-dir", out,
                             "--view", "head", "--formats", "pdf,png", "--jobs", jobs)
        assert result.returncode == 1, result.stderr
        outputs[jobs] = {name: (out / name).read_bytes() for name in figure_names(out)}
    assert len(outputs[1]) == 34
    assert outputs[1] == outputs[2]


def test_collections_pause_while_the_model_loads_and_start_again_with_the_loaded_heap_frozen():
    import gc

    from attnfig.export.batch import freeze_loaded_heap, pause_collections

    assert gc.isenabled()
    try:
        pause_collections()  # what `attnfig plot` and `batch` do first, in their own process
        assert not gc.isenabled()
        freeze_loaded_heap()  # after the load
        assert gc.isenabled() and gc.get_freeze_count() > 0
    finally:
        gc.enable()
        gc.unfreeze()


def test_main_called_from_python_leaves_the_garbage_collector_alone(tiny_model_folders, tmp_path):
    import gc

    from attnfig.cli import main

    frozen = gc.get_freeze_count()
    assert main(["plot", "--model", str(tiny_model_folders["bert"]), "--text", "the rabbit", "--heads", "0",
                 "--out", str(tmp_path / "head.png")]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
