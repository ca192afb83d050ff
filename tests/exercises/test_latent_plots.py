"""The shared latent-space pictures (vilab.plots.latent) and the latent explorer widget.

A small fixed "decoder" (a random linear map through a sigmoid) stands in for a trained
model, so each test checks the pictures themselves: shapes, value ranges, axis labels, and
that what is drawn really is decode(z) at the advertised latent points.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
from scipy import stats

from vilab.history import History
from vilab.plots.images import image_mosaic
from vilab.plots.latent import (
    latent_grid,
    plot_elbo_split,
    plot_interpolation,
    plot_latent_scatter,
    plot_manifold,
    plot_prior_samples,
    plot_reconstructions,
    project_2d,
)

SHAPE = (28, 28)


@pytest.fixture
def decode():
    weights = torch.randn(784, 2, generator=torch.Generator().manual_seed(1))

    def decode(z):
        return torch.sigmoid(2.0 * z @ weights.T)

    return decode


def drawn(ax) -> np.ndarray:
    """The array an imshow-based plot put on its Axes."""
    (image,) = ax.images
    return np.asarray(image.get_array())


def tile(mosaic, row, col, shape=SHAPE, pad=1):
    top, left = row * (shape[0] + pad), col * (shape[1] + pad)
    return mosaic[top : top + shape[0], left : left + shape[1]]


def test_image_mosaic_places_each_image_in_its_cell():
    images = np.arange(5)[:, None] * np.ones((5, 784)) / 10
    mosaic = image_mosaic(images, ncols=3)
    assert mosaic.shape == (2 * 28 + 1, 3 * 28 + 2)
    for index in range(5):
        np.testing.assert_allclose(tile(mosaic, *divmod(index, 3)), index / 10)
    with pytest.raises(ValueError, match=r"shape \(N, 784\)"):
        image_mosaic(np.zeros((3, 100)))


def test_latent_grid_is_spaced_by_normal_quantiles():
    values = latent_grid(5, (0.1, 0.9))
    np.testing.assert_allclose(stats.norm.cdf(values), np.linspace(0.1, 0.9, 5))
    with pytest.raises(ValueError, match="0 < low < high < 1"):
        latent_grid(5, (0.0, 0.9))


def test_manifold_tiles_are_the_decoded_grid_points(decode):
    grid_size = 4
    mosaic = drawn(plot_manifold(decode, grid_size=grid_size))
    assert mosaic.shape == (grid_size * 29 - 1, grid_size * 29 - 1)
    assert mosaic.min() >= 0.0 and mosaic.max() <= 1.0
    values = latent_grid(grid_size)
    for row, col in [(0, 0), (0, 3), (3, 0), (2, 1)]:
        # columns increase z1 left to right; row 0 (the top) holds the largest z2
        z = torch.tensor([[values[col], values[grid_size - 1 - row]]], dtype=torch.float32)
        np.testing.assert_allclose(tile(mosaic, row, col), decode(z).reshape(SHAPE), atol=1e-6)
    assert not np.allclose(tile(mosaic, 0, 0), tile(mosaic, 3, 3))


def test_manifold_of_a_higher_dimensional_latent_holds_other_coordinates_at_zero():
    seen = []

    def decode(z):
        seen.append(z.clone())
        return torch.sigmoid(z.sum(1, keepdim=True).expand(-1, 784))

    ax = plot_manifold(decode, grid_size=3, z_dim=5, dims=(1, 3))
    z = seen[0]
    assert z.shape == (9, 5) and z.dtype == torch.float32
    assert torch.all(z[:, [0, 2, 4]] == 0) and z[:, 1].unique().numel() == 3
    assert ax.get_xlabel() == "z2" and ax.get_ylabel() == "z4"
    with pytest.raises(ValueError, match="two different indices"):
        plot_manifold(decode, z_dim=5, dims=(1, 1))


def test_latent_scatter_colours_by_label_and_says_when_it_projects():
    z = np.random.default_rng(0).standard_normal((60, 2))
    labels = np.arange(60) % 3
    ax = plot_latent_scatter(torch.as_tensor(z), labels)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["0", "1", "2"]
    np.testing.assert_allclose(ax.collections[1].get_offsets(), z[labels == 1])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("z1", "z2")

    z5 = np.random.default_rng(1).standard_normal((60, 5)) * [5, 0.1, 3, 0.1, 0.1]
    ax = plot_latent_scatter(z5, labels)
    assert "PCA projection" in ax.get_xlabel() and "5-D" in ax.get_xlabel()
    projected, _ = project_2d(z5)
    top_two = np.sort(np.linalg.eigvalsh(np.cov(z5.T, bias=True)))[::-1][:2]
    np.testing.assert_allclose(projected.var(axis=0), top_two)  # the two widest directions
    with pytest.raises(ValueError, match="one label per latent point"):
        plot_latent_scatter(z, labels[:10])


def test_reconstructions_put_originals_above_reconstructions():
    originals, reconstructions = np.zeros((12, 784)), np.ones((12, 28, 28))
    mosaic = drawn(plot_reconstructions(originals, reconstructions, num_images=5))
    assert mosaic.shape == (2 * 28 + 1, 5 * 29 - 1)
    assert np.all(tile(mosaic, 0, 4) == 0) and np.all(tile(mosaic, 1, 4) == 1)
    with pytest.raises(ValueError, match="one reconstruction per original"):
        plot_reconstructions(originals, reconstructions[:3])


def test_prior_samples_are_seeded_and_vary(decode):
    first = drawn(plot_prior_samples(decode, num_samples=9, seed=3))
    again = drawn(plot_prior_samples(decode, num_samples=9, seed=3))
    other = drawn(plot_prior_samples(decode, num_samples=9, seed=4))
    assert first.shape == (3 * 29 - 1, 3 * 29 - 1)
    assert 0.0 <= first.min() and first.max() <= 1.0
    np.testing.assert_array_equal(first, again)
    assert not np.allclose(first, other)
    assert not np.allclose(tile(first, 0, 0), tile(first, 0, 1))


def test_interpolation_runs_from_start_to_end(decode):
    z_start, z_end = torch.tensor([-2.0, 1.0]), torch.tensor([2.0, -1.0])
    mosaic = drawn(plot_interpolation(decode, z_start, z_end, steps=6))
    assert mosaic.shape == (28, 6 * 29 - 1)
    np.testing.assert_allclose(tile(mosaic, 0, 0), decode(z_start[None]).reshape(SHAPE), atol=1e-6)
    np.testing.assert_allclose(tile(mosaic, 0, 5), decode(z_end[None]).reshape(SHAPE), atol=1e-6)
    with pytest.raises(ValueError, match="same size"):
        plot_interpolation(decode, z_start, torch.zeros(3))


def test_decode_returning_the_wrong_shape_is_explained():
    with pytest.raises(ValueError, match=r"decode\(z\) to return images"):
        plot_manifold(lambda z: torch.zeros(len(z), 10), grid_size=3)


def test_elbo_split_draws_the_measured_steps_per_point():
    history = History(num_data=100)
    for step in range(1, 11):
        history.append(step, 200.0 * 100, step * 0.1)
    nan = float("nan")
    history.extras["reconstruction"] = [nan, -19000.0] * 5
    history.extras["kl"] = [nan, 1000.0] * 5
    ax = plot_elbo_split(history)
    recon, elbo = ax.get_lines()
    np.testing.assert_array_equal(recon.get_xdata(), [2, 4, 6, 8, 10])
    np.testing.assert_allclose(recon.get_ydata(), -190.0)
    np.testing.assert_allclose(elbo.get_ydata(), -200.0)
    (kl,) = [ax_ for ax_ in ax.figure.axes if ax_ is not ax][0].get_lines()
    np.testing.assert_allclose(kl.get_ydata(), 10.0)
    assert ax.get_legend() is not None
    history.extras["kl"] = history.extras["kl"][:7]  # the last steps not measured yet
    (recon, _) = plot_elbo_split(history).get_lines()
    np.testing.assert_array_equal(recon.get_xdata(), [2, 4, 6])
    history.extras["kl"] += [1.0] * 5
    with pytest.raises(ValueError, match="at most one reconstruction and KL value per step"):
        plot_elbo_split(history)
    with pytest.raises(ValueError, match="no \\['kl'\\] series"):
        plot_elbo_split(History(num_data=1, extras={"reconstruction": []}))


def test_plots_and_the_exercise_do_not_import_widgets():
    import subprocess

    code = (
        "import sys, vilab.plots.latent, vilab.exercises.vae, vilab.exercises.vae_figures; "
        "print('ipywidgets' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


class TestLatentExplorer:
    def test_image_follows_the_sliders(self, decode):
        from vilab.ui.latent_explorer import LatentExplorer

        z = np.random.default_rng(0).standard_normal((50, 2))
        explorer = LatentExplorer(decode, scatter=(z, np.arange(50) % 5))
        assert explorer.image.shape == SHAPE
        np.testing.assert_allclose(explorer.image, decode(torch.zeros(1, 2)).reshape(SHAPE))
        before = explorer.image.copy()
        explorer.z1_slider.value = 2.0
        assert not np.allclose(explorer.image, before)
        explorer.z2_slider.value = -1.0
        np.testing.assert_allclose(explorer.z, [2.0, -1.0])
        np.testing.assert_allclose(
            explorer.image, decode(torch.tensor([[2.0, -1.0]])).reshape(SHAPE), atol=1e-6
        )
        assert 0.0 <= explorer.image.min() and explorer.image.max() <= 1.0
        assert explorer.picture.value[:4] == b"\x89PNG"
        assert tuple(explorer._marker.get_xydata()[0]) == (2.0, -1.0)

    def test_set_z_and_higher_dimensions(self):
        from vilab.ui.latent_explorer import LatentExplorer

        calls = []

        def decode(z):
            calls.append(z.clone())
            return torch.sigmoid(z[:, :1].expand(-1, 16))

        explorer = LatentExplorer(decode, image_shape=(4, 4), z_dim=4, dims=(2, 0))
        calls.clear()
        explorer.set_z(1.0, -0.5)
        assert len(calls) == 1  # one redraw for both sliders
        np.testing.assert_allclose(calls[0], [[-0.5, 0.0, 1.0, 0.0]])
        assert explorer.image.shape == (4, 4)

    def test_bad_arguments_are_explained(self, decode):
        from vilab.ui.latent_explorer import LatentExplorer

        with pytest.raises(ValueError, match="low < high"):
            LatentExplorer(decode, z_range=(3, -3))
        with pytest.raises(TypeError, match="not vae.decode"):
            LatentExplorer(decode(torch.zeros(1, 2)))
        with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
            LatentExplorer(decode, scatter=(np.zeros((5, 3)), np.zeros(5)))
