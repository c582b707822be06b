"""The bipartite line plot: query tokens on the left, key tokens on the right.

Drawn with one `LineCollection` per head (never one artist per line).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.cbook import normalize_kwargs
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.patches import Patch

from .._docstrings import with_parameters
from .colors import font_points, with_alphas
from .contrast import REFERENCE_BACKGROUND, axes_background, readable_rgba
from .colors import head_colors as colors_by_head
from ..input.data import AttentionData, as_attention, merge_subword_tokens
from ..input.generated import query_rows
from ..input.span import position_count, restrict_to_span
from ..errors import AttentionInputError, one_of_message
from ..options import layer_label
from .density import (ResolutionImage, blank_canvas, ink_rgba, lines_ink, opaque_background, output_dpi, over,
                      raster_backdrop)
from .figures import axes_inches, grid_share_inches
from .labels import highlight_color, set_token_ticks
from .titles import sentence_case, wrap_to_width
from .readability import LINE_BUDGET, keep_mask, line_width_points, uses_density
from ..themes import remember_style
from .arguments import check_keywords, check_position, check_positions, target_axes, word_positions

DIRECTIONS = ("all", "a->a", "a->b", "b->a", "b->b")


@dataclass
class _LinePlan:
    """Everything `lines` decided before drawing: which lines, where, in which color."""

    weights: np.ndarray  # (heads, q, k) of the shown queries and keys
    keep: np.ndarray  # (heads, q, k) the pairs drawn as lines
    alpha_scale: float  # opacity = weight * alpha_scale
    user_thinned: bool  # focus, min_weight or top_k given: the density image honours `keep`
    head_indices: tuple[int, ...]
    head_colors: np.ndarray
    query_tokens: tuple[str, ...]
    key_tokens: tuple[str, ...]
    query_y: np.ndarray
    key_y: np.ndarray
    query_offset: int  # index of the first shown query in the full token list
    focus: int | None
    focus_weights: np.ndarray | None  # [heads, keys]: the focus query's weights, per head
    highlight_queries: tuple[int, ...] = ()  # positions among the shown queries
    highlight_keys: tuple[int, ...] = ()
    sentence_b_start: int | None = None  # among the shown tokens, when both sentences are shown
    key_offset: int = 0
    numbered: bool = True  # thinned labels show their positions (a span's labels already do)
    boundary_letters: tuple[str, str] = ("A", "B")  # sentences A and B, or prompt and generated ("P", "G")
    key_b_start: int | None = None  # among the shown keys, when it is not `sentence_b_start` (generated queries only)
    lane_offsets: np.ndarray | None = None  # per head, y shift of its lines (axes fraction): heads side by side


# Overlaid heads never blend into a color no legend shows. When each head's lines fit side by
# side within a token's row (`LANE_PITCH` line widths apart, within `LANE_FILL` of the row),
# every head gets its own lane: its lines are shifted by a fraction of the row, so no two heads'
# lines of one query-key pair overlap, and since they no longer add up, opacity = weight (not
# weight / heads, BertViz's rule for lines drawn over each other). Otherwise (many heads, long
# inputs, lines drawn as ink) each pair is drawn once, in the color of the head that sends it
# the most weight, as opaque as all heads' lines over each other would be (`strongest_head_lines`):
# every line shows a color of the legend, the head that sends it the most.
LANE_PITCH = 1.5
LANE_FILL = 0.8


def head_lanes(n_heads: int, line_points: float, row_points: float) -> np.ndarray | None:
    """Each head's lane as a shift in row fractions, centred on the token; None when the
    lanes do not fit (see `LANE_PITCH`, `LANE_FILL`).

    >>> head_lanes(3, 1.0, 12.0).tolist(), head_lanes(12, 1.0, 12.0)
    ([-0.125, 0.0, 0.125], None)
    """
    pitch = LANE_PITCH * line_points
    if n_heads < 2 or n_heads * pitch > LANE_FILL * row_points:
        return None
    return (np.arange(n_heads) - (n_heads - 1) / 2) * pitch / row_points


def strongest_head_lines(plan: _LinePlan) -> None:
    """Keep one line per query-key pair, in the head that sends it the most weight, at the
    opacity all heads' lines over each other would have (``1 - prod(1 - opacity)``).

    >>> plan = _LinePlan(np.array([[[0.2]], [[0.6]]]), np.ones((2, 1, 1), bool), 0.5, False,
    ...                  (0, 1), np.zeros((2, 4)), ("a",), ("a",), np.zeros(1), np.zeros(1), 0, None, None)
    >>> strongest_head_lines(plan); plan.keep.ravel().tolist(), (plan.weights * plan.alpha_scale).ravel().round(2).tolist()
    ([False, True], [0.0, 0.37])
    """
    kept = np.where(plan.keep, plan.weights, 0.0)
    composite = 1 - np.prod(1 - np.clip(kept * plan.alpha_scale, 0, 1), axis=0)
    winner = np.argmax(np.where(plan.keep, plan.weights, -np.inf), axis=0)
    sent = np.asarray(plan.keep.any(axis=0))  # pairs some head draws
    mine = (np.arange(len(plan.head_indices))[:, None, None] == winner[None]) & sent[None]
    plan.weights = np.where(mine, composite / plan.alpha_scale, 0.0)
    plan.keep = mine


def line_segments(x_start, y_start, x_end, y_end) -> np.ndarray:
    """Segments ``(n, 2, 2)`` from each (x_start, y_start) to (x_end, y_end); scalars broadcast.

    >>> line_segments(0.0, np.array([0.1, 0.2]), 1.0, np.array([0.3, 0.4])).shape
    (2, 2, 2)
    """
    x0, y0, x1, y1 = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x_start, y_start, x_end, y_end)))
    return np.stack([np.stack([x0, y0], axis=-1), np.stack([x1, y1], axis=-1)], axis=1)


def column_positions(n: int) -> np.ndarray:
    """Token centres spread over [0, 1] top to bottom, so columns of any lengths align."""
    return (np.arange(n) + 0.5) / n


def direction_slices(direction: str, sentence_b_start: int | None, n_queries: int, n_keys: int):
    """Query and key ranges kept by BertViz's sentence filter ("all", "a->b", ...)."""
    if direction not in DIRECTIONS:
        raise AttentionInputError(one_of_message("direction", DIRECTIONS, direction))
    if direction == "all":
        return slice(0, n_queries), slice(0, n_keys)
    if sentence_b_start is None:
        raise AttentionInputError(
            f"`direction={direction!r}` needs a sentence pair: pass `sentence_b_start` "
            "(the index of the first token of sentence B)."
        )
    a_or_b = {"a": (0, sentence_b_start), "b": (sentence_b_start, None)}
    query_side, key_side = direction.split("->")
    return slice(*a_or_b[query_side]), slice(*a_or_b[key_side])


