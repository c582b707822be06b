"""Sphinx configuration: the attnfig site (user guide, design rules, API reference, gallery).

Build offline with ``python -m sphinx -W -b html docs docs/_build/html``.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The gallery scripts write their PNG/PDF files here, and leave the committed previews alone.
os.environ.setdefault("ATTNFIG_GALLERY_OUTPUT", str(Path(tempfile.gettempdir()) / "attnfig-docs-gallery"))
os.environ["ATTNFIG_GALLERY_PREVIEWS"] = "0"
os.environ["ATTNFIG_GALLERY_FILES"] = "0"  # the scraper saves each figure once, for its page

import attnfig  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

project = "attnfig"
author = "attnfig developers"
copyright = "2026, attnfig developers"
version = release = attnfig.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build"]
templates_path = ["_templates"]
nitpicky = True  # every cross-reference must resolve (with -W, a broken one fails the build)
# Names numpydoc writes in parameter types that are prose, not objects to link.
nitpick_ignore_regex = [
    ("py:class", r"(optional|default.*|str|int|float|bool|list|tuple|dict|callable|None|array.*|sequence.*|"
                 r"iterable.*|path.*|tensor.*|model|tokenizer|matplotlib.*|numpy.*|np\..*|os\..*|pathlib\..*|"
                 r"Path|Figure|Axes|AttentionData|NeuronView|EncoderDecoderAttention|\{.*|.*\}|\".*|'.*|"
                 r"of|or|and|each|\d+|one|the|a|an|.*-like|color.*|colors|shape.*|\[.*|.*\]|ndarray|Any|"
                 r"Sequence.*|Iterable.*|Mapping.*|transformers.*|torch.*|PreTrainedModel|Tensor|"
                 r"ActivationCache|attention|tokens|length|x|np.ndarray|PathLike)"),
]
autosummary_generate = True
autodoc_typehints = "none"  # numpydoc's Parameters sections say the types
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
numpydoc_validation_checks = {"PR01", "PR02", "RT01", "SS01", "EX01"}
# The classes document their attributes in prose; the checks above apply to every function.
# Every public function is held to these; the classes (errors, data classes, accumulators) and
# their members are not yet (their fields are described in prose).
numpydoc_validation_exclude = {r"\.__init__$", r"\.[A-Z]\w*(\.\w+)?$"}

intersphinx_mapping = {}  # offline: no inventories are fetched

html_theme = "alabaster"
html_title = f"attnfig {release}"
html_static_path: list[str] = []

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "gallery"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"(_seed|render_all|notebook_inline)\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("_scraper",),
    "matplotlib_animations": False,
    "min_reported_time": 1,
    "reset_modules": ("matplotlib",),
}

# The API reference lists every name of attnfig.__all__: by topic, and any name not placed
# in a topic yet under "Other", so a new public name always gets its page.
API_GROUPS = {
    "Input": ["as_attention", "AttentionData", "merge_subword_tokens", "prettify_tokens"],
    "Models": ["load_model", "from_model", "capture", "stream_corpus", "EncoderDecoderAttention", "RayEngine"],
    "Views": ["head_view", "model_view", "lines", "heatmap"],
    "Summaries": ["special_token_attention", "plot_special_token_attention", "head_entropy", "uniform_entropy",
                  "plot_head_entropy", "attention_rollout", "plot_rollout", "attention_difference", "plot_difference",
                  "difference_grid", "head_patterns", "classify_head", "plot_head_patterns", "neuron_view",
                  "plot_neuron_view", "NeuronView", "EntropyAccumulator", "SpecialTokenAccumulator",
                  "PatternAccumulator"],
    "Styles and export": ["style", "available_styles", "figsize", "save"],
    "Errors": ["AttentionInputError", "ArgumentError", "SaveError", "ModelFolderError", "StyleNotFoundError",
               "SkippedInputsWarning"],
}


def write_api_page(path: Path) -> None:
    placed = {name for names in API_GROUPS.values() for name in names}
    groups = {**API_GROUPS, "Other": [n for n in attnfig.__all__ if n not in placed]}
    lines = ["API reference", "=============", "", ".. currentmodule:: attnfig", "",
             "Every public name of ``attnfig`` (``attnfig.__all__``), with its parameters, return value,",
             "errors and a runnable example.", ""]
    for title, names in groups.items():
        names = [n for n in names if n in attnfig.__all__]
        if names:
            lines += [title, "-" * len(title), "", ".. autosummary::", "   :toctree: generated", ""]
            lines += [f"   {n}" for n in names] + [""]
    text = "\n".join(lines)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


write_api_page(Path(__file__).resolve().parent / "api.rst")
