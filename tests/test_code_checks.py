"""ruff and mypy (both configured in pyproject.toml) are clean, on the repository and on attnfig/,
and every public function of attnfig carries annotations (issue #20)."""
from __future__ import annotations

import hashlib
import inspect
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# mypy's cache, one per checkout (the cache is keyed by module and checked against each file's
# hash, so a stale one is only slower): a warm run takes seconds instead of a minute.
MYPY_CACHE = Path(tempfile.gettempdir()) / f"attnfig-mypy-{hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]}"


def test_ruff_is_clean():
    run = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr


def test_root_figure_goes_through_the_compat_shim():
    """``get_figure(root=...)`` exists from matplotlib 3.10 on; the package declares 3.8, so every
    caller goes through ``attnfig._compat.root_figure`` (CI's minimum-versions run caught one)."""
    offenders = [f"{path.relative_to(ROOT)}:{number}"
                 for path in sorted((ROOT / "attnfig").rglob("*.py")) if path.name != "_compat.py"
                 for number, line in enumerate(path.read_text().splitlines(), 1)
                 if re.search(r"get_figure\(\s*root", line)]
    assert not offenders, "use attnfig._compat.root_figure instead of get_figure(root=...): " + ", ".join(offenders)


@pytest.mark.slow
def test_mypy_is_clean():
    run = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(MYPY_CACHE)], cwd=ROOT,
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0 and "Success" in run.stdout, run.stdout[-4000:] + run.stderr


def _public_functions():
    """``(name, function, is_method)`` for every function of ``attnfig.__all__`` and every
    public method (and ``__init__``, ``__call__``, ``__enter__``, ``__exit__``, property getter)
    that attnfig defines on its public classes, inherited ones included."""
    import attnfig

    kept = ("__init__", "__call__", "__enter__", "__exit__")
    for name in attnfig.__all__:
        obj = getattr(attnfig, name)
        if not inspect.isclass(obj):
            assert inspect.isfunction(obj), f"attnfig.{name} is neither a class nor a function: extend this check"
            yield name, obj, False
            continue
        for klass in obj.__mro__:
            if not klass.__module__.startswith("attnfig"):
                continue
            for attribute, member in vars(klass).items():
                if attribute.startswith("_") and attribute not in kept:
                    continue
                is_method = not isinstance(member, staticmethod)
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    yield f"{name}.{attribute}", member, is_method


def _missing_annotations(function, is_method: bool) -> list[str]:
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())[1 if is_method else 0:]  # not self / cls
    missing = [p.name for p in parameters if p.annotation is inspect.Parameter.empty]
    if signature.return_annotation is inspect.Signature.empty:
        missing.append("return")
    return missing


def test_every_public_function_is_annotated():
    """Every parameter (``*args`` and ``**kwargs`` too) and the return of every public function."""
    functions = list(_public_functions())
    assert len(functions) > 60  # the walk reaches the API, methods included
    unannotated = {name: missing for name, function, is_method in functions
                   if (missing := _missing_annotations(function, is_method))}
    assert not unannotated, f"annotate these (parameter names, 'return'): {unannotated}"


def test_the_annotation_check_sees_what_is_missing():
    def half(values, *args, scale: float = 1.0, **kwargs):
        return values

    class Holder:
        def method(self, x: int) -> int:
            return x

    assert _missing_annotations(half, False) == ["values", "args", "kwargs", "return"]
    assert _missing_annotations(Holder.method, True) == []
