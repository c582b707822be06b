"""Token labels on axes: drawn as typed, and fitted to the axis by one stated rule.

Every view and summary that puts tokens on an axis goes through `set_token_ticks`.

The rule, evaluated at draw time against the axis's real length (so it holds at any
figure size and after the layout engine has made room for the labels):

1. A label needs `LABEL_PITCH` times its font size along the axis (a label's box is
   about one font size tall, so 15% is left between neighbours).
2. When every label fits at the style's tick size, every label is drawn at that size.
   Axes labelled together (a heatmap's rows and columns) share the smaller size.
3. Otherwise the font shrinks, down to `min_fontsize` (`MIN_FONT_FRACTION` of the tick
   size, never below `MIN_FONT_POINTS`), until every label fits.
4. When they still do not fit, labels are thinned at the smallest size. The `highlight`
   positions and the `bold` ones (a focused query) are always labelled: when they crowd
   each other, their labels are moved apart along the axis (in order, as little as
   possible, centred on their tokens); a warning says so only when that leaves them hard to
   read: moved more than `MAX_LABEL_SHIFT` label pitches from their tokens, or, when even
   moved apart they cannot fit the axis, overlapping. Special tokens (``[CLS]``,
   ``</s>``...) are kept unless they would touch one of those (the first of a crowded run of
   special tokens wins); the others are taken evenly (every n-th, n as small as fits),
   skipping any that would touch a kept label (closer than a label pitch to it, where it is
   drawn); n is a round step (`round_step`: 1-6, 8, 10, 15, 20, 25, 30, 40, 50...), so
   labels fall on round positions.
5. Axes labelled together with the same tokens (a heatmap's rows and columns of a square
   map), when both are thinned, nest their labels: the sparser axis shows its own choice,
   and the other shows those labels plus every label of its own round step that does not
   touch one of them where it is drawn (its step divides the sparser axis's step, so the
   two run on the same positions: 0, 10, 20... beside 0, 20, 40...). A token labelled on
   the sparser axis is labelled on the other, and no label that fits is left out because
   the partner had to leave it out. An axis with room for every label keeps them all
   (rule 2).

Tokens are drawn literally (`literal`): ``$x^2$`` shows dollars and caret, not math.
"""
from __future__ import annotations

import re
import warnings
import dataclasses
from dataclasses import dataclass
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.artist import Artist
from matplotlib.axis import XAxis, YAxis
from matplotlib.ticker import Formatter, Locator

from ..errors import ArgumentError
from ..input.tokens import is_special_token
from .colors import font_points
from .figures import axes_inches
from .layout import settle_layout

LABEL_PITCH = 1.15
MAX_LABEL_SHIFT = 2.0  # label pitches a moved label may sit from its token before a warning
MIN_FONT_FRACTION = 0.75
MIN_FONT_POINTS = 5.0
REPLACEMENT = "\ufffd"  # shown for characters no font can draw (lone surrogates)
_CONTROL = {"\n": "\u21b5", "\r": "\u21b5", "\t": "\u2192"}
_LATEX_SPECIALS = re.compile(r"([\\#$%&_{}~^])")
_LATEX_REPLACEMENTS = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def literal(token) -> str:
    """The text that makes matplotlib draw `token` exactly as typed.

    Dollar signs are escaped (no mathtext), lone surrogates become ``\ufffd`` (Agg cannot
    encode them), newlines and tabs become ``↵`` and ``→``; under ``text.usetex`` LaTeX's
    special characters are escaped too.

    >>> literal("$x^2$"), literal("a\\ud800b"), literal("line\\n")
    ('\\\\$x^2\\\\$', 'a\ufffdb', 'line↵')
    """
    text = drawn_characters(token)
    if mpl.rcParams["text.usetex"]:
        return _LATEX_SPECIALS.sub(lambda m: _LATEX_REPLACEMENTS.get(m[1], "\\" + m[1]), text)
    return text.replace("$", r"\$")


def drawn_characters(token) -> str:
    """The characters a label of `token` shows: lone surrogates as ``\ufffd``, newlines and tabs
    as ``↵`` and ``→`` (`literal` also escapes what matplotlib would read as markup).

    >>> drawn_characters("a\\ud800b\\tc") == "a\\ufffdb→c"
    True
    """
    return "".join(_CONTROL.get(c, REPLACEMENT if 0xD800 <= ord(c) <= 0xDFFF else c) for c in str(token))