def _plan(data: AttentionData, layer, heads, direction, focus, min_weight, top_k, palette, highlight=()) -> _LinePlan:
    layer_position = data.layer_position(layer)
    view = data.select(heads=heads) if heads is not None else data
    rows, cols = direction_slices(direction, data.sentence_b_start, *data.weights.shape[2:])
    highlight = [int(h) for h in highlight]
    weights = view.weights[layer_position][:, rows, cols]
    query_tokens, key_tokens = view.query_tokens[rows], view.key_tokens[cols]
    query_offset = rows.start or 0
    if focus is not None:
        if not isinstance(focus, (int, np.integer)) or not query_offset <= focus < query_offset + len(query_tokens):
            raise AttentionInputError(
                f"`focus` must be the index of a shown query token, in "
                f"[{query_offset}, {query_offset + len(query_tokens) - 1}], but {focus!r} was passed."
            )
    n_heads = weights.shape[0]
    alpha_scale = 1.0 / n_heads  # BertViz: opacity = weight / number of heads shown (heads side by side: weight)
    largest = float(weights.max()) if weights.size else 0.0
    if norm_like(data):  # values that are not weights (norms): the layer's largest is opaque, in every head
        alpha_scale /= norm_scale(data, layer_position, direction)
    elif largest > 1:
        alpha_scale /= largest
    if direction != "all" and weights.size and weights.max() > 0:
        # One block of a sentence pair holds a small share of each row: its strongest line is opaque.
        alpha_scale = 1.0 / float(weights.max())
    if focus is not None:  # one query's lines, one per head and key: each opacity is that head's weight (as its mark)
        alpha_scale = max(alpha_scale, 1.0 / max(largest, 1.0))
    keep = keep_mask(weights, alpha_scale=alpha_scale, min_weight=min_weight, top_k=top_k)
    if focus is not None:
        only_focus = np.zeros_like(keep)
        only_focus[:, focus - query_offset, :] = True
        keep &= only_focus
    query_y, key_y = column_positions(len(query_tokens)), column_positions(len(key_tokens))
    head_colors = colors_by_head(view.head_indices, palette)
    user_thinned = focus is not None or min_weight is not None or top_k is not None
    focus_weights = None if focus is None else weights[:, focus - query_offset, :]
    key_offset = cols.start or 0
    return _LinePlan(weights, keep, alpha_scale, user_thinned, view.head_indices, head_colors, query_tokens,
                     key_tokens, query_y, key_y, query_offset, focus, focus_weights,
                     tuple(h - query_offset for h in highlight if 0 <= h - query_offset < len(query_tokens)),
                     tuple(h - key_offset for h in highlight if 0 <= h - key_offset < len(key_tokens)),
                     _shown_boundary(data.sentence_b_start, direction, len(query_tokens), len(key_tokens)),
                     key_offset, not data.token_blocks)


def norm_like(data: AttentionData) -> bool:
    """Whether `data` holds non-negative values that are not weights (norms): opacity is then
    scaled to the largest value shown, and the figure says so. Differences keep opacity = value.

    >>> import numpy as np, attnfig
    >>> norm_like(attnfig.as_attention(np.full((1, 1, 2, 2), 0.5)))
    False
    """
    return not data.normalized and data.weights.size > 0 and float(data.weights.min()) >= 0


def opacity_note(value_label: str, largest: float) -> str:
    """What line opacity shows when it is not a weight, in every view that draws lines.

    >>> opacity_note("norm", 5.23)
    'Line opacity ∝ norm, max 5.2 (opaque)'
    """
    return sentence_case(f"line opacity \u221d {value_label}, max {largest:.2g} (opaque)")


def norm_scale(data: AttentionData, layer_position: int, direction: str) -> float:
    """The largest value of the layer's shown block over every head: the value drawn opaque, so
    one opacity means one value in every panel of a head grid (1.0 when nothing is positive)."""
    rows, cols = direction_slices(direction, data.sentence_b_start, *data.weights.shape[2:])
    block = data.weights[layer_position][:, rows, cols]
    largest = float(block.max()) if block.size else 0.0
    return largest if largest > 0 else 1.0


def _shown_boundary(sentence_b_start, direction: str, n_queries: int, n_keys: int) -> int | None:
    """Where sentence B starts in both columns, when both columns show both sentences."""
    if direction != "all" or sentence_b_start is None or n_queries != n_keys:
        return None
    return sentence_b_start if 0 < sentence_b_start < n_queries else None


def _line_collections(ax, plan: _LinePlan, line_points: float, kwargs) -> None:
    """One LineCollection per head, opacity = weight * alpha_scale."""
    # Rasterized at savefig.dpi (on an opaque backdrop), lines look the same in PNG, PDF
    # and SVG; text stays vector. ``rasterized=False`` gives vector lines.
    kwargs.setdefault("rasterized", True)
    if kwargs["rasterized"]:
        raster_backdrop(ax, kwargs.get("zorder", 2))  # LineCollection draws at zorder 2
    background = axes_background(ax)
    for head in drawing_order(plan):
        q_index, k_index = np.nonzero(plan.keep[head])
        lane = 0.0 if plan.lane_offsets is None else plan.lane_offsets[head]
        segments = line_segments(0.0, plan.query_y[q_index] + lane, 1.0, plan.key_y[k_index] + lane)
        colors = readable_rgba(plan.head_colors[head], plan.weights[head, q_index, k_index] * plan.alpha_scale,
                               background)
        head_kwargs = {"colors": colors, "linewidths": line_points, "label": f"head {plan.head_indices[head]}",
                       **kwargs}
        ax.add_collection(LineCollection(segments, **head_kwargs), autolim=False)  # type: ignore[arg-type]  # stubs: an array is a sequence of segments


