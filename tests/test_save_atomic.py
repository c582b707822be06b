"""save() under faults: all formats or none, a true message, long names, bad paths and formats."""
from __future__ import annotations

import os

import matplotlib.pyplot as plt
import numpy as np
import pytest

import attnfig
from attnfig import SaveError
from attnfig.export import atomic

from conftest import random_attention


@pytest.fixture(scope="module")
def weights():
    return random_attention(1, 2, 4)


@pytest.fixture
def figure(weights):
    fig = attnfig.heatmap(weights, list("abcd")).figure
    yield fig
    plt.close(fig)


def _old_set(folder):
    paths = {fmt: folder / f"seed.{fmt}" for fmt in ("pdf", "svg", "png")}
    for fmt, path in paths.items():
        path.write_bytes(f"old {fmt}".encode())
    return paths


def test_a_failing_format_leaves_every_earlier_file_and_says_so(tmp_path, figure, monkeypatch):
    paths = _old_set(tmp_path)
    original = figure.savefig

    def png_fails(target, **kwargs):
        if kwargs["format"] == "png":
            raise RuntimeError("disk full")
        original(target, **kwargs)

    monkeypatch.setattr(figure, "savefig", png_fails)
    with pytest.raises(SaveError, match=r"seed.png.*disk full\. No file was written: any earlier file is untouched"):
        attnfig.save(figure, tmp_path / "seed", formats=["pdf", "svg", "png"])
    assert {fmt: p.read_bytes() for fmt, p in paths.items()} == {f: f"old {f}".encode() for f in paths}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.pdf", "seed.png", "seed.svg"]


def _make_rename_fail(monkeypatch, nth: int) -> None:
    """The nth rename that save makes fails as on a full disk."""
    real_replace, calls = os.replace, []

    def failing(source, target):
        calls.append(target)
        if len(calls) == nth:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", failing)


def test_a_failing_rename_puts_the_replaced_files_back(tmp_path, figure, monkeypatch):
    paths = _old_set(tmp_path)
    _make_rename_fail(monkeypatch, 3)
    with pytest.raises(SaveError, match=r"seed.png.*earlier content back: no file changed"):
        attnfig.save(figure, tmp_path / "seed", formats=["pdf", "svg", "png"])
    monkeypatch.undo()
    assert {fmt: p.read_bytes() for fmt, p in paths.items()} == {f: f"old {f}".encode() for f in paths}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.pdf", "seed.png", "seed.svg"]


def test_a_failing_rename_removes_new_files_that_had_no_earlier_version(tmp_path, figure, monkeypatch):
    _make_rename_fail(monkeypatch, 2)
    with pytest.raises(SaveError):
        attnfig.save(figure, tmp_path / "seed", formats=["pdf", "png"])
    assert list(tmp_path.iterdir()) == []


def test_a_250_character_file_name_is_saved(tmp_path, figure):
    name = "n" * 246 + ".pdf"
    path = attnfig.save(figure, tmp_path / name)[0]
    assert path.name == name and path.read_bytes()[:5] == b"%PDF-"


def test_a_name_too_long_for_the_file_system_is_a_save_error(tmp_path, figure):
    with pytest.raises(SaveError, match=r"File name too long"):
        attnfig.save(figure, tmp_path / ("n" * 300 + ".pdf"))
    assert list(tmp_path.iterdir()) == []


def test_a_nul_in_the_path_is_a_save_error(tmp_path, figure):
    with pytest.raises(SaveError, match=r"a path cannot contain a NUL character"):
        attnfig.save(figure, str(tmp_path / "se\0ed.pdf"))


def test_one_format_name_alone_is_accepted(tmp_path, figure):
    assert [p.name for p in attnfig.save(figure, tmp_path / "seed", formats="pdf")] == ["seed.pdf"]


def test_no_format_at_all_is_refused(tmp_path, figure):
    with pytest.raises(SaveError, match=r"`formats` is empty, so nothing would be written"):
        attnfig.save(figure, tmp_path / "seed", formats=[])


def test_temporaries_of_dead_writers_are_removed_and_live_ones_kept(tmp_path):
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f".attnfig-{int(dead.stdout)}-abc123.part"
    live = tmp_path / f".attnfig-{os.getpid()}-def456.part"
    other = tmp_path / ".notes.part"
    for path in (stale, live, other):
        path.write_bytes(b"x")
    assert atomic.remove_stale_temporaries(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([live.name, other.name])