def axis_points(axis) -> float:
    """The length in points of a matplotlib `Axis` (its Axes' height for y, width for x), as placed now."""
    width, height = axes_inches(axis.axes)
    return (height if axis.axis_name == "y" else width) * 72


def label_points(tokens, fontsize: float) -> float:
    """Width in points of the widest of `tokens` at `fontsize` (the style's font)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    renderer, font = RendererAgg(1, 1, 72), FontProperties(size=fontsize)
    return max((renderer.get_text_width_height_descent(drawn_characters(t), font, ismath=False)[0] for t in tokens),
               default=0.0)


def min_fontsize(fontsize: float) -> float:
    """The smallest size labels may shrink to: the bottom of the style's range.

    >>> min_fontsize(8.0), min_fontsize(6.0), min_fontsize(4.0)
    (6.0, 5.0, 4.0)
    """
    return min(fontsize, max(MIN_FONT_POINTS, MIN_FONT_FRACTION * fontsize))


@dataclass(frozen=True)
class LabelFit:
    """The labels an axis shows (indices into the tokens) and their font size in points;
    `offsets` (points along the axis, towards later tokens, one per shown label) move crowded
    `must` labels apart (rule 4), `crowded` lists those moved and `overflow` says they did not fit
    the axis even so."""

    shown: np.ndarray
    fontsize: float
    offsets: np.ndarray | None = None
    crowded: tuple[int, ...] = ()
    overflow: bool = False
    step: int = 1  # the round step of the regular labels (1 when none are left out)

    @property
    def legible(self) -> bool:
        """Whether every label can be read as its token's: none overlap and none was moved
        more than `MAX_LABEL_SHIFT` label pitches from its token (rule 4)."""
        shift = 0.0 if self.offsets is None or not len(self.offsets) else float(np.abs(self.offsets).max())
        return not self.overflow and shift <= MAX_LABEL_SHIFT * self.fontsize * LABEL_PITCH + 1e-9


def fit_labels(n_labels: int, axis_points: float, fontsize: float, *, keep=(), smallest: float | None = None,
               first=(), must=()) -> LabelFit:
    """Which of `n_labels` evenly spaced labels an axis of `axis_points` shows, at which size.

    See the module docstring for the rule; `keep` are the positions shown unless they crowd
    a label that must be shown, `must` (highlights) and `first` (a focused query) those always
    shown, moved apart when they crowd each other.

    >>> fit = fit_labels(11, axis_points=80, fontsize=8.0)    # 11 labels fit at 6.3 pt
    >>> len(fit.shown), round(fit.fontsize, 1)
    (11, 6.3)
    >>> fit = fit_labels(100, axis_points=120, fontsize=8.0, keep=[0, 57, 99])
    >>> fit.fontsize, {0, 57, 99} <= set(fit.shown.tolist()), len(fit.shown)
    (6.0, True, 16)
    >>> 2 in fit_labels(100, axis_points=120, fontsize=8.0, keep=[0, 1, 2], first=[2]).shown.tolist()
    True
    >>> fit = fit_labels(243, axis_points=90, fontsize=6.0, keep=[0, 242], must=[52, 59, 66, 73])
    >>> {52, 59, 66, 73} <= set(fit.shown.tolist()), fit.crowded, fit.overflow
    (True, (52, 59, 66, 73), False)
    """
    if n_labels <= 0:
        return LabelFit(np.arange(0), fontsize)
    smallest = min_fontsize(fontsize) if smallest is None else min(smallest, fontsize)
    pitch = axis_points / n_labels  # points between neighbouring labels
    if pitch >= fontsize * LABEL_PITCH:
        return LabelFit(np.arange(n_labels), fontsize)
    if pitch >= smallest * LABEL_PITCH:
        return LabelFit(np.arange(n_labels), float(pitch / LABEL_PITCH))
    return _thinned(n_labels, pitch, smallest, keep, tuple(first) + tuple(must))


ROUND_STEPS = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8)  # times a power of ten


def round_step(gap: int) -> int:
    """The smallest round step (see `ROUND_STEPS`) of at least `gap` positions.

    >>> [round_step(g) for g in (1, 5, 7, 13, 21, 26, 130)]
    [1, 5, 8, 15, 25, 30, 150]
    """
    scale = 10 ** max(0, int(np.floor(np.log10(max(gap, 1)))))
    return int(next((m * scale for m in ROUND_STEPS + (10,) if m * scale >= gap and float(m * scale).is_integer())))


def _thinned(n_labels: int, pitch: float, fontsize: float, keep, must=()) -> LabelFit:
    """`must` labels (moved apart when they crowd), the `keep` ones clear of them, and every
    n-th other one that does not crowd a kept label."""
    need = fontsize * LABEL_PITCH  # points a label needs along the axis
    gap = round_step(max(1, int(np.ceil(need / max(pitch, 1e-9)))))  # positions a label needs
    must = np.unique(np.clip(np.asarray(list(must), dtype=int), 0, n_labels - 1))
    specials = np.setdiff1d(np.clip(np.asarray(list(keep), dtype=int), 0, n_labels - 1), must)
    # In positions, rounded: an unmoved label lands back on its integer (7, not 6.9999999, which
    # would crowd a special token exactly `gap` away).
    placed = np.round(spread_apart((must + 0.5) * pitch, need, n_labels * pitch) / pitch - 0.5, 9)
    crowded = tuple(int(i) for i, p in zip(must, placed) if abs(p - i) > 1e-6)
    overflow = len(must) > 1 and (len(must) - 1) * need > n_labels * pitch
    touch = need / max(pitch, 1e-9) - 1e-6  # positions closer than this would touch a label drawn there
    kept = list(placed)
    for index in specials:  # the first of a crowded run of special tokens, clear of the `must` labels
        clear = not len(placed) or np.abs(placed - index).min() >= touch
        if clear and all(abs(index - k) >= gap for k in kept[len(placed):]):
            kept.append(float(index))
    kept_specials = [int(k) for k in kept[len(placed):]]
    others = [index for index in range(0, n_labels, gap)  # clear of kept labels where they are drawn
              if not kept or np.abs(np.asarray(kept) - index).min() >= touch]
    shown = np.asarray(sorted(set(must.tolist()) | set(kept_specials) | set(others)), dtype=int)
    offsets = np.zeros(len(shown))
    moved = dict(zip(must.tolist(), (placed - must) * pitch))
    for slot, index in enumerate(shown):
        offsets[slot] = moved.get(int(index), 0.0)
    return LabelFit(shown, fontsize, offsets if crowded else None, crowded, overflow, gap)


def nested_step(need: float, step: int) -> int:
    """The smallest step of at least `need` positions that divides `step` and is round
    (``round_step(s) == s``): the regular labels of an axis nested in a sparser one's.

    >>> nested_step(6.4, 20), nested_step(10, 25), nested_step(3, 30), nested_step(9, 8)
    (10, 25, 3, 8)
    """
    return next((s for s in range(max(1, int(np.ceil(need - 1e-9))), step) if step % s == 0 and round_step(s) == s),
                step)


def nest_labels(own: LabelFit, sparser: LabelFit, n_labels: int, pitch: float) -> LabelFit:
    """`own` (an axis's fit, `pitch` points per token) showing the labels of its `sparser`
    partner plus its own regular labels clear of them (rule 5).

    The partner's labels are drawn where this axis draws them (its own offsets for the moved
    `must` labels); a regular label is added at every `nested_step` position that stays a label
    pitch from each of them.

    >>> own = fit_labels(243, axis_points=243 * 1.0, fontsize=6.0, keep=[0, 242], must=[52, 59])
    >>> sparser = fit_labels(243, axis_points=243 * 0.3, fontsize=6.0, keep=[0, 242], must=[52, 59])
    >>> sparser.shown.tolist(), sparser.step
    ([0, 20, 52, 59, 100, 120, 140, 160, 180, 200, 220, 242], 20)
    >>> nest_labels(own, sparser, 243, pitch=1.0).shown.tolist()[:8]
    [0, 10, 20, 30, 40, 52, 59, 70]
    """
    need = own.fontsize * LABEL_PITCH / max(pitch, 1e-9)  # positions a label needs on this axis
    moved = {} if own.offsets is None else dict(zip(own.shown.tolist(), np.asarray(own.offsets) / max(pitch, 1e-9)))
    drawn = np.array([index + moved.get(index, 0.0) for index in sparser.shown.tolist()], dtype=float)
    step = nested_step(need, max(sparser.step, 1))
    added = [index for index in range(0, n_labels, step)
             if not len(drawn) or np.abs(drawn - index).min() >= need - 1e-6]
    shown = np.asarray(sorted(set(sparser.shown.tolist()) | set(added)), dtype=int)
    offsets = None if own.offsets is None else np.array([moved.get(int(index), 0.0) * pitch for index in shown])
    return dataclasses.replace(own, shown=shown, offsets=offsets, step=step)


def spread_apart(centers, need: float, length: float) -> np.ndarray:
    """Sorted label `centers` (points) moved apart to at least `need` between neighbours, each
    crowded run centred on its labels and kept within ``[0, length]`` when it fits.

    >>> spread_apart(np.array([10.0, 12.0, 40.0]), 6.0, 100.0).tolist()
    [8.0, 14.0, 40.0]
    """
    runs: list[list[float]] = []  # each run: its centers; placed evenly `need` apart around their mean
    for center in np.asarray(centers, dtype=float):
        runs.append([float(center)])
        while len(runs) > 1:
            before, last = runs[-2], runs[-1]
            end_before = np.mean(before) + (len(before) - 1) * need / 2
            start_last = np.mean(last) - (len(last) - 1) * need / 2
            if start_last - end_before >= need - 1e-9:
                break
            runs[-2:] = [before + last]
    placed = []
    for run in runs:
        half = (len(run) - 1) * need / 2
        middle = float(np.clip(np.mean(run), min(half, length / 2), max(length - half, length / 2)))
        placed += [middle - half + k * need for k in range(len(run))]
    return np.asarray(placed)


def highlight_color():
    """The color that marks `highlight` tokens (labels, bands, outlines): no head's and no
    category's (`attnfig.views.colors.highlight_color`)."""
    from .colors import highlight_color as color

    return color()


