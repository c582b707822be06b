"""The CLI and batch under faults: hostile JSONL, interrupts, killed parents, re-runs that redo
only what changed, bad arguments as one `error:` line with exit status 2 (issue #12).

Argument errors run `attnfig.cli.main` in this process (fast); the faults that need a real
process (signals, workers) run the command as a subprocess.
"""
from __future__ import annotations

import codecs
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from attnfig.cli import main
from attnfig.export.batch import usable_cores, worker_count

WORDS = "the rabbit quickly hopped the turtle slowly crawled a cat sat on the mat".split()


@pytest.fixture(scope="module")
def bert_folder(tmp_path_factory):
    from attnfig.testing import save_tiny_model

    return save_tiny_model("bert", tmp_path_factory.mktemp("tiny") / "bert")


def start_cli(*args):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "attnfig.cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def run_cli(*args):
    process = start_cli(*args)
    stdout, stderr = process.communicate(timeout=600)
    return process.returncode, stderr


def record(item_id, text, **extra):
    return json.dumps({"id": item_id, "text": text, **extra}, ensure_ascii=False).encode("utf-8")


def many_lines(count):
    return b"\n".join(record(f"ex{n:03d}", " ".join(WORDS[n % 6: n % 6 + 4])) for n in range(count)) + b"\n"


def figures(folder):
    return sorted(p.name for p in Path(folder).iterdir() if not p.name.startswith("."))


def run_main(capfd, *args):
    try:
        status = main([str(a) for a in args])
    except SystemExit as exit_:  # argparse
        status = exit_.code
    return status, capfd.readouterr().err


def assert_one_error_line(stderr, *fragments):
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and ": error: " in lines[0], stderr
    for fragment in fragments:
        assert fragment in lines[0], stderr


# --- the CLI's contract for bad arguments --------------------------------------------------


@pytest.mark.parametrize("args, fragment", [
    (["--heads", ","], "--heads takes comma-separated integers"),
    (["--jobs", "0"], "--jobs takes a positive number of processes, not '0'"),
    (["--jobs", "-1"], "--jobs takes a positive number of processes, not '-1'"),
])
def test_bad_arguments_are_one_error_line_and_exit_2(capfd, tmp_path, args, fragment):
    status, stderr = run_main(capfd, "batch", "--model", "minilm", "--input", tmp_path / "x.jsonl",
                              "--out-dir", tmp_path, *args)
    assert status == 2
    assert_one_error_line(stderr, fragment)


def test_a_layer_the_model_lacks_fails_once_before_the_batch(capfd, bert_folder, tmp_path):
    (tmp_path / "in.jsonl").write_bytes(many_lines(3))
    status, stderr = run_main(capfd, "batch", "--model", bert_folder, "--input", tmp_path / "in.jsonl",
                              "--out-dir", tmp_path / "out", "--layer", 99)
    assert status == 2
    assert_one_error_line(stderr, "--layer 99 is not a layer of this model: it has 2 layers, 0 to 1")
    assert not (tmp_path / "out").exists()


def test_plot_of_a_text_longer_than_the_model_takes_is_an_error(capfd, bert_folder, tmp_path):
    status, stderr = run_main(capfd, "plot", "--model", bert_folder, "--text", " ".join(["cat"] * 300),
                              "--out", tmp_path / "x.pdf")
    assert status == 2
    assert_one_error_line(stderr, "text too long: 302 tokens, the model takes at most 128")
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def damaged_folders(bert_folder, tmp_path):
    import shutil

    truncated, no_tokenizer = tmp_path / "truncated", tmp_path / "no-tokenizer"
    shutil.copytree(bert_folder, truncated)
    weights = truncated / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    no_tokenizer.mkdir()
    for name in ("config.json", "model.safetensors"):
        shutil.copy(bert_folder / name, no_tokenizer / name)
    return {"truncated": truncated, "no tokenizer": no_tokenizer}


@pytest.mark.parametrize("damage, fragment", [
    ("truncated", "model.safetensors' is truncated or damaged: it has"),
    ("no tokenizer", "has no tokenizer files"),
])
@pytest.mark.parametrize("command", ["plot", "batch"])
def test_damaged_model_folders_are_refused_before_any_work(capfd, damaged_folders, tmp_path, damage, fragment,
                                                             command):
    (tmp_path / "in.jsonl").write_bytes(many_lines(2))
    where = (["--out", tmp_path / "x.pdf", "--text", "a cat"] if command == "plot"
             else ["--input", tmp_path / "in.jsonl", "--out-dir", tmp_path / "out", "--jobs", 2])
    status, stderr = run_main(capfd, command, "--model", damaged_folders[damage], *where)
    assert status == 2
    assert_one_error_line(stderr, fragment)
    assert "BrokenProcessPool" not in stderr and not (tmp_path / "x.pdf").exists()