def drawing_order(plan: _LinePlan) -> list[int]:
    """Head positions from the weakest to the strongest head, by the total squared weight of
    the lines drawn (opacity = weight, so squared: how much visible ink; every softmax row
    sums to 1, so plain totals would tie): where heads' lines overlap, the lines of the head
    with the strongest lines are on top (ties keep head order).

    >>> plan = _LinePlan(np.array([[[0.2]], [[0.9]], [[0.5]]]), np.ones((3, 1, 1), bool), 1.0, False,
    ...                  (0, 1, 2), np.zeros((3, 4)), ("a",), ("a",), np.zeros(1), np.zeros(1), 0, None, None)
    >>> drawing_order(plan)
    [0, 2, 1]
    """
    totals = (np.where(plan.keep, plan.weights, 0) ** 2).reshape(len(plan.head_indices), -1).sum(axis=1)
    return [int(h) for h in np.argsort(totals, kind="stable")]


def _density_image(ax, plan: _LinePlan, base_points: float, kwargs) -> None:
    """All heads as the exact ink of their lines, composited in drawing order (see `density`)."""
    weights = np.where(plan.keep, plan.weights, 0) if plan.user_thinned else plan.weights
    n_rows = max(weights.shape[1:])
    background = opaque_background(ax)
    contrast = axes_background(ax)

    def render(height: int, width: int, pixels_per_inch: float) -> np.ndarray:
        line_pixels = line_width_points(base_points, height * 72 / pixels_per_inch / n_rows) * pixels_per_inch / 72
        canvas = blank_canvas(height, width, background)
        for head in drawing_order(plan):
            ink = lines_ink(weights[head], height, width, line_pixels * plan.alpha_scale)
            canvas = over(ink_rgba(ink, plan.head_colors[head], contrast), canvas)
        return canvas

    kwargs.pop("rasterized", None)
    image = ResolutionImage(ax, render, extent=(0, 1, 1, 0), **kwargs)
    image.set_label("lines")
    ax.add_image(image)


