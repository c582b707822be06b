"""Writing several files all or nothing, and cleaning up after writers that were killed.

Each file is first written to a temporary file in its own folder, named
``.attnfig-<pid>-<random>.part`` (short, whatever the target's length, and traceable to
the process that wrote it). Only when every temporary is complete are they renamed over
their targets; if a rename fails or the save is interrupted, the targets already replaced
get their earlier content back. While the renames run, Ctrl-C and SIGTERM wait: they take
effect once the set is complete, so a set is never part new, part old. A replaced file
keeps its mode; a read-only one is refused, as ``savefig`` refuses it. A temporary whose
process is gone (killed mid-save) is removed by `remove_stale_temporaries`.
"""
from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
import re
import shutil
import signal
import stat
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Sequence

from ..errors import SaveError
from .processes import process_alive

TEMPORARY_PREFIX = ".attnfig-"
TEMPORARY_SUFFIX = ".part"
_TEMPORARY_NAME = re.compile(r"^\.attnfig-(\d+)-[A-Za-z0-9_]+\.part$")
_DEFERRED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM") if hasattr(signal, name))


class WrittenFile(NamedTuple):
    """A file `write_all_or_nothing` put in place: what it holds, as it was when it arrived."""

    path: Path
    identity: tuple[int, int, int, int]  # (device, inode, size, mtime in ns): a rename keeps them
    sha256: str


_watchers: contextvars.ContextVar[tuple[list, ...]] = contextvars.ContextVar("attnfig_write_watchers", default=())


@contextlib.contextmanager
def watching_writes() -> Iterator[list[WrittenFile]]:
    """Collect a `WrittenFile` for each file the saves inside the block put in place.

    The description is taken from the temporary before its rename: it is what this save
    wrote, even if another process replaces the file a moment later.
    """
    written: list[WrittenFile] = []
    token = _watchers.set((*_watchers.get(), written))
    try:
        yield written
    finally:
        _watchers.reset(token)


def describe(path: Path) -> WrittenFile:
    """The identity and content digest of the file at `path`."""
    status = os.stat(path)
    digest = hashlib.sha256()  # hashlib.file_digest is Python 3.11+; attnfig runs on 3.10
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 18), b""):
            digest.update(block)
    return WrittenFile(Path(path), file_identity(status), digest.hexdigest())


def file_identity(status: os.stat_result) -> tuple[int, int, int, int]:
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def temporary_file(folder: Path) -> Path:
    """A new empty temporary file in `folder`, named after this process."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", suffix=TEMPORARY_SUFFIX)
    os.close(handle)
    return Path(name)


def read_only(path) -> bool:
    """Whether `path` exists with no write permission bit: refused even to root, as to anyone.

    >>> read_only("/no/such/file")
    False
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def write_all_or_nothing(paths: Sequence[Path], write: Callable[[Path, Path], None]) -> None:
    """Call ``write(temporary, path)`` for each path, then move all the results into place.

    If any write fails, no target changes; if a rename fails or the save is interrupted,
    the targets already replaced get their earlier content back. Raises `SaveError`
    (KeyboardInterrupt passes through, after the same cleanup).
    """
    for path in paths:
        if read_only(path):
            mode = stat.S_IMODE(os.stat(path).st_mode)
            raise SaveError(f"Cannot save {str(path)!r}: the file exists and is read-only (mode {mode:04o}), so it "
                            f"is not replaced (savefig refuses it too). Make it writable (chmod u+w) or save under "
                            f"another name. {NOTHING_WRITTEN}")
    temporaries: list[Path] = []
    try:
        for path in paths:
            try:
                temporaries.append(temporary_file(path.parent))
            except OSError as err:
                raise SaveError(f"Cannot save {str(path)!r}: the folder cannot be written ({err.strerror}). "
                                f"{NOTHING_WRITTEN}") from err
            try:
                write(temporaries[-1], path)
                os.chmod(temporaries[-1], _mode_for(path))
            except BaseException as err:
                if isinstance(err, (KeyboardInterrupt, SystemExit)):
                    raise
                raise SaveError(f"Cannot save {str(path)!r}: {type(err).__name__}: {err}. {NOTHING_WRITTEN}") from err
        written = [describe(t)._replace(path=p) for t, p in zip(temporaries, paths)] if _watchers.get() else []
        _move_into_place(temporaries, paths)
        for watcher in _watchers.get():
            watcher.extend(written)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


NOTHING_WRITTEN = "No file was written: any earlier file is untouched."


def _mode_for(path: Path) -> int:
    """The replaced file's permissions, or those a new file gets (0666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _move_into_place(temporaries: Sequence[Path], paths: Sequence[Path]) -> None:
    backups: dict[Path, Path | None] = {}
    with _signals_deferred():
        try:
            for path in paths:
                backups[path] = _backup(path)
            try:
                for temporary, path in zip(temporaries, paths):
                    os.replace(temporary, path)
            except BaseException as err:
                # A temporary that is gone was renamed (perhaps just before an interrupt).
                _put_back([p for t, p in zip(temporaries, paths) if not os.path.lexists(t)], backups)
                if not isinstance(err, OSError):
                    raise
                raise SaveError(
                    f"Cannot save {str(path)!r}: {err.strerror or err}. The files already replaced got their "
                    "earlier content back: no file changed."
                ) from err
        finally:
            for backup in backups.values():
                if backup is not None:
                    backup.unlink(missing_ok=True)


def _put_back(replaced: Sequence[Path], backups: dict[Path, Path | None]) -> None:
    for done in replaced:
        previous = backups[done]
        if previous is None:
            done.unlink(missing_ok=True)
        else:
            os.replace(previous, done)
            backups[done] = None


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends, then deliver them as they came.

    Only the main thread can install handlers; elsewhere (and for a signal whose handler
    Python does not own) the block runs as it is, with the rollback as the safety net.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for number in _DEFERRED_SIGNALS:
        handler = signal.getsignal(number)
        if handler is None or handler == signal.SIG_IGN:
            continue
        previous[number] = signal.signal(number, lambda number, frame: received.append(number))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for number in dict.fromkeys(received):
            signal.raise_signal(number)


def _backup(path: Path) -> Path | None:
    """A second name for the current content of `path` (a hard link, or a copy), or None."""
    backup = temporary_file(path.parent)
    backup.unlink()
    try:
        os.link(path, backup)
    except FileNotFoundError:
        return None
    except OSError:
        if not path.is_file():
            return None
        shutil.copy2(path, backup)
    return backup


def remove_stale_temporaries(folder) -> list[Path]:
    """Remove attnfig's temporaries in `folder` whose writing process is gone; return them.

    >>> import tempfile
    >>> remove_stale_temporaries(tempfile.mkdtemp())
    []
    """
    removed = []
    for entry in Path(folder).iterdir():
        match = _TEMPORARY_NAME.match(entry.name)
        if match and not process_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed
