"""ArviZ export: the draws say what q (or NUTS) says, plates become named dims, the data and
the posterior predictive land in their groups, and bad input is explained."""

from __future__ import annotations

import math

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.distributions import constraints
from pyro.infer import MCMC, NUTS

from vilab import Trainer
from vilab.arviz_export import from_mcmc, from_nuts, from_samples, from_trainer
from vilab.exercises import gaussian, temperature
from vilab.reference import run_nuts

az = pytest.importorskip("arviz")


def test_vi_draws_match_q_and_the_predictive_adds_the_sensor_noise():
    trainer = temperature.make_trainer()
    trainer.run(50, progress=False)
    a, b = temperature.vi_posterior(trainer)
    idata = from_trainer(trainer, num_samples=4000)

    temp = idata.posterior["temp"]
    assert temp.dims == ("chain", "draw") and temp.shape == (1, 4000)
    # q(temp) = N(a, b): the sample mean is within 4 standard errors, the sd within 5%
    assert abs(float(temp.mean()) - a) < 4 * b / math.sqrt(4000)
    assert float(temp.std()) == pytest.approx(b, rel=0.05)
    # y_rep = temp + N(0, 1) noise: sd sqrt(b^2 + 1), not the data's value 18
    sensor = idata.posterior_predictive["sensor"]
    assert float(sensor.std()) == pytest.approx(math.sqrt(b**2 + 1), rel=0.05)
    assert float(idata.observed_data["sensor"].squeeze()) == 18.0
    assert idata.attrs["inference"] == "SVI" and idata.attrs["num_steps"] == 50


def test_plates_become_named_dims_and_the_observed_data_is_the_training_data():
    x = gaussian.load_data()
    trainer = gaussian.make_trainer(x, num_steps=20)
    trainer.run(20, progress=False)
    idata = from_trainer(trainer, num_samples=300)

    assert idata.posterior_predictive["x"].dims == ("chain", "draw", "data")
    assert idata.observed_data["x"].dims == ("data",)
    np.testing.assert_array_equal(idata.observed_data["x"].values, x.numpy())
    np.testing.assert_array_equal(idata.observed_data["data"].values, np.arange(len(x)))
    assert set(idata.posterior.data_vars) == {"mu", "gamma"}


def test_export_is_reproducible_and_leaves_the_training_stream_alone():
    exported, twin = temperature.make_trainer(), temperature.make_trainer()
    exported.run(10, progress=False)
    twin.run(10, progress=False)
    first = from_trainer(exported, num_samples=50)
    again = from_trainer(exported, num_samples=50)
    np.testing.assert_array_equal(first.posterior["temp"], again.posterior["temp"])
    assert exported.step(5) == twin.step(5)


def linear_model(x, y=None):
    w = pyro.sample("w", dist.Normal(0.0, 1.0).expand([2]).to_event(1))
    sigma = pyro.sample("sigma", dist.HalfNormal(1.0))
    with pyro.plate("points", x.shape[0]):
        pyro.sample("y", dist.Normal(x @ w, sigma), obs=y)


def linear_guide(x, y=None):
    loc = pyro.param("loc", torch.zeros(2))
    scale = pyro.param("scale", 0.1 * torch.ones(2), constraint=constraints.positive)
    pyro.sample("w", dist.Normal(loc, scale).to_event(1))
    s = pyro.param("s", torch.tensor(0.5), constraint=constraints.positive)
    pyro.sample("sigma", dist.LogNormal(s.log(), 0.1))


def linear_data(n=40):
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(n, 2, generator=generator)
    return x, x @ torch.tensor([1.0, -2.0]) + 0.3 * torch.randn(n, generator=generator)


def test_a_model_that_cannot_run_vectorised_is_drawn_in_a_loop():
    x, y = linear_data()  # x @ w: a (S, 1, 2) batch of w does not broadcast against (N, 2)
    trainer = Trainer(linear_model, linear_guide, args=(x, y), seed=0)
    trainer.run(5, progress=False)
    idata = from_trainer(trainer, num_samples=400)
    assert idata.posterior["w"].shape == (1, 400, 2)
    assert idata.posterior_predictive["y"].dims == ("chain", "draw", "points")
    # the predictive draw d is made with the posterior draw d: y_rep - x @ w is the noise
    w, y_rep = idata.posterior["w"].values[0], idata.posterior_predictive["y"].values[0]
    noise = y_rep - w @ x.numpy().T
    sigma = idata.posterior["sigma"].values[0][:, None]
    assert abs(float((noise / sigma).std()) - 1.0) < 0.05


