"""The KL-weighted VAE: the weight scales exactly the KL term, and a heavier weight
pulls q(z|x) towards the prior. Synthetic binary images, so no MNIST is needed."""

from __future__ import annotations

import pytest
import torch

from vilab.datasets import MNISTSplit
from vilab.exercises import vae, vae_kl_weight


@pytest.fixture(scope="module")
def data():
    generator = torch.Generator().manual_seed(0)
    prototypes = (torch.rand(4, 784, generator=generator) > 0.6).float()
    labels = torch.arange(320) % 4
    noise = (torch.rand(320, 784, generator=generator) < 0.05).float()
    x = (prototypes[labels] + noise) % 2
    return MNISTSplit(x[:256], labels[:256], x[256:], labels[256:], "synthetic", "static")


def test_the_weight_scales_exactly_the_kl_term(data):
    losses = {}
    for weight in (1.0, 3.0):
        trainer = vae.make_trainer(data, seed=0, kl_weight=weight)
        losses[weight] = trainer.evaluate_loss()  # same seed: same z draws, same weights
    with trainer.activated(), torch.no_grad():
        z_loc, z_scale = trainer.context.vae.encoder(trainer.context.batches(0)[0])
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(z_loc, z_scale), torch.distributions.Normal(0.0, 1.0)
    ).sum().item() * (256 / len(z_loc))  # the plate scales the minibatch up to the data
    assert losses[3.0] - losses[1.0] == pytest.approx(2.0 * kl, rel=1e-4)


def test_a_heavier_weight_gives_a_smaller_kl(data):
    trainers = vae_kl_weight.train_kl_weights((0.1, 4.0), num_steps=40, data=data, progress=False)
    summary = vae_kl_weight.kl_weight_summary(trainers)
    assert summary[4.0]["kl"] < 0.5 * summary[0.1]["kl"]
    for weight, s in summary.items():
        assert s["elbo"] == pytest.approx(s["reconstruction"] - s["kl"])
        assert s["weighted_objective"] == pytest.approx(s["reconstruction"] - weight * s["kl"])
    figure = vae.plots.plot_kl_weights(trainers, num_images=4)
    assert len(figure.axes) >= 4 and "KL weight 0.1" in figure.axes[0].get_title()


@pytest.mark.parametrize("weight, error", [(0.0, ValueError), (-1.0, ValueError), ("4", TypeError)])
def test_bad_weights_are_explained(data, weight, error):
    with pytest.raises(error, match=r"Expected kl_weight"):
        vae.make_trainer(data, kl_weight=weight)
