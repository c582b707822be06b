"""Saving figures: PDF, SVG and PNG, reproducible to the byte, written atomically."""
from __future__ import annotations

import contextlib
import math
import numbers
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure
from matplotlib.layout_engine import PlaceHolderLayoutEngine

from .._compat import root_figure
from ..errors import SaveError
from .atomic import NOTHING_WRITTEN, read_only, write_all_or_nothing
from ..themes import figure_style
from ..views.layout import CANVAS_TOLERANCE_INCHES, overflow_inches

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType  # matplotlib >= 3.9; annotations only

FORMATS = ("pdf", "svg", "png")
# Dates and tool versions change from run to run; without them the bytes do not.
_METADATA = {"pdf": {"CreationDate": None}, "svg": {"Date": None}, "png": {"Software": None}}
_REPRODUCIBLE_RC: dict[RcKeyType, Any] = {
    "svg.hashsalt": "attnfig",  # SVG ids are hashes salted with this, not random
    "pdf.fonttype": 42,  # TrueType, not Type 3: searchable and accepted by publishers
    "ps.fonttype": 42,
}


def output_paths(path_or_paths, formats: Iterable[str] | None = None) -> list[Path]:
    """The files `save` would write.

    >>> [p.name for p in output_paths("figs/seed", formats=["pdf", "svg"])]
    ['seed.pdf', 'seed.svg']
    """
    paths = _path_list(path_or_paths)
    formats = _check_formats(formats)
    for path in paths:
        _check_path(path)
    result = []
    for path in map(Path, paths):
        if formats is None:
            result.append(path)
            continue
        stem = path.with_suffix("") if path.suffix.lstrip(".").lower() in FORMATS else path
        result += [stem.with_name(f"{stem.name}.{fmt.lower().lstrip('.')}") for fmt in formats]
    for path in result:
        extension = path.suffix.lstrip(".").lower()
        if extension not in FORMATS:
            hint = "add an extension or pass `formats=`" if not extension else f"{extension!r} is not supported"
            raise SaveError(f"Cannot save {str(path)!r}: {hint}; supported formats are {list(FORMATS)}.")
    return result


def _path_list(path_or_paths) -> list:
    """One path (str, bytes or os.PathLike) or an iterable of them, as a list of str or PathLike."""
    if isinstance(path_or_paths, (str, bytes, os.PathLike)):
        path_or_paths = [path_or_paths]
    elif not isinstance(path_or_paths, Iterable):
        raise SaveError(f"A path to save to must be a str or a pathlib.Path (or a list of them), but "
                        f"{path_or_paths!r} ({type(path_or_paths).__name__}) was passed.")
    paths = [os.fsdecode(path) if isinstance(path, bytes) else path for path in path_or_paths]
    if not paths:
        raise SaveError("No path to save to was passed: give a file name such as 'figure.pdf'.")
    return paths


def _check_dpi(dpi) -> None:
    """`dpi`: None (``savefig.dpi``), "figure" (the figure's own), or a positive finite number."""
    if dpi is None or (isinstance(dpi, str) and dpi == "figure"):
        return
    if isinstance(dpi, bool) or not isinstance(dpi, numbers.Real) or not math.isfinite(dpi) or dpi <= 0:
        raise SaveError(f"`dpi` must be a positive number of dots per inch (or 'figure'), but {dpi!r} "
                        f"({type(dpi).__name__}) was passed.")


def _check_latex(fig, paths) -> None:
    """Text set with LaTeX (``text.usetex``) needs `latex` (and `dvipng` for PNG) installed."""
    if not (mpl.rcParams["text.usetex"] or any(text.get_usetex() for text in _texts(fig))):
        return
    programs = ["latex"] + (["dvipng"] if any(path.suffix.lower() == ".png" for path in paths) else [])
    missing = [program for program in programs if shutil.which(program) is None]
    if missing:
        raise SaveError(
            f"Cannot save {str(paths[0])!r}: the figure's text is set with LaTeX (text.usetex is True) but "
            f"{' and '.join(f'`{p}`' for p in missing)} cannot be found on PATH. Install a TeX distribution, or "
            f"draw the figure with `text.usetex` False (matplotlib's mathtext needs no LaTeX). {NOTHING_WRITTEN}"
        )


