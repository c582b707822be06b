"""Print the lowest versions pyproject.toml declares, one ``name==version`` per line.

    python .ci/minimum.py            # the core dependencies
    python .ci/minimum.py hf         # and those of the `hf` extra

`.ci/setup.sh` downloads these wheels (and those of `hf`) into `.ci/wheels/minimum`;
`tests/test_packaging.py` installs them, offline, in a fresh venv with the built attnfig wheel,
draws every figure (`.ci/smoke_figures.py`), then adds the `hf` floors and runs the model
helpers on tiny models (`.ci/smoke_models.py`).
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
# Where a floor cannot be installed as written, the version the check installs instead: every
# torch but the CPU build of 2.13.0 pulls gigabytes of CUDA wheels, so torch's floor is declared
# (transformers 5 needs 2.2), not tested.
INSTALLABLE: dict[str, str] = {"torch": "2.13.0"}


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
