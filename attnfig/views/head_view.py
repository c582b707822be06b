"""The static `head_view`: BertViz's call, a matplotlib Figure back."""
from __future__ import annotations

from typing import Any, Sequence
import matplotlib as mpl
from matplotlib.figure import Figure, SubFigure

from matplotlib.collections import LineCollection

from .._docstrings import with_parameters

from .arguments import check_html_action, check_keywords, word_positions
from .colors import font_points, head_colors
from ..input.data import as_attention, merge_subword_tokens
from .lines import (column_headings, direction_slices, draw_head_legend, lines, mark_band_points, note_within_width,
                    show_sentence_marks)
from ..input.panels import PanelArguments, resolve_panels
from ..input.span import rows_in_span
from ..themes import display_mode_style
from .figures import axes_inches, figure_inches, target_figure
from .readability import LABEL_SPACING
from .labels import label_points, min_fontsize
from .titles import sentence_case
from ..errors import ArgumentError, one_of_message
from ..options import layer_label

# A head view grows with its tokens until it is this many default figure heights tall, and
# never past a page's text block (about 9 in at every venue); past that, token labels shrink
# and thin (attnfig.views.labels).
MAX_HEIGHT_FACTOR = 3.0
PAGE_INCHES = 9.0
# More heads than this are drawn as small multiples (one panel per head) by `layout="auto"`:
# overlaid, their colors blend and no head can be told from another.
MAX_OVERLAID_HEADS = 4
LAYOUTS = ("auto", "overlay", "grid")
TITLE_LINES = 1.6  # a title's height with its padding, in font sizes
LAYOUT_PAD_INCHES = 4 / 72  # constrained layout's padding at the figure's edges
PANEL_INCHES = 0.45  # the narrowest head panel of a grid (lines and title), labels of the outer panels aside
# The arguments of `lines` that head_view decides; the others pass through its **kwargs.
LINES_ARGUMENTS_SET_HERE = ("attention", "tokens", "layer", "heads", "ax", "sentence_b_start",
                            "prettify_tokens", "legend")


def column_figsize(n_tokens: int, n_panels: int = 1, rows: int = 1) -> tuple[float, float]:
    """Width and height (inches) that give every token label its line, within limits.

    The width is the style's (``figure.figsize``: a venue style's column), wider only for
    side-by-side encoder-decoder panels; `rows` rows of head panels share the height.
    """
    width, height = mpl.rcParams["figure.figsize"]
    # Every row of panels gets its labels at the style's tick size; past the height limits they
    # shrink, then thin, by the label rule.
    label_inches = rows * n_tokens * font_points("ytick.labelsize") * LABEL_SPACING / 72
    if rows == 1:
        margins = 5 * font_points("font.size") / 72  # legend, headings and panel titles
    else:  # the layer's title, the headings and a title per row of panels
        margins = (TITLE_LINES * font_points("axes.titlesize")
                   + (1 + rows) * TITLE_LINES * font_points("legend.fontsize")) / 72
    margins += 2 * LAYOUT_PAD_INCHES
    return (width * max(1.0, 0.6 * n_panels),
            min(max(height, label_inches + margins), max(MAX_HEIGHT_FACTOR, rows) * height, PAGE_INCHES))