def special_positions(tokens) -> list[int]:
    """Positions of special tokens (``[CLS]``, ``</s>``...): always labelled."""
    return [i for i, token in enumerate(tokens) if is_special_token(str(token))]


class TokenLocator(Locator):
    """Tick positions of the token labels that fit the axis at draw time (the module's rule).

    It also sets the tick labels' font size, so shrinking and thinning follow the axis
    whatever size the figure or layout gives it.
    """

    def __init__(self, positions, span: float, keep=(), bold=(), fontsize: float | None = None, partners=(),
                 must=()):
        self.positions = np.asarray(positions, dtype=float)
        self.span = span  # how many label pitches the axis length holds
        self.keep = tuple(keep)  # special tokens: kept unless they crowd a `must` label
        self.must = tuple(must)  # highlighted: always labelled, moved apart when crowded
        self.moved = False  # the last draw moved some labels off their ticks
        self.warned = False
        self.bold = frozenset(bold)
        self.fontsize = fontsize
        self.fit: LabelFit | None = None
        self.partners = list(partners)  # locators whose labels share one font size with these
        self.label_colors: dict[float, Any] = {}  # position -> color of a marked (highlighted) label
        self.base_color: Any = None
        self.tokens: tuple[str, ...] | None = None  # the labels, to tell partners with the same tokens
        self.numbers: list[int] | None = None  # each label's position in the input, when it has one
        self.thinned_by_partner = False  # the last draw nested its labels in a sparser partner's (rule 5)

    def _own_fit(self) -> LabelFit:
        fontsize = self.fontsize or font_points(f"{self._token_axis().axis_name}tick.labelsize")  # rcParams when not fixed
        pitch_points = axis_points(self.axis) / self.span
        return fit_labels(len(self.positions), pitch_points * len(self.positions), fontsize, keep=self.keep,
                          first=sorted(self.bold), must=self.must)

    def __call__(self):
        if self.axis is None or not len(self.positions):
            return self.positions
        self.fit = self._own_fit()
        partners = [p for p in self.partners if p.axis is not None and p.axis.get_major_locator() is p]
        partner_fits = [(p, p._own_fit()) for p in partners]
        shared = min([self.fit.fontsize] + [fit.fontsize for _, fit in partner_fits])
        twins = [fit for p, fit in partner_fits if self.tokens is not None and p.tokens == self.tokens
                 and p.keep == self.keep and p.must == self.must and p.bold == self.bold]
        sparsest = min(twins, key=lambda fit: len(fit.shown), default=self.fit)
        # Rule 5 holds between thinned axes only: an axis with room for every label shows them all
        # (rule 2), a superset of whatever its partner shows.
        self.thinned_by_partner = len(self.positions) > len(self.fit.shown) > len(sparsest.shown)
        if self.thinned_by_partner:  # the partner's labels and this axis's own round ones clear of them
            self.fit = nest_labels(self.fit, sparsest, len(self.positions), axis_points(self.axis) / self.span)
        _set_label_size(self._token_axis(), shared)
        if self.bold:  # ticks are filled in this order right after the locator runs
            for tick, index in zip(self._token_axis().get_major_ticks(len(self.fit.shown)), self.fit.shown):
                tick.label1.set_fontweight("bold" if index in self.bold else "normal")
                tick.label2.set_fontweight("bold" if index in self.bold else "normal")
        if self.label_colors:
            self._color_labels(self.fit)
        if self.fit.offsets is not None or self.moved:
            self._move_labels(self.fit)
        return self.positions[self.fit.shown]

    def _move_labels(self, fit: LabelFit) -> None:
        """Shift crowded labels along the axis by ``fit.offsets`` (rule 4); others back in place."""
        from matplotlib.transforms import ScaledTranslation

        axis = self._token_axis()
        offsets = np.zeros(len(fit.shown)) if fit.offsets is None else fit.offsets
        ends = axis.axes.transData.transform(np.column_stack([self.positions[[0, -1]]] * 2))
        along = 1 if axis.axis_name == "y" else 0
        direction = 1.0 if len(self.positions) < 2 or ends[1, along] >= ends[0, along] else -1.0
        scale = axis.axes.figure.dpi_scale_trans
        for tick, offset in zip(axis.get_major_ticks(len(fit.shown)), offsets):
            dx, dy = (0.0, direction * offset / 72) if along else (direction * offset / 72, 0.0)
            # The label's own transform (XTick/YTick's, private but stable since matplotlib 2), shifted.
            for label, own in ((tick.label1, "_get_text1_transform"), (tick.label2, "_get_text2_transform")):
                label.set_transform(getattr(tick, own)()[0] + ScaledTranslation(dx, dy, scale))
        self.moved = fit.offsets is not None
        if fit.crowded and not fit.legible and not self.warned and not any(p.warned for p in self.partners):
            self.warned = True
            pitch = fit.fontsize * LABEL_PITCH
            warnings.warn(
                f"The labels of highlighted tokens {[self.numbers[i] if self.numbers else i for i in fit.crowded]} are closer together than a label's height "
                f"({pitch:.1f} pt) on this axis: "
                + ("they cannot all fit it and overlap" if fit.overflow else
                   f"moved apart, in order, some are drawn {np.abs(offsets).max():.1f} pt from their tokens "
                   f"(more than {MAX_LABEL_SHIFT:g} label heights)")
                + ". Use a larger figure, fewer tokens (`span=`) or fewer highlights to label them in place.",
                stacklevel=2)

    @property
    def thinned(self) -> bool:
        """Whether the last draw left some labels out."""
        return self.fit is not None and len(self.fit.shown) < len(self.positions)

    def _token_axis(self) -> XAxis | YAxis:
        """The axis the locator labels: an x or y axis (a locator is only ever set on one)."""
        if not isinstance(self.axis, (XAxis, YAxis)):
            raise ArgumentError(f"Token labels go on an x or y axis, but the locator is set on {self.axis!r}.")
        return self.axis

    def _color_labels(self, fit: LabelFit) -> None:
        axis = self._token_axis()
        if self.base_color is None:
            name = axis.axis_name
            color = mpl.rcParams[f"{name}tick.labelcolor"]  # type: ignore[index]  # stubs: literal keys only
            self.base_color = mpl.rcParams[f"{name}tick.color"] if color == "inherit" else color  # type: ignore[index]  # same
        for tick, index in zip(axis.get_major_ticks(len(fit.shown)), fit.shown):
            marked = round(float(self.positions[index]), 6) in self.label_colors
            color = self.label_colors[round(float(self.positions[index]), 6)] if marked else self.base_color
            for label in (tick.label1, tick.label2):
                label.set_color(color)
                if marked:  # a highlighted label: bold as well as its color (which may be the text's own)
                    label.set_fontweight("bold")
                elif index not in self.bold:
                    label.set_fontweight("normal")

    def tick_values(self, vmin, vmax):
        return self.positions


