"""Colors come from the active style: the palette is rcParams' ``axes.prop_cycle``.

One color means one thing across figures:

- **heads** get the style's cycle (`head_colors`): the light, dark and venue styles share one
  cycle (tab10 without its grey) and the same `EXTRA_COLORS` after it, so head h has one color
  in all of them. Only a style made to change the palette (``colorblind``) or a ``palette=``
  changes it. Heads never get a grey, black or white from the style's cycle (tab10's #7f7f7f,
  Okabe-Ito's black): overlapping lines of several heads blend to a grey, which would read as
  that head, and the highlight is drawn without hue.
- **other categories** (pattern types, special-token targets) get `category_colors`: colors
  chosen, for the active style, far from the first `HEAD_COLORS_KEPT` head colors, so no
  figure's "vertical" or "[CLS]" shares a color with a head.
- **highlighted tokens** get `highlight_color`: no hue at all, the style's foreground (a grey
  band, bold labels), since every hue far enough from twenty head colors and the categories is
  still near some head (a cyan was 13 CAM02-UCS units from head 8, whose faint lines it matched).
- **layers** get `layer_colors`, the one function every figure that colors layers calls
  (`model_view`'s line thumbnails, `plot_head_map`'s markers): the style's sequential colormap
  (``image.cmap``) with its ends cut where a line would not read on the background, sampled
  evenly over layers 0 to the last, so layer l has one color in every such figure.
- **one value** (rollout and flow lines, an image's threshold outline) is drawn in the style's
  foreground (``text.color``, `foreground_color`).
"""
from __future__ import annotations

from functools import lru_cache
from itertools import cycle, islice

import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize, TwoSlopeNorm, to_rgba, to_rgba_array

from ..errors import ArgumentError
from .arguments import check_color_limits


# Colors after the style's cycle, for many heads (heads 9 to 19 after tab10 without its grey).
# Picked greedily from an sRGB grid (steps of 15/255) with CIELAB chroma >= 35, 4:1 contrast on
# black (tab10's dimmest, brown, has 3.2) and 1.9:1 on white: each in turn the farthest in
# CAM02-UCS from tab10 and the ones before it, among those that keep, under 50% deuteranomaly
# and protanomaly (colorspacious' simulation), at least 11 units from all of them (tab10's own
# closest pair is 9.1 apart there). The 12 heads of a BERT layer are then at least 21.2
# CAM02-UCS units apart (tab10's pink and #d20087), the 20 heads 17.0, and 9.1 under those
# deficiencies; the set before had 16.0 for 12 heads (#e377c2 and #ff00ff) and 12.3 for 20
# (3.9 under deuteranomaly). One sequence serves the light and dark styles alike, so head h
# has the same color in every style.
EXTRA_COLORS = ("#b4b4ff", "#4bd296", "#d20087", "#876900", "#008769", "#ff9696", "#b4965a", "#694bff",
                "#4ba5ff", "#ff4b78", "#f000ff")
MIN_CONTRAST_ON_DARK = 3.0  # WCAG 2.1's minimum for graphics, on black
MIN_CONTRAST_ON_LIGHT = 1.9  # on white: tab10's olive (#bcbd22) has 2.0
EXTRA_CONTRAST_ON_DARK = 4.0  # on black, for `EXTRA_COLORS` (tab10's dimmest, brown, has 3.2)
CATEGORY_CONTRAST_ON_DARK = 3.5  # on black, for `category_colors` (fewer, so fewer candidates far from heads)
# A grey: CIELAB chroma below this, black and white included (Okabe-Ito's black in the
# colorblind style is no head's color: the highlight is the foreground, without hue, and black
# lines vanish on a dark background).
GREY_CHROMA = 15.0


def is_grey(color) -> bool:
    """Whether `color` has no hue to speak of (a grey, black or white).

    >>> is_grey("#7f7f7f"), is_grey("#1f77b4"), is_grey("black")
    (True, False, True)
    """
    _, a, b = cielab([color])[0]
    return bool(np.hypot(a, b) < GREY_CHROMA)


