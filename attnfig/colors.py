"""Colors come from the active style: the palette is rcParams' ``axes.prop_cycle``."""
from __future__ import annotations

from itertools import cycle, islice

import matplotlib as mpl
import numpy as np
from matplotlib.colors import to_rgba_array


def palette_colors(n: int, palette=None) -> np.ndarray:
    """Return `n` RGBA colors: from the style's color cycle, a seaborn palette name or a list.

    Colors repeat when `n` exceeds the palette, as BertViz does past 10 heads.

    >>> palette_colors(3, ["red", "blue"])[:, :3].tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]
    """
    if palette is None:
        base = mpl.rcParams["axes.prop_cycle"].by_key().get("color", ["C0"])
    elif isinstance(palette, str):
        import seaborn as sns

        base = sns.color_palette(palette)
    else:
        base = list(palette)
    return to_rgba_array(list(islice(cycle(base), n)))


def colormap(cmap=None):
    """The named colormap, or the style's ``image.cmap``."""
    return mpl.colormaps[cmap or mpl.rcParams["image.cmap"]] if not isinstance(cmap, mpl.colors.Colormap) else cmap


def font_points(rc_key: str) -> float:
    """Font size in points of an rcParams entry such as ``"ytick.labelsize"``."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(size=mpl.rcParams[rc_key]).get_size_in_points()