def test_a_minibatch_trainer_exports_the_batch_of_its_next_step():
    x, y = linear_data(40)
    batches = [(x[:20], y[:20]), (x[20:], y[20:])]
    trainer = Trainer(linear_model, linear_guide, batch_fn=lambda step: batches[step % 2])
    trainer.run(3, progress=False)  # the next step uses batch 1
    idata = from_trainer(trainer, num_samples=10)
    np.testing.assert_array_equal(idata.observed_data["y"].values, y[20:].numpy())


def test_nuts_samples_get_the_model_dims_and_line_up_with_vi_in_a_forest_plot():
    x, y = linear_data()
    samples = run_nuts(linear_model, (x, y), num_samples=100, warmup_steps=100)
    nuts = from_nuts(samples, model=linear_model, args=(x, y), vectorize=False)
    assert nuts.posterior["w"].shape == (1, 100, 2)
    np.testing.assert_array_equal(nuts.posterior["w"].values[0], samples["w"].numpy())
    assert nuts.posterior_predictive["y"].dims == ("chain", "draw", "points")
    # NUTS recovers the weights the data were made with
    np.testing.assert_allclose(nuts.posterior["w"].mean(("chain", "draw")), [1.0, -2.0], atol=0.2)

    trainer = Trainer(linear_model, linear_guide, args=(x, y), lr=0.05)
    trainer.run(20, progress=False)
    axes = az.plot_forest([from_trainer(trainer, 100), nuts], model_names=["VI", "NUTS"])
    labels = [t.get_text() for t in axes[0].get_legend().get_texts()]
    assert sorted(labels) == ["NUTS", "VI"]  # one legend entry per model, same dims


def test_an_mcmc_run_brings_its_chains_and_divergences():
    pyro.set_rng_seed(0)
    mcmc = MCMC(NUTS(temperature.model), num_samples=30, warmup_steps=30, disable_progbar=True)
    mcmc.run(temperature.SENSOR_READING)
    idata = from_mcmc(mcmc, model=temperature.model, args=(temperature.SENSOR_READING,))
    diverging = idata.sample_stats["diverging"]
    assert diverging.dims == ("chain", "draw") and diverging.shape == (1, 30)
    assert int(diverging.sum()) == len(mcmc.diagnostics()["divergences"]["chain 0"])
    assert idata.attrs["inference"] == "NUTS"


def test_the_generic_entry_point_takes_plain_arrays_chains_and_named_coords():
    draws = np.arange(12.0).reshape(6, 2)  # 2 chains of 3 draws, one after the other
    idata = from_samples(
        {"w": draws},
        num_chains=2,
        dims={"w": ["feature"]},
        coords={"feature": ["rugged", "gdp"]},
        sample_stats={"lp": np.zeros(6)},
    )
    assert idata.posterior["w"].shape == (2, 3, 2)
    np.testing.assert_array_equal(idata.posterior["w"].sel(chain=1, feature="gdp"), [7, 9, 11])
    assert idata.sample_stats["lp"].shape == (2, 3)


@pytest.mark.parametrize(
    "posterior, options, error, match",
    [
        ({}, {}, TypeError, "Expected the posterior samples as a non-empty dict"),
        ([1, 2], {}, TypeError, "got list"),
        ({"w": np.zeros(5)}, {"num_chains": 2}, ValueError, "a multiple of num_chains=2"),
        (
            {"w": np.zeros(4)},
            {"num_chains": 0},
            ValueError,
            "num_chains must be a whole number >= 1, got 0",
        ),
    ],
)
def test_bad_samples_are_explained(posterior, options, error, match):
    with pytest.raises(error, match=match):
        from_samples(posterior, **options)
