"""save() under faults: all formats or none, a true message, long names, bad paths and formats."""
from __future__ import annotations

import os

import matplotlib.pyplot as plt
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


# --- issue #17: interrupts between the renames, file modes, bad arguments, Windows -------------


def _interrupt_after_first_rename(monkeypatch, interrupt) -> None:
    real_replace, calls = os.replace, []

    def replace(source, target):
        real_replace(source, target)
        calls.append(target)
        if len(calls) == 1:
            interrupt()

    monkeypatch.setattr(atomic.os, "replace", replace)


def _contents(paths):
    return {fmt: path.read_bytes()[:4] for fmt, path in paths.items()}


def test_a_keyboard_interrupt_between_the_renames_puts_every_file_back(tmp_path, figure, monkeypatch):
    paths = _old_set(tmp_path)

    def interrupt():
        raise KeyboardInterrupt

    _interrupt_after_first_rename(monkeypatch, interrupt)
    with pytest.raises(KeyboardInterrupt):
        attnfig.save(figure, tmp_path / "seed", formats=["pdf", "svg", "png"])
    monkeypatch.undo()
    assert _contents(paths) == {"pdf": b"old ", "svg": b"old ", "png": b"old "}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed.pdf", "seed.png", "seed.svg"]


def test_ctrl_c_during_the_renames_takes_effect_once_the_set_is_complete(tmp_path, figure, monkeypatch):
    import signal

    paths = _old_set(tmp_path)
    _interrupt_after_first_rename(monkeypatch, lambda: signal.raise_signal(signal.SIGINT))
    with pytest.raises(KeyboardInterrupt):
        attnfig.save(figure, tmp_path / "seed", formats=["pdf", "svg", "png"])
    monkeypatch.undo()
    assert _contents(paths) == {"pdf": b"%PDF", "svg": b"<?xm", "png": b"\x89PNG"}
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


SIGTERM_SCRIPT = """
import os, signal, sys
import matplotlib; matplotlib.use("Agg")
import numpy as np, attnfig
from attnfig.export import atomic
folder = sys.argv[1]
fig = attnfig.heatmap(np.full((1, 1, 3, 3), 1 / 3), list("abc")).figure
real_replace, calls = os.replace, []
def replace(source, target):
    real_replace(source, target)
    calls.append(target)
    if len(calls) == 1:
        os.kill(os.getpid(), signal.SIGTERM)
atomic.os.replace = replace
attnfig.save(fig, os.path.join(folder, "seed"), formats=["pdf", "svg", "png"])
print("after save")
"""


def test_sigterm_during_the_renames_ends_the_process_after_a_complete_set(tmp_path):
    import signal
    import subprocess
    import sys

    paths = _old_set(tmp_path)
    result = subprocess.run([sys.executable, "-c", SIGTERM_SCRIPT, str(tmp_path)], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == -signal.SIGTERM, result.stderr
    assert "after save" not in result.stdout  # the signal still ended the process, just not mid-set
    assert _contents(paths) == {"pdf": b"%PDF", "svg": b"<?xm", "png": b"\x89PNG"}


def test_a_read_only_file_is_refused_and_keeps_its_mode(tmp_path, figure):
    path = tmp_path / "seed.pdf"
    path.write_bytes(b"old pdf")
    path.chmod(0o444)
    with pytest.raises(SaveError, match=r"seed.pdf'.*exists and is read-only \(mode 0444\).*chmod u\+w"):
        attnfig.save(figure, path)
    assert path.read_bytes() == b"old pdf" and (path.stat().st_mode & 0o777) == 0o444
    assert list(tmp_path.iterdir()) == [path]


def test_a_replaced_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path, figure):
    kept = tmp_path / "kept.pdf"
    kept.write_bytes(b"old pdf")
    kept.chmod(0o640)
    attnfig.save(figure, kept)
    assert kept.read_bytes()[:5] == b"%PDF-" and (kept.stat().st_mode & 0o777) == 0o640
    mask = os.umask(0)
    os.umask(mask)
    assert (attnfig.save(figure, tmp_path / "new.pdf")[0].stat().st_mode & 0o777) == 0o666 & ~mask


