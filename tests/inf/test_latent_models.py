"""PPCA and the VAE in the compact API: the local posterior for 1,000 new rows in one call
(InferPy fixed queries to the training size: its issues #178, #179, #207)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import vilab.inf as inf
from vilab.datasets import DataSourceNotice, load_mnist, make_ppca_data

NOISE = 0.5


@inf.probmodel
def ppca(k=1, d=2):
    w = inf.Normal(torch.zeros(k, d), 2.0, name="w")
    with inf.datamodel():
        z = inf.Normal(torch.zeros(k), 1.0, name="z")
        inf.Normal(z @ w, NOISE, name="x")


@inf.probmodel
def q_ppca(k=1, d=2):
    """Mean-field q(w), and q(z | x) from a linear encoder (the exact posterior is linear)."""
    w_loc = inf.Parameter(torch.ones(k, d), name="qw_loc")
    w_scale = F.softplus(inf.Parameter(torch.full((k, d), -3.0), name="qw_scale"))
    inf.Normal(w_loc, w_scale, name="w")
    enc = inf.layers.Sequential("ppca_enc", nn.Linear(d, 2 * k))
    with inf.datamodel():
        out = enc(inf.observed("x"))
        inf.Normal(out[:, :k], F.softplus(out[:, k:]) + 1e-3, name="z")


def test_ppca_posterior_of_1000_new_rows_in_one_call_matches_the_exact_posterior():
    train = make_ppca_data(num_points=500, noise_scale=NOISE, seed=0)
    new_z = torch.randn(1000, 1, generator=torch.Generator().manual_seed(1))
    new_x = new_z @ train.w.T + NOISE * torch.randn(1000, 2)  # 1,000 new rows, same W
    p = ppca()
    p.fit(
        {"x": train.x},
        inf.inference.SVI(q_ppca(), epochs=100, batch_size=100, lr=0.1, progress=False),
    )

    query = p.posterior("z", data={"x": new_x})
    z = query.sample()
    assert z.shape == (1000, 1)
    w = p.posterior("w").parameters()["loc"]  # (1, 2)
    np.testing.assert_allclose(w.T @ w, (train.w @ train.w.T).numpy(), rtol=0.15, atol=0.15)
    # Given W, z | x is Normal with mean W x / (|W|^2 + s^2) and sd s / sqrt(|W|^2 + s^2).
    norm2 = float((w**2).sum())
    exact_loc = new_x.numpy() @ w.T / (norm2 + NOISE**2)
    q_loc, q_scale = query.parameters()["loc"], query.parameters()["scale"]
    assert np.corrcoef(q_loc[:, 0], exact_loc[:, 0])[0, 1] > 0.99
    assert np.abs(q_loc - exact_loc).mean() < 0.1
    np.testing.assert_allclose(q_scale, NOISE / np.sqrt(norm2 + NOISE**2), rtol=0.3)


@inf.probmodel
def vae(k=2, d0=100, dx=784):
    dec = inf.layers.Sequential("vae_dec", nn.Linear(k, d0), nn.ReLU(), nn.Linear(d0, dx))
    with inf.datamodel():
        z = inf.Normal(torch.zeros(k), 1.0, name="z")
        inf.Bernoulli(logits=dec(z), name="x")


@inf.probmodel
def q_vae(k=2, d0=100, dx=784):
    enc = inf.layers.Sequential("vae_enc", nn.Linear(dx, d0), nn.ReLU(), nn.Linear(d0, 2 * k))
    with inf.datamodel():
        x = inf.Normal(torch.ones(dx), 1.0, name="x")  # InferPy's placeholder form of the data
        out = enc(x)
        inf.Normal(out[:, :k], F.softplus(out[:, k:]) + 1e-3, name="z")


@pytest.fixture
def binary_digits(shared_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataSourceNotice)
        data = load_mnist(
            "test", num_instances=1300, digits=[5, 6, 7], binarize="static", progress=False
        )
    return data.x[:300], data.x[300:]


def test_vae_posterior_and_posterior_predictive_for_1000_rows(binary_digits):
    x_train, x_1000 = binary_digits
    assert len(x_1000) == 1000
    p = vae()
    p.fit({"x": x_train}, inf.inference.SVI(q_vae(), epochs=15, batch_size=100, progress=False))
    z = p.posterior("z", data={"x": x_1000}).sample()
    assert z.shape == (1000, 2)
    query = p.posterior_predictive("x", data={"z": z})
    x_new = query.sample()
    assert x_new.shape == (1000, 784) and set(np.unique(x_new)) <= {0.0, 1.0}
    # The decoder learnt the data: reconstructions beat the mean image's pixel frequencies.
    probs = torch.as_tensor(query.parameters()["logits"]).sigmoid().clamp(1e-6, 1 - 1e-6)
    nll = -torch.distributions.Bernoulli(probs).log_prob(x_1000).sum(-1).mean()
    mean_image = x_train.mean(0).clamp(1e-6, 1 - 1e-6)
    baseline = -torch.distributions.Bernoulli(mean_image).log_prob(x_1000).sum(-1).mean()
    assert nll < baseline - 20, (nll, baseline)
