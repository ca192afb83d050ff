"""The factor-analysis exercise on real MNIST digits 0-2: the jittered data, the exact
held-out log-likelihood (checked against scikit-learn's own formula), and VI with a linear
encoder reaching scikit-learn's FactorAnalysis on held-out images.
"""

from __future__ import annotations

import json

import numpy as np
import pyro.poutine as poutine
import pytest
import torch

from vilab.exercises import factor_analysis as ex

NUM_TRAIN, NUM_HELDOUT, NUM_STEPS = 1000, 500, 400


@pytest.fixture(scope="module")
def data(shared_data_dir):
    return ex.load_data(NUM_TRAIN, NUM_HELDOUT, data_dir=shared_data_dir)


@pytest.fixture(scope="module")
def reference(data):
    return ex.reference(data)


@pytest.fixture(scope="module")
def trainer(data):
    trainer = ex.make_trainer(data, seed=0)
    trainer.run(NUM_STEPS, progress=False)
    return trainer


def test_data_are_jittered_digits_without_constant_pixels(data, shared_data_dir):
    assert data.x_train.shape == (NUM_TRAIN, 784) and data.x_heldout.shape == (NUM_HELDOUT, 784)
    assert set(data.y_train.tolist()) == {0, 1, 2} == set(data.y_heldout.tolist())
    # every pixel varies at least by the jitter: psi cannot collapse to 0
    assert float(data.x_train.std(0).min()) > 0.8 * ex.JITTER_SCALE
    again = ex.load_data(NUM_TRAIN, NUM_HELDOUT, data_dir=shared_data_dir)
    assert torch.equal(again.x_train, data.x_train)
    assert not torch.equal(
        ex.load_data(20, 5, seed=1, data_dir=shared_data_dir).x_train, data.x_train[:20]
    )  # the jitter follows the seed


def test_model_and_guide_shapes(data):
    x = data.x_train[:7]
    guide_trace = poutine.trace(ex.guide).get_trace(x, latent_dim=3)
    model_trace = poutine.trace(poutine.replay(ex.model, trace=guide_trace)).get_trace(
        x, latent_dim=3
    )
    assert guide_trace.nodes["z"]["value"].shape == (7, 3)
    assert model_trace.nodes["w"]["value"].shape == (784, 3)
    assert model_trace.nodes["psi"]["value"].shape == (784,)
    model_trace.compute_log_prob()
    assert model_trace.nodes["x"]["log_prob"].shape == (7,)


def test_log_likelihood_is_sklearns_formula(data, reference):
    ours = ex.log_likelihood(reference["w"], reference["mu"], reference["psi"], data.x_heldout)
    assert ours == pytest.approx(reference["heldout_loglik"], rel=1e-5)


def test_vi_reaches_sklearn_on_heldout_images(data, reference, trainer):
    heldout = ex.trainer_log_likelihood(trainer, data.x_heldout)
    relative = abs(heldout - reference["heldout_loglik"]) / abs(reference["heldout_loglik"])
    assert relative < 0.05, (heldout, reference["heldout_loglik"])
    # the ELBO is a lower bound of the exact log-likelihood (Jensen)
    assert ex.elbo_per_image(trainer, data.x_heldout) <= heldout
    # the noise floor works the same in both fits
    psi = trainer.param("psi")
    assert float(psi.min()) > 0.5 * ex.JITTER_SCALE**2
    assert float(psi.min()) == pytest.approx(float(reference["psi"].min()), rel=0.3)


def test_reconstructions_and_codes(data, trainer):
    x = data.x_heldout[:12]
    assert ex.encode(trainer, x).shape == (12, 2)
    reconstructions = ex.reconstruct(trainer, x)
    assert reconstructions.shape == (12, 784)
    mean_only = ((x - trainer.param("mu")) ** 2).mean()
    assert float(((x - reconstructions) ** 2).mean()) < float(mean_only)  # z carries information
    # the decoder in the rotated (canonical) frame draws the same images
    decoded = ex.decoder_mean(trainer)(ex.latent_codes(trainer, x))
    assert torch.allclose(decoded, reconstructions, atol=1e-4)
    z = ex.latent_codes(trainer, data.x_heldout)
    centroids = torch.stack([z[data.y_heldout == digit].mean(0) for digit in range(3)])
    assert float(torch.pdist(centroids).min()) > 0.5  # the digits form clusters


def test_live_plot_shows_the_digits(trainer):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    ex.plots.live_plot(trainer, ax)
    assert len(ax.collections) == 3 and f"step {NUM_STEPS}" in ax.get_title()


def test_bad_input_is_explained(data, shared_data_dir):
    w, mu, psi = torch.zeros(784, 2), torch.zeros(784), torch.ones(784)
    with pytest.raises(ValueError, match=r"mu \(D,\)"):
        ex.log_likelihood(w, mu[:10], psi, data.x_heldout[:5])
    with pytest.raises(TypeError, match="floats"):
        ex.log_likelihood(w, mu, psi, (data.x_heldout[:5] * 255).to(torch.uint8))
    with pytest.raises(ValueError, match=r"shape \(N, D\)"):
        ex.log_likelihood(w, mu, psi, data.x_heldout[:5].reshape(5, 28, 28))
    with pytest.raises(ValueError, match="jitter_scale"):
        ex.load_data(10, 10, jitter_scale=-1.0, data_dir=shared_data_dir)


def test_train_smoke_report_is_complete(shared_data_dir, monkeypatch):
    monkeypatch.setenv("VILAB_DATA_DIR", shared_data_dir)
    report = ex.train(smoke=True, progress=False)
    json.dumps(report.summary)
    loglik = report.summary["heldout_loglik_per_image"]
    assert np.isfinite(loglik["vilab"]) and np.isfinite(loglik["sklearn"])
    assert report.summary["heldout_elbo_per_image"] <= loglik["vilab"]
    figures = ex.plots.figures(report)
    assert {"factors", "latent_space", "reconstructions", "manifold"} == set(figures)


def test_trainer_keeps_its_data_and_unknown_guides_are_explained(data, trainer):
    assert trainer.context is data
    with pytest.raises(ValueError, match="guide must be one of 'linear_encoder'"):
        ex.make_trainer(data, "amortised")
