"""Print the lowest versions pyproject.toml declares, one ``name==version`` per line.

    python .ci/minimum.py            # the core dependencies
    python .ci/minimum.py hf         # and those of the `hf` extra

`.ci/setup.sh` downloads these wheels into `.ci/wheels/minimum`; `tests/test_packaging.py`
installs them, offline, in a fresh venv with the built attnfig wheel and draws every figure.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
# Where a floor cannot be installed as written, the version the check installs instead.
INSTALLABLE: dict[str, str] = {}


def floors(extras: list[str] | tuple[str, ...] = ()) -> list[str]:
    """``name==version`` for each dependency (and each extra's) declared with ``>=``."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    pins = []
    for requirement in requirements:
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)", requirement.strip())
        if match:
            name, version = match.groups()
            pins.append(f"{name}=={INSTALLABLE.get(name, version)}")
    return pins


if __name__ == "__main__":
    print("\n".join(floors(sys.argv[1:])))