@with_parameters("attention", "tokens", "layer", "heads", "ax", "sentence_b_start", "thinning", "palette", "prettify_tokens")
def lines(
    attention: Any,
    tokens: Sequence[str] | None = None,
    *,
    layer: int | None = None,
    heads: int | Sequence[int] | None = None,
    ax: Axes | None = None,
    sentence_b_start: int | None = None,
    direction: str = "all",
    focus: int | None = None,
    min_weight: float | None = None,
    top_k: int | None = None,
    palette: Any = None,
    highlight: Sequence[int] = (),
    span: tuple[int, int] | None = None,
    prettify_tokens: bool = True,
    legend: bool | None = None,
    merge_subwords: bool = False,
    queries: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Draw a bipartite attention plot of one layer and return the Axes.

    Query tokens stand in the left column, key tokens in the right; each query-key pair is a
    line whose opacity is its weight, one color per head from the style's palette, chosen by
    the head's original index (a head keeps its color in any selection). Overlaid heads never
    blend into a color the legend does not show (see `LANE_PITCH`): where their lines fit side
    by side, each head draws in its own lane of every token's row, at opacity = weight; where
    they do not (many heads, long inputs), each pair is one line in the color of the head that
    sends it the most weight, as opaque as BertViz's lines of opacity weight / heads would be
    over each other, drawn weakest head first (`drawing_order`); on a dark
    background the opacities reach the share
    of each color's contrast they reach on white (`attnfig.views.contrast`). `focus=i` keeps
    the lines of query i, each at its head's weight (by the same rule: in the head's lane, or
    one line per key in its strongest head's color), and, as BertViz's hover boxes, puts one
    mark per head beside each key token, at full strength (opacity = that head's weight; an
    empty box is a weight of 0), the columns of marks numbered by head below the Axes (the
    key, in place of a legend);
    `direction` ("a->a", "a->b", "b->a", "b->b") keeps one block of a sentence pair. Lines
    too faint to change a pixel are not drawn (see `attnfig.views.readability`); many overlapping
    lines on a background other than white are drawn as their ink image (`DARK_OVERLAP`); `min_weight` and
    `top_k` thin further. Token labels follow `attnfig.views.labels`: the `highlight`
    positions (integers; negative ones count from the end) and special tokens are always
    labelled. ``span=(start, stop)`` shows only the
    tokens from `start` to `stop - 1` (queries and keys), labelled with their original
    positions, and the title says how much of their attention goes outside the span when
    that is 1% or more; `focus` and `highlight` stay original positions. Past
    `attnfig.views.readability.LINE_BUDGET` lines, or when lines would be thinner than a pixel,
    the lines are drawn as their exact ink (one image); otherwise they are rasterized at
    ``savefig.dpi`` so that PNG, PDF and SVG show the same pixels (``rasterized=False``
    keeps them vector). Labels thinned to fit show their positions (``"12 the"``);
    `highlight` tokens get a band and the highlight color; ``merge_subwords=True`` shows
    words, not sub-word fragments. With a `direction` other than "all", opacity is scaled so
    that the strongest line shown is opaque (one block holds a small share of each row); a
    sentence pair shown whole is marked A and B beside both columns (a bar broken by its
    letter, between the lines and the labels), a generation
    (`attnfig.capture_generation`) P (prompt) and G (generated); ``queries="generated"``
    keeps only the generated tokens as queries, over every key. `**kwargs` go to each
    head's `LineCollection`.

    Parameters
    ----------
    merge_subwords : bool
        Merge word pieces into words (keys summed, queries averaged; `attnfig.merge_subword_tokens`).
    queries : {None, "generated"}
        "generated": only the generated tokens' rows (`attnfig.capture_generation`).
    direction : {"all", "a->a", "a->b", "b->a", "b->b"}
        Keep one block of a sentence pair (with `sentence_b_start`).
    focus : int, optional
        Keep the lines of this query and mark each head's weight beside each key (a position of
        the tokens as given, also with `merge_subwords`: the word holding it).
    highlight : list of int
        Token positions whose labels are always shown (as special tokens are); positions of the
        tokens as given, also with `merge_subwords` (the word holding each is marked).
    span : (int, int), optional
        ``(start, stop)``: show the tokens from `start` to ``stop - 1`` only.
    legend : bool, optional
        Name the heads in a legend titled with the layer ("Layer 2, head"); by default when
        more than one head is drawn without
        `focus` (whose marks are numbered by head). Heads that need more than one row of
        swatches are keyed compactly: each number in a box of its color.
    **kwargs
        Passed to each head's `matplotlib.collections.LineCollection`.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn on.

    Raises
    ------
    AttentionInputError
        When the attention, tokens, `layer` or `heads` do not fit together.
    ArgumentError
        For an unknown keyword or an invalid `direction`, `focus`, `min_weight` or `top_k`.

    Examples
    --------
    >>> import numpy as np, attnfig
    >>> weights = np.full((1, 2, 3, 3), 1 / 3)
    >>> ax = attnfig.lines(weights, ["[CLS]", "hi", "[SEP]"])
    >>> len(ax.collections)
    2
    """
    check_keywords(lines, kwargs, LineCollection)
    data = as_attention(attention, tokens, sentence_b_start=sentence_b_start)
    if merge_subwords:  # `highlight` and `focus` are positions of the tokens as given: their words
        highlight = word_positions(data, "highlight", highlight)
        focus = None if focus is None else word_positions(data, "focus", [focus])[0]
        data = merge_subword_tokens(data)
    if prettify_tokens:
        data = data.prettified()
    generated_start = data.generated_start
    data = query_rows(data, queries)
    note = None
    n_positions = max(data.weights.shape[2:]) if span is None else position_count(data)
    highlight = check_positions("highlight", highlight, n_positions)
    if focus is not None:
        focus = check_position("focus", focus, data.weights.shape[2] if span is None else n_positions)
    if span is not None:
        restricted = restrict_to_span(data, span)
        data, highlight = restricted.data, restricted.shift(highlight)
        if focus is not None:
            (focus,) = restricted.shift([focus]) or (_focus_outside(focus, restricted),)
        head_positions = None if heads is None else [data.head_position(h) for h in data.select(heads=heads).head_indices]
        note = restricted.note(data.layer_position(layer), head_positions)
    plan = _plan(data, layer, heads, direction, focus, min_weight, top_k, palette, highlight)
    plan.numbered = plan.numbered and span is None
    if plan.sentence_b_start is None and data.generated_start is not None and span is None:
        plan.sentence_b_start = _shown_boundary(data.generated_start, direction, len(plan.query_tokens),
                                                len(plan.key_tokens))
        plan.boundary_letters = ("P", "G")  # prompt and generated tokens (`capture_generation`)
    elif (queries == "generated" and generated_start is not None and span is None and direction == "all"
          and 0 < generated_start < len(plan.key_tokens)):
        # Generated queries over every key: one G beside the queries, P and G beside the keys.
        plan.sentence_b_start, plan.key_b_start, plan.boundary_letters = 0, generated_start, ("P", "G")
    if norm_like(data):  # say what opacity shows when it is not a weight
        largest = norm_scale(data, data.layer_position(layer), direction)
        note = "\n".join(filter(None, [note, opacity_note(data.value_label, largest)]))
    ax = target_axes(ax)
    if note:
        ax.set_title(note, fontsize=mpl.rcParams["legend.fontsize"])
    remember_style(ax.figure)
    kwargs = normalize_kwargs(kwargs, LineCollection)
    base_points = kwargs.pop("linewidths", mpl.rcParams["lines.linewidth"])
    axis_points = axes_inches(ax)[1] * 72
    line_points = line_width_points(base_points, axis_points / max(plan.weights.shape[1:]))
    _separate_heads(ax, plan, base_points, line_points, axis_points, direction)
    if _drawn_as_ink(ax, plan, base_points, line_points, axis_points):  # asked again: fewer lines may be kept now
        _density_image(ax, plan, base_points, kwargs)
    else:
        _line_collections(ax, plan, line_points, kwargs)
    _decorate(ax, plan)
    if plan.focus_weights is not None:
        focus_marks(ax, plan)
    if legend if legend is not None else len(plan.head_indices) > 1 and plan.focus_weights is None:
        layer_index = data.layer_indices[data.layer_position(layer)]
        head_legend(ax, plan.head_indices, plan.head_colors, title=f"Layer {layer_label(layer_index)}, head")
    return ax


def _separate_heads(ax, plan: _LinePlan, base_points: float, line_points: float, axis_points: float,
                    direction: str) -> None:
    """Lanes for the heads when they fit and lines are drawn as lines, else one line per pair in
    its strongest head's color (see `LANE_PITCH`); `focus` too (its marks show every head's weight)."""
    if len(plan.head_indices) < 2:
        return
    n_rows = max(plan.weights.shape[1:])
    lanes = head_lanes(len(plan.head_indices), line_points, axis_points / n_rows)
    if lanes is not None and not _drawn_as_ink(ax, plan, base_points, line_points, axis_points):
        plan.lane_offsets = lanes / n_rows
        if direction == "all" and plan.focus is None:  # side by side, lines no longer add up: opacity = weight
            plan.alpha_scale *= len(plan.head_indices)  # (a focus query's lines are at its weights already)
    else:
        strongest_head_lines(plan)


def _drawn_as_ink(ax, plan: _LinePlan, base_points: float, line_points: float, axis_points: float) -> bool:
    """Whether the kept lines are drawn as one ink image rather than as lines: thinner than a
    pixel, more than `LINE_BUDGET`, or overlapping on a dark background."""
    return bool(uses_density(base_points, line_points, output_dpi(ax.figure)) or plan.keep.sum() > LINE_BUDGET
                or _overlap_on_dark(ax, plan, axis_points))


# On a background other than white, each line's opacity is raised to read as on paper
# (`attnfig.views.contrast`); where many faint lines overlap, the raised opacities compound
# into a solid field. Past this many lines per pixel row of the Axes (at the output dpi), the
# lines are drawn as their ink image instead, whose composite opacity is raised once.
DARK_OVERLAP = 2.0


def _overlap_on_dark(ax, plan: _LinePlan, axis_points: float) -> bool:
    """Whether the lines overlap so much that, on a non-white background, they must be composited first."""
    if np.allclose(to_rgba(axes_background(ax))[:3], REFERENCE_BACKGROUND):
        return False
    pixel_rows = axis_points / 72 * output_dpi(ax.figure)
    return bool(plan.keep.sum() > DARK_OVERLAP * max(pixel_rows, 1.0))


def _focus_outside(focus, restricted) -> int:
    raise AttentionInputError(
        f"`focus` must be a query inside `span` ({restricted.start} to {restricted.stop - 1}), "
        f"but {focus!r} was passed."
    )


LINE_MARGIN = 0.01  # x room beyond the lines' ends (data units), for their antialiased ends
# The sentence marks (a bar beside each column, broken by its letter) sit in a band of their
# own between the lines and the token labels, sized in font sizes of ``legend.fontsize``:
MARK_GAP = 0.35  # between the lines and the band, and between the band and the labels
MARK_LETTER_WIDTH = 0.8  # the band's width: about one capital letter
MARK_LETTER_HEIGHT = 0.75  # a capital's height, the break in the bar around it (plus a gap each side)


def mark_band_points() -> tuple[float, float]:
    """The sentence marks' offset from the Axes' edge (to the bar) and the room they take
    (lines to labels), in points, from the style's ``legend.fontsize``."""
    size = font_points("legend.fontsize")
    return (MARK_GAP + MARK_LETTER_WIDTH / 2) * size, (2 * MARK_GAP + MARK_LETTER_WIDTH) * size


