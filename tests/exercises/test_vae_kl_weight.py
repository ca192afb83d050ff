"""The KL-weighted VAE: the weight scales exactly the KL term, and a heavier weight
pulls q(z|x) towards the prior. Synthetic binary images, so no MNIST is needed."""

from __future__ import annotations

import ast
import inspect

import pytest
import torch

from vilab.datasets import MNISTSplit
from vilab.exercises import vae, vae_kl_weight, vae_networks


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
    trainers = vae.train_kl_weights((0.1, 4.0), num_steps=40, data=data, progress=False)
    summary = vae.kl_weight_summary(trainers)
    assert summary[4.0]["kl"] < 0.5 * summary[0.1]["kl"]
    for weight, s in summary.items():
        assert s["elbo"] == pytest.approx(s["reconstruction"] - s["kl"])
        assert s["weighted_objective"] == pytest.approx(s["reconstruction"] - weight * s["kl"])
    figure = vae.plots.plot_kl_weights(trainers, num_images=4)
    assert len(figure.axes) >= 4 and "KL weight 0.1" in figure.axes[0].get_title()


@pytest.mark.parametrize("weight", [0.0, -1.0, "4", float("inf"), True])
def test_bad_weights_are_explained(data, weight):
    with pytest.raises(ValueError, match=r"kl_weight must be a positive number, got .*Fix: 1\.0"):
        vae.make_trainer(data, kl_weight=weight)


def test_the_exercise_module_holds_the_kl_weight_functions_without_an_import_circle():
    """The notebook imports one module per exercise: ``vae`` has the KL-weight functions,
    and the modules it builds on never import it back."""
    assert vae.kl_weighted is vae_kl_weight.kl_weighted
    assert vae.kl_weight_summary is vae_kl_weight.kl_weight_summary
    assert callable(vae.train_kl_weights) and vae.elbo_split is vae_networks.elbo_split
    for module in (vae_kl_weight, vae_networks):
        imported = set()
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.ImportFrom):
                imported |= {node.module or ""} | {alias.name for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        assert not any(name.split(".")[-1] == "vae" for name in imported), module.__name__
