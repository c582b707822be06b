"""attnfig's own settings, read by every figure at draw time (as rcParams are by matplotlib).

``layer_base``: the number a figure shows for the first layer. 0 (default) shows the
indices Python and the model use; 1 numbers layers from 1, as papers do. Only the labels
change: ``layer=`` and ``include_layers=`` always take the model's 0-based indices.
"""
from __future__ import annotations

import numbers
from typing import SupportsInt

from .errors import ArgumentError

_OPTIONS = {"layer_base": 0}
_CHOICES = {"layer_base": (0, 1)}


class set_options:
    """Set attnfig options, for the whole session or, used with ``with``, for a block only.

    Parameters
    ----------
    **options
        ``layer_base`` (0 or 1): the number shown for the first layer in every figure's titles
        and axis labels.

    Returns
    -------
    set_options
        A context manager that restores the previous options on exit.

    Raises
    ------
    ArgumentError
        For an unknown option or a value it does not take.

    Examples
    --------
    >>> import attnfig
    >>> with attnfig.set_options(layer_base=1):
    ...     attnfig.layer_label(0)
    '1'
    >>> attnfig.layer_label(0)
    '0'
    """

    def __init__(self, **options: int) -> None:
        for name, value in options.items():
            if name not in _OPTIONS:
                raise ArgumentError(f"Unknown attnfig option {name!r}; the options are {sorted(_OPTIONS)}.")
            if value not in _CHOICES[name] or isinstance(value, bool):
                raise ArgumentError(f"`{name}` must be one of {list(_CHOICES[name])}, but {value!r} was passed.")
        self.previous = dict(_OPTIONS)
        _OPTIONS.update(options)

    def __enter__(self) -> "set_options":
        return self

    def __exit__(self, *exc: object) -> None:
        _OPTIONS.clear()
        _OPTIONS.update(self.previous)


def get_option(name: str) -> int:
    """The current value of one attnfig option (see `set_options`).

    Parameters
    ----------
    name : str
        The option's name, e.g. ``"layer_base"``.

    Returns
    -------
    object
        Its current value.

    Raises
    ------
    ArgumentError
        For an unknown option.

    Examples
    --------
    >>> get_option("layer_base") in (0, 1)
    True
    """
    if not isinstance(name, str) or name not in _OPTIONS:
        raise ArgumentError(f"Unknown attnfig option {name!r}; the options are {sorted(_OPTIONS)}.")
    return _OPTIONS[name]


def layer_label(index: SupportsInt) -> str:
    """How figures name the layer of 0-based index `index`, by the ``layer_base`` option.

    Parameters
    ----------
    index : int
        The layer's index in the model (0 for the first).

    Returns
    -------
    str
        The number shown, ``index + layer_base``.

    Raises
    ------
    ArgumentError
        When `index` is not an integer.

    Examples
    --------
    >>> layer_label(2)
    '2'
    """
    if isinstance(index, bool) or not isinstance(index, numbers.Integral):
        raise ArgumentError(f"`index` must be a layer's 0-based index (an integer), but {index!r} was passed.")
    return str(int(index) + _OPTIONS["layer_base"])