def _decorate(ax, plan: _LinePlan) -> None:
    ax.set_xlim(-LINE_MARGIN, 1 + LINE_MARGIN)
    ax.set_ylim(1, 0)
    for side in ("top", "bottom", "left", "right"):
        ax.spines[side].set_visible(False)
    ax.set_xticks([])
    marked = plan.sentence_b_start is not None
    pad = mpl.rcParams["ytick.major.pad"] + (mark_band_points()[1] if marked else 0.0)
    ax.tick_params(axis="y", length=0, pad=pad)
    bold = () if plan.focus is None else (plan.focus - plan.query_offset,)  # always labelled
    query_numbers = plan.query_offset + np.arange(len(plan.query_y)) if plan.numbered else None
    key_numbers = plan.key_offset + np.arange(len(plan.key_y)) if plan.numbered else None
    queries = set_token_ticks(ax.yaxis, plan.query_y, plan.query_tokens, highlight=plan.highlight_queries, bold=bold,
                              numbers=query_numbers)
    right = ax.secondary_yaxis("right")
    set_token_ticks(right.yaxis, plan.key_y, plan.key_tokens, highlight=plan.highlight_keys, numbers=key_numbers,
                    share_with=queries)  # both columns in one size (a block of a pair has columns of two lengths)
    right.tick_params(length=0, pad=pad)
    right.spines["right"].set_visible(False)
    if plan.sentence_b_start is not None:
        sentence_marks(ax, plan.query_y, plan.sentence_b_start, plan.boundary_letters,
                       key_y=None if plan.key_b_start is None else plan.key_y, key_b_start=plan.key_b_start)
    if plan.highlight_queries or plan.highlight_keys:
        highlight_bands(ax, plan)


class SentenceBars(LineCollection):
    """The bars of the sentence marks, as one collection: x in inches from the Axes' left
    edge, y in data; each bar is broken around its letter with a gap and the A and B bars
    are apart, both sized in points (so recomputed at every draw, from the Axes' size).
    `blocks` maps "left" and "right" to that column's ``(top, bottom, letter)`` blocks."""

    def __init__(self, ax, blocks, offset_points: float, fontsize: float, **kwargs):
        from matplotlib.transforms import ScaledTranslation, blended_transform_factory

        self.axes_, self.blocks, self.offset_points, self.fontsize = ax, blocks, offset_points, fontsize
        self.sides = {"left": True, "right": True}
        inches = ax.figure.dpi_scale_trans + ScaledTranslation(0, 0, ax.transAxes)
        super().__init__([], transform=blended_transform_factory(inches, ax.transData), **kwargs)
        self.place()

    def place(self) -> None:
        """Set the bars for the Axes' current size."""
        ax = self.axes_
        width, height = axes_inches(ax)
        unit = abs(np.diff(ax.get_ylim())[0]) / max(height * 72, 1e-9)  # data per point
        end_gap = MARK_GAP * self.fontsize * unit / 2  # half the A-B gap at each end
        half_break = (MARK_LETTER_HEIGHT / 2 + MARK_GAP) * self.fontsize * unit
        xs = {"left": -self.offset_points / 72, "right": width + self.offset_points / 72}
        segments = []
        for side, x in xs.items():
            if self.sides[side]:
                for top, bottom, _ in self.blocks[side]:
                    middle = (top + bottom) / 2
                    for start, stop in ((top + end_gap, middle - half_break), (middle + half_break, bottom - end_gap)):
                        if stop > start:
                            segments.append([(x, start), (x, stop)])
        self.set_segments(segments)

    def draw(self, renderer):
        self.place()
        super().draw(renderer)