@pytest.mark.parametrize("dpi", [-1, 0, float("nan"), float("inf"), "100", True])
def test_a_bad_dpi_is_a_save_error(tmp_path, figure, dpi):
    with pytest.raises(SaveError, match=r"`dpi` must be a positive number of dots per inch \(or 'figure'\), but"):
        attnfig.save(figure, tmp_path / "seed.png", dpi=dpi)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("path", [None, 5, 2.5])
def test_a_path_that_is_no_path_is_a_save_error(figure, path):
    with pytest.raises(SaveError, match=r"A path to save to must be a str or a pathlib.Path \(or a list of them\)"):
        attnfig.save(figure, path)


def test_a_bytes_path_is_saved_under_its_decoded_name(tmp_path, figure):
    saved = attnfig.save(figure, os.fsencode(tmp_path / "seed.pdf"))
    assert saved == [tmp_path / "seed.pdf"] and saved[0].read_bytes()[:5] == b"%PDF-"
    assert [p.name for p in attnfig.save(figure, [os.fsencode(tmp_path / "b.svg")])] == ["b.svg"]


def test_latex_text_without_latex_installed_is_a_save_error(tmp_path, monkeypatch, weights):
    import matplotlib as mpl

    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no latex, whatever the machine has
    with mpl.rc_context({"text.usetex": True}):
        fig = attnfig.heatmap(weights, list("abcd")).figure
    with pytest.raises(SaveError, match=r"text is set with LaTeX \(text.usetex is True\) but `latex` cannot be found"):
        attnfig.save(fig, tmp_path / "seed.pdf")
    plt.close(fig)
    assert list(tmp_path.iterdir()) == []


def test_latex_tick_labels_alone_are_found_without_latex_installed(tmp_path, monkeypatch):
    """The check walks the ticks an Axis has (it does not recompute them): LaTeX set on tick
    labels only, as ``label.set_usetex(True)`` after a draw does, is still found."""
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    fig.canvas.draw()
    for label in ax.get_yticklabels():
        label.set_usetex(True)
    with pytest.raises(SaveError, match=r"`latex` cannot be found"):
        attnfig.save(fig, tmp_path / "ticks.pdf")
    plt.close(fig)
    assert list(tmp_path.iterdir()) == []


def _pretend_windows(monkeypatch, kill):
    """`os` as the liveness check sees it on Windows (patched there only: pytest needs the real one)."""
    import types

    from attnfig.export import processes

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(processes, "os", types.SimpleNamespace(name="nt", kill=kill, getpid=os.getpid))


def test_on_windows_liveness_is_asked_without_os_kill(monkeypatch):
    from attnfig.export import processes

    class Kernel32:
        def __init__(self, running):
            self.running, self.closed = running, []

        def OpenProcess(self, access, inherit, pid):
            return 1000 + pid if pid in self.running else 0

        def GetLastError(self):
            return 87  # ERROR_INVALID_PARAMETER: no such process

        def GetExitCodeProcess(self, handle, code):
            code._obj.value = 259  # STILL_ACTIVE
            return 1

        def CloseHandle(self, handle):
            self.closed.append(handle)

    def kill(pid, signal):
        raise AssertionError("os.kill terminates the process on Windows")

    kernel32 = Kernel32(running={7})
    _pretend_windows(monkeypatch, kill)
    monkeypatch.setattr(processes, "_kernel32", lambda: kernel32)
    assert processes.process_alive(7) is True and kernel32.closed == [1007]
    assert processes.process_alive(8) is False

    def no_ctypes():
        raise AttributeError("no WinDLL")

    monkeypatch.setattr(processes, "_kernel32", no_ctypes)
    assert processes.process_alive(8) is True  # cannot ask: the temporary is kept


def test_stale_temporaries_on_windows_are_found_without_os_kill(tmp_path, monkeypatch):
    from attnfig.export import processes

    stale = tmp_path / ".attnfig-4242-abc.part"
    stale.write_bytes(b"x")
    _pretend_windows(monkeypatch, lambda *args: pytest.fail("os.kill called"))
    monkeypatch.setattr(processes, "_windows_process_alive", lambda pid: pid != 4242)
    assert atomic.remove_stale_temporaries(tmp_path) == [stale]
