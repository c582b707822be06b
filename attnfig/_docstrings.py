"""Parameter and Raises texts shared by the views and summaries, so each argument and each
error is described once (seaborn's way)."""
from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

PARAMETERS = {
    "attention": """attention : tuple, list, array, tensor or AttentionData
        What transformers returns with ``output_attentions=True`` (one ``[batch, heads, q, k]``
        tensor per layer), a stacked array or tensor, or `as_attention`'s result.""",
    "corpus": """attention : tuple, list, array, tensor, AttentionData or list of AttentionData
        One input's attention, in any form `as_attention` takes, or a corpus: a list of
        `AttentionData` (or of transformers' tuples), one per input, each with its own tokens.
        A list of arrays is one input given layer by layer (``[heads, q, k]`` each, or
        ``list(outputs.attentions)`` of one input); a list of 4-D arrays that could also be
        several inputs is refused.""",
    "streaming": """model, tokenizer : optional
        A transformers model and its tokenizer: `attention` is then a text, a list of texts
        or of ``(text, pair)`` tuples, read chunk by chunk through `attnfig.capture`.""",
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

# Returns entries of the functions that share a return value.
RETURNS = {
    "axes": """matplotlib.axes.Axes
        The Axes drawn on.""",
}

# Raises entries, by the same keys as PARAMETERS where they concern that argument.
RAISES = {
    "attention": """AttentionInputError
        When the attention is not attention (shapes, NaN, rows not summing to 1) or the
        tokens do not fit it.""",
    "weights": """AttentionInputError
        When the attention is not attention weights (shapes, NaN, rows not summing to 1;
        norms and other ``normalized=False`` values are refused) or the tokens do not fit it.""",
    "corpus": """AttentionInputError
        When the attention is not attention (shapes, NaN, rows not summing to 1), the tokens
        do not fit it, tokens come with a corpus (each input carries its own), or a list of
        4-D arrays could be one input's layers or several inputs.""",
}


SECTIONS = ("Parameters", "Returns", "Yields", "Raises", "Warns", "See Also", "Notes", "References", "Examples")


def _section_start(doc: str, title: str) -> int:
    """Where the numpydoc section `title` (a title line, then dashes) starts in `doc`; -1 if absent."""
    match = re.search(rf"\n[ \t]*{re.escape(title)}\n[ \t]*-{{{len(title)}}}\n", doc)
    return match.start() if match else -1


def _add_entries(doc: str, title: str, entries: str) -> str:
    """`entries` appended to the numpydoc section `title` of `doc`; the section is created, in
    numpydoc's order of sections, when the docstring has none."""
    if not entries:
        return doc
    start = _section_start(doc, title)
    if start >= 0:
        later = [i for i in (_section_start(doc, t) for t in SECTIONS) if i > start]
        end = min(later, default=len(doc))
        return doc[:end].rstrip("\n") + "\n" + entries.rstrip("\n") + "\n" + doc[end:]
    following = SECTIONS[SECTIONS.index(title) + 1:]
    end = min([i for i in (_section_start(doc, t) for t in following) if i >= 0], default=len(doc))
    section = f"\n    {title}\n    {'-' * len(title)}\n" + entries
    return doc[:end].rstrip("\n") + "\n" + section + doc[end:]


def with_parameters(*names: str, returns: str | None = None, raises: tuple[str, ...] = ()) -> Callable[[F], F]:
    """Add the shared descriptions of `names` (keys of `PARAMETERS`) to the function's
    Parameters section, after the parameters the function describes itself; the shared return
    value `returns` (a key of `RETURNS`) as its Returns section; and the shared errors `raises`
    (keys of `RAISES`) to its Raises section, after its own. A missing section is created in
    numpydoc's order (Parameters, Returns, Raises... Examples)."""

    def decorate(function: F) -> F:
        doc = (function.__doc__ or "").rstrip() + "\n"
        doc = _add_entries(doc, "Parameters", "".join(f"    {PARAMETERS[name]}\n" for name in names))
        if returns:
            doc = _add_entries(doc, "Returns", f"    {RETURNS[returns]}\n")
        if raises:
            doc = _add_entries(doc, "Raises", "".join(f"    {RAISES[name]}\n" for name in raises))
        function.__doc__ = doc
        return function

    return decorate
