"""Argument checks shared by every figure function: one call at each door.

Each check raises `ArgumentError` naming the function or argument, the accepted values
and what arrived, so bad input never reaches matplotlib as a raw traceback.
"""
from __future__ import annotations

import difflib
import functools
import inspect
import math
import numbers
from typing import Any, Literal, overload

from matplotlib.artist import Artist, ArtistInspector

from ..errors import ArgumentError, one_of_message

HTML_ACTIONS = ("view", "return")


@functools.lru_cache(maxsize=None)
def accepted_keywords(target) -> frozenset[str]:
    """Keyword names `target` takes: an artist class's properties (aliases included) and
    constructor arguments, or a function's named parameters.

    >>> from matplotlib.collections import LineCollection
    >>> {"lw", "colors", "rasterized"} <= accepted_keywords(LineCollection)
    True
    """
    names: set[str] = set()
    if isinstance(target, type) and issubclass(target, Artist):
        inspector = ArtistInspector(target)
        names.update(inspector.get_setters())
        for aliases in inspector.aliasd.values():
            names.update(aliases)
        constructors = [vars(klass)["__init__"] for klass in target.__mro__ if "__init__" in vars(klass)]
    else:
        constructors = [target]
    for function in constructors:
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
                names.add(parameter.name)
    names.discard("self")
    return frozenset(names)


