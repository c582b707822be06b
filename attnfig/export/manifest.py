"""What made each figure of a batch: a journal beside the figures, true under concurrent runs.

A re-run skips a figure only when the manifest says the same input, options, model and
attnfig code made it *and* the file still holds what that run wrote. Each record names a
file, the render key and what the file held when it was moved into place (device, inode,
size and modification time, which a rename keeps, and a SHA-256 of the bytes). A file that
another run (or anyone) replaced since no longer matches its record, so it is re-rendered:
two batches writing into one folder at once can cost a re-render, never a wrong skip.

The manifest is a journal of JSON lines, appended once per input (``O_APPEND``: concurrent
runs do not overwrite each other's records) and read once per run, so its cost is linear in
the number of inputs. A journal mostly made of superseded records is compacted when read. A
damaged manifest (an unreadable line, a symlink, a FIFO, a file larger than
`MAX_MANIFEST_BYTES`) is reported and set aside: what it described is re-rendered (damaged
lines are dropped by rewriting the good records, so the next run finds a clean journal).
"""
from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Iterable

from .._version import __version__
from .atomic import WrittenFile, describe, file_identity, temporary_file

MANIFEST_NAME = ".attnfig-manifest.jsonl"
MAX_MANIFEST_BYTES = 256 * 2**20  # about a million records; a bigger file is not one attnfig wrote
MAX_LINE_BYTES = 4096  # one record is about 250 bytes
RECORDS_KEPT = 4  # per file name: enough for runs that alternate
COMPACT_WHEN_SUPERSEDED = 1000  # rewrite the journal once this many (and most) records are superseded


def render_key(**what) -> str:
    """A digest of everything that decides a figure's content, attnfig's own code included.

    >>> render_key(text="a", view="head") == render_key(view="head", text="a")
    True
    """
    payload = json.dumps({**what, "attnfig": code_version()}, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@functools.cache
def code_version() -> str:
    """attnfig's version and a digest of its source and style files: changes with the code.

    Computed once per process (a few milliseconds).

    >>> code_version().startswith(__version__ + "+")
    True
    """
    package = Path(__file__).resolve().parents[1]
    files = sorted(
        {path for path in package.rglob("*.py") if "__pycache__" not in path.parts}
        | set(package.joinpath("styles").glob("*.mplstyle"))
    )
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.relative_to(package).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return f"{__version__}+{digest.hexdigest()[:16]}"


def model_fingerprint(folder) -> dict:
    """Name, size and modification time of each file of a model folder: it changes when the model does."""
    folder = Path(folder).resolve()
    return {
        "folder": str(folder),
        "files": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()),
    }


class Manifest:
    """The render records of one output folder (see the module's docstring).

    `damage` says why the manifest found could not be used (None when it could).
    """

    def __init__(self, folder):
        self.path = Path(folder) / MANIFEST_NAME
        self.records: dict[str, list[dict]] = {}
        self.damage: str | None = None
        self._writable = True
        self._unclean = False  # lines that are no records, or a last line without its newline
        count = self._read()
        superseded = count - sum(map(len, self.records.values()))
        if self._unclean or (self.damage is None and superseded >= COMPACT_WHEN_SUPERSEDED and superseded > count // 2):
            self._compact()  # damaged lines set aside once; the next append starts a line of its own

    def is_current(self, paths: Iterable, key: str) -> bool:
        """True when every path exists and holds what a render with `key` wrote there."""
        return all(self._holds(Path(path), key) for path in paths)

    def record(self, written: Iterable[WrittenFile], key: str) -> None:
        """Remember that a render with `key` put these files in place (one append)."""
        lines = []
        for entry in written:
            record = {"file": entry.path.name, "key": key, "identity": list(entry.identity), "sha256": entry.sha256}
            self._remember(record)
            lines.append(json.dumps(record, sort_keys=True) + "\n")
        if lines and self._writable:
            self._append("".join(lines).encode("utf-8"))

    # --- reading -------------------------------------------------------------------------

    def _holds(self, path: Path, key: str) -> bool:
        candidates = [r for r in self.records.get(path.name, ()) if r["key"] == key]
        if not candidates:
            return False
        try:
            status = os.stat(path)
        except OSError:
            return False
        identity = list(file_identity(status))
        if any(r["identity"] == identity for r in candidates):
            return True
        # Same bytes under a new identity (a copied folder, a restored backup): read them.
        same_size = [r for r in candidates if r["identity"][2] == status.st_size]
        return bool(same_size) and stat.S_ISREG(status.st_mode) and describe(path).sha256 in {
            r["sha256"] for r in same_size}

    def _read(self) -> int:
        """Load the records; returns how many lines were read."""
        try:
            status = os.lstat(self.path)
        except FileNotFoundError:
            return 0
        except OSError as err:
            return self._set_aside(f"it cannot be read ({err.strerror})")
        if not stat.S_ISREG(status.st_mode):
            return self._set_aside("it is not a regular file")
        if status.st_size > MAX_MANIFEST_BYTES:
            return self._set_aside(f"it has {status.st_size} bytes, more than attnfig writes")
        try:
            descriptor = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(descriptor, "rb") as handle:
                raw = handle.read(MAX_MANIFEST_BYTES + 1)
        except OSError as err:
            return self._set_aside(f"it cannot be read ({err.strerror})")
        if len(raw) > MAX_MANIFEST_BYTES:
            return self._set_aside("it grew past the size attnfig writes")
        lines = raw.splitlines()
        bad = 0
        for line in lines:
            if not line.strip():
                continue
            record = _parse(line)
            if record is None:
                bad += 1
            else:
                self._remember(record)
        if bad:
            self.damage = f"{bad} of its {len(lines)} line(s) are not records attnfig wrote"
        self._unclean = bool(bad) or (bool(raw) and not raw.endswith(b"\n"))
        return len(lines)

    def _remember(self, record: dict) -> None:
        kept = self.records.setdefault(record["file"], [])
        kept[:] = [r for r in kept if r["identity"] != record["identity"]][-(RECORDS_KEPT - 1):] + [record]

    def _set_aside(self, reason: str) -> int:
        """Drop a manifest that is no file attnfig wrote; records start afresh."""
        self.damage = reason
        try:
            self.path.unlink()
        except OSError:
            self._writable = False  # a folder by that name, say: keep going without a manifest
        return 0

    # --- writing ---------------------------------------------------------------------------

    def _append(self, data: bytes) -> None:
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        descriptor = os.open(self.path, flags, 0o666)
        try:
            os.write(descriptor, data)
        finally:
            os.close(descriptor)

    def _compact(self) -> None:
        temporary = temporary_file(self.path.parent)
        try:
            lines = [json.dumps(r, sort_keys=True) + "\n" for kept in self.records.values() for r in kept]
            temporary.write_text("".join(lines), encoding="utf-8")
            os.replace(temporary, self.path)
        except OSError:
            pass  # compaction only saves space
        finally:
            temporary.unlink(missing_ok=True)


def _parse(line: bytes) -> dict | None:
    """One journal line as a record, or None if it is not one (bounded: no deep nesting)."""
    if len(line) > MAX_LINE_BYTES:
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not (isinstance(record, dict) and isinstance(record.get("file"), str) and isinstance(record.get("key"), str)
            and isinstance(record.get("sha256"), str) and isinstance(record.get("identity"), list)
            and len(record["identity"]) == 4 and all(type(v) is int for v in record["identity"])):
        return None
    return record
