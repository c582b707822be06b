"""Attention over an image: the maps against the model's own eager attention, and the figures."""
from __future__ import annotations

import functools

import numpy as np
import pytest

import attnfig
from attnfig.errors import ArgumentError, AttentionInputError
from attnfig.lint import figure_problems
from conftest import gallery_script

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
from attnfig.testing import build_family_model  # noqa: E402

# family -> number of tokens before the patches
PREFIXES = {"vit": 1, "deit": 2, "dinov2-registers": 3}


@pytest.fixture(scope="module")
def picture():
    rng = np.random.default_rng(3)
    return (rng.random((40, 56, 3)) * 255).astype(np.uint8)  # not square: the processor resizes it


@functools.lru_cache(maxsize=None)
def _vision(family):
    """(family, from_model's data, the eager attention [layers, heads, q, k], pixel_values) for one image."""
    picture = (np.random.default_rng(3).random((40, 56, 3)) * 255).astype(np.uint8)
    model, processor = build_family_model(family)
    data = attnfig.from_model(model, processor, picture)
    pixel_values = processor(images=picture, return_tensors="pt")["pixel_values"]
    eager, _ = build_family_model(family)
    eager.set_attn_implementation("eager")
    with torch.no_grad():
        reference = [layer[0].numpy() for layer in eager(pixel_values, output_attentions=True).attentions]
    return family, data, np.stack(reference), pixel_values


@pytest.fixture(params=list(PREFIXES))
def vision(request):
    return _vision(request.param)


def test_from_model_keeps_the_grid_and_the_image_the_model_saw(vision):
    family, data, reference, pixel_values = vision
    assert data.patch_grid == (4, 4)                               # 32 x 32 pixels in 8 x 8 patches
    assert data.image.shape == (32, 32, 3) and 0 <= data.image.min() and data.image.max() <= 1
    # The model's input is the shown image, normalised by the processor's mean and std (0.5 here).
    np.testing.assert_allclose((data.image - 0.5) / 0.5, pixel_values[0].permute(1, 2, 0).numpy(), atol=1e-6)
    assert data.tokens[PREFIXES[family]] == "(0,0)" and data.tokens[-1] == "(3,3)"


@pytest.mark.parametrize("head", ["mean", 0, 3])
@pytest.mark.parametrize("layer", [0, -1])
def test_the_map_is_the_cls_row_of_the_eager_attention_over_the_patches(vision, layer, head):
    family, data, reference, _ = vision
    row = reference[layer, :, 0] if head == "mean" else reference[layer, head, 0]
    expected = (row.mean(axis=0) if head == "mean" else row)[PREFIXES[family]:].reshape(4, 4)
    np.testing.assert_allclose(attnfig.image_attention_map(data, layer=layer, head=head), expected, atol=1e-5)


def test_the_rollout_map_is_the_cls_row_of_a_hand_computed_rollout(vision):
    family, data, reference, _ = vision
    rollout = np.eye(reference.shape[-1])
    for layer in reference:
        mixed = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(len(rollout))
        rollout = (mixed / mixed.sum(-1, keepdims=True)) @ rollout
    expected = rollout[0, PREFIXES[family]:].reshape(4, 4)
    np.testing.assert_allclose(attnfig.image_attention_map(data, rollout=True), expected, atol=1e-5)
    # Up to layer 0 only: the first layer's mixing alone.
    first = 0.5 * reference[0].mean(axis=0) + 0.5 * np.eye(reference.shape[-1])
    first /= first.sum(-1, keepdims=True)
    np.testing.assert_allclose(attnfig.image_attention_map(data, layer=0, rollout=True),
                               first[0, PREFIXES[family]:].reshape(4, 4), atol=1e-5)


def test_another_query_by_position_or_label(vision):
    family, data, reference, _ = vision
    expected = reference[1, 2, PREFIXES[family] + 5, PREFIXES[family]:].reshape(4, 4)
    for query in (PREFIXES[family] + 5, "(1,1)"):
        np.testing.assert_allclose(attnfig.image_attention_map(data, layer=1, head=2, query=query), expected, atol=1e-5)


def test_a_grid_from_labels_or_given_for_bare_arrays():
    weights = np.random.default_rng(0).dirichlet(np.ones(7), size=(1, 2, 7))  # 1 prefix + 2 x 3 patches
    by_grid = attnfig.image_attention_map(weights, grid=(2, 3), head=1)
    np.testing.assert_allclose(by_grid, weights[0, 1, 0, 1:].reshape(2, 3))
    labels = ["[CLS]"] + [f"({r},{c})" for r in range(2) for c in range(3)]
    np.testing.assert_allclose(attnfig.image_attention_map(attnfig.as_attention(weights, labels), head=1), by_grid)


