"""The batch manifest and the batch's own checks, with a fake renderer (no model): concurrent runs
leave a true folder, hostile manifests are set aside in bounded time, the cost is linear, the key
follows attnfig's code; ids that clash on case-insensitive or Windows file systems, a read-only
folder and a swallowed Ctrl-C (issue #17, items 1, 11, 16, 18, 20, 21).
"""
from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
import weakref

import matplotlib.figure
import pytest

from attnfig import SaveError
from attnfig.export import batch, manifest
from attnfig.export.batch import ViewOptions, read_items, run_batch


@pytest.fixture
def fake_model(tmp_path, monkeypatch):
    """A model folder and a renderer that draws the view's name and the text: no torch."""
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    rendered = []

    def load(model_path, parent_pid=None):
        batch._WORKER.update(model=None, tokenizer=None)

    def figure_for_text(model, tokenizer, text, pair, options):
        rendered.append(text)
        hook = HOOKS.get(text)
        if hook:
            hook()
        figure = matplotlib.figure.Figure(figsize=(1, 1))
        figure.text(0.1, 0.5, f"{options.view} {text}")
        return figure

    monkeypatch.setattr(batch, "_load", load)
    monkeypatch.setattr(batch, "too_long", lambda *args: None)
    monkeypatch.setattr(batch, "figure_for_text", figure_for_text)
    HOOKS.clear()
    return folder, rendered


HOOKS: dict = {}  # text -> called while that text renders


def lines(ids):
    return [json.dumps({"id": i, "text": f"text {i}"}) for i in ids]


def run(model, ids, out, view="head", **kwargs):
    log = io.StringIO()
    report = run_batch(model, lines(ids), out, formats=("svg",), options=ViewOptions(view=view), log=log, **kwargs)
    return report, log.getvalue()


def view_in(path) -> str:
    return "heatmap" if "heatmap" in path.read_text() else "head"


IDS = [f"ex{n:02d}" for n in range(8)]


def test_a_run_during_another_leaves_a_folder_whose_rerun_redoes_exactly_what_changed(fake_model, tmp_path):
    model, rendered = fake_model
    out = tmp_path / "out"
    # Run B (a subset, another view) starts and ends while run A renders its 4th input.
    HOOKS["text ex03"] = lambda: run(model, IDS[:5], out, view="heatmap")
    report, _ = run(model, IDS, out, view="head")
    HOOKS.clear()
    assert len(report.written) == 8
    views = {i: view_in(out / f"{i}.svg") for i in IDS}
    assert views == {**{i: "heatmap" for i in IDS[:3]}, **{i: "head" for i in IDS[3:]}}  # B came after A's ex00-02

    rendered.clear()
    report, log = run(model, IDS, out, view="head")
    assert sorted(report.written) == IDS[:3] and sorted(report.skipped) == IDS[3:], log
    assert {i: view_in(out / f"{i}.svg") for i in IDS} == {i: "head" for i in IDS}
    report, log = run(model, IDS[:5], out, view="heatmap")
    assert sorted(report.written) == IDS[:5] and report.skipped == []


def test_the_manifest_is_appended_once_per_input_never_rewritten(fake_model, tmp_path):
    model, _ = fake_model
    out = tmp_path / "out"
    run(model, IDS[:2], out)
    path = out / manifest.MANIFEST_NAME
    inode = path.stat().st_ino
    run(model, IDS[2:5], out)
    assert path.stat().st_ino == inode  # the same file, appended
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["file"] for r in records] == [f"{i}.svg" for i in IDS[:5]]
    assert all(len(r["sha256"]) == 64 and len(r["identity"]) == 4 for r in records)


def test_a_copied_folder_is_still_current_by_its_bytes(fake_model, tmp_path):
    import shutil

    model, _ = fake_model
    run(model, IDS[:3], tmp_path / "out")
    shutil.copytree(tmp_path / "out", tmp_path / "copy")  # new inodes and times, same bytes
    report, _ = run(model, IDS[:3], tmp_path / "copy")
    assert sorted(report.skipped) == IDS[:3] and report.written == []


def test_the_key_follows_attnfigs_code_not_only_its_version_string(monkeypatch, tmp_path):
    key = manifest.render_key(text="a")
    monkeypatch.setattr(manifest, "code_version", lambda: "0.1.0+0123456789abcdef")
    assert manifest.render_key(text="a") != key
    monkeypatch.undo()
    version, digest = manifest.code_version().split("+")
    assert version == __import__("attnfig").__version__ and len(digest) == 16  # a digest of the package files
    assert manifest.code_version.cache_info().misses == 1  # computed once per process


def _hostile_fifo(path):
    os.mkfifo(path)


def _hostile_zero(path):
    os.symlink("/dev/zero", path)


def _hostile_nested(path):
    good = path.read_bytes()
    path.write_bytes(b"[" * 100_000 + b"\n" + b"{" * 3000 + b"\n" + good)


def _hostile_huge(path):
    with open(path, "ab") as handle:
        handle.truncate(manifest.MAX_MANIFEST_BYTES + 1)  # sparse: no real disk space


