"""The package as a user installs it: a wheel and an sdist built from the repository carry
the license, the styles, ``py.typed`` and every module; the version is written once; and the
wheel, installed in a fresh venv with the lowest versions pyproject.toml declares, draws and
saves every figure from outside the repository."""
from __future__ import annotations

import os
import re
import runpy
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.version import Version

import attnfig

ROOT = Path(__file__).resolve().parents[1]
CI = ROOT / ".ci"
MINIMUM_WHEELS = CI / "wheels" / "minimum"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
floors = runpy.run_path(str(CI / "minimum.py"))["floors"]


def copy_sources(target: Path) -> Path:
    """What an sdist is built from, copied so that building leaves the repository untouched."""
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "styles")  # attnfig/styles may be a link to styles/
    shutil.copytree(ROOT / "attnfig", target / "attnfig", ignore=ignore)
    shutil.copytree(ROOT / "styles", target / "styles", ignore=shutil.ignore_patterns("__pycache__"))
    return target


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """sdist and wheel built by ``python -m build`` (the wheel from the sdist)."""
    source = copy_sources(tmp_path_factory.mktemp("source"))
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, text=True)
    return out


def wheel_of(dist: Path) -> Path:
    (wheel,) = dist.glob("attnfig-*.whl")
    return wheel


def metadata(dist: Path):
    with zipfile.ZipFile(wheel_of(dist)) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())


def test_wheel_holds_every_module_the_styles_the_license_and_py_typed(dist):
    with zipfile.ZipFile(wheel_of(dist)) as archive:
        names = set(archive.namelist())
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "attnfig").rglob("*.py")
               if "styles" not in p.relative_to(ROOT / "attnfig").parts}
    styles = {f"attnfig/styles/{p.name}" for p in (ROOT / "styles").glob("*.mplstyle")}
    assert modules - names == set()
    assert styles and styles - names == set()
    assert "attnfig/py.typed" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)


def test_sdist_holds_the_license_and_the_styles(dist):
    (sdist,) = dist.glob("attnfig-*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {n.split("/", 1)[1] for n in archive.getnames() if "/" in n}
    assert {"LICENSE", "pyproject.toml", "README.md", "attnfig/py.typed", "styles/neurips.mplstyle"} <= names


def test_metadata_version_license_classifiers_and_floors(dist):
    meta = metadata(dist)
    assert meta["Version"] == attnfig.__version__ == "0.3.0"
    assert meta["License-Expression"] == "MIT"
    classifiers = meta.get_all("Classifier")
    assert "Framework :: Matplotlib" in classifiers and "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.10" in classifiers
    assert "LICENSE" in meta.get_all("License-File")
    core = [r.split(";")[0].replace(" ", "") for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    assert core == [r.split("#")[0].replace(" ", "") for r in PYPROJECT["project"]["dependencies"]]


def test_the_version_is_written_once():
    project = PYPROJECT["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "attnfig._version.__version__"}


def test_the_build_floor_reads_the_spdx_license():
    # `license = "MIT"` (a PEP 639 string) and `license-files` need setuptools 77.
    assert PYPROJECT["build-system"]["requires"] == ["setuptools>=77"]
    assert PYPROJECT["project"]["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_the_floors_the_check_installs_are_the_declared_ones():
    declared = {r.split(">=")[0]: r.split(">=")[1].split("#")[0].strip() for r in PYPROJECT["project"]["dependencies"]}
    assert floors() == [f"{name}=={version}" for name, version in declared.items()]


def test_the_hf_floors_the_check_installs_are_the_declared_ones_but_torch():
    declared = dict(r.split(">=") for r in PYPROJECT["project"]["optional-dependencies"]["hf"])
    assert set(declared) == {"torch", "transformers", "tokenizers", "tqdm"}
    pins = dict(pin.split("==") for pin in floors(["hf"]))
    # The CPU build of torch 2.13.0 stands in for torch's floor (any other pulls CUDA wheels).
    assert pins.pop("torch") == "2.13.0" and Version(declared.pop("torch")) <= Version("2.13.0")
    assert {name: pins[name] for name in declared} == declared


def install(python: Path, requirements: list[str], env: dict) -> None:
    """pip-install `requirements` into the venv of `python`, offline, from the minimum-version wheels."""
    if not MINIMUM_WHEELS.is_dir():
        pytest.fail(f"{MINIMUM_WHEELS} is missing: run `bash .ci/setup.sh`, which downloads the "
                    "minimum-version wheels this test installs offline.")
    # --no-compile: byte-compiling torch's thousands of modules would double the install time.
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-index",
                           "--no-compile", "--find-links", str(MINIMUM_WHEELS), *requirements],
                          capture_output=True, text=True, env=env)
    assert done.returncode == 0, f"{done.stderr}\n(run `bash .ci/setup.sh` if a wheel is missing)"


def smoke(python: Path, script: str, work: Path, env: dict) -> str:
    """Run `.ci/<script>` from `work` with the venv's python; its last output line."""
    shutil.copy(CI / script, work / script)
    run = subprocess.run([str(python), script, "out"], cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout.strip().splitlines()[-1]


def installed_version(name: str, summary: str) -> Version:
    return Version(re.search(rf"{name} (\S+?)[,;]", summary).group(1))


@pytest.mark.slow
def test_the_wheel_draws_every_figure_and_runs_models_at_the_minimum_versions_outside_the_repository(dist, tmp_path):
    """One fresh venv, two steps. With matplotlib, numpy and seaborn at their declared floors
    and the built wheel (no torch), the figure smoke script draws and saves every figure under
    every style. Then the `hf` extra's floors (transformers, tokenizers, tqdm; torch 2.13.0 CPU)
    go into the same venv and the model smoke script runs from_model, capture and a streamed
    summary on tiny BERT, GPT-2, Llama, T5 and ViT models and saves their figures. Both run
    from a folder outside the repository with nothing of the repository on the path."""
    # Nothing of the repository may leak in: no PYTHONPATH (pip would see a checkout's metadata).
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "MPLBACKEND")}
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, env=env)
    python = venv / "bin" / "python"
    install(python, [*floors(), str(wheel_of(dist))], env)
    work = tmp_path / "elsewhere"
    work.mkdir()

    summary = smoke(python, "smoke_figures.py", work, env)
    for pin in floors():
        name, version = pin.split("==")
        if name in ("matplotlib", "numpy"):
            assert installed_version(name, summary) == Version(version), summary
    assert str(venv) in summary and str(ROOT) not in summary, summary
    n_figures = int(summary.split(" figures saved")[0].rsplit(" of ", 1)[1])
    assert f"{n_figures} of {n_figures} figures saved" in summary
    saved = sorted(p.name for p in (work / "out").iterdir())
    assert {"head_view_paper.pdf", "model_view_paper.svg", "neuron_view_paper.png", "heatmap_neurips.png"} <= set(saved)
    assert all((work / "out" / name).stat().st_size > 1000 for name in saved)
    no_torch = subprocess.run([str(python), "-c", "import torch"], capture_output=True, env=env)
    assert no_torch.returncode != 0, "the figures must be drawn without torch: the core floors pulled it in"

    install(python, floors(["hf"]), env)
    summary = smoke(python, "smoke_models.py", work, env)
    pins = dict(pin.split("==") for pin in floors(["hf"]))
    for name in ("transformers", "tokenizers", "torch"):
        assert Version(installed_version(name, summary).public) == Version(pins[name]), summary
    assert str(venv) in summary and "5 of 5 families passed" in summary, summary
    for family in ("bert", "gpt2", "llama", "t5", "vit"):
        assert (work / "out" / f"{family}.png").stat().st_size > 1000
