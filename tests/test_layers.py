"""The layers of attnfig point one way: every import of every module, read with `ast` (inside functions too).

bottom (errors, _docstrings, _version, _compat, options, themes, venues) <- input <- recording, views
recording, views <- export;  recording, views <- summaries;  the top (attnfig/__init__, cli, lint,
testing) may import anything. ARCHITECTURE.md tells why.
"""
from __future__ import annotations

import ast
import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "attnfig"
BOTTOM = "bottom"
TOP = "top"
LAYER_OF = {"errors": BOTTOM, "_docstrings": BOTTOM, "_version": BOTTOM, "_compat": BOTTOM, "options": BOTTOM, "themes": BOTTOM,
            "venues": BOTTOM,
            "input": "input", "recording": "recording", "views": "views", "export": "export",
            "summaries": "summaries", "__init__": TOP, "cli": TOP, "lint": TOP, "testing": TOP}
MAY_IMPORT = {
    BOTTOM: {BOTTOM},
    "input": {BOTTOM, "input"},
    "recording": {BOTTOM, "input", "recording"},
    "views": {BOTTOM, "input", "views"},
    "summaries": {BOTTOM, "input", "recording", "views", "summaries"},
    "export": {BOTTOM, "input", "recording", "views", "export"},  # batch draws views of recorded models
    TOP: set(LAYER_OF.values()),
}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer(module: str) -> str:
    """The layer of ``attnfig.x.y``, by its first name below attnfig.

    ``attnfig`` itself, and a name it defines (``from .. import __version__``), are the top.
    """
    parts = module.split(".")
    return LAYER_OF.get(parts[1], TOP) if len(parts) > 1 else TOP


def imported_modules(path: Path) -> set[str]:
    """The attnfig modules `path` imports, anywhere in it, relative imports resolved."""
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                names = [".".join(base + ([node.module] if node.module else []))]
                if not node.module:  # `from .. import x`: x may be a module
                    names = [f"{names[0]}.{alias.name}" for alias in node.names]
            else:
                names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found.update(name for name in names if name == "attnfig" or name.startswith("attnfig."))
    return found


def upward_imports() -> list[str]:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = layer(module_name(path))
        for target in sorted(imported_modules(path)):
            if layer(target) not in MAY_IMPORT[source]:
                wrong.append(f"{module_name(path)} ({source}) imports {target} ({layer(target)})")
    return wrong


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        parts = module_name(path).split(".")
        assert len(parts) == 1 or parts[1] in LAYER_OF, f"{path}: add it to a layer in LAYER_OF"


def test_no_import_points_back_up():
    assert upward_imports() == []


@pytest.mark.parametrize("source, line", [
    ("recording/streaming.py", "from ..summaries.patterns import label_for"),
    ("input/data.py", "from ..views import colors"),
    ("views/lines.py", "import attnfig.recording.capture"),
    ("export/manifest.py", "from .. import __version__"),
])
def test_an_import_back_up_is_caught(source, line, tmp_path, monkeypatch):
    """The test reads imports inside functions too (how the circle used to hide)."""
    copy = tmp_path / "attnfig"
    for path in PACKAGE.rglob("*.py"):
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    edited = copy / source
    edited.write_text(edited.read_text(encoding="utf-8") + f"\n\ndef _late():\n    {line}\n",
                      encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    assert len(upward_imports()) == 1


ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"


def test_architecture_names_every_module_and_only_modules_that_exist():
    """ARCHITECTURE.md stays the map of the package: each module is named in it (`name`), and
    each path it gives exists."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    named = set(re.findall(r"`([A-Za-z_][\w./]*)`", text))
    modules = [path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"]
    missing = sorted(str(path.relative_to(PACKAGE)) for path in modules
                     if path.stem not in named and str(path.relative_to(PACKAGE)) not in named)
    assert missing == [], f"name these modules in ARCHITECTURE.md: {missing}"
    paths = [name for name in named if "/" in name and (name.startswith(("attnfig/", "tests/"))
                                                        or name.split("/")[0] in LAYER_OF)]
    gone = [name for name in paths if not _exists(name)]
    assert paths and gone == [], f"ARCHITECTURE.md names paths that do not exist: {gone}"
    layer_rows = re.findall(r"^\| (\w+) \| (.+?) \| ", text, flags=re.MULTILINE)
    bottom = {name for layer_name, cell in layer_rows if layer_name == BOTTOM for name in re.findall(r"`(\w+)`", cell)}
    assert bottom == {name for name, layer_name in LAYER_OF.items() if layer_name == BOTTOM}


def _exists(name: str) -> bool:
    """A file or folder of the repository or the package, or ``module.NAME`` defined in that module."""
    for root in (PACKAGE.parent, PACKAGE):
        if (root / name).exists():
            return True
        module, _, attribute = name.rpartition(".")
        source = root / f"{module}.py"
        if module and source.is_file() and re.search(rf"^{attribute}\b", source.read_text(encoding="utf-8"), re.MULTILINE):
            return True
    return False


def test_every_module_is_importable_by_its_path_and_is_that_attribute():
    """One meaning per name: `attnfig.recording.pooling` imports, and no function hides a module."""
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        module = importlib.import_module(name)
        found = importlib.import_module("attnfig")
        for part in name.split(".")[1:]:
            found = getattr(found, part, None)
        assert found is module, f"attnfig.{name.partition('.')[2]} is {found!r}, not the module {name}"
    assert callable(importlib.import_module("attnfig").capture)


def test_a_module_imports_by_its_path_in_a_fresh_process():
    """The issue's own check: ``python -c "import attnfig.recording.pooling"``."""
    done = subprocess.run([sys.executable, "-c", "import attnfig.recording.pooling as p; print(p.__file__)"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()) == PACKAGE / "recording" / "pooling.py"  # this checkout's, not another's