def test_load_model_refuses_a_folder_without_tokenizer(damaged_folders):
    import attnfig

    with pytest.raises(attnfig.ModelFolderError, match="has no tokenizer files"):
        attnfig.load_model(damaged_folders["no tokenizer"])


def test_workers_start_with_their_share_of_the_cores_as_native_threads(monkeypatch):
    from attnfig.export import batch

    monkeypatch.setattr(batch, "usable_cores", lambda: 4)
    assert [batch.threads_per_worker(w) for w in (1, 2, 3, 4, 8)] == [4, 2, 1, 1, 1]
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the user's lower choice is kept
    monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "8")
    with batch._worker_environment(2):
        assert [os.environ.get(name) for name in batch.THREAD_VARIABLES] == ["1", "2", "2"]
    assert [os.environ.get(name) for name in batch.THREAD_VARIABLES] == ["1", None, "8"]


def test_an_in_process_batch_leaves_the_callers_torch_threads(bert_folder, tmp_path):
    import io

    import torch

    from attnfig.export.batch import run_batch

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        report = run_batch(str(bert_folder), [record("a", "the rabbit")], tmp_path, log=io.StringIO())
        assert report.written == ["a"] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_jobs_are_capped_at_usable_cores_and_inputs():
    assert worker_count(100, 1000) == usable_cores()
    assert worker_count(100, 3) == min(3, usable_cores())
    with pytest.raises(ValueError, match="`jobs` must be a positive integer"):
        worker_count(0, 3)


# --- hostile JSONL, ids, and re-runs ---------------------------------------------------------


def test_lines_are_decoded_one_by_one_and_rerun_redoes_only_what_changed(capfd, bert_folder, tmp_path):
    texts, out = tmp_path / "in.jsonl", tmp_path / "out"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = out / f".attnfig-{int(dead.stdout)}-x1y2.part"  # left by a writer killed mid-save
    stale.write_bytes(b"half a file")
    lines = [
        codecs.BOM_UTF8 + record("first", "the rabbit"),
        b'{"id": "broken", "text": "caf\xe9"}',  # Latin-1, not UTF-8
        record("separators", "the cat\u2028sat\u0085on the mat"),
        b'{"id": null, "text": "a cat"}',
        b'{"id": true, "text": "a cat"}',
        b'{"id": 1e400, "text": "a cat"}',
        record("last", "the turtle"),
    ]
    texts.write_bytes(b"\n".join(lines) + b"\n")
    status, stderr = run_cli("batch", "--model", bert_folder, "--input", texts, "--out-dir", out,
                             "--view", "heatmap")
    assert status == 1, stderr
    assert "line 2: not UTF-8 (byte 0xe9 at column 30)" in stderr
    assert 'line 4: "id" must be a string (it names a file), but null was given' in stderr
    assert "line 5:" in stderr and "line 6:" in stderr
    assert "3 written, 0 skipped (unchanged), 4 bad line(s): 2, 4, 5, 6" in stderr
    assert figures(out) == ["first.pdf", "last.pdf", "separators.pdf"]
    assert not stale.exists()

    before = {name: (out / name).stat().st_mtime_ns for name in figures(out)}
    lines[2] = record("separators", "the dog sat")
    texts.write_bytes(b"\n".join(lines) + b"\n")
    status, stderr = run_main(capfd, "batch", "--model", bert_folder, "--input", texts, "--out-dir", out,
                              "--view", "heatmap")  # in this process: the re-run rule needs no signals
    assert "1 written, 2 skipped (unchanged)" in stderr, stderr
    after = {name: (out / name).stat().st_mtime_ns for name in figures(out)}
    assert after["separators.pdf"] != before["separators.pdf"]
    assert after["first.pdf"] == before["first.pdf"] and after["last.pdf"] == before["last.pdf"]


# --- signals ----------------------------------------------------------------------------------