def _texts(fig):
    """Every Text of `fig`, as ``fig.findobj(Text)`` finds them, without making ticks.

    An Axis's children are its ticks for the current view, which ``get_children`` computes
    (locators and formatters run); the ticks it already has stand for them, as new ticks
    copy their text properties from the first one.
    """
    from matplotlib.axis import Axis
    from matplotlib.text import Text

    stack = [fig]
    while stack:
        artist = stack.pop()
        if isinstance(artist, Text):
            yield artist
        if isinstance(artist, Axis):
            stack += [artist.label, artist.offsetText, *artist.majorTicks, *artist.minorTicks]
        else:
            stack += artist.get_children()


def _check_formats(formats) -> list[str] | None:
    """`formats` as a list: one name alone is accepted; an empty list is refused."""
    if formats is None:
        return None
    formats = [formats] if isinstance(formats, str) else list(formats)
    if not formats:
        raise SaveError(f"`formats` is empty, so nothing would be written: pass some of {list(FORMATS)}.")
    for fmt in formats:
        if not isinstance(fmt, str):
            raise SaveError(f"`formats` must hold format names among {list(FORMATS)}, but {fmt!r} was passed.")
    return formats


def _check_path(path) -> None:
    if not isinstance(path, (str, os.PathLike)):
        raise SaveError(f"A path to save to must be a str or a pathlib.Path, but {path!r} was passed.")
    if "\0" in os.fspath(path):
        raise SaveError(f"Cannot save {os.fspath(path)!r}: a path cannot contain a NUL character ('\\0').")


def _check_folder(path: Path) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise SaveError(f"Cannot save {str(path)!r}: the folder {str(folder)!r} does not exist; create it first.")
    if read_only(folder) or not os.access(folder, os.X_OK):
        raise SaveError(f"Cannot save {str(path)!r}: the folder {str(folder)!r} is not writable.")
    _check_name_length(path, folder)


def _check_name_length(path: Path, folder: Path) -> None:
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):
        limit = 255
    length = len(os.fsencode(path.name))
    if length > limit:
        raise SaveError(
            f"Cannot save {str(path)!r}: File name too long ({length} bytes; this file system takes at most "
            f"{limit}). Use a shorter name."
        )


class SavedPaths(list):
    """The paths `save` wrote: a list, that a notebook does not echo as a cell's last line."""

    def _ipython_display_(self) -> None:
        """Nothing to show: the figure is the output, not where it went."""


def save(fig: Figure | SubFigure | Axes, path_or_paths: str | os.PathLike | Iterable[str | os.PathLike], *,
         formats: Iterable[str] | None = None, dpi: float | None = None, **savefig_kwargs: Any) -> SavedPaths:
    """Save `fig` to each path (the extension picks the format) and return the paths.

    The picture is the one ``fig.savefig`` gives (the layout settles whenever the figure is
    drawn, see `attnfig.views.layout`), at the figure's size in every format; `save` adds
    what savefig lacks. Output is reproducible (the same figure gives the same PDF and SVG
    bytes), fonts are embedded as TrueType, and each file is written to a temporary file in
    the same folder; the files are renamed only when all are written, so a failed save
    changes no file (see `attnfig.export.atomic`). `dpi` (default ``savefig.dpi``) sets PNG
    resolution and that of rasterized artists in PDF and SVG. A figure is written under the
    style it was drawn in (its fonts, ``pdf.fonttype``, ``svg.fonttype``, ``savefig.*``),
    wherever and whenever `save` is called.

    Returns the paths written, as a list (`SavedPaths`) that IPython does not echo, so
    ``attnfig.save(fig, "fig.pdf")`` as a cell's last line prints nothing.

    Parameters
    ----------
    fig : matplotlib Figure or Axes
        The figure to write: what a figure-level function returns, or an Axes (what the
        axes-level functions return), whose root figure is written.
    path_or_paths : str, path or list of them
        Where to write. A path with an extension is written in that format; a path without
        one is written once per entry of `formats`.
    formats : list of str, optional
        Formats (``"pdf"``, ``"svg"``, ``"png"``...) for the paths without an extension;
        ``savefig.format`` by default.
    dpi : float, optional
        Resolution of PNG output and of the rasterized artists in PDF and SVG;
        ``savefig.dpi`` by default.
    **savefig_kwargs
        Passed to `matplotlib.figure.Figure.savefig` (``transparent``, ``metadata``...).

    Returns
    -------
    list of pathlib.Path
        The files written, each once, in the order given.

    Raises
    ------
    SaveError
        When `fig` is no Figure or Axes, a folder does not exist, a format is unknown or a
        file cannot be written; no file is then changed.

    Examples
    --------
    >>> import attnfig, numpy as np, tempfile, os
    >>> fig = attnfig.model_view(np.full((2, 2, 3, 3), 1 / 3), kind="heatmap")
    >>> folder = tempfile.mkdtemp()
    >>> [p.name for p in attnfig.save(fig, os.path.join(folder, "grid"), formats=["pdf", "png"])]
    ['grid.pdf', 'grid.png']
    """
    fig = figure_to_save(fig)
    _check_dpi(dpi)
    paths = list(dict.fromkeys(output_paths(path_or_paths, formats)))  # each file once
    for path in paths:
        _check_folder(path)
    with mpl.rc_context(figure_style(fig)):
        _check_latex(fig, paths)
        whole_pixel_size(fig, dpi or mpl.rcParams["savefig.dpi"])
        with laid_out_once(fig, dpi):
            write_all_or_nothing(paths, lambda temporary, path: _print_figure(fig, temporary, path, dpi,
                                                                              savefig_kwargs))
    return SavedPaths(paths)


