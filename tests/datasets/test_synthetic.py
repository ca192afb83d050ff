"""The seeded generators: shapes, reproducibility and the statistics they promise."""

import pytest
import torch

from vilab.datasets import make_bnn_data, make_gaussian_data, make_ppca_data

GENERATORS = [
    lambda seed: (make_gaussian_data(seed=seed),),
    lambda seed: make_bnn_data(seed=seed),
    lambda seed: tuple(make_ppca_data(num_points=500, seed=seed)),
]


@pytest.mark.parametrize("make", GENERATORS, ids=["gaussian", "bnn", "ppca"])
def test_same_seed_same_data_other_seed_other_data(make):
    first, again, other = make(0), make(0), make(1)
    for a, b, c in zip(first, again, other, strict=True):
        assert a.dtype == torch.float32
        assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("make", GENERATORS, ids=["gaussian", "bnn", "ppca"])
def test_generators_leave_the_global_rng_alone(make):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    make(0)
    assert torch.equal(torch.rand(3), expected)


def test_gaussian_data():
    x = make_gaussian_data()
    assert x.shape == (100,)
    assert abs(x.mean().item() - 5.0) < 0.3
    assert 0.7 < x.std().item() < 1.3
    shifted = make_gaussian_data(num_points=10, loc=-2.0, scale=0.1, seed=3)
    assert shifted.shape == (10,) and (shifted - -2.0).abs().max() < 1.0


def test_bnn_data_has_a_gap_and_the_promised_noise():
    x, y = make_bnn_data()
    assert x.shape == y.shape == (600,)
    assert not ((x > 0) & (x < 5)).any()
    assert int(((x >= -10) & (x <= 0)).sum()) == 400
    assert int(((x >= 5) & (x <= 10)).sum()) == 200
    assert torch.all(x[1:] >= x[:-1])  # sorted
    residual = y - (0.5 * x + 7.0 * torch.sin(0.75 * x))
    assert abs(residual.std().item() - 3.0) < 0.3
    assert abs(residual.mean().item()) < 0.4


def test_bnn_split_for_counts_not_divisible_by_three():
    x, _ = make_bnn_data(num_points=10)
    assert int((x <= 0).sum()) == 7 and int((x >= 5).sum()) == 3


def test_ppca_data_covariance_matches_the_model():
    data = make_ppca_data()
    assert data.x.shape == (5000, 2) and data.w.shape == (2, 1) and data.z.shape == (5000, 1)
    covariance = torch.cov(data.x.T)
    expected = data.w @ data.w.T + 0.25 * torch.eye(2)
    # entries of a sample covariance from 5,000 points: relative error of a few percent
    assert torch.allclose(covariance, expected, rtol=0.1, atol=0.1)
    assert torch.allclose(data.x, data.z @ data.w.T, atol=0.5 * 5)  # noise sd 0.5


def test_ppca_data_other_dimensions():
    data = make_ppca_data(num_points=20, data_dim=5, latent_dim=3, noise_scale=0.1, seed=4)
    assert data.x.shape == (20, 5) and data.w.shape == (5, 3) and data.z.shape == (20, 3)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: make_gaussian_data(num_points=0),
            ValueError,
            "num_points must be a whole number >= 1, got 0",
        ),
        (
            lambda: make_gaussian_data(scale=-1.0),
            ValueError,
            "scale must be a positive number, got -1.0",
        ),
        (lambda: make_bnn_data(num_points=2.5), ValueError, "got 2.5"),
        (lambda: make_ppca_data(latent_dim=0), ValueError, "latent_dim"),
        (
            lambda: make_ppca_data(noise_scale=0),
            ValueError,
            "noise_scale must be a positive number",
        ),
        (lambda: make_bnn_data(seed="0"), TypeError, "seed must be a whole number >= 0, got '0'"),
    ],
)
def test_bad_arguments_are_explained(call, error, match):
    with pytest.raises(error, match=match):
        call()