def _set_label_size(axis: XAxis | YAxis, size: float) -> None:
    """``axis.set_tick_params(labelsize=size)``, skipped when the axis and every tick label
    already have that size (layout passes call the locator many times with the same fit)."""
    ticks = axis.majorTicks
    if axis._major_tick_kw.get("labelsize") == size and all(  # type: ignore[union-attr]  # private, not in the stubs
            tick.label1.get_fontsize() == size and tick.label2.get_fontsize() == size for tick in ticks):
        return
    axis.set_tick_params(labelsize=size)


class TokenFormatter(Formatter):
    """The literal token at each tick position; with `numbers`, thinned labels also show the
    token's position (``"12 the"``) so that a reader can find a token among the ones left out."""

    def __init__(self, positions, tokens, numbers=None, locator: TokenLocator | None = None):
        self.lookup = {round(float(p), 6): literal(t) for p, t in zip(positions, tokens)}
        self.numbers = None if numbers is None else {round(float(p), 6): int(n) for p, n in zip(positions, numbers)}
        self.locator = locator

    def __call__(self, x, pos=None):
        key = round(float(x), 6)
        text = self.lookup.get(key, "")
        if self.numbers is not None and self.locator is not None and self.locator.thinned and text:
            return f"{self.numbers[key]} {text}"
        return text