def cielab(colors) -> np.ndarray:
    """CIELAB (D65) of matplotlib colors, one row ``(L*, a*, b*)`` per color.

    >>> (cielab(["white", "black"]).round(1) + 0.0).tolist()
    [[100.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    rgb = to_rgba_array(colors)[:, :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz /= [0.95047, 1.0, 1.08883]  # D65 white
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=-1)


def relative_luminance(color) -> float:
    """WCAG's relative luminance of a matplotlib color (0 black, 1 white).

    >>> relative_luminance("black"), relative_luminance("white")
    (0.0, 1.0)
    """
    rgb = to_rgba_array([color])[0, :3]
    linear = np.where(rgb <= 0.03928, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    return float(linear @ [0.2126, 0.7152, 0.0722])


def contrast_ratio(color, background) -> float:
    """WCAG's contrast ratio of two colors, from 1 (same) to 21 (black on white).

    >>> round(contrast_ratio("#000080", "black"), 2)
    1.31
    """
    darker, lighter = sorted((relative_luminance(color), relative_luminance(background)))
    return (lighter + 0.05) / (darker + 0.05)


def palette_colors(n: int, palette=None, *, greys: bool = True) -> np.ndarray:
    """Return `n` RGBA colors: from the style's color cycle, a seaborn palette name or a list.

    The style's cycle is extended by `EXTRA_COLORS` (without repeats; the same ones on a
    light or dark background) before colors repeat; a list or palette name repeats past
    its end, as BertViz does past 10 heads. ``greys=False`` leaves the style's greys out (`is_grey`);
    a `palette` given is used as it is.

    >>> palette_colors(3, ["red", "blue"])[:, :3].tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    if palette is None:
        base = list(mpl.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"]))
        if not greys:
            base = [c for c in base if not is_grey(c)] or base
        if n > len(base):
            known = {tuple(c) for c in to_rgba_array(base).round(3)}
            base += [c for c in EXTRA_COLORS if tuple(to_rgba_array([c])[0].round(3)) not in known]
    elif isinstance(palette, str):
        import seaborn as sns

        try:
            base = sns.color_palette(palette)
        except ValueError:
            raise ArgumentError(
                f"`palette` {palette!r} is neither a seaborn palette nor a matplotlib colormap name; "
                "pass such a name or a list of colors."
            ) from None
    else:
        base = _color_list(palette)
    return to_rgba_array(list(islice(cycle(base), n)))


def head_colors(head_indices, palette=None) -> np.ndarray:
    """One RGBA color per head, chosen by its ORIGINAL index: a head keeps its color
    whatever subset of heads is shown. The style's greys are left out (see `is_grey`).

    >>> (head_colors([3, 7])[0] == head_colors(range(12))[3]).all()
    np.True_
    """
    indices = np.asarray(list(head_indices), dtype=int)
    if not indices.size:
        return np.zeros((0, 4))
    return palette_colors(int(indices.max()) + 1, palette, greys=False)[indices]


# Categories other than heads take colors from an sRGB grid (16 levels a channel) that keep the
# head colors' contrast rules (`CATEGORY_CONTRAST_ON_DARK`, `MIN_CONTRAST_ON_LIGHT`) and are
# colorful (CAM02-UCS colorfulness M' >= `CATEGORY_COLORFULNESS`, so none reads as a grey); the
# farthest from the style's head colors and from each other first. With the default 20 head
# colors the 11 categories (4 pattern types, 7 special-token targets) keep at least 14 CAM02-UCS
# units from every head color and from each other.
HEAD_COLORS_KEPT = 20  # category colors keep away from this many head colors (the default's distinct ones)
CATEGORY_COLORFULNESS = 25.0


def category_colors(n: int, palette=None, *, skip: int = 0) -> np.ndarray:
    """`n` RGBA colors for categories that are not heads (pattern types, special-token targets).

    Each in turn the farthest (CAM02-UCS) from the style's first `HEAD_COLORS_KEPT` head colors
    and the categories before it, so a category never takes a color that means a head in
    another figure; ``skip`` leaves out the first colors of that sequence (another figure's
    categories: special-token targets skip the pattern types). A `palette` given is used as it is.

    >>> from matplotlib.colors import to_hex
    >>> [to_hex(c) for c in category_colors(2)]
    ['#aa11bb', '#bb5500']
    """
    if palette is not None:
        return palette_colors(n, palette)
    heads = tuple(map(tuple, head_colors(range(HEAD_COLORS_KEPT)).round(6)))
    chosen = _category_sequence(heads, skip + n)
    return to_rgba_array(list(islice(cycle(chosen[skip:] or chosen), n)))


@lru_cache(maxsize=8)
def _category_sequence(heads: tuple, n: int) -> list:
    from .uniform import cam02_ucs

    levels = np.arange(16) * 17 / 255
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    grid = grid[[contrast_ratio(c, "black") >= CATEGORY_CONTRAST_ON_DARK
                 and contrast_ratio(c, "white") >= MIN_CONTRAST_ON_LIGHT for c in grid]]
    ucs = cam02_ucs(grid)
    colorful = np.hypot(ucs[:, 1], ucs[:, 2]) >= CATEGORY_COLORFULNESS
    grid, ucs = grid[colorful], ucs[colorful]
    taken = cam02_ucs(np.array(heads))
    chosen: list[int] = []
    for _ in range(min(n, len(grid))):
        distance = np.linalg.norm(ucs[:, None] - taken[None], axis=-1).min(axis=1)
        distance[chosen] = -1.0
        chosen.append(int(distance.argmax()))
        taken = np.vstack([taken, ucs[chosen[-1]]])
    return [tuple(grid[i]) for i in chosen]



def highlight_color() -> np.ndarray:
    """The RGBA color that marks `highlight` tokens (label text, bands, marks): the style's
    foreground (`foreground_color`), a color without hue, so no head's or category's lines can
    be mistaken for it; highlighted labels are also bold.

    >>> from matplotlib.colors import to_hex
    >>> to_hex(highlight_color())
    '#000000'
    """
    return np.asarray(to_rgba(foreground_color()))


def layer_colors(n: int, palette=None, cmap=None, background="white") -> np.ndarray:
    """One RGBA color per layer, 0 to ``n - 1``: the sequential colormap (`cmap`, the style's
    ``image.cmap`` by default) sampled evenly, its ends cut where they would not read as a line
    on `background` (`attnfig.views.contrast.line_colormap`); a `palette` given is used as it is.
    Every figure that colors layers takes its colors from here (layer l is ``layer_colors(n)[l]``
    with ``n`` one more than the last layer shown), so a layer has one color across figures.

    >>> layer_colors(3).shape
    (3, 4)
    """
    if palette is not None:
        return palette_colors(n, palette)
    from .contrast import line_colormap

    return line_colormap(colormap(cmap), background)(np.linspace(0.0, 1.0, n) if n > 1 else [0.5])


def foreground_color():
    """The style's foreground (``text.color``): the color of a figure's one value drawn as lines or
    outlines, which no head or category owns.

    >>> import matplotlib as mpl
    >>> with mpl.rc_context({"text.color": "white"}):
    ...     foreground_color()
    'white'
    """
    return mpl.rcParams["text.color"]


def _color_list(palette) -> list:
    try:
        base = list(palette)
        to_rgba_array(base)
    except (TypeError, ValueError):
        raise ArgumentError(
            f"`palette` must be a palette name or a list of matplotlib colors, but {palette!r} was passed."
        ) from None
    if not base:
        raise ArgumentError("`palette` is an empty list: pass at least one color, or None for the style's colors.")
    return base


def colormap(cmap=None):
    """The named colormap, or the style's ``image.cmap``."""
    if isinstance(cmap, mpl.colors.Colormap):
        return cmap
    try:
        return mpl.colormaps[cmap or mpl.rcParams["image.cmap"]]
    except (KeyError, TypeError):
        raise ArgumentError(
            f"`cmap` must be a matplotlib Colormap or the name of one (such as 'viridis'), but {cmap!r} was passed."
        ) from None


def font_points(rc_key: str) -> float:
    """Font size in points of an rcParams entry such as ``"ytick.labelsize"``."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=mpl.rcParams[rc_key]).get_size_in_points()  # type: ignore[index]  # stubs: literal keys only


def with_alphas(color, alphas: np.ndarray) -> np.ndarray:
    """One RGBA row per alpha: `color` (or one color per row) with its opacity scaled by
    each alpha (clipped to [0, 1]).

    >>> with_alphas([1.0, 0.0, 0.0, 1.0], np.array([0.5, 2.0]))[:, 3].tolist()
    [0.5, 1.0]
    """
    rgba = np.array(np.broadcast_to(np.asarray(color, dtype=float), (len(alphas), 4)))
    rgba[:, 3] *= np.clip(alphas, 0, 1)
    return rgba


def color_norm(values: np.ndarray, vmin=None, vmax=None, center=None, robust: bool = False) -> Normalize:
    """The color scale: `vmin`/`vmax` default to the finite data's range (its 2nd and 98th
    percentiles with `robust`, as in seaborn); `center` makes it a diverging scale
    symmetric about that value (seaborn's ``center``).

    >>> n = color_norm(np.array([-0.2, 0.5]), center=0.0); (n.vmin, n.vcenter, n.vmax)
    (-0.5, 0.0, 0.5)
    """
    check_color_limits(vmin, vmax, center)
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if not finite.size:
        data_low, data_high = 0.0, 1.0
    elif robust:
        data_low, data_high = (float(v) for v in np.percentile(finite, [2, 98]))
    else:
        data_low, data_high = float(finite.min()), float(finite.max())
    low = vmin if vmin is not None else data_low
    high = vmax if vmax is not None else data_high
    if center is not None:  # seaborn's recentring: one slope, symmetric about `center`
        spread = max(abs(low - center), abs(high - center)) or 1.0
        return TwoSlopeNorm(center, center - spread, center + spread)
    return Normalize(low, high if high > low else low + 1)


def given_norm(values: np.ndarray, norm, *, vmin=None, vmax=None, center=None, robust: bool = False) -> Normalize:
    """A `norm` passed by the user (seaborn's and matplotlib's ``norm=``), scaled to the finite
    data where its limits are unset (as ``imshow`` does); it replaces `vmin`, `vmax`,
    `center` and `robust`, so passing them too is an error.

    >>> from matplotlib.colors import PowerNorm
    >>> n = given_norm(np.array([0.1, 0.4, np.nan]), PowerNorm(0.5)); (n.vmin, n.vmax)
    (0.1, 0.4)
    """
    if not isinstance(norm, Normalize):
        raise ArgumentError(
            f"`norm` must be a matplotlib Normalize (e.g. `matplotlib.colors.PowerNorm(0.5)` or `LogNorm()`), "
            f"but {norm!r} ({type(norm).__name__}) was passed."
        )
    clashing = [name for name, value in (("vmin", vmin), ("vmax", vmax), ("center", center)) if value is not None]
    clashing += ["robust"] if robust else []
    if clashing:
        raise ArgumentError(
            f"`norm` sets the color scale, so {', '.join(f'`{n}`' for n in clashing)} cannot be passed with it: "
            f"set the limits on the norm itself (e.g. `PowerNorm(0.5, vmin=0, vmax=1)`)."
        )
    finite = np.asarray(values, dtype=float)
    norm.autoscale_None(np.ma.masked_invalid(finite))
    return norm
