"""InferPy's query semantics, the model description, MCMC, and the vilab tools on a fit."""

from __future__ import annotations

import numpy as np
import pyro
import pytest
import torch

import vilab
import vilab.inf as inf
from vilab.inf import VarInfo

X = torch.linspace(-2.0, 4.0, 20)


@inf.probmodel
def gauss(prior_scale=10.0):
    mu = inf.Normal(0.0, prior_scale, name="mu")
    with inf.datamodel():
        z = inf.Normal(mu, 1.0, name="z")
        inf.Normal(z, 0.5, name="x")


def exact_mu(x, prior_scale=10.0, noise_var=1.25):
    """x_i ~ N(mu, 1 + 0.5^2) once z is integrated out: mu's Gaussian posterior."""
    precision = 1 / prior_scale**2 + len(x) / noise_var
    return float(x.sum() / noise_var / precision), float(precision**-0.5)


def test_vars_describe_each_variable():
    m = gauss()
    assert m.vars["mu"] == VarInfo("mu", "random", "Normal", (), local=False)
    assert m.vars["x"] == VarInfo("x", "random", "Normal", (), local=True)
    m.fit({"x": X}, inf.inference.VI(epochs=1, progress=False))
    assert [n for n, v in m.vars.items() if v.observed] == ["x"]


def test_prior_sample_shapes_follow_inferpy():
    m = gauss()
    one = m.prior("x", size=7).sample()  # a single target: the bare array, no draw axis
    assert isinstance(one, np.ndarray) and one.shape == (7,)
    many = m.prior(["mu", "x"], size_datamodel=3).sample(5)  # InferPy's keyword still works
    assert set(many) == {"mu", "x"} and many["mu"].shape == (5,) and many["x"].shape == (5, 3)
    fixed = m.prior("x", data={"mu": 100.0, "z": np.full(4, 50.0)}).sample()  # data fix values
    assert fixed.shape == (4,) and np.all(np.abs(fixed - 50.0) < 3)
    assert m.prior(["mu"]).sample(2, simplify_result=False)["mu"].shape == (2,)


def test_mcmc_matches_the_exact_posterior():
    p = gauss()
    p.fit({"x": X}, inf.inference.MCMC(num_samples=200, warmup_steps=150))
    mean, sd = exact_mu(X)
    samples = p.posterior("mu").parameters()["samples"]
    assert samples.shape == (200,)
    assert abs(samples.mean() - mean) < 4 * sd / np.sqrt(60) and abs(samples.std() / sd - 1) < 0.2
    assert p.posterior("mu").sample(10).shape == (10,)
    assert p.posterior_predictive("x", data={"z": np.zeros(3)}).sample().shape == (3,)


def test_vi_with_auto_q_matches_the_exact_posterior_and_drives_vilab_tools():
    p = gauss()
    p.fit({"x": X}, inf.inference.VI("auto", epochs=800, lr=0.05, progress=False))
    mean, sd = exact_mu(X)
    post = p.posterior("mu").parameters()
    assert abs(post["loc"] - mean) < 0.1 and abs(post["scale"] / sd - 1) < 0.25

    trainer = p.trainer  # the vilab Trainer: panel, plots and checks take it as it is
    assert isinstance(trainer, vilab.Trainer) and len(trainer.history) == 800
    assert list(vilab.checks.check(trainer.model, trainer.guide)) == []
    panel = vilab.ui.TrainingPanel(trainer, num_steps=5)
    panel.step_button.click()
    assert len(trainer.history) > 800
    figure = vilab.plots.plot_elbo(trainer.history)
    assert figure is not None


def test_svi_scales_minibatches_to_the_full_data():
    """The SVI loss of a minibatch estimates the full-data loss (local terms scaled N/M)."""
    p = gauss()
    p.fit({"x": X}, inf.inference.SVI(epochs=1, batch_size=6, progress=False))
    assert len(p.inference.losses) == 4  # 6 + 6 + 6 + 2: the last partial batch is kept
    trainer = p.trainer
    batch_fn = trainer.batch_fn
    rows = torch.cat([batch_fn(step)[0] for step in range(4)])
    assert sorted(rows.tolist()) == list(range(20))  # every row once per epoch
    last_batch = batch_fn(3)[0]
    with trainer.activated():
        sites = pyro.poutine.trace(trainer.model).get_trace(last_batch).nodes
    assert sites["x"]["value"].shape == (2,) and sites["x"]["scale"] == 10.0  # N/M = 20/2
    assert sites["mu"]["scale"] == 1.0  # global: not scaled
    with pytest.raises(inf.InfError, match="batch_size must be a whole number >= 1, got 0. Fix: "):
        inf.inference.SVI(batch_size=0)


def test_networks_passed_as_arguments_are_trained_under_their_names():
    from torch import nn

    from vilab.checks import VilabWarning

    @inf.probmodel
    def regression(net):
        with inf.datamodel():
            x = inf.Normal(0.0, 1.0, name="x")
            inf.Normal(net(x[:, None])[:, 0], 0.1, name="y")

    torch.manual_seed(0)
    net = nn.Linear(1, 1)
    p = regression(net)
    x = torch.linspace(-1, 1, 50)
    p.fit({"x": x, "y": 3 * x - 1}, inf.inference.VI(epochs=300, lr=0.05, progress=False))
    assert sorted(p.trainer.params()) == ["net$$$bias", "net$$$weight"]
    assert abs(net.weight.item() - 3) < 0.05 and abs(net.bias.item() + 1) < 0.05
    with pytest.warns(VilabWarning, match="fit\\(\\) was called before on this model"):
        p.fit({"x": x, "y": 3 * x - 1}, inf.inference.VI(epochs=1, progress=False))