def _wait_for(condition, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("jobs", [1, 2])
def test_sigint_prints_a_summary_exits_130_and_a_rerun_finishes(capfd, bert_folder, tmp_path, jobs):
    texts, out = tmp_path / "in.jsonl", tmp_path / "out"
    texts.write_bytes(many_lines(10))
    process = start_cli("batch", "--model", bert_folder, "--input", texts, "--out-dir", out, "--jobs", jobs,
                        "--view", "heatmap")
    assert _wait_for(lambda: out.exists() and len(figures(out)) >= 2, 300)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted:" in stderr and "input(s) not done (run the same command again" in stderr
    assert not [p for p in out.iterdir() if p.name.endswith(".part")]
    if jobs > 1:
        return  # the re-run is the same with one process or two

    status, stderr = run_main(capfd, "batch", "--model", bert_folder, "--input", texts, "--out-dir", out,
                              "--view", "heatmap")
    assert status == 0, stderr
    assert len(figures(out)) == 10
    written = int(stderr.split(" written")[0].split()[-1])
    assert 0 < written < 10 and f"{10 - written} skipped (unchanged)" in stderr


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists() or usable_cores() < 2, reason="needs /proc and 2 cores")
def test_workers_exit_within_seconds_when_the_parent_is_killed(bert_folder, tmp_path):
    texts, out = tmp_path / "in.jsonl", tmp_path / "out"
    texts.write_bytes(many_lines(60))
    process = start_cli("batch", "--model", bert_folder, "--input", texts, "--out-dir", out, "--jobs", 2,
                        "--formats", "pdf,png")
    assert _wait_for(lambda: out.exists() and len(figures(out)) >= 2, 300)
    workers = _children(process.pid)
    assert workers
    process.kill()
    process.wait()
    assert _wait_for(lambda: not any(_alive(pid) for pid in workers), 10), [p for p in workers if _alive(p)]


# --- two batch runs on one folder at once (issue #17, item 1) ----------------------------------


def _views(out, ids, heatmaps):
    """Which view each SVG holds: B's heatmap (the same bytes as in a folder of B's alone) or A's head view."""
    return {i: "heatmap" if (heatmaps / f"{i}.svg").exists() and (out / f"{i}.svg").read_bytes() ==
            (heatmaps / f"{i}.svg").read_bytes() else "head" for i in ids}


COUNT_A = 60  # run B (10 inputs, another view) starts once A has written its first 10, and ends before A


def test_two_concurrent_runs_leave_a_folder_whose_rerun_redoes_exactly_what_is_stale(capfd, bert_folder, tmp_path):
    out = tmp_path / "out"
    all_ids = [f"ex{n:03d}" for n in range(COUNT_A)]
    (tmp_path / "a.jsonl").write_bytes(many_lines(COUNT_A))
    (tmp_path / "b.jsonl").write_bytes(b"\n".join(many_lines(COUNT_A).splitlines()[:10]) + b"\n")
    run_a = start_cli("batch", "--model", bert_folder, "--input", tmp_path / "a.jsonl", "--out-dir", out,
                      "--view", "head", "--formats", "svg")
    # B overwrites files A has already written (and recorded): started together, A could as well
    # write its first 10 after B, leaving nothing stale, and the check below would prove nothing.
    assert _wait_for(lambda: out.exists() and len([f for f in figures(out) if f.endswith(".svg")]) >= 10, 300)
    run_b = start_cli("batch", "--model", bert_folder, "--input", tmp_path / "b.jsonl", "--out-dir", out,
                      "--view", "heatmap", "--formats", "svg")
    _, stderr_b = run_b.communicate(timeout=600)
    a_outlived_b = run_a.poll() is None
    _, stderr_a = run_a.communicate(timeout=600)
    assert run_a.returncode == 0 and run_b.returncode == 0, stderr_a + stderr_b
    assert a_outlived_b, "run A ended before run B: the runs did not overlap"
    heatmaps = tmp_path / "heatmaps"  # B's figures alone: SVG bytes are reproducible
    run_main(capfd, "batch", "--model", bert_folder, "--input", tmp_path / "b.jsonl", "--out-dir", heatmaps,
             "--view", "heatmap", "--formats", "svg")
    views = _views(out, all_ids, heatmaps)
    stale = sorted(i for i, view in views.items() if view == "heatmap")
    assert stale and set(stale) <= set(all_ids[:10])

    before = {i: (out / f"{i}.svg").stat().st_mtime_ns for i in all_ids}
    status, stderr = run_main(capfd, "batch", "--model", bert_folder, "--input", tmp_path / "a.jsonl",
                              "--out-dir", out, "--view", "head", "--formats", "svg")
    assert status == 0 and f"{len(stale)} written, {COUNT_A - len(stale)} skipped (unchanged)" in stderr, stderr
    assert sorted(i for i in all_ids if (out / f"{i}.svg").stat().st_mtime_ns != before[i]) == stale
    assert set(_views(out, all_ids, heatmaps).values()) == {"head"}
