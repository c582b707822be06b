"""Colorbar ticks that span the bar: as many nice ticks as its length holds, plus its ends.

A short bar with matplotlib's default ticks can stop at 0.5 while its colors reach 0.98;
`SpanningLocator` labels the end of the scale whenever the last nice tick is more than
half a step short of it.
"""
from __future__ import annotations

import math

import numpy as np
from matplotlib.axis import XAxis, YAxis
from matplotlib.ticker import Formatter, MaxNLocator

from ..errors import ArgumentError
from .colors import font_points
from .labels import axis_points

# Room per tick label along the bar, in font sizes: a vertical bar keeps labels three lines
# apart (about matplotlib's density), a horizontal one about four characters.
LABEL_ROOM = {"y": 3.0, "x": 4.0}


class SpanningLocator(MaxNLocator):
    """Nice ticks for the bar's length at draw time, with its ends added when far from them.

    >>> import numpy as np
    >>> SpanningLocator(nbins=2).ticks_between(0.0, 0.98)
    [0.0, 0.5, 0.98]
    >>> SpanningLocator(nbins=5).ticks_between(0.0, 1.0)
    [0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
    """

    def __init__(self, nbins="auto", **kwargs):
        super().__init__(nbins=nbins, steps=[1, 2, 2.5, 5, 10], **kwargs)

    def __call__(self):
        axis = self.axis
        if not isinstance(axis, (XAxis, YAxis)):  # a colorbar's long axis
            raise ArgumentError(f"SpanningLocator ticks an x or y axis, but it is set on {axis!r}.")
        low, high = sorted(axis.get_view_interval())
        min_gap = 0.0
        if axis.axes is not None:
            name = axis.axis_name
            length = axis_points(axis)
            room = LABEL_ROOM[name] * font_points(f"{name}tick.labelsize")
            self.set_params(nbins=max(1, int(length // room)))
            min_gap = (high - low) * room / max(length, 1e-9)  # an end label needs its room
        return self.ticks_between(low, high, min_gap)

    def ticks_between(self, vmin, vmax, min_gap: float = 0.0) -> list[float]:
        """The nice ticks inside [vmin, vmax], and vmin/vmax when the nearest is over half a
        step (and `min_gap`) away."""
        low, high = sorted((float(vmin), float(vmax)))
        ticks = [t for t in self.tick_values(low, high) if low - 1e-9 * (high - low) <= t <= high + 1e-9 * (high - low)]
        if len(ticks) < 2:
            return sorted(set(ticks) | {low, high})
        step = ticks[1] - ticks[0]
        decimals = max(0, 1 - math.floor(math.log10(step)))  # one digit finer than the step
        scale = 10.0 ** decimals
        top, bottom = math.floor(high * scale + 1e-9) / scale, math.ceil(low * scale - 1e-9) / scale  # on the bar
        if top - ticks[-1] > max(step / 2, min_gap):
            ticks.append(top)
        if ticks[0] - bottom > max(step / 2, min_gap):
            ticks.insert(0, bottom)
        return [float(t) for t in np.asarray(ticks)]


MARK_CLEARANCE = 1.5  # font sizes between a marked value's label and a nice tick's (centre to centre)


class MarkedLocator(SpanningLocator):
    """Nice ticks for the bar's length, and one marked value (such as uniform entropy).

    The nice ticks are the step's multiples only (no ends added); those whose labels would
    touch the marked value's label are dropped, so the scale reads "0, 1, 2" and the mark
    stands apart from it. `MarkedFormatter` names the mark.

    >>> MarkedLocator(2.61, nbins=3).ticks_between(0.0, 2.61)
    [0.0, 1.0, 2.0, 2.61]
    """

    def __init__(self, value: float, nbins="auto", **kwargs):
        super().__init__(nbins=nbins, **kwargs)
        self.value = float(value)

    def __call__(self):
        axis = self.axis
        if not isinstance(axis, (XAxis, YAxis)):  # a colorbar's long axis
            raise ArgumentError(f"MarkedLocator ticks an x or y axis, but it is set on {axis!r}.")
        low, high = sorted(axis.get_view_interval())
        name = axis.axis_name
        fontsize = font_points(f"{name}tick.labelsize")
        length = axis_points(axis)
        self.set_params(nbins=max(1, int(length // (LABEL_ROOM[name] * fontsize))))
        return self.ticks_between(low, high, (high - low) * MARK_CLEARANCE * fontsize / max(length, 1e-9))

    def ticks_between(self, vmin, vmax, min_gap: float = 0.0) -> list[float]:
        """The nice ticks inside [vmin, vmax] more than `min_gap` from the mark, and the mark."""
        low, high = sorted((float(vmin), float(vmax)))
        slack = 1e-9 * (high - low)
        ticks = [float(t) for t in self.tick_values(low, high)
                 if low - slack <= t <= high + slack and abs(t - self.value) > max(min_gap, slack)]
        return sorted(ticks + [self.value]) if low - slack <= self.value <= high + slack else ticks


class MarkedFormatter(Formatter):
    """The nice ticks with the fewest decimals that show them all exactly ("0.0, 0.5, 1.0"),
    and `name` at the marked value.

    >>> formatter = MarkedFormatter(2.61, "uniform")
    >>> formatter.set_locs([0.0, 0.5, 1.0, 2.61]); [formatter(x) for x in (0.0, 0.5, 2.61)]
    ['0.0', '0.5', 'uniform']
    """

    def __init__(self, value: float, name: str):
        self.value, self.name = float(value), name
        self.decimals = 0

    def set_locs(self, locs):
        super().set_locs(locs)
        nice = [float(x) for x in locs if not math.isclose(x, self.value, rel_tol=1e-9, abs_tol=1e-12)]
        self.decimals = next((d for d in range(4) if all(abs(round(x, d) - x) < 1e-9 for x in nice)), 4)

    def __call__(self, x, pos=None):
        if math.isclose(x, self.value, rel_tol=1e-9, abs_tol=1e-12):
            return self.name
        return f"{x:.{self.decimals}f}"
