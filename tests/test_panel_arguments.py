"""The views' shared pieces: BertViz's panel arguments as one object, sizes in points computed once."""
from __future__ import annotations

import dataclasses
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure

import attnfig
from attnfig.input.panels import PanelArguments, resolve_panels
from attnfig.views.colorbar_ticks import SpanningLocator
from attnfig.views.figures import axes_inches
from attnfig.views.labels import axis_points


@pytest.mark.parametrize("view", [attnfig.head_view, attnfig.model_view])
def test_every_panel_argument_is_a_view_parameter_with_the_same_default(view):
    parameters = inspect.signature(view).parameters
    for field in dataclasses.fields(PanelArguments):
        assert parameters[field.name].default == field.default, field.name


def test_encoder_decoder_arguments_reach_the_panels_through_one_object():
    part = np.full((2, 3, 2, 2), 0.5)
    cross = np.full((2, 3, 3, 2), 0.5)
    panels = resolve_panels(PanelArguments(encoder_attention=part, cross_attention=cross, encoder_tokens=["a", "b"],
                                           decoder_tokens=["x", "y", "z"], include_heads=[2], prettify_tokens=False))
    assert [title for title, _ in panels] == ["Encoder", "Cross"]
    assert (panels[1][1].query_tokens, panels[1][1].key_tokens) == (("x", "y", "z"), ("a", "b"))
    assert all(data.head_indices == (2,) for _, data in panels)
    figure = attnfig.model_view(encoder_attention=part, decoder_attention=part, encoder_tokens=["a", "b"],
                                decoder_tokens=["x", "y"], include_layers=[1], kind="heatmap")
    assert [ax.get_title() for ax in figure.axes[:2]] == ["Encoder", "Decoder"]


def test_an_axis_length_in_points_is_its_axes_size_on_the_figure():
    figure = Figure(figsize=(4, 3), dpi=100)
    ax = figure.add_axes((0.1, 0.2, 0.5, 0.6))
    assert axis_points(ax.yaxis) == pytest.approx(0.6 * 3 * 72)
    assert axis_points(ax.xaxis) == pytest.approx(0.5 * 4 * 72)
    ax.set_ylim(0, 1)
    ax.yaxis.set_major_locator(SpanningLocator())  # the colorbar ticks measure the same length
    assert 2 <= len(ax.yaxis.get_major_locator()()) <= 12


def test_an_axes_size_is_measured_once_on_a_figure_or_a_subfigure():
    """`axes_inches` is the one measure of an Axes' size; every view and summary asks it."""
    figure = Figure(figsize=(6, 3), dpi=100)
    right = figure.subfigures(1, 2)[1]
    ax = right.add_axes((0.1, 0.2, 0.5, 0.6))
    assert axes_inches(ax) == pytest.approx((0.5 * 3, 0.6 * 3))
    figure.canvas.draw()
    box = ax.get_window_extent()  # what the drawn Axes covers, in pixels
    assert axis_points(ax.yaxis) == pytest.approx(box.height * 72 / figure.dpi)
    package = Path(attnfig.__file__).parent
    readers = sorted(str(path.relative_to(package)) for path in package.rglob("*.py")
                     if re.search(r"\.get_position\(\)|\.figure\.get_fig(width|height)\(", path.read_text(encoding="utf-8")))
    assert readers == ["views/figures.py"]


def test_numbers_in_cells_are_checked_on_an_axes_of_a_subfigure():
    """The annotation check read the Axes' size with Figure-only methods: AttributeError in a SubFigure."""
    figure = Figure(figsize=(6, 3))
    ax = figure.subfigures(1, 2)[1].add_subplot()
    weights = np.full((1, 1, 4, 4), 0.25)
    ax = attnfig.heatmap(weights, ["a", "b", "c", "d"], ax=ax, annot=True)
    assert [text.get_text() for text in ax.texts[:4]] == ["0.25"] * 4
    tiny = Figure(figsize=(1, 1)).subfigures(1, 2)[1].add_subplot()
    with pytest.raises(attnfig.ArgumentError, match="annot"):
        attnfig.heatmap(np.full((1, 1, 40, 40), 1 / 40), [f"t{i}" for i in range(40)], ax=tiny, annot=True)
