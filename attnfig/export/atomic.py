"""Writing several files all or nothing, and cleaning up after writers that were killed.

Each file is first written to a temporary file in its own folder, named
``.attnfig-<pid>-<random>.part`` (short, whatever the target's length, and traceable to
the process that wrote it). Only when every temporary is complete are they renamed over
their targets; if a rename fails, the targets already replaced get their earlier content
back. A temporary whose process is gone (killed mid-save) is removed by
`remove_stale_temporaries`.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Sequence

from ..errors import SaveError

TEMPORARY_PREFIX = ".attnfig-"
TEMPORARY_SUFFIX = ".part"
_TEMPORARY_NAME = re.compile(r"^\.attnfig-(\d+)-[A-Za-z0-9_]+\.part$")


def temporary_file(folder: Path) -> Path:
    """A new empty temporary file in `folder`, named after this process."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=f"{TEMPORARY_PREFIX}{os.getpid()}-", suffix=TEMPORARY_SUFFIX)
    os.close(handle)
    return Path(name)


def write_all_or_nothing(paths: Sequence[Path], write: Callable[[Path, Path], None]) -> None:
    """Call ``write(temporary, path)`` for each path, then move all the results into place.

    If any write fails, no target changes; if a rename fails, the targets already replaced
    get their earlier content back. Raises `SaveError` (KeyboardInterrupt passes through,
    after the same cleanup).
    """
    temporaries: list[Path] = []
    try:
        for path in paths:
            try:
                temporaries.append(temporary_file(path.parent))
            except OSError as err:
                raise SaveError(f"Cannot save {str(path)!r}: the folder cannot be written ({err.strerror}). "
                                f"{_NOTHING_WRITTEN}") from err
            try:
                write(temporaries[-1], path)
            except BaseException as err:
                if isinstance(err, (KeyboardInterrupt, SystemExit)):
                    raise
                raise SaveError(f"Cannot save {str(path)!r}: {type(err).__name__}: {err}. {_NOTHING_WRITTEN}") from err
        _move_into_place(temporaries, paths)
    finally:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)


_NOTHING_WRITTEN = "No file was written: any earlier file is untouched."


def _move_into_place(temporaries: Sequence[Path], paths: Sequence[Path]) -> None:
    backups: dict[Path, Path | None] = {}
    try:
        for path in paths:
            backups[path] = _backup(path)
        replaced = []
        try:
            for temporary, path in zip(temporaries, paths):
                os.replace(temporary, path)
                replaced.append(path)
        except OSError as err:
            for done in replaced:
                previous = backups[done]
                if previous is None:
                    done.unlink(missing_ok=True)
                else:
                    os.replace(previous, done)
                    backups[done] = None
            raise SaveError(
                f"Cannot save {str(path)!r}: {err.strerror or err}. The files already replaced got their "
                "earlier content back: no file changed."
            ) from err
    finally:
        for backup in backups.values():
            if backup is not None:
                backup.unlink(missing_ok=True)


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
        if match and not _process_alive(int(match.group(1))):
            entry.unlink(missing_ok=True)
            removed.append(entry)
    return removed


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True