def set_token_ticks(axis, positions, tokens, *, span: float | None = None, highlight=(), bold=(),
                    rotation=None, share_with: TokenLocator | None = None, numbers=None) -> TokenLocator:
    """Label `axis` (an Axis, e.g. ``ax.yaxis``) with `tokens` at `positions` by the module's rule.

    `span` is how many label pitches fit the axis length (the number of tokens when they
    fill the axis, the default); `highlight` and `bold` positions are always labelled (moved
    apart, with a warning, when they crowd each other), special tokens unless they crowd those. `bold` positions are drawn bold; `share_with` (another axis's locator) gives both axes
    the smaller of their two font sizes, and, when both have the same tokens, nested labels (rule 5). `numbers` (each token's position in its input) are
    written before the labels when the axis thins them. Returns the locator, whose ``fit`` says what was shown
    after a draw.

    >>> import matplotlib.figure, numpy as np
    >>> ax = matplotlib.figure.Figure(figsize=(3, 3)).subplots()
    >>> _ = ax.set_ylim(2.5, -0.5)
    >>> _ = set_token_ticks(ax.yaxis, np.arange(3), ["[CLS]", "$x$", "[SEP]"])
    >>> ax.figure.canvas.draw(); [t.get_text() for t in ax.get_yticklabels()]
    ['[CLS]', '\\\\$x\\\\$', '[SEP]']
    """
    tokens = [str(t) for t in tokens]
    must = sorted({int(h) for h in highlight if 0 <= int(h) < len(tokens)})
    # The style's tick size now, not at draw time: the figure may be drawn outside the style.
    locator = TokenLocator(positions, span or len(tokens), special_positions(tokens), bold,
                           fontsize=font_points(f"{axis.axis_name}tick.labelsize"), must=must)
    locator.tokens = tuple(tokens)
    locator.numbers = None if numbers is None else [int(n) for n in numbers]
    if share_with is not None:
        locator.partners.append(share_with)
        share_with.partners.append(locator)
    axis.set_major_locator(locator)
    axis.set_major_formatter(TokenFormatter(positions, tokens, numbers, locator))
    settle_layout(axis.axes.figure)  # labels sized at draw time need a layout that settles then
    axis.set_minor_locator(mpl.ticker.NullLocator())
    if rotation is not None:
        axis.set_tick_params(labelrotation=rotation)
    return locator