def check_keywords(function, kwargs: dict, *targets, exclude=()) -> None:
    """Raise `ArgumentError` for a keyword that neither `function` nor any of `targets` (the
    artist classes or functions its ``**kwargs`` go to) takes; `exclude` names the keywords
    `function` sets itself when it calls them.

    >>> from matplotlib.collections import LineCollection
    >>> def lines(attention, *, layer=0, **kwargs): ...
    >>> check_keywords(lines, {"lw": 2}, LineCollection)
    >>> check_keywords(lines, {"colour": "red"}, LineCollection)
    Traceback (most recent call last):
    ...
    attnfig.errors.ArgumentError: `lines` got an unexpected keyword argument 'colour' (did you mean 'color'?). ...
    """
    if not kwargs:
        return
    own = accepted_keywords(function)
    passed_on = set().union(*(accepted_keywords(target) for target in targets)) - set(exclude)
    unknown = [name for name in kwargs if name not in passed_on]
    if not unknown:
        return
    name = unknown[0]
    close = difflib.get_close_matches(name, passed_on | own, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    takers = [f"the properties of {t.__name__} (see `{t.__name__}.set`)" if isinstance(t, type)
              else f"`{t.__name__}`'s arguments" for t in targets]
    raise ArgumentError(
        f"`{function.__name__}` got an unexpected keyword argument {name!r}{hint}. It takes "
        f"{sorted(own)}, and passes other keywords on as {' or '.join(takers)}."
    )


def check_html_action(html_action) -> None:
    """BertViz's `html_action`: a static figure has one action, it is returned either way."""
    if not isinstance(html_action, str) or html_action not in HTML_ACTIONS:
        raise ArgumentError(
            one_of_message("html_action", HTML_ACTIONS, html_action)
            + " attnfig draws a static Figure and returns it for both; save it with `attnfig.save`."
        )


@overload
def check_real(argument: str, value: Any, *, low: float | None = None, high: float | None = None,
               optional: Literal[False] = False) -> float: ...


@overload
def check_real(argument: str, value: Any, *, low: float | None = None, high: float | None = None,
               optional: bool) -> float | None: ...


def check_real(argument: str, value: Any, *, low: float | None = None, high: float | None = None,
               optional: bool = False) -> float | None:
    """`value` as a finite float within [low, high]; None passes when `optional`.

    >>> check_real("residual", 0.5, low=0, high=1)
    0.5
    """
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ArgumentError(f"`{argument}` must be a finite real number, but {value!r} was passed.")
    number = float(value)
    if (low is not None and number < low) or (high is not None and number > high):
        bounds = f"[{'-inf' if low is None else low}, {'inf' if high is None else high}]"
        raise ArgumentError(f"`{argument}` must be in {bounds}, but {value!r} was passed.")
    return number


def check_color_limits(vmin, vmax, center=None) -> None:
    """Colour limits that are numbers, in order, with `center` strictly between them."""
    vmin = check_real("vmin", vmin, optional=True)
    vmax = check_real("vmax", vmax, optional=True)
    center = check_real("center", center, optional=True)
    if vmin is not None and vmax is not None and not vmin < vmax:
        raise ArgumentError(f"`vmin` ({vmin!r}) must be less than `vmax` ({vmax!r}): swap them or drop one.")
    if center is not None and ((vmin is not None and not vmin < center) or (vmax is not None and not center < vmax)):
        raise ArgumentError(
            f"`center` ({center!r}) must lie strictly between `vmin` ({vmin!r}) and `vmax` ({vmax!r}) "
            "for a diverging scale."
        )


def target_axes(ax):
    """The Axes an axes-level function draws on: `ax`, or pyplot's current one when None.

    >>> target_axes("x")
    Traceback (most recent call last):
    ...
    attnfig.errors.ArgumentError: `ax` must be a matplotlib Axes (e.g. from ``fig, ax = plt.subplots()``) or None for the current one, but 'x' (str) was passed.
    """
    from matplotlib.axes import Axes

    if ax is None:
        import matplotlib.pyplot as plt

        return plt.gca()
    if not isinstance(ax, Axes):
        hint = " A Figure is not an Axes: pass one of its axes, e.g. `fig.axes[0]`." if hasattr(ax, "add_subplot") else ""
        raise ArgumentError(
            f"`ax` must be a matplotlib Axes (e.g. from ``fig, ax = plt.subplots()``) or None for the current one, "
            f"but {ax!r} ({type(ax).__name__}) was passed.{hint}"
        )
    return ax


def check_position(argument: str, value, length: int) -> int:
    """One token position (an integer; negative counts from the end, as in Python) in ``[0, length)``.

    >>> check_position("focus", -1, 5)
    4
    >>> check_position("focus", 1.7, 5)
    Traceback (most recent call last):
    ...
    attnfig.errors.ArgumentError: `focus` must be an integer token position, but 1.7 (float) was passed.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentError(f"`{argument}` must be an integer token position, but {value!r} ({type(value).__name__}) was passed.")
    position = int(value) + length if value < 0 else int(value)
    if not 0 <= position < length:
        raise ArgumentError(
            f"`{argument}` position {value!r} is outside the {length} tokens: use 0 to {length - 1}, "
            f"or -{length} to -1 to count from the end."
        )
    return position


def check_positions(argument: str, values, length: int) -> tuple[int, ...]:
    """Token positions (None or empty: none; an integer: one) as a tuple in ``[0, length)``.

    Each must be an integer; negative ones count from the end, as Python indices do.

    >>> check_positions("highlight", [0, -1], 5), check_positions("highlight", None, 5)
    ((0, 4), ())
    >>> check_positions("highlight", "01", 5)
    Traceback (most recent call last):
    ...
    attnfig.errors.ArgumentError: `highlight` must be a list of integer token positions, but '01' (str) was passed.
    """
    if values is None:
        return ()
    if isinstance(values, numbers.Integral) and not isinstance(values, bool):
        values = [values]
    is_list = not isinstance(values, (str, bytes, dict)) and hasattr(values, "__iter__") and getattr(values, "ndim", 1) == 1
    if not is_list:
        raise ArgumentError(
            f"`{argument}` must be a list of integer token positions, but {values!r} ({type(values).__name__}) was passed."
        )
    return tuple(check_position(argument, value, length) for value in values)


def word_positions(data: Any, argument: str, positions: Any) -> tuple[int, ...]:
    """The positions, among `data`'s words (`attnfig.merge_subword_tokens`), of the words that hold
    `positions` of its tokens as given: what `highlight` and `focus` mean under ``merge_subwords``.

    >>> import numpy as np, attnfig
    >>> data = attnfig.as_attention(np.full((1, 1, 4, 4), 0.25), ["[CLS]", "hop", "##ped", "[SEP]"])
    >>> word_positions(data, "highlight", [2, 3])
    (1, 2)
    """
    from ..input.tokens import word_groups

    groups = word_groups(data.tokens, data.sentence_b_start, data.generated_start)
    word_of = {position: word for word, group in enumerate(groups) for position in group}
    return tuple(sorted({word_of[p] for p in check_positions(argument, positions, len(data.tokens))}))