def _mark_blocks(y: np.ndarray, b_start: int, letters: tuple[str, str]) -> list[tuple[float, float, str]]:
    """``(top, bottom, letter)`` of each block of a column at `y` (only the second when `b_start` is 0)."""
    pitch = y[1] - y[0] if len(y) > 1 else 1.0
    second = (y[b_start] - pitch / 2, y[-1] + pitch / 2, letters[1])
    return [(y[0] - pitch / 2, y[b_start - 1] + pitch / 2, letters[0]), second] if b_start else [second]


def sentence_marks(ax, y: np.ndarray, b_start: int, letters: tuple[str, str] = ("A", "B"), *,
                   key_y: np.ndarray | None = None, key_b_start: int | None = None) -> LineCollection:
    """A bar beside each column for sentence A and for B (or prompt "P" and generated "G"),
    broken around its letter, in the text color, in a band between the lines and the labels
    (`mark_band_points`): nothing touches the lines, the labels or another mark. The key
    column has its own rows and boundary with `key_y` and `key_b_start` (generated queries
    over every key: `b_start` 0 marks the query column as one block)."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    left = _mark_blocks(y, b_start, letters)
    blocks = {"left": left, "right": left if key_y is None else _mark_blocks(key_y, key_b_start or 0, letters)}
    offset, _ = mark_band_points()
    size = font_points("legend.fontsize")
    color = mpl.rcParams["text.color"]
    bars = SentenceBars(ax, blocks, offset, size, colors=color, linewidths=mpl.rcParams["axes.linewidth"] * 2,
                        label="sentence marks", clip_on=False)
    ax.add_collection(bars, autolim=False)
    for side, edge, dx in (("left", 0.0, -offset), ("right", 1.0, offset)):
        x_transform = ax.transAxes + ScaledTranslation(dx / 72, 0, ax.figure.dpi_scale_trans)
        for top, bottom, letter in blocks[side]:
            text = ax.text(edge, (top + bottom) / 2, letter, ha="center", va="center_baseline", color=color,
                           fontsize=size, clip_on=False, transform=blended_transform_factory(x_transform, ax.transData))
            text.set_gid(f"sentence mark {side}")
    return bars


def show_sentence_marks(ax, *, left: bool = True, right: bool = True) -> None:
    """Keep the sentence marks beside the left and/or the right column only (a grid's inner panels
    show none: the outer panels' marks name the rows for all)."""
    for bars in ax.collections:
        if isinstance(bars, SentenceBars):
            bars.sides = {"left": left, "right": right}
            bars.place()
    for text in ax.texts:
        if text.get_gid() in ("sentence mark left", "sentence mark right"):
            text.set_visible(left if text.get_gid().endswith("left") else right)


def highlight_bands(ax, plan: _LinePlan):
    """A faint band behind each highlighted token's row, and its label in the highlight color."""
    from matplotlib.patches import Rectangle
    from matplotlib.collections import PatchCollection

    color = highlight_color()
    half = 0.5 / max(len(plan.query_y), len(plan.key_y), 1)
    low, high = ax.get_xlim()
    rectangles = ([Rectangle((low, plan.query_y[i] - half), 0.5 - low, 2 * half) for i in plan.highlight_queries]
                  + [Rectangle((0.5, plan.key_y[i] - half), high - 0.5, 2 * half) for i in plan.highlight_keys])
    bands = PatchCollection(rectangles, facecolors=with_alphas(color, np.array([HIGHLIGHT_ALPHA])), linewidths=0,
                            zorder=2.5, label="highlight")  # over the lines' opaque backdrop
    ax.add_collection(bands, autolim=False)
    color_tick_labels(ax.yaxis, plan.query_y[list(plan.highlight_queries)], color)
    for child in ax.child_axes:
        color_tick_labels(child.yaxis, plan.key_y[list(plan.highlight_keys)], color)
    return bands


HIGHLIGHT_ALPHA = 0.18


def color_tick_labels(axis, positions, color) -> None:
    """Draw the tick labels at `positions` in `color` (at every draw: ticks are made by the locator)."""
    axis.get_major_locator().label_colors = {round(float(p), 6): color for p in positions}


def note_within_width(ax) -> None:
    """Wrap the Axes' title (the lines' note: a span's share outside it, what opacity shows) to
    the Axes' width, where `column_headings` puts "query" and "key" just outside it, at its height.

    >>> import matplotlib.pyplot as plt
    >>> ax = plt.figure(figsize=(2, 2)).add_axes((0.25, 0.1, 0.5, 0.8))
    >>> _ = ax.set_title("Tokens 5-11: 63% of their attention goes outside the span", fontsize=8)
    >>> note_within_width(ax); len(ax.get_title().splitlines()) > 1
    True
    """
    title = ax.get_title()
    wrapped = "\n".join(wrap_to_width(line, axes_inches(ax)[0] * 72, ax.title.get_fontsize())
                         for line in title.split("\n"))
    if wrapped != title:
        ax.title.set_text(wrapped)


def column_headings(ax, data: AttentionData, direction: str = "all", *, query: bool = True, key: bool = True) -> None:
    """"query" above the left column's labels and "key" above the right one's (with the
    sentence, A or B, when `direction` keeps one)."""
    sides = direction.split("->") if direction != "all" else ("", "")
    size = mpl.rcParams["legend.fontsize"]
    query_pad = _tick_pad(ax.yaxis)
    key_pad = max((_tick_pad(child.yaxis) for child in ax.child_axes), default=query_pad)
    for shown, x, name, side, ha, dx in ((query, 0, "query", sides[0], "right", -query_pad),
                                         (key, 1, "key", sides[1], "left", key_pad)):
        if shown:
            text = f"{name} ({side.upper()})" if side else name
            ax.annotate(text, xy=(x, 1), xycoords="axes fraction", xytext=(dx, 2), textcoords="offset points",
                        ha=ha, va="bottom", fontsize=size, fontstyle="italic")


def _tick_pad(axis) -> float:
    """The distance in points from the Axes' edge to the axis' tick labels (the headings align with them)."""
    ticks = axis.get_major_ticks()
    return ticks[0].get_pad() if ticks else mpl.rcParams["ytick.major.pad"]


FOCUS_MARK_SIZE = 0.8  # side of a focus mark, as a fraction of the tick label size
FOCUS_MARK_STEP = 1.2  # distance between marks, as a fraction of their side


def focus_marks(ax, plan: _LinePlan):
    """One square per head beside each key token, opacity = the focus query's weight.

    Drawn as one collection just right of the lines, in points from the Axes' edge so they
    keep their size at any figure size; the key labels move out to make room.
    """
    from matplotlib.collections import PathCollection
    from matplotlib.markers import MarkerStyle
    from matplotlib.transforms import IdentityTransform, ScaledTranslation, blended_transform_factory

    if plan.focus_weights is None:
        raise AttentionInputError("Focus marks show a focus query's weights, but the lines were planned without `focus`.")
    n_heads, n_keys = plan.focus_weights.shape
    side = FOCUS_MARK_SIZE * font_points("ytick.labelsize")
    band = mark_band_points()[1] if plan.sentence_b_start is not None else 0.0  # the sentence marks' room
    step, size, stride = focus_key_layout(plan.head_indices, FOCUS_MARK_STEP * side, _key_room(ax, plan, band))
    x_points = band + step * (np.arange(n_heads) + 0.5)
    offsets = np.column_stack([np.tile(x_points / 72, n_keys), np.repeat(plan.key_y, n_heads)])
    weights = plan.focus_weights.T.ravel()  # key by key, heads in order
    colors = np.tile(plan.head_colors, (n_keys, 1))
    x_transform = ax.figure.dpi_scale_trans + ScaledTranslation(1, 0, ax.transAxes)
    marker = MarkerStyle("s")
    marks = PathCollection(
        [marker.get_path().transformed(marker.get_transform())], sizes=[side**2],
        offsets=offsets, offset_transform=blended_transform_factory(x_transform, ax.transData),
        facecolors=readable_rgba(colors, weights, axes_background(ax)), edgecolors=colors, linewidths=0.3, clip_on=False, transform=IdentityTransform(),
        label="focus weights",
    )
    ax.add_collection(marks, autolim=False)
    _number_mark_columns(ax, plan.head_indices, x_points, step, size, stride)
    for child in ax.child_axes:  # the key labels' axis (secondary_yaxis)
        child.tick_params(pad=mpl.rcParams["ytick.major.pad"] + band + step * n_heads)
    return marks


# The focus key (the marks' columns, numbered by head) takes at most this share of the width it
# shares with the lines (the lines keep a third): its pitch grows up to there so that every
# column is numbered at the style's tick size; past it the numbers shrink (never below the
# label rule's floor), then number every n-th column.
FOCUS_KEY_SHARE = 2 / 3


def focus_key_layout(head_indices, min_step: float, room: float) -> tuple[float, float, int]:
    """The focus key's column pitch (points), its numbers' size and which columns are numbered
    (every `stride`-th), for the marks' columns of `head_indices`, at least `min_step` apart, in
    `room` points (the width the lines and the key share).

    >>> import attnfig
    >>> with attnfig.style("neurips"):
    ...     step, size, stride = focus_key_layout(range(12), 6.72, 300.0)
    >>> size, stride, step > 6.72
    (7.0, 1, True)
    """
    from .labels import MIN_FONT_POINTS, label_points

    tick = font_points("ytick.labelsize")
    # at the tick size (width grows with size), at least DIGIT_WIDTH a digit: a figure drawn
    # outside its style falls back to a wider font
    numbers = [str(h) for h in head_indices]
    widest = max(label_points(numbers, tick), DIGIT_WIDTH * tick * max(map(len, numbers), default=1))
    n = max(len(head_indices), 1)
    step = max(min_step, min(widest + KEY_GAP_POINTS, FOCUS_KEY_SHARE * room / n))
    size = tick * min(1.0, (step - KEY_GAP_POINTS) / max(widest, 1e-9))  # every column, as large as fits
    floor = min(tick, MIN_FONT_POINTS)
    if size >= floor:
        return step, size, 1
    return step, floor, int(np.ceil((widest * floor / tick + KEY_GAP_POINTS) / step))


def _key_room(ax, plan: _LinePlan, band: float) -> float:
    """The width in points the lines and the focus key share: the Axes' share of its figure (its
    grid columns), less both columns' token labels, their pads and sentence marks and the layout's
    padding (before layout, the Axes' own width is not known yet)."""
    from .labels import label_points

    width = grid_share_inches(ax) * 72
    tick = font_points("ytick.labelsize")
    labels = label_points(plan.query_tokens, tick) + label_points(plan.key_tokens, tick)
    return max(0.0, width - labels - 2 * (mpl.rcParams["ytick.major.pad"] + band + 4.0))


def _number_mark_columns(ax, head_indices, x_points: np.ndarray, step: float, size: float, stride: int) -> None:
    """The focus marks' key: each `stride`-th column of marks numbered with its head below the
    Axes, in `size` points (the title keeps the space above), "head" before the numbers (a legend
    would squeeze a narrow Axes)."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    for head, x in list(zip(head_indices, x_points))[::stride]:
        transform = blended_transform_factory(ax.transAxes + ScaledTranslation(x / 72, 0, ax.figure.dpi_scale_trans),
                                              ax.transAxes)
        ax.text(1, 0, str(head), transform=transform + ScaledTranslation(0, -2 / 72, ax.figure.dpi_scale_trans),
                ha="center", va="top", fontsize=size, gid="focus key")
    first = x_points[0] - step / 2 - 2
    transform = blended_transform_factory(ax.transAxes + ScaledTranslation(first / 72, 0, ax.figure.dpi_scale_trans),
                                          ax.transAxes)
    ax.text(1, 0, "head", transform=transform + ScaledTranslation(0, -2 / 72, ax.figure.dpi_scale_trans),
            ha="right", va="top", fontsize=size, fontstyle="italic", gid="focus key")


DIGIT_WIDTH = 0.6  # a digit's width, in font sizes (Times 0.5, DejaVu 0.64)
KEY_GAP_POINTS = 1.5  # at least this between two numbers of the focus key


def head_legend_handles(head_indices, head_colors) -> list[Patch]:
    """One color swatch per head, labelled with its original index."""
    return [Patch(facecolor=color, label=str(head)) for head, color in zip(head_indices, head_colors)]


def legend_options(n_entries: int, width_inches: float, title: str = "Head") -> dict:
    """A compact legend, as BertViz's head selector: one row when it fits the width, else
    as many columns as fit, spread so that the rows are full (12 heads in 9 columns would
    leave 3 short ones). The title is the first entry (no line of its own).

    An entry takes about `ENTRY_FONT_SIZES` font sizes (swatch, two digits, spacing).
    """
    entry_inches = ENTRY_FONT_SIZES * font_points("legend.fontsize") / 72
    room = width_inches - len(title) * 0.5 * font_points("legend.fontsize") / 72
    ncols = max(1, min(n_entries, int(room // entry_inches)))
    ncols = -(-n_entries // -(-n_entries // ncols)) if n_entries else 1  # ceil(n / rows)
    return dict(ncols=ncols + 1, frameon=False, handlelength=0.8, handletextpad=0.3, columnspacing=0.5)


ENTRY_FONT_SIZES = 2.6
# The compact key: each head's number written in a box of its color (no separate swatch),
# used when the swatches do not fit one row.
KEY_PAD = 0.2  # the box around a number, in font sizes, each side
KEY_SPACING = 0.2  # between two boxes, in font sizes
KEY_BORDER = 0.2  # the key's own padding (``legend.borderpad``), in font sizes


def compact_key_columns(head_indices, width_inches: float, title: str) -> int:
    """How many numbers of the compact key one row holds within `width_inches` (measured in
    the style's legend font), spread so that the rows are full.

    >>> compact_key_columns(range(12), 4.5, "Layer 2, head"), compact_key_columns(range(12), 1.5, "Head")
    (12, 3)
    """
    from .labels import label_points

    size = font_points("legend.fontsize")
    numbers = [label_points([str(h)], size) for h in head_indices]
    entry = (KEY_PAD + 2 * KEY_PAD + KEY_SPACING) * size  # the number's offset and the space after it
    room = width_inches * 72 - label_points([title], size) - entry - 2 * KEY_BORDER * size
    n = len(numbers)
    if sum(numbers) + n * entry <= room:
        return max(n, 1)
    ncols = max(1, min(n, int(room // (max(numbers) + entry))))
    return -(-n // -(-n // ncols))  # ceil(n / rows): full rows


def row_major(entries, ncols: int) -> list:
    """`entries` reordered so that a legend, which fills column by column, reads row by row.

    >>> row_major(list(range(5)), ncols=3)    # rows [0 1 2] [3 4]: columns [0 3] [1 4] [2]
    [0, 3, 1, 4, 2]
    """
    entries = list(entries)
    ncols = max(1, min(ncols, len(entries)))
    return [entries[i] for column in range(ncols) for i in range(column, len(entries), ncols)]


def head_legend_options(head_indices, head_colors, width_inches: float, title: str = "Head") -> dict:
    """`legend` keywords for the head swatches: the title first, then handles row by row in
    head order (with several rows, the title's column holds blank entries below it).

    When the swatches would need more than one row, the compact key is chosen (each number
    in a box of its head's color, see `style_compact_key`): ``compact`` is then True (pop it
    before calling ``legend``)."""
    handles = head_legend_handles(head_indices, head_colors)
    options = legend_options(len(handles), width_inches, title)
    compact = options["ncols"] - 1 < len(handles)
    if compact:
        options = dict(ncols=compact_key_columns(head_indices, width_inches, title) + 1, frameon=False,
                       handlelength=0.0, handletextpad=KEY_PAD, columnspacing=2 * KEY_PAD + KEY_SPACING,
                       labelspacing=2 * KEY_PAD + KEY_SPACING, borderpad=KEY_BORDER)
        for handle in handles:
            handle.set_linewidth(0)  # the color is in the number's box
    ncols = options["ncols"] - 1
    rows = -(-len(handles) // ncols)
    title_column = [Patch(visible=False, label=title)] + [Patch(visible=False, label="")] * (rows - 1)
    return dict(handles=title_column + row_major(handles, ncols), compact=compact, **options)


def style_compact_key(legend) -> None:
    """Write each head's number in a box of its color (text black or white, whichever reads
    better on it): the compact key, one row where the swatches would need two."""
    from .colors import contrast_ratio

    for handle, text in zip(legend.legend_handles, legend.get_texts()):
        if not handle.get_visible():
            continue
        face = handle.get_facecolor()
        ink = max(("black", "white"), key=lambda c: contrast_ratio(c, face))
        text.set_color(ink)
        text.set_bbox(dict(boxstyle=f"square,pad={KEY_PAD}", facecolor=face, linewidth=0))


def draw_head_legend(target, head_indices, head_colors, width_inches: float, title: str = "Head", **kwargs):
    """The head legend (swatches, or the compact key) on a Figure or an Axes; returns it."""
    options = head_legend_options(head_indices, head_colors, width_inches, title)
    compact = options.pop("compact")
    legend = target.legend(**options, **kwargs)
    if compact:
        style_compact_key(legend)
    return legend


def head_legend(ax, head_indices, head_colors, title: str = "Head") -> None:
    """Head swatches below the axes (the title keeps the space above), `title` first."""
    # the legend may span the Axes' share of the figure, labels included
    draw_head_legend(ax, head_indices, head_colors, grid_share_inches(ax), title, loc="upper center",
                     bbox_to_anchor=(0.5, 0.0))
