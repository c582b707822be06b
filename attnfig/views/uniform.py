"""CAM02-UCS: a color space where distance is how different two colors look.

CIECAM02 under sRGB's viewing conditions (64 lux, a 20% grey surround, average surround), as
colorspacious computes it, then Luo et al.'s (2006) uniform space. attnfig picks colors that
must look apart (`attnfig.views.colors.category_colors`) by distances here: CIELAB's stretch
blues and purples, so colors it calls far apart can look alike.
"""
from __future__ import annotations

import numpy as np
from matplotlib.colors import to_rgba_array

_CAT02 = np.array([[0.7328, 0.4296, -0.1624], [-0.7036, 1.6975, 0.0061], [0.0030, 0.0136, 0.9834]])
_HPE = np.array([[0.38971, 0.68898, -0.07868], [-0.22981, 1.18340, 0.04641], [0.0, 0.0, 1.0]])
_SRGB_TO_XYZ = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
_WHITE = np.array([95.047, 100.0, 108.883])  # D65, Y = 100
_ADAPTING = 64 / np.pi / 5  # cd/m2
_BACKGROUND = 20.0


def cam02_ucs(colors) -> np.ndarray:
    """CAM02-UCS ``(J', a', b')`` of matplotlib colors, one row each (white is J' = 100).

    >>> cam02_ucs(["white"]).round(1).tolist()
    [[100.0, -1.9, -1.1]]
    """
    rgb = to_rgba_array(colors)[:, :3]
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    degree = float(np.clip(1 - np.exp((-_ADAPTING - 42) / 92) / 3.6, 0, 1))
    k = 1 / (5 * _ADAPTING + 1)
    f_l = 0.2 * k ** 4 * 5 * _ADAPTING + 0.1 * (1 - k ** 4) ** 2 * np.cbrt(5 * _ADAPTING)
    n = _BACKGROUND / _WHITE[1]
    z, n_bb = 1.48 + np.sqrt(n), 0.725 * n ** -0.2

    def responses(xyz):
        adapted = (_WHITE[1] * degree / (_WHITE @ _CAT02.T) + 1 - degree) * (xyz @ _CAT02.T)
        hpe = adapted @ np.linalg.inv(_CAT02).T @ _HPE.T
        power = (f_l * np.abs(hpe) / 100) ** 0.42
        return np.sign(hpe) * 400 * power / (power + 27.13) + 0.1

    def achromatic(r):
        return (2 * r[:, 0] + r[:, 1] + r[:, 2] / 20 - 0.305) * n_bb

    r = responses(100 * linear @ _SRGB_TO_XYZ.T)
    a, b = r[:, 0] - 12 * r[:, 1] / 11 + r[:, 2] / 11, (r[:, 0] + r[:, 1] - 2 * r[:, 2]) / 9
    hue = np.arctan2(b, a)
    lightness = 100 * np.clip(achromatic(r) / achromatic(responses(_WHITE[None]))[0], 0, None) ** (0.69 * z)
    eccentricity = (np.cos(hue + 2) + 3.8) / 4
    t = 50000 / 13 * n_bb * eccentricity * np.hypot(a, b) / (r[:, 0] + r[:, 1] + 21 / 20 * r[:, 2])
    colorfulness = t ** 0.9 * np.sqrt(lightness / 100) * (1.64 - 0.29 ** n) ** 0.73 * f_l ** 0.25
    m = np.log1p(0.0228 * colorfulness) / 0.0228
    return np.stack([1.7 * lightness / (1 + 0.007 * lightness), m * np.cos(hue), m * np.sin(hue)], axis=-1)