@pytest.mark.parametrize("damage, hostile", [
    ("is not a regular file", _hostile_fifo),
    ("is not a regular file", _hostile_zero),
    ("2 of its 5 line(s) are not records attnfig wrote", _hostile_nested),
    ("more than attnfig writes", _hostile_huge),
])
def test_a_hostile_manifest_is_reported_and_set_aside_in_bounded_time(fake_model, tmp_path, damage, hostile):
    model, _ = fake_model
    out = tmp_path / "out"
    run(model, IDS[:3], out)
    path = out / manifest.MANIFEST_NAME
    if hostile is not _hostile_nested:
        path.unlink()
    hostile(path)
    result = {}
    worker = threading.Thread(target=lambda: result.update(zip(("report", "log"), run(model, IDS[:3], out))),
                              daemon=True)
    started = time.monotonic()
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the batch hangs on the manifest"
    assert time.monotonic() - started < 60
    assert f"is damaged ({damage}" in result["log"] or (damage in result["log"]), result["log"]
    if hostile is _hostile_nested:
        assert result["report"].skipped == IDS[:3]  # the good records still count
        report, log = run(model, IDS[:4], out)  # the damaged lines were set aside: said once, not at every run
        assert "damaged" not in log and report.skipped == IDS[:3] and report.written == IDS[3:4], log
        assert run(model, IDS[:4], out)[0].skipped == IDS[:4]
    else:
        assert sorted(result["report"].written) == IDS[:3]
        assert path.is_file() and not path.is_symlink()
        assert len(path.read_text().splitlines()) == 3


def test_a_last_record_without_its_newline_does_not_swallow_the_next_one(fake_model, tmp_path):
    model, _ = fake_model
    out = tmp_path / "out"
    run(model, IDS[:3], out)
    path = out / manifest.MANIFEST_NAME
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # a writer stopped before its newline
    report, _ = run(model, IDS[:4], out)
    assert report.skipped == IDS[:3] and report.written == IDS[3:4]
    report, log = run(model, IDS[:4], out)
    assert report.skipped == IDS[:4] and "damaged" not in log, log


def test_ids_that_clash_on_case_insensitive_or_windows_file_systems_are_bad_lines():
    ids = ["Fig1", "fig1", "FIG1", "CON", "nul.txt", "Lpt1", "com9.x", "console", "nullable", "LPT", "fig2"]
    items, bad = read_items(lines(ids))
    assert [i.id for i in items] == ["Fig1", "console", "nullable", "LPT", "fig2"]
    reasons = dict(bad)
    assert reasons[2] == ("id 'fig1' differs only by case from 'Fig1' (line 1): on a case-insensitive file "
                          "system (macOS, Windows) both are one file")
    assert "differs only by case from 'Fig1'" in reasons[3]
    for line in (4, 5, 6, 7):
        assert "is a device name on Windows (CON, NUL, COM1, LPT1...)" in reasons[line]


def test_an_output_folder_that_is_a_file_is_named_so_before_anything_is_rendered(fake_model, tmp_path):
    model, rendered = fake_model
    (tmp_path / "out").write_text("kept")
    with pytest.raises(SaveError, match=r"folder .*out': it is a file, not a folder\. Choose another --out-dir"):
        run(model, IDS, tmp_path / "out")
    assert rendered == [] and (tmp_path / "out").read_text() == "kept"


def test_a_read_only_output_folder_fails_before_anything_is_rendered(fake_model, tmp_path):
    model, rendered = fake_model
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(SaveError, match=r"Cannot write figures to the folder .*out': it is read-only"):
            run(model, IDS, out)
    finally:
        out.chmod(0o755)
    assert rendered == [] and list(out.iterdir()) == []


def test_a_read_only_output_folder_is_one_error_line_and_exit_2(capfd, tiny_model_folders, tmp_path):
    from attnfig.cli import main

    (tmp_path / "in.jsonl").write_text("\n".join(lines(IDS[:2])) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        status = main(["batch", "--model", str(tiny_model_folders["bert"]), "--input", str(tmp_path / "in.jsonl"),
                       "--out-dir", str(out)])
    finally:
        out.chmod(0o755)
    stderr = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert status == 2 and len(stderr) == 1 and "error: Cannot write figures to the folder" in stderr[0]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_ctrl_c_swallowed_by_a_weakref_callback_still_stops_the_batch(fake_model, tmp_path):
    model, rendered = fake_model

    def interrupt_inside_a_callback():
        thing = type("Thing", (), {})()
        keep = weakref.ref(thing, lambda ref: signal.raise_signal(signal.SIGINT))
        del thing  # the KeyboardInterrupt is raised in the callback, printed and dropped by Python
        assert keep() is None

    HOOKS["text ex01"] = interrupt_inside_a_callback
    report, log = run(model, IDS, tmp_path / "out")
    assert report.interrupted and report.written == IDS[:2]
    assert rendered == ["text ex00", "text ex01"] and len(report.not_done) == 6
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
