"""The PPCA exercise: the closed-form reference is really the maximum-likelihood W, the
joint-MAP formula is really the optimum of log p(x, z, W), VI lands on the closed form,
MAP lands on its direction but inflates |W|, and criticism generates from inferred latents.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyro.distributions as dist
import pyro.poutine as poutine
import pytest
import torch

from vilab.datasets import make_ppca_data
from vilab.exercises import ppca as ex
from vilab.plots.loadings import align_loadings, canonical_loadings, canonical_rotation

NUM_STEPS = 600  # the default VI schedule is within ~3% of the closed form by then


@pytest.fixture(scope="module")
def data():
    return make_ppca_data(seed=0)


@pytest.fixture(scope="module")
def vi_trainer(data):
    trainer = ex.make_trainer(data.x, "vi", seed=0)
    trainer.run(NUM_STEPS, progress=False)
    return trainer


@pytest.fixture(scope="module")
def map_trainer(data):
    trainer = ex.make_trainer(data.x, "map", seed=0)
    trainer.run(NUM_STEPS, progress=False)
    return trainer


def _marginal_loglik(w, x, noise_scale=ex.NOISE_SCALE):
    diag = torch.full((x.shape[1],), noise_scale**2, dtype=w.dtype)
    return dist.LowRankMultivariateNormal(torch.zeros_like(diag), w, diag).log_prob(x).mean()


def test_model_and_guides_shapes():
    x = make_ppca_data(num_points=7, data_dim=3, latent_dim=2, seed=1).x
    for guide, w_name in ((ex.vi_guide, "w_loc"), (ex.map_guide, "w_map"), (ex.em_guide, "w_map")):
        guide_trace = poutine.trace(guide).get_trace(x, latent_dim=2)
        model_trace = poutine.trace(poutine.replay(ex.model, trace=guide_trace)).get_trace(
            x, latent_dim=2
        )
        assert guide_trace.nodes["w"]["value"].shape == (3, 2)
        assert guide_trace.nodes["z"]["value"].shape == (7, 2)
        assert guide_trace.nodes[w_name]["value"].shape == (3, 2)
        model_trace.compute_log_prob()
        assert model_trace.nodes["x"]["log_prob"].shape == (7,)
    trainer = ex.make_trainer(x, "vi", latent_dim=2)  # 5 vectorised particles broadcast
    assert math.isfinite(trainer.step(2))


def test_closed_form_is_the_maximum_likelihood():
    data = make_ppca_data(num_points=2000, data_dim=4, latent_dim=2, seed=3)
    w_ml = ex.closed_form_ml(data.x, latent_dim=2).double().requires_grad_(True)
    x = data.x.double()
    loglik = _marginal_loglik(w_ml, x)
    (grad,) = torch.autograd.grad(loglik, w_ml)
    assert float(grad.abs().max()) < 1e-4  # a stationary point of log p(x | W)
    w_ml = w_ml.detach()
    rotation = torch.tensor([[0.6, -0.8], [0.8, 0.6]], dtype=torch.float64)
    assert torch.isclose(_marginal_loglik(w_ml @ rotation, x), loglik)  # rotation-free
    for other in (data.w.double(), 1.1 * w_ml, 0.9 * w_ml):
        assert _marginal_loglik(other, x) < loglik


def test_joint_map_norm_is_the_optimum_of_the_joint_density(data):
    """log p(x, z, W) along W = a u (u the top eigenvector), with every z_n at its optimum
    given W, peaks at the length that joint_map_norms predicts."""
    x = data.x.double()
    u = ex.closed_form_ml(x).double()
    u = u / torch.linalg.norm(u)
    lengths = torch.linspace(2.0, 40.0, 381, dtype=torch.float64)
    values = []
    for a in lengths:
        w = a * u
        z = x @ w / (a**2 + ex.NOISE_SCALE**2)  # argmax_z of log p(x_n, z_n | W)
        conditioned = poutine.condition(ex.model, data={"w": w, "z": z})
        values.append(poutine.trace(conditioned).get_trace(x).log_prob_sum())
    best = float(lengths[int(torch.stack(values).argmax())])
    predicted = float(ex.joint_map_norms(data.x))
    assert abs(best - predicted) <= 0.1
    assert predicted > 5 * float(torch.linalg.norm(ex.closed_form_ml(data.x)))  # far beyond ML


def test_vi_matches_the_closed_form(data, vi_trainer):
    w_ml = ex.closed_form_ml(data.x)
    w_vi = ex.loadings(vi_trainer)
    assert ex.subspace_cosine(w_vi, w_ml) > 0.99
    assert ex.relative_frobenius(w_vi, w_ml) < 0.15
    w_sd = vi_trainer.param("w_scale")
    assert bool((w_sd > 0).all()) and float(w_sd.max()) < 0.05  # 5,000 points: q(W) is tight


def test_map_finds_the_direction_but_inflates_w(data, map_trainer, vi_trainer):
    summary = ex.compare_with_closed_form(data, map_trainer, vi_trainer)
    assert summary["cosine_with_ml"]["map"] > 0.99
    assert summary["map_bias"] > 1.0
    norms = summary["w_norm"]
    assert norms["ml"] < norms["map"] < norms["joint_map_optimum"]
    assert summary["marginal_loglik_per_point"]["map"] < summary["marginal_loglik_per_point"]["ml"]
    json.dumps(summary)


def test_criticism_generates_from_the_inferred_latents(data, map_trainer):
    x_new = ex.generate(map_trainer, seed=1)
    assert x_new.shape == data.x.shape
    assert torch.equal(x_new, ex.generate(map_trainer, seed=1))
    fit = ex.latents(map_trainer) @ ex.loadings(map_trainer).T
    assert abs(float((x_new - fit).std()) - ex.NOISE_SCALE) < 0.02  # z_n kept, noise added
    # fresh z ~ N(0, 1) with the inflated MAP W: far more spread than the real data
    x_prior = ex.generate(map_trainer, keep=("w",), seed=1)
    w_norm = float(torch.linalg.norm(ex.loadings(map_trainer)))
    spread = float(x_prior.pow(2).sum(1).mean())
    assert spread == pytest.approx(w_norm**2 + 2 * ex.NOISE_SCALE**2, rel=0.1)
    assert spread > 1.5 * float(data.x.pow(2).sum(1).mean())


def test_same_seed_same_losses():
    x = make_ppca_data(num_points=200, seed=2).x
    runs = [ex.make_trainer(x, "vi", seed=5) for _ in range(2)]
    for trainer in runs:
        trainer.run(15, progress=False)
    assert runs[0].history.loss == runs[1].history.loss


def test_bad_input_is_explained():
    x = make_ppca_data(num_points=50, seed=0).x
    with pytest.raises(TypeError, match="floats"):
        ex.make_trainer((x * 100).to(torch.uint8))
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        ex.make_trainer(x[:, 0])
    with pytest.raises(TypeError, match="torch.as_tensor"):
        ex.closed_form_ml(x.tolist())
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        ex.make_trainer(bad)
    with pytest.raises(ValueError, match="latent_dim <= 2"):
        ex.make_trainer(x, latent_dim=3)
    with pytest.raises(ValueError, match="'vi', 'map' or 'em'"):
        ex.make_trainer(x, method="mle")


def test_canonical_loadings_undo_rotation_and_sign():
    w = torch.randn(6, 2, generator=torch.Generator().manual_seed(0)).numpy()
    rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    assert np.allclose(canonical_loadings(w), canonical_loadings(w @ rotation))
    assert np.allclose(canonical_loadings(-w), canonical_loadings(w))
    r = canonical_rotation(w)
    assert np.allclose(r.T @ r, np.eye(2))
    assert np.allclose(align_loadings(w @ rotation, w), w)


def test_live_plot_draws_the_current_direction(vi_trainer):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    ex.plots.live_plot(vi_trainer, ax)
    assert len(ax.lines) == 2 and f"step {NUM_STEPS}" in ax.get_title()


def test_mnist_projection_spans_the_principal_subspace(shared_data):
    x, y, mean = ex.load_mnist_centred(num_instances=300)  # a CentredImages: unpacks
    assert x.shape == (300, 784) and set(y.tolist()) == {0, 1, 2}
    assert float(x.mean(0).abs().max()) < 1e-5 and float(mean.max()) > 0.5
    trainer = ex.make_mnist_trainer(ex.CentredImages(x, y, mean), seed=0)
    trainer.run(150, progress=False)
    w_ml = ex.closed_form_ml(x, 2, ex.MNIST_NOISE_SCALE)
    assert ex.subspace_cosine(ex.loadings(trainer), w_ml) > 0.95
    assert ex.relative_frobenius(ex.loadings(trainer), w_ml) < 0.4  # variational EM -> ML
    z = ex.mnist_projection(trainer)
    centroids = torch.stack([z[y == digit].mean(0) for digit in range(3)])
    assert float(torch.pdist(centroids).min()) > 0.3  # the three digits separate


def test_train_smoke_report_is_complete(shared_data):
    report = ex.train(smoke=True, progress=False)
    summary = report.summary["synthetic"]
    json.dumps(report.summary)
    assert isinstance(summary["map_bias"], float)
    assert summary["cosine_with_ml"]["vi"] > 0.99 and summary["cosine_with_ml"]["map"] > 0.99
    assert set(report.trainers) >= {"MAP", "VI"}
    figures = ex.plots.figures(report)
    assert {"directions", "criticism", "w_posterior"} <= set(figures)
    assert ("mnist_projection" in figures) == ("skipped" not in report.summary["mnist"])


def test_reference_is_the_closed_form_and_methods_pick_their_options(data):
    answer = ex.reference(data)
    assert torch.equal(answer["w_ml"], ex.closed_form_ml(data.x))
    assert answer["w_ml_norm"] == pytest.approx(float(torch.linalg.norm(answer["w_ml"])))
    assert answer["joint_map_norm"] > 5 * answer["w_ml_norm"]
    assert answer["marginal_loglik_per_point"] == ex.marginal_log_likelihood(answer["w_ml"], data.x)
    map_trainer = ex.make_trainer(data, "map")
    assert map_trainer.guide is ex.map_guide and map_trainer.optim_choice == "adam"
    assert map_trainer.context is data  # the truth W rides along for the figures
    mine = ex.make_trainer(data.x, ex.map_guide, method="map")
    assert mine.optim_choice == "adam" and torch.equal(mine.context.x, data.x)
    assert ex.make_trainer(data.x, ex.map_guide).optim_choice == "clipped_adam"  # vi's options


def test_mnist_projection_needs_the_labels(vi_trainer):
    with pytest.raises(ValueError, match="load_mnist_centred"):
        ex.plots.plot_mnist_projection(vi_trainer)
