"""Titles that fit their figure and read alike in every figure.

Long titles break at word boundaries instead of leaving the canvas (`wrap_to_width`). Every
title, panel title and legend title is in sentence case (`sentence_case`): its first word
capitalised, the rest as written ("Layer 2, head 3", "Head 0", "Attention rollout, layers 0-5");
a title that starts with data (tokens or names the user gave: "rabbit − cat, layer 2") keeps
them as typed, and only the words attnfig writes after them follow the rule.

Text is measured with the fonts it will be drawn in (Agg's metrics at 72 dpi, so in points),
at the time the title is made; the layout engine then makes room for its lines.
"""
from __future__ import annotations

import re

from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties

from .colors import font_points
from .labels import literal

_FIRST_WORD = re.compile(r"[a-z][a-z]+(?![\w\u00b7])")  # a word of two letters or more, not a symbol ("q", "q·k")


def sentence_case(text: str) -> str:
    """`text` with its first word capitalised: the one rule for every title attnfig writes.

    Only a lower-case word of two letters or more is capitalised, so symbols stay as they are.

    >>> sentence_case("head 3"), sentence_case("keys k"), sentence_case("q \u00d7 k"), sentence_case("Layer 2")
    ('Head 3', 'Keys k', 'q × k', 'Layer 2')
    """
    match = _FIRST_WORD.match(text)
    return text[0].upper() + text[1:] if match else text


def text_points(text: str, fontsize) -> float:
    """Width in points of one line of `text` drawn in the style's font at `fontsize`.

    >>> text_points("ab", 10) < text_points("abcd", 10)
    True
    """
    renderer = RendererAgg(1, 1, 72)
    return max((renderer.get_text_width_height_descent(line, FontProperties(size=fontsize), ismath=False)[0]
                for line in literal(text).split("\n")), default=0.0)


def title_room(ax) -> float:
    """Points a title centred over `ax` may take within its figure: twice the distance from the
    Axes' centre to the nearer edge, less a font size on each side (the layout engine then keeps
    it on the canvas; a title is not held to the Axes' own width).

    >>> import matplotlib.figure
    >>> ax = matplotlib.figure.Figure(figsize=(3, 2)).add_axes((0.2, 0.1, 0.5, 0.8))
    >>> round(title_room(ax), 1) == round(2 * 0.45 * 3 * 72 - 2 * font_points("axes.titlesize"), 1)
    True
    """
    from .figures import axes_box_inches, figure_inches

    left, _, right, _ = axes_box_inches(ax)  # before layout (the colorbar's room taken)
    width = figure_inches(ax.figure)[0] * 72
    centre = (left + right) / 2 * 72
    return 2 * min(centre, width - centre) - 2 * font_points("axes.titlesize")


def wrap_to_width(text: str, width_points: float, fontsize, separators: tuple[str, ...] = ("; ", ": ", " ")) -> str:
    """`text` broken into lines no wider than `width_points` where it can be.

    Breaks go after the first of `separators` that gives lines that fit (a clause before a
    word), and a word longer than the width stays whole on its line.

    >>> wrap_to_width("Frames: pattern in most of 6 texts; thumbnails: their mean", 150, 8)
    'Frames: pattern in most of 6 texts;\\nthumbnails: their mean'
    """
    if text_points(text, fontsize) <= width_points:
        return text
    for separator in separators:
        parts = text.split(separator)
        if len(parts) == 1:
            continue
        lines = [parts[0]]
        for part in parts[1:]:
            joined = lines[-1] + separator + part
            if text_points(joined, fontsize) <= width_points:
                lines[-1] = joined
            else:
                lines[-1] = lines[-1] + separator.rstrip()
                lines.append(part)
        if all(text_points(line, fontsize) <= width_points for line in lines) or separator == separators[-1]:
            return "\n".join(lines)
    return text
