"""Titles that fit their figure: long ones break at word boundaries instead of leaving the canvas.

Text is measured with the fonts it will be drawn in (Agg's metrics at 72 dpi, so in points),
at the time the title is made; the layout engine then makes room for its lines.
"""
from __future__ import annotations

from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.font_manager import FontProperties

from .labels import literal


def text_points(text: str, fontsize) -> float:
    """Width in points of one line of `text` drawn in the style's font at `fontsize`.

    >>> text_points("ab", 10) < text_points("abcd", 10)
    True
    """
    renderer = RendererAgg(1, 1, 72)
    return max((renderer.get_text_width_height_descent(line, FontProperties(size=fontsize), ismath=False)[0]
                for line in literal(text).split("\n")), default=0.0)


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
