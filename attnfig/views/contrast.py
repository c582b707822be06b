"""Line opacities that read the same on any background.

Lines are drawn with opacity = weight (scaled), blended over ``axes.facecolor``. Blending
is done in sRGB, and near black the sRGB curve is flat: a faint red line that is plainly
visible on white (L* 94 on 100) is a lightness step of about 2 on black, so a dark style
loses most of the picture. `visible_alphas` maps each opacity to the one that reaches, on the
style's background, the same share of the color's full lightness contrast (CIELAB L*) as
it reaches on white paper, so a line of a given weight reads alike in the light and the
dark styles (and a light color, faint on white, uses its strength on black). On white it
changes nothing.
"""
from __future__ import annotations

import matplotlib as mpl
import numpy as np
from matplotlib.colors import to_rgba, to_rgba_array

REFERENCE_BACKGROUND = (1.0, 1.0, 1.0)  # paper
_GRID = np.linspace(0.0, 1.0, 257)


def lightness(rgb: np.ndarray) -> np.ndarray:
    """CIELAB lightness L* (0 black, 100 white) of sRGB colors ``[..., 3]`` in [0, 1].

    >>> lightness(np.array([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]])).round(3).tolist()
    [0.0, 100.0]
    """
    rgb = np.asarray(rgb, dtype=float)
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    return np.where(luminance > 216 / 24389, 116 * np.cbrt(luminance) - 16, luminance * 24389 / 27)


def lightness_steps(color, background) -> np.ndarray:
    """|L*| between `background` and `color` blended over it, at the opacities of `_GRID`,
    made non-decreasing (so it can be inverted)."""
    color = np.asarray(to_rgba(color)[:3])
    background = np.asarray(to_rgba(background)[:3])
    blends = _GRID[:, None] * color + (1 - _GRID[:, None]) * background
    return np.maximum.accumulate(np.abs(lightness(blends) - lightness(background)))


def axes_background(ax):
    """The color lines on `ax` are blended over: its face, else the figure's (if see-through)."""
    face = ax.get_facecolor()
    return face if face[3] > 0 else ax.figure.get_facecolor()


def readable_rgba(color, alphas: np.ndarray, background=None) -> np.ndarray:
    """`color` (or one color per alpha) with opacities `visible_alphas` on `background`.

    >>> readable_rgba([1.0, 0.0, 0.0, 1.0], np.array([0.25]), background="white")[:, 3].tolist()
    [0.25]
    """
    rgba = np.array(np.broadcast_to(np.asarray(to_rgba_array(color), dtype=float), (len(alphas), 4)))
    rgba[:, 3] *= visible_alphas(rgba, alphas, background)
    return rgba


def visible_alphas(colors, alphas: np.ndarray, background=None) -> np.ndarray:
    """Opacities on `background` (``axes.facecolor`` by default) that reach the share of
    each color's full lightness contrast there that `alphas` reach on white.

    `colors` is one color or one per alpha. On white, the alphas come back unchanged.

    >>> red = "#d62728"
    >>> visible_alphas(red, np.array([0.1, 0.5]), background="white").round(3).tolist()
    [0.1, 0.5]
    >>> bool((visible_alphas(red, np.array([0.1, 0.5]), background="black") > [0.15, 0.5]).all())
    True
    """
    alphas = np.clip(np.asarray(alphas, dtype=float), 0.0, 1.0)
    background = mpl.rcParams["axes.facecolor"] if background is None else background
    if to_rgba(background)[3] == 0:  # a transparent Axes shows the figure's color
        background = mpl.rcParams["figure.facecolor"]
    if np.allclose(to_rgba(background)[:3], REFERENCE_BACKGROUND):
        return alphas
    rgba = to_rgba_array(colors)
    result = np.empty_like(alphas)
    if len(rgba) == 1:  # one color for all (an ink image's million pixels: no sort of repeated rows)
        unique, inverse = rgba[:, :3], np.zeros(len(alphas), dtype=np.intp)
    else:
        unique, inverse = np.unique(rgba[:, :3].round(6), axis=0, return_inverse=True)
    for index, color in enumerate(unique):
        chosen = inverse.ravel() == index
        reference, steps = lightness_steps(color, REFERENCE_BACKGROUND), lightness_steps(color, background)
        if steps[-1] <= 0 or reference[-1] <= 0:  # the color is the background: nothing can show it
            result[chosen] = alphas[chosen]
            continue
        # The share of the color's full contrast each opacity reaches on white, reached on `background`.
        target = np.interp(alphas[chosen], _GRID, reference) / reference[-1] * steps[-1]
        strict = np.concatenate([[True], np.diff(steps) > 0])  # first opacity reaching each step
        result[chosen] = np.interp(target, steps[strict], _GRID[strict])
    return result


MIN_LINE_CONTRAST = 40.0  # L* between a thin line's color and the background, light or dark


def line_colormap(cmap, background, min_contrast: float = MIN_LINE_CONTRAST):
    """`cmap` with its ends cut where their colors lie within `min_contrast` lightness (L*) of
    `background`, light or dark: a thin line reads by lightness (viridis' yellow on white does not).

    >>> import matplotlib as mpl
    >>> light = line_colormap(mpl.colormaps["viridis"], "white")
    >>> bool(lightness(np.array(light(1.0)[:3])) <= 100 - MIN_LINE_CONTRAST + 0.5)
    True
    """
    return _cut_ends(cmap, background, min_contrast)


def _cut_ends(cmap, background, min_contrast: float):
    from matplotlib.colors import ListedColormap

    floor = float(lightness(np.asarray(to_rgba(background)[:3])))
    contrast = np.abs(lightness(cmap(_GRID)[:, :3]) - floor)
    reads = np.flatnonzero(contrast >= min_contrast)
    if not len(reads) or (reads[0] == 0 and reads[-1] == len(_GRID) - 1):
        return cmap
    return ListedColormap(cmap(np.linspace(_GRID[reads[0]], _GRID[reads[-1]], 256)), name=f"{cmap.name}_contrast")