@pytest.mark.parametrize("arguments, error, match", [
    (dict(), AttentionInputError, "grid"),                                # no grid known
    (dict(grid=(3, 3)), AttentionInputError, "does not fit"),
    (dict(grid="3x3"), ArgumentError, "rows, columns"),
    (dict(grid=(2, 3), head="max"), ArgumentError, "'mean'"),
    (dict(grid=(2, 3), head=0, rollout=True), ArgumentError, "rollout averages"),
    (dict(grid=(2, 3), query=9), ArgumentError, "out of range"),
    (dict(grid=(2, 3), query="[DIST]"), ArgumentError, "not a token"),
    (dict(grid=(2, 3), query=1.5), ArgumentError, "position or label"),
])
def test_bad_map_arguments_get_attnfig_errors(arguments, error, match):
    weights = np.full((1, 2, 7, 7), 1 / 7)
    with pytest.raises(error, match=match):
        attnfig.image_attention_map(weights, **arguments)


def test_the_overlay_lies_on_the_image_at_its_own_extent(vision):
    family, data, reference, _ = vision
    ax = attnfig.plot_image_attention(data, layer=-1, head=1, cbar=True)
    image, overlay = ax.images
    assert image.get_extent() == overlay.get_extent() == [-0.5, 31.5, 31.5, -0.5]
    np.testing.assert_allclose(image.get_array(), data.image)
    np.testing.assert_allclose(overlay.get_array(), reference[-1, 1, 0, PREFIXES[family]:].reshape(4, 4), atol=1e-5)
    assert ax.child_axes[0].get_ylabel() == "attention weight"                  # the grid's name for it
    assert "head 1" in ax.get_title() and ax.get_xticks().size == 0


def test_another_image_is_stretched_to_the_map(vision, picture):
    _, data, _, _ = vision
    ax = attnfig.plot_image_attention(data, picture, interpolation="bilinear")
    image, overlay = ax.images
    assert image.get_array().shape == picture.shape
    assert overlay.get_extent() == [-0.5, 55.5, 39.5, -0.5] and overlay.get_interpolation() == "bilinear"


def test_threshold_mode_dims_exactly_the_patches_outside_the_mass():
    weights = np.zeros((1, 1, 5, 5))
    weights[0, 0, :, :] = [0.0, 0.5, 0.3, 0.15, 0.05]                       # patches hold 50/30/15/5 %
    ax = attnfig.plot_image_attention(weights, np.zeros((8, 8, 3)), grid=(2, 2), mode="threshold", threshold=0.7)
    dim = ax.images[1].get_array()
    assert (dim[..., 3] == 0).tolist() == [[True, True], [False, False]]     # 50 + 30 >= 70 %
    assert len(ax.collections) == 1                                         # one outline
    assert ax.get_title().splitlines()[-1] == "70% of mass kept"             # the panel says what it keeps


def test_one_quantity_has_one_name_and_a_threshold_says_what_it_keeps():
    """Audit of issue 21: the gallery's two colorbars read "attention weight" and "attention from
    [CLS]" for one scale, and its threshold panel did not say that it keeps 60% of the mass."""
    import matplotlib.pyplot as plt

    weights = np.random.default_rng(1).dirichlet(np.ones(5), size=(2, 2, 5))
    picture = np.zeros((8, 8, 3))
    grid = attnfig.image_attention_grid(weights, picture, grid=(2, 2))
    single = attnfig.plot_image_attention(weights, picture, grid=(2, 2), cbar=True, ax=plt.figure().subplots())
    rolled = attnfig.plot_image_attention(weights, picture, grid=(2, 2), rollout=True, cbar=True,
                                          ax=plt.figure().subplots())
    assert single.child_axes[0].get_ylabel() == grid.axes[-1].get_xlabel() + grid.axes[-1].get_ylabel()
    assert rolled.child_axes[0].get_ylabel() == "rolled-out attention"           # another quantity
    kept = attnfig.plot_image_attention(weights, picture, grid=(2, 2), rollout=True, mode="threshold",
                                        ax=plt.figure().subplots())
    assert kept.get_title().splitlines() == ["Rollout to layer 1", "60% of mass kept"]
    assert attnfig.plot_image_attention(weights, picture, grid=(2, 2), mode="threshold", title="mine",
                                        ax=plt.figure().subplots()).get_title() == "mine"
    dimmed = attnfig.image_attention_grid(weights, picture, grid=(2, 2), mode="threshold", threshold=0.45)
    assert dimmed.get_suptitle().endswith(", 45% of mass kept")
    plt.close("all")


@pytest.mark.parametrize("arguments, match", [
    (dict(mode="mask"), "mode"), (dict(alpha=2), "alpha"), (dict(image=np.zeros((4, 4, 2))), "image"),
    (dict(image="photo.png"), "image"), (dict(colour="red"), "colour"),
])
def test_bad_plot_arguments_get_attnfig_errors(arguments, match):
    arguments = {"image": np.zeros((8, 8)), **arguments}
    with pytest.raises(ArgumentError, match=match):
        attnfig.plot_image_attention(np.full((1, 1, 5, 5), 0.2), grid=(2, 2), **arguments)


