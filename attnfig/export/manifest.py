"""What made each figure of a batch: a small manifest beside the figures.

A re-run skips a figure only when the manifest says the same input, options, model and
attnfig version made it (and the file is still there). The manifest is rewritten
atomically after every input, so an interrupted batch knows what it finished.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .._version import __version__
from .atomic import temporary_file

MANIFEST_NAME = ".attnfig-manifest.json"


def render_key(**what) -> str:
    """A digest of everything that decides a figure's content.

    >>> render_key(text="a", view="head") == render_key(view="head", text="a")
    True
    """
    payload = json.dumps({**what, "attnfig": __version__}, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def model_fingerprint(folder) -> dict:
    """Name, size and modification time of each file of a model folder: it changes when the model does."""
    folder = Path(folder).resolve()
    return {
        "folder": str(folder),
        "files": sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file()),
    }


class Manifest:
    """``{file name: render key}`` for one output folder."""

    def __init__(self, folder):
        self.path = Path(folder) / MANIFEST_NAME
        try:
            entries = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entries = {}
        self.entries: dict[str, str] = entries if isinstance(entries, dict) else {}

    def is_current(self, paths, key: str) -> bool:
        """True when every path exists and was made with `key`."""
        return all(self.entries.get(Path(p).name) == key and Path(p).exists() for p in paths)

    def record(self, paths, key: str) -> None:
        """Remember that `key` made `paths`, and write the manifest (atomically)."""
        self.entries.update({Path(p).name: key for p in paths})
        temporary = temporary_file(self.path.parent)
        try:
            temporary.write_text(json.dumps(self.entries, sort_keys=True, indent=0), encoding="utf-8")
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)