def figure_to_save(fig):
    """The Figure `save` writes: `fig` itself, or the figure holding an Axes (what the
    axes-level functions return), or a subfigure's root figure.

    >>> import attnfig, numpy as np
    >>> ax = attnfig.heatmap(np.full((1, 1, 2, 2), 0.5))
    >>> figure_to_save(ax) is ax.figure
    True
    """
    from matplotlib.artist import Artist
    from matplotlib.figure import Figure

    if isinstance(fig, Artist) and root_figure(fig) is not None:
        fig = root_figure(fig)
    if not isinstance(fig, Figure):
        raise SaveError(
            f"`save` needs a matplotlib Figure (as figure-level functions return) or an Axes (as "
            f"axes-level ones return), but {fig!r} ({type(fig).__name__}) was passed."
        )
    return fig


@contextlib.contextmanager
def laid_out_once(fig, dpi=None):
    """Run the figure's layout engine once, and pause it while the files are written.

    With a layout engine, savefig draws the figure once before printing it, and rasterized
    artists are really drawn in that pass: dense line grids would be drawn twice per format.
    The engine runs at the `dpi` of the files (``savefig.dpi`` by default), as savefig's own
    pass would (text measured at another dpi places the Axes a few pixels elsewhere), so the
    files show what a plain ``fig.savefig`` shows. The engine is back afterwards, so later
    draws lay the figure out as before.
    """
    engine = fig.get_layout_engine()
    if engine is None or isinstance(engine, PlaceHolderLayoutEngine):
        yield
        return
    dpi = dpi or mpl.rcParams["savefig.dpi"]
    screen_dpi = fig.dpi
    fig.set_dpi(screen_dpi if dpi == "figure" else dpi)
    try:
        engine.execute(fig)
    finally:
        fig.set_dpi(screen_dpi)
    fig._layout_engine = None
    try:
        yield
    finally:
        fig._layout_engine = engine


def fits_canvas(fig, tolerance_inches: float | None = None) -> bool:
    """Whether everything drawn (texts included) lies inside the figure's canvas."""
    tolerance = CANVAS_TOLERANCE_INCHES if tolerance_inches is None else tolerance_inches
    return max(overflow_inches(fig)) <= tolerance


def whole_pixel_size(fig, dpi) -> None:
    """Round the figure's size to whole pixels at `dpi` (Axes keep their relative places).

    A PNG has whole pixels; a PDF page of a fractional size, rendered at the same dpi, has
    its content shifted by the fraction of a pixel, and every image and line lands between
    pixels. Rounded, both show the same pixels (the size changes by less than a pixel).
    """
    if dpi == "figure":
        dpi = fig.dpi
    width, height = fig.get_size_inches()
    fig.set_size_inches(max(1, round(width * dpi)) / dpi, max(1, round(height * dpi)) / dpi, forward=False)


def _print_figure(fig, temporary: Path, path: Path, dpi, savefig_kwargs) -> None:
    """Write `fig` to `temporary` in the format of `path`, reproducibly."""
    fmt = path.suffix.lstrip(".").lower()
    with mpl.rc_context(_REPRODUCIBLE_RC):
        options = {**savefig_kwargs, "metadata": {**_METADATA[fmt], **savefig_kwargs.get("metadata", {})}}
        fig.savefig(temporary, format=fmt, dpi=dpi or mpl.rcParams["savefig.dpi"], **options)
