"""Parameter texts shared by the views, so each argument is described once (seaborn's way)."""
from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

PARAMETERS = {
    "attention": """attention : tuple, list, array, tensor or AttentionData
        What transformers returns with ``output_attentions=True`` (one ``[batch, heads, q, k]``
        tensor per layer), a stacked array or tensor, or `as_attention`'s result.""",
    "tokens": """tokens : list of str, optional
        One label per position; positions are numbered when omitted.""",
    "sentence_b_start": """sentence_b_start : int, optional
        Index of the first token of sentence B in a sentence pair (BertViz's argument).""",
    "layer": """layer : int, optional
        Original index of the layer to draw (negative counts from the end); the first layer
        the attention holds by default (layer 0, or the first of a selection).""",
    "heads": """heads : list of int, optional
        Original indices of the heads to draw; all by default.""",
    "include_layers": """include_layers, include_heads : list of int, optional
        Keep only these original layer / head indices (BertViz's arguments); labels keep
        the original numbers.""",
    "encoder_decoder": """encoder_attention, decoder_attention, cross_attention : optional
        The three attention sets of an encoder-decoder model, instead of `attention`;
        with `encoder_tokens` and `decoder_tokens`. Cross attention has decoder queries and
        encoder keys.
    encoder_tokens, decoder_tokens : list of str, optional
        The tokens of the encoder and decoder inputs.""",
    "prettify_tokens": """prettify_tokens : bool
        Drop ``Ġ`` and ``▁`` word-start marks; pieces that continue a word show ``##``, for
        every tokenizer (`attnfig.prettify_tokens`).""",
    "display_mode": """display_mode : {"light", "dark", None}
        Apply the light or dark theme to this figure only; None follows the active style.""",
    "html_action": """html_action : {"view", "return"}
        BertViz's argument, accepted for compatibility: a static figure has one action,
        and both values return the Figure (save it with `attnfig.save`).""",
    "ax": """ax : matplotlib Axes, optional
        Where to draw; the current Axes by default.""",
    "thinning": """min_weight, top_k : optional
        Draw only lines of at least this weight / each query's k strongest keys; by default
        lines too faint to change a pixel are skipped (see `attnfig.views.readability`).""",
    "palette": """palette : str or list of colors, optional
        Head colors; the style's color cycle by default.""",
    "colors": """cmap, vmin, vmax, robust : optional
        Colormap (the style's ``image.cmap`` by default) and color limits, as in seaborn.""",
    "highlight": """highlight : list of int
        Token positions whose labels are always shown (as special tokens are).""",
    "span": """span : (int, int), optional
        ``(start, stop)``: show the tokens from `start` to ``stop - 1`` only, labelled with
        their original positions.""",
    "reduce": """reduce : {"max", "mean"}
        What a pixel shows when there are more cells than output pixels.""",
    "figure": """figure : matplotlib Figure or SubFigure, optional
        Where to draw; a new pyplot figure by default.""",
    "norm": """norm : matplotlib Normalize, optional
        Color normalization, instead of `vmin` and `vmax`.""",
    "figsize": """figsize : (float, float), optional
        Figure size in inches (`attnfig.figsize` gives a venue's); sized to the tokens by default.""",
    "engine": """engine : {"local", "ray"} or RayEngine
        Where the texts run when `model` is given: in this process (default), on a pool of
        Ray actors started for the call, each loading the model once, or on a running
        `attnfig.RayEngine` (then `model` may be left out). `model` may be a loaded model
        (local only), a model folder or name `attnfig.load_model` reads (`tokenizer` may
        then be left out) or a zero-argument picklable function returning
        ``(model, tokenizer)``. A text that fails is left out with a `SkippedInputsWarning`
        naming its index.
    engine_options : dict, optional
        With ``engine="ray"``: `attnfig.RayEngine`'s keywords, such as ``actors``,
        ``num_cpus`` and ``num_gpus`` per actor, ``address``, ``max_restarts``,
        ``max_task_retries``, ``progress``.""",
}


SECTIONS = ("Parameters", "Returns", "Yields", "Raises", "Warns", "See Also", "Notes", "References", "Examples")


def _section_start(doc: str, title: str) -> int:
    """Where the numpydoc section `title` (a title line, then dashes) starts in `doc`; -1 if absent."""
    match = re.search(rf"\n[ \t]*{re.escape(title)}\n[ \t]*-{{{len(title)}}}\n", doc)
    return match.start() if match else -1


def with_parameters(*names: str) -> Callable[[F], F]:
    """Add the shared descriptions of `names` (keys of `PARAMETERS`) to the function's
    Parameters section, after the parameters the function describes itself; the section is
    created, before Returns, Raises and Examples, when the docstring has none."""

    def decorate(function: F) -> F:
        doc = (function.__doc__ or "").rstrip() + "\n"
        entries = "".join(f"    {PARAMETERS[name]}\n" for name in names)
        later = [i for i in (_section_start(doc, t) for t in SECTIONS[1:]) if i >= 0]
        if _section_start(doc, "Parameters") >= 0:
            start = _section_start(doc, "Parameters")
            end = min([i for i in later if i > start], default=len(doc))
            doc = doc[:end].rstrip("\n") + "\n" + entries.rstrip("\n") + "\n" + doc[end:]
        else:
            end = min(later, default=len(doc))
            section = "\n    Parameters\n    ----------\n" + entries
            doc = doc[:end].rstrip("\n") + "\n" + section + doc[end:]
        function.__doc__ = doc
        return function

    return decorate
