"""The static `head_view`: BertViz's call, a matplotlib Figure back."""
from __future__ import annotations

import matplotlib as mpl
from matplotlib.figure import Figure

from matplotlib.collections import LineCollection

from .._docstrings import with_parameters

from .arguments import check_html_action, check_keywords
from .colors import font_points, head_colors
from .lines import head_legend_options, lines
from ..input.panels import PanelArguments, resolve_panels
from ..input.span import rows_in_span
from ..themes import display_mode_style
from .figures import figure_inches, target_figure
from .readability import LABEL_SPACING

# A head view grows with its tokens until it is this many default figure heights tall, and
# never past a page (11 in); past that, token labels shrink and thin (attnfig.views.labels).
MAX_HEIGHT_FACTOR = 3.0
PAGE_INCHES = 11.0
# The arguments of `lines` that head_view decides; the others pass through its **kwargs.
LINES_ARGUMENTS_SET_HERE = ("attention", "tokens", "layer", "heads", "ax", "sentence_b_start",
                            "prettify_tokens", "legend")


def column_figsize(n_tokens: int, n_panels: int = 1) -> tuple[float, float]:
    """Width and height (inches) that give every token label its line, within limits."""
    width, height = mpl.rcParams["figure.figsize"]
    label_inches = n_tokens * font_points("ytick.labelsize") * LABEL_SPACING / 72
    margins = 6 * font_points("font.size") / 72  # title and head legend above the columns
    return (width * 0.6 * n_panels,
            min(max(height, label_inches + margins), MAX_HEIGHT_FACTOR * height, PAGE_INCHES))


@with_parameters("attention", "tokens", "sentence_b_start", "layer", "heads", "encoder_decoder", "include_layers", "prettify_tokens", "display_mode", "html_action", "figure")
def head_view(
    attention=None,
    tokens=None,
    sentence_b_start=None,
    *,
    layer: int | None = None,
    heads=None,
    encoder_attention=None,
    decoder_attention=None,
    cross_attention=None,
    encoder_tokens=None,
    decoder_tokens=None,
    include_layers=None,
    include_heads=None,
    prettify_tokens: bool = True,
    display_mode: str | None = None,
    html_action: str = "view",
    figsize=None,
    figure=None,
    **kwargs,
) -> Figure:
    """Draw BertViz's head view of one layer as a static figure and return the Figure.

    The same arguments as ``bertviz.head_view``: swap the import and get a Figure to save.
    Heads are overlaid, one color each (the legend names them); `layer` (an original index,
    the first included layer by default) is named in the title. Encoder-decoder attention
    gives one panel each for encoder, decoder and cross attention (decoder queries on the
    left, encoder keys on the right). `display_mode` "light" or "dark" applies that theme
    to this figure only; None follows the active style. ``span=(start, stop)`` shows those
    tokens only, each labelled with its original position (see `attnfig.lines`).
    The figure is a new pyplot figure of `figsize`, or `figure` (a Figure or SubFigure) when given.
    `**kwargs` go to `attnfig.lines`
    (`focus`, `direction`, `min_weight`, `top_k`, `palette`, LineCollection options).

    Parameters
    ----------
    figsize : (float, float), optional
        Figure size in inches (`attnfig.figsize` gives a venue's); sized to the tokens by default.
    **kwargs
        Passed to `attnfig.lines` (`focus`, `direction`, `min_weight`, `top_k`, `palette`,
        `span`, `highlight`, LineCollection options).

    Returns
    -------
    matplotlib.figure.Figure
        The head view, one panel per attention set.

    Raises
    ------
    AttentionInputError
        When the attention, tokens, `layer` or `heads` do not fit together.
    ArgumentError
        For an unknown keyword, `display_mode` or `html_action`.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> fig = attnfig.head_view(np.full((2, 4, 3, 3), 1 / 3), ["[CLS]", "hi", "[SEP]"], layer=1)
    >>> fig.legends[0].get_title().get_text()
    'Layer 1, heads'
    """
    check_html_action(html_action)
    check_keywords(head_view, kwargs, lines, LineCollection, exclude=LINES_ARGUMENTS_SET_HERE)
    with display_mode_style(display_mode):
        panels = resolve_panels(PanelArguments.pick(locals()))
        first = panels[0][1]
        layer = first.layer_indices[0] if layer is None else first.layer_indices[first.layer_position(layer)]
        n_tokens = max(max(len(d.query_tokens), len(d.key_tokens)) for _, d in panels)
        if kwargs.get("span") is not None:  # pooled rows cover several tokens each
            n_tokens = max(rows_in_span(d, kwargs["span"]) for _, d in panels)
        if figure is None:
            figsize = figsize or column_figsize(n_tokens, len(panels))
        figure = target_figure(figure, figsize=figsize)
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        for ax, (title, data) in zip(axes, panels):
            lines(data, layer=layer, heads=heads, ax=ax, prettify_tokens=False, legend=False, **kwargs)
            if title:
                note = ax.get_title()  # lines' note on the span, if any
                ax.set_title(f"{title}\n{note}" if note else title)
        head_indices = first.select(heads=heads).head_indices if heads is not None else first.head_indices
        options = head_legend_options(head_indices, head_colors(head_indices, kwargs.get("palette")),
                                      figure_inches(figure)[0], title=f"Layer {layer}, heads")
        figure.legend(loc="outside upper center", **options)
    return figure