def grid_shape(n_heads: int, width_inches: float, side_inches: float = 0.0) -> tuple[int, int]:
    """Rows and columns of head panels: as many columns as `PANEL_INCHES` allow once the
    outer panels' labels (`side_inches` on each side) are set aside, rows kept full.

    >>> grid_shape(12, 3.03, 0.5), grid_shape(12, 5.5, 0.5), grid_shape(3, 3.03, 0.5)
    ((3, 4), (2, 6), (1, 3))
    """
    room = width_inches - 2 * side_inches
    ncols = max(1, min(n_heads, int(room // PANEL_INCHES)))
    rows = -(-n_heads // ncols)
    return rows, -(-n_heads // rows)


def _shown_rows(data, direction: str) -> int:
    """The longer of the two token columns `direction` shows (a block of a pair is shorter)."""
    if direction == "all" or data.sentence_b_start is None:
        return max(len(data.query_tokens), len(data.key_tokens))
    rows, cols = direction_slices(direction, data.sentence_b_start, len(data.query_tokens), len(data.key_tokens))
    return max(len(range(len(data.query_tokens))[rows]), len(range(len(data.key_tokens))[cols]))


def _layout(layout: str, n_heads: int, n_panels: int, focus) -> str:
    if layout not in LAYOUTS:
        raise ArgumentError(one_of_message("layout", LAYOUTS, layout))
    if layout == "grid" and n_panels > 1:
        raise ArgumentError('`layout="grid"` draws one attention; encoder-decoder panels are overlaid '
                            '(pass `layout="overlay"` or choose one panel\'s attention).')
    if layout == "auto":
        return "grid" if n_panels == 1 and n_heads > MAX_OVERLAID_HEADS and focus is None else "overlay"
    return layout


@with_parameters("attention", "tokens", "sentence_b_start", "layer", "heads", "encoder_decoder", "include_layers", "prettify_tokens", "display_mode", "html_action", "figure")
def head_view(
    attention: Any = None,
    tokens: Sequence[str] | None = None,
    sentence_b_start: int | None = None,
    *,
    layer: int | None = None,
    heads: int | Sequence[int] | None = None,
    encoder_attention: Any = None,
    decoder_attention: Any = None,
    cross_attention: Any = None,
    encoder_tokens: Sequence[str] | None = None,
    decoder_tokens: Sequence[str] | None = None,
    include_layers: int | Sequence[int] | None = None,
    include_heads: int | Sequence[int] | None = None,
    prettify_tokens: bool = True,
    display_mode: str | None = None,
    html_action: str = "view",
    layout: str = "auto",
    merge_subwords: bool = False,
    figsize: tuple[float, float] | None = None,
    figure: Figure | SubFigure | None = None,
    **kwargs: Any,
) -> Figure | SubFigure:
    """Draw BertViz's head view of one layer as a static figure and return the Figure.

    The same arguments as ``bertviz.head_view``: swap the import and get a Figure to save.
    The figure is the active style's width (a venue style's column) and as tall as its
    token labels need, at most a page's text block (`PAGE_INCHES`; labels then shrink and
    thin by `attnfig.views.labels`' rule). Queries stand in the left column and keys in the
    right (headed "query" and "key"); a sentence pair's A and B are marked beside them.
    ``layout="overlay"`` draws the heads over each other, one color each, named in a
    one-row legend (each number in a box of its color when swatches would need two rows;
    with `focus`, the marks' columns are numbered instead); ``layout="grid"`` draws one
    panel per head (small multiples, as many columns as the width holds once the outer
    panels' token labels and sentence marks are set aside, token labels on the outer
    panels, the figure as tall as its rows of tokens); ``"auto"`` (default) overlays up to `MAX_OVERLAID_HEADS`
    heads and draws more as a grid. `layer` (an original index, the first included layer
    by default) is named in the figure, numbered by ``attnfig.set_options(layer_base=)``.
    Encoder-decoder attention gives one panel each for encoder, decoder and cross attention
    (decoder queries on the left, encoder keys on the right). `display_mode` "light" or
    "dark" applies that theme to this figure only; None follows the active style.
    ``span=(start, stop)`` shows those tokens only, each labelled with its original
    position (see `attnfig.lines`); ``merge_subwords=True`` shows words, not sub-word
    fragments (`attnfig.merge_subword_tokens`). `**kwargs` go to `attnfig.lines`
    (`focus`, `direction`, `min_weight`, `top_k`, `palette`, `highlight`, LineCollection options).
    The figure is a new pyplot figure of `figsize`, or `figure` (a Figure or SubFigure) when given.

    Parameters
    ----------
    layout : {"auto", "overlay", "grid"}
        Heads overlaid in one panel, one panel per head, or overlaid up to `MAX_OVERLAID_HEADS` heads.
    merge_subwords : bool
        Merge word pieces into words (keys summed, queries averaged; `attnfig.merge_subword_tokens`).
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
    >>> fig.legends[0].texts[0].get_text()
    'Layer 1, head'
    >>> fig = attnfig.head_view(np.full((2, 12, 3, 3), 1 / 3), ["[CLS]", "hi", "[SEP]"], layer=1)
    >>> len(fig.axes), fig.axes[0].get_title()
    (12, 'Head 0')
    """
    check_html_action(html_action)
    check_keywords(head_view, kwargs, lines, LineCollection, exclude=LINES_ARGUMENTS_SET_HERE + ("merge_subwords",))
    if merge_subwords:  # words before prettifying: "##" marks the pieces to merge
        as_given = as_attention(attention, tokens, sentence_b_start=sentence_b_start)
        # `highlight` and `focus` are positions of the tokens as given: the words holding them.
        if kwargs.get("highlight") is not None:
            kwargs["highlight"] = word_positions(as_given, "highlight", kwargs["highlight"])
        if kwargs.get("focus") is not None:
            kwargs["focus"] = word_positions(as_given, "focus", [kwargs["focus"]])[0]
        attention, tokens, sentence_b_start = merge_subword_tokens(as_given), None, None
    with display_mode_style(display_mode):
        panels = resolve_panels(PanelArguments.pick(locals()))
        first = panels[0][1]
        layer = first.layer_indices[0] if layer is None else first.layer_indices[first.layer_position(layer)]
        head_indices = first.select(heads=heads).head_indices if heads is not None else first.head_indices
        layout = _layout(layout, len(head_indices), len(panels), kwargs.get("focus"))
        n_tokens = max(_shown_rows(d, kwargs.get("direction", "all")) for _, d in panels)
        if kwargs.get("span") is not None:  # pooled rows cover several tokens each
            n_tokens = max(rows_in_span(d, kwargs["span"]) for _, d in panels)
        if layout == "grid":
            return _head_grid(first, layer, head_indices, n_tokens, figsize, figure, kwargs)
        if figure is None:
            figsize = figsize or column_figsize(n_tokens, len(panels))
        figure = target_figure(figure, figsize=figsize)
        axes = figure.subplots(1, len(panels), squeeze=False)[0]
        for ax, (title, data) in zip(axes, panels):
            lines(data, layer=layer, heads=heads, ax=ax, prettify_tokens=False, legend=False, **kwargs)
            note_within_width(ax)
            column_headings(ax, data, kwargs.get("direction", "all"))
            if title:
                note = ax.get_title()  # lines' note on the span, if any
                ax.set_title(f"{title}\n{note}" if note else title)
        if kwargs.get("focus") is None:
            draw_head_legend(figure, head_indices, head_colors(head_indices, kwargs.get("palette")),
                             figure_inches(figure)[0], title=f"Layer {layer_label(layer)}, head",
                             loc="outside upper center")
        else:  # the focus marks' columns are numbered by head: they are the key
            figure.suptitle(f"Layer {layer_label(layer)}", fontsize=mpl.rcParams["axes.titlesize"])
    return figure


def _head_grid(data, layer: int, head_indices, n_tokens: int, figsize, figure, kwargs) -> Figure:
    """One panel per head: queries labelled on the left panels, keys on the right ones."""
    width = figure_inches(figure)[0] if figure is not None else (figsize or mpl.rcParams["figure.figsize"])[0]
    labels = max(label_points(data.query_tokens, min_fontsize(font_points("ytick.labelsize"))),
                 label_points(data.key_tokens, min_fontsize(font_points("ytick.labelsize"))))
    marked = data.sentence_b_start is not None or data.generated_start is not None  # A/B or P/G
    marks = mark_band_points()[1] if marked else 0.0
    rows, cols = grid_shape(len(head_indices), width, (labels + mpl.rcParams["ytick.major.pad"] + marks) / 72)
    sized_here = figure is None and figsize is None
    if figure is None:
        figsize = figsize or column_figsize(n_tokens, 1, rows)
    figure = target_figure(figure, figsize=figsize)
    axes = figure.subplots(rows, cols, squeeze=False)
    note = None
    for position, ax in enumerate(axes.flat):
        if position >= len(head_indices):
            ax.set_axis_off()
            continue
        row, col = divmod(position, cols)
        last_col = col == cols - 1 or position == len(head_indices) - 1
        lines(data, layer=layer, heads=[head_indices[position]], ax=ax, prettify_tokens=False, legend=False,
              **kwargs)
        note = ax.get_title() or note  # lines' note on the span, if any
        ax.set_title(sentence_case(f"head {head_indices[position]}"), fontsize=mpl.rcParams["legend.fontsize"],
                     y=_title_y(font_points("legend.fontsize")))
        ax.tick_params(labelleft=col == 0)
        for child in ax.child_axes:  # the key labels (secondary_yaxis)
            child.tick_params(labelright=last_col)
        show_sentence_marks(ax, left=col == 0, right=last_col)
        if row == 0:
            column_headings(ax, data, kwargs.get("direction", "all"), query=col == 0, key=last_col)
    title = f"Layer {layer_label(layer)}"
    figure.suptitle(f"{title}\n{note}" if note else title, fontsize=mpl.rcParams["axes.titlesize"])
    if sized_here:
        _grow_to_labels(figure, axes.flat[0], n_tokens, rows)
    return figure


def _title_y(fontsize: float) -> float | None:
    """Where a panel's title of `fontsize` points sits, in Axes height: ``axes.titley``, else
    1.0, given explicitly; None (matplotlib places it) when ``axes.titlepad`` is under half the size.

    Given, the title stays there; left to matplotlib (``axes.titley`` None), it is moved at
    every layout pass above whatever rises over the Axes, which costs measuring every tick
    label of the panel and of its key axis again: a third of the head view's layout time. A
    head view's panel has nothing above it (no x ticks, no top label, no offset text), so
    matplotlib leaves the title at 1.0, unless the pad is smaller than the title's descent
    (under half its size), when it lifts the title off the Axes' top edge.
    """
    titley = mpl.rcParams["axes.titley"]
    if titley is not None:
        return titley
    return 1.0 if mpl.rcParams["axes.titlepad"] >= fontsize / 2 else None


def _grow_to_labels(figure, ax, n_tokens: int, rows: int) -> None:
    """Make a figure sized here taller by what its panels lack for `n_tokens` labels each at the
    style's tick size (the estimate of `column_figsize` leaves out the layout's real margins and
    a title's extra lines, such as a norm's "opacity ∝ ..."), within its height limits."""
    engine = figure.get_layout_engine()
    if engine is None:
        return
    engine.execute(figure)
    needed = n_tokens * font_points("ytick.labelsize") * LABEL_SPACING / 72 * (1 + FIT_SLACK)
    lacking = needed - axes_inches(ax)[1]
    if lacking > 0:
        default = mpl.rcParams["figure.figsize"][1]
        limit = min(max(MAX_HEIGHT_FACTOR, rows) * default, PAGE_INCHES)
        figure.set_figheight(min(figure.get_figheight() + rows * lacking, max(limit, figure.get_figheight())))


FIT_SLACK = 0.02  # a panel this much taller than its labels need, against rounding in the layout