class CellTextSizer(Artist):
    """Fits the texts written in a grid's cells (a heatmap's ``annot``) at every draw.

    Drawn before them, it sets their font size to the largest, up to the one they were
    made with, at which the longest fits its cell's width and a cell's height holds
    `LABEL_PITCH` times the size; below `MIN_FONT_POINTS` they are hidden, not overlapped.
    """

    def __init__(self, texts, n_rows: int, n_cols: int):
        super().__init__()
        self.texts, self.n_rows, self.n_cols = list(texts), n_rows, n_cols
        self.fontsize = self.texts[0].get_fontsize() if self.texts else 0.0
        self.set_zorder(-1e9)  # drawn first, so the sizes hold when the texts are drawn
        self.set_in_layout(False)

    def draw(self, renderer):
        if not self.texts or self.axes is None:
            return
        longest = max(self.texts, key=lambda t: len(t.get_text()))
        longest.set_fontsize(self.fontsize)
        width = longest.get_window_extent(renderer).width * 72 / self.axes.figure.dpi
        axes_width, axes_height = axes_inches(self.axes)
        cell_width, cell_height = axes_width * 72 / self.n_cols, axes_height * 72 / self.n_rows
        size = min(self.fontsize, cell_height / LABEL_PITCH, self.fontsize * 0.9 * cell_width / max(width, 1e-9))
        for text in self.texts:
            text.set_fontsize(size)
            text.set_visible(size >= MIN_FONT_POINTS)