def test_titles_number_layers_by_the_layer_base_option_as_every_figure():
    """Image titles printed the raw index whatever `layer_base` (pattern shares and the rest honored it)."""
    import matplotlib.pyplot as plt

    weights = np.full((4, 2, 5, 5), 0.2)
    picture = np.zeros((8, 8, 3))
    titles = {}
    for base in (0, 1):
        with attnfig.set_options(layer_base=base):
            head = attnfig.plot_image_attention(weights, picture, grid=(2, 2), layer=2, head=1,
                                                ax=plt.figure().subplots()).get_title()
            rolled = attnfig.plot_image_attention(weights, picture, grid=(2, 2), layer=-1, rollout=True,
                                                  ax=plt.figure().subplots()).get_title()
            grid = attnfig.image_attention_grid(weights, picture, grid=(2, 2), layer=1, heads=[0]).get_suptitle()
            titles[base] = (head, rolled, grid)
    assert titles[0] == ("Layer 2, head 1", "Rollout to layer 3", "Layer 1: attention from 0")
    assert titles[1] == ("Layer 3, head 1", "Rollout to layer 4", "Layer 2: attention from 0")
    plt.close("all")


def test_without_an_image_the_error_says_where_to_get_one():
    with pytest.raises(ArgumentError, match="from_model"):
        attnfig.plot_image_attention(np.full((1, 1, 5, 5), 0.2), grid=(2, 2))


def test_the_grid_has_a_panel_per_head_on_one_color_scale(vision):
    _, data, reference, _ = vision
    figure = attnfig.image_attention_grid(data, heads=[0, 1, 2, 3, "mean"])
    panels = [ax for ax in figure.axes if ax.images]
    assert [ax.get_title() for ax in panels] == ["Head 0", "Head 1", "Head 2", "Head 3", "Mean"]
    assert len({ax.images[1].get_clim() for ax in panels}) == 1
    assert figure.axes[-1].get_ylabel() == "attention weight"


def test_the_grid_draws_into_a_given_subfigure(vision):
    import matplotlib.pyplot as plt

    _, data, _, _ = vision
    figure = plt.figure(figsize=(6.75, 3), layout="constrained")
    left, right = figure.subfigures(1, 2)
    assert attnfig.image_attention_grid(data, figure=right, heads=[0, 1]) is right
    assert len(right.axes) == 3 and not left.axes


@pytest.mark.parametrize("venue", ["icml", "acl", "neurips"])
def test_image_figures_pass_the_lint_at_venue_size(venue):
    import matplotlib.pyplot as plt

    _, data, _, _ = _vision("vit")
    with attnfig.style(venue):
        assert figure_problems(attnfig.image_attention_grid(data)) == []
        figure, axes = plt.subplots(1, 2, figsize=attnfig.figsize(venue), layout="constrained")
        attnfig.plot_image_attention(data, ax=axes[0], cbar=True)
        attnfig.plot_image_attention(data, rollout=True, mode="threshold", ax=axes[1])
        assert figure_problems(figure) == []


@pytest.mark.parametrize("venue", ["icml", "acl", "neurips"])
def test_gallery_composite_has_readable_heads_and_one_scale_for_heads_and_mean(venue):
    """Second figure review, reject 7: the heads were 0.17 in wide at acl, and the mean panel's
    yellow was 0.008 where the heads' was 0.014 (same quantity, two scales)."""
    import matplotlib.pyplot as plt

    script = gallery_script("plot_image_attention.py")
    with attnfig.style(venue):
        figure = script["composite"](script["attention"], venue)
        figure.draw_without_rendering()
    heads = [ax for ax in figure.subfigs[0].axes if ax.images]
    mean = figure.subfigs[1].axes[0]
    assert len(heads) == 6 and mean.get_title().endswith("mean")
    assert min(ax.get_window_extent().width for ax in heads) / figure.dpi >= 0.6
    maps = [attnfig.image_attention_map(script["attention"], layer=-1, head=h) for h in range(6)]
    expected = (pytest.approx(min(m.min() for m in maps)), pytest.approx(max(m.max() for m in maps)))
    assert {ax.images[1].get_clim() for ax in heads} | {mean.images[1].get_clim()} == {mean.images[1].get_clim()}
    assert mean.images[1].get_clim() == expected
    # One scale, one colorbar (a second one beside the mean named it "attention from [CLS]"),
    # and the threshold panel says what it keeps.
    assert [ax.get_ylabel() for ax in figure.subfigs[0].axes if not ax.images] == ["attention weight"]
    assert not mean.child_axes
    assert figure.subfigs[1].axes[1].get_title().endswith("60% of mass kept")
    plt.close(figure)
