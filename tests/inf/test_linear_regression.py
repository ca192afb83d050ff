"""InferPy's linear regression: data generated with fixed weights by a prior query, then
recovered by VI and compared with the exact (conjugate) posterior."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

import vilab.inf as inf


@inf.probmodel
def linear_reg(d):
    w0 = inf.Normal(0.0, 1.0, name="w0")
    w = inf.Normal(torch.zeros(d, 1), 1.0, name="w")
    with inf.datamodel():
        x = inf.Normal(torch.ones(d), 2.0, name="x")
        inf.Normal(w0 + x @ w, 1.0, name="y")


@inf.probmodel
def qmodel(d):
    qw0_loc = inf.Parameter(0.0, name="qw0_loc")
    qw0_scale = F.softplus(inf.Parameter(-3.0, name="qw0_scale"))
    inf.Normal(qw0_loc, qw0_scale, name="w0")
    qw_loc = inf.Parameter(torch.zeros(d, 1), name="qw_loc")
    qw_scale = F.softplus(inf.Parameter(torch.full((d, 1), -3.0), name="qw_scale"))
    inf.Normal(qw_loc, qw_scale, name="w")


def exact_posterior(x, y):
    """Prior N(0, I) on (w0, w), noise variance 1: the Gaussian posterior's mean and precision."""
    design = np.column_stack([np.ones(len(x)), x])
    precision = np.eye(design.shape[1]) + design.T @ design
    mean = np.linalg.solve(precision, design.T @ y.reshape(-1))
    return mean, precision


def test_prior_query_generates_data_with_the_fixed_weights():
    m = linear_reg(2)
    data = m.prior(["x", "y"], data={"w0": 0, "w": [[2], [1]]}, size=1000).sample()
    assert set(data) == {"x", "y"}
    assert data["x"].shape == (1000, 2) and data["y"].shape == (1000, 1)
    residual = data["y"][:, 0] - data["x"] @ np.array([2.0, 1.0])
    assert abs(residual.mean()) < 0.1 and abs(residual.std() - 1.0) < 0.1  # y = x @ w + N(0, 1)
    assert abs(data["x"].mean() - 1.0) < 0.15 and abs(data["x"].std() - 2.0) < 0.1


def test_vi_recovers_the_weights_and_matches_the_conjugate_posterior():
    m = linear_reg(2)
    data = m.prior(["x", "y"], data={"w0": 0, "w": [[2], [1]]}, size=1000).sample()
    # A decaying step size (0.05 * 0.995^step) lets the noisy one-sample gradients settle.
    vi = inf.inference.VI(
        qmodel(2),
        epochs=1000,
        lr=0.05,
        optimizer="clipped_adam",
        optim_args={"lrd": 0.995},
        progress=False,
    )
    m.fit(data, vi)
    post = m.posterior(["w", "w0"]).parameters()
    w_loc, w0_loc = post["w"]["loc"].reshape(-1), float(post["w0"]["loc"])
    assert np.all(np.abs(w_loc - [2.0, 1.0]) < 0.1) and abs(w0_loc) < 0.1

    mean, precision = exact_posterior(data["x"], data["y"])
    vi_loc = np.concatenate([[w0_loc], w_loc])
    vi_scale = np.concatenate([[float(post["w0"]["scale"])], post["w"]["scale"].reshape(-1)])
    # Mean-field VI on a Gaussian posterior: exact means, scales 1/sqrt(diagonal precision).
    np.testing.assert_allclose(vi_loc, mean, atol=0.01)
    np.testing.assert_allclose(vi_scale, 1 / np.sqrt(np.diag(precision)), rtol=0.15)
    assert len(m.inference.losses) == 1000 and m.trainer.history.loss == m.inference.losses
