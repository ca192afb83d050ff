"""vilab.predictive against closed forms: the temperature posterior, a Bayesian linear
regression's exact predictive, and conjugate posteriors summarised from an AutoNormal."""

import math
import time

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.distributions import constraints
from pyro.infer.autoguide import AutoNormal
from scipy import stats

from vilab import predictive
from vilab.engine import Trainer
from vilab.exercises import temperature

# Bayesian linear regression y = w0 + w1 x + noise, w ~ N(0, I / ALPHA), known noise sd
ALPHA, NOISE = 0.5, 0.4
X = torch.linspace(-1.0, 1.0, 12)
Y = 0.3 + 1.5 * X + NOISE * torch.sin(7.0 * X)


def features(x):
    return torch.stack([torch.ones_like(x), x], -1)


def exact_weights():
    """Mean and covariance of p(w | X, Y) (conjugate update, float64)."""
    phi = features(X).double()
    precision = ALPHA * torch.eye(2, dtype=torch.float64) + phi.T @ phi / NOISE**2
    cov = torch.linalg.inv(precision)
    return cov @ phi.T @ Y.double() / NOISE**2, cov


def regression_model(x, y=None):
    w = pyro.sample("w", dist.MultivariateNormal(torch.zeros(2), torch.eye(2) / ALPHA))
    mean = pyro.deterministic("mean", w[..., :1] + w[..., 1:] * x)
    with pyro.plate("data", len(x)):
        pyro.sample("obs", dist.Normal(mean, NOISE), obs=y)


def scalar_only_model(x, y=None):
    """The same model written with float(): cannot run vectorised over draws."""
    w = pyro.sample("w", dist.MultivariateNormal(torch.zeros(2), torch.eye(2) / ALPHA))
    slope = float(w[1].detach())
    with pyro.plate("data", len(x)):
        pyro.sample("obs", dist.Normal(w[0] + slope * x, NOISE), obs=y)


def exact_guide(x, y=None):
    """q(w) set to the exact posterior, so any error is the predictive code's."""
    mean, cov = exact_weights()
    loc = pyro.param("loc", mean.float())
    tril = pyro.param(
        "tril", torch.linalg.cholesky(cov).float(), constraint=constraints.lower_cholesky
    )
    pyro.sample("w", dist.MultivariateNormal(loc, scale_tril=tril))


def exact_temperature_guide(sensor):
    """q(temp) = Normal(a, b) started at the exact posterior: draws can be checked exactly."""
    mean, sd = temperature.exact_posterior(float(sensor))
    a = pyro.param("a", torch.tensor(mean))
    b = pyro.param("b", torch.tensor(sd), constraint=constraints.positive)
    pyro.sample("temp", dist.Normal(a, b))


@pytest.fixture(scope="module")
def trained_temperature():
    trainer = temperature.make_trainer(seed=0, guide=exact_temperature_guide, lr=1e-4)
    trainer.run(5, progress=False)
    return trainer


def test_sample_latents_is_vectorised_and_leaves_out_the_data(trained_temperature):
    trainer = trained_temperature
    start = time.perf_counter()
    draws = predictive.sample_latents(trainer, 1000)
    fast = time.perf_counter() - start
    start = time.perf_counter()
    slow_draws = trainer.sample_posterior(1000, return_sites=["temp"])  # Predictive, a loop
    slow = time.perf_counter() - start
    assert list(draws) == ["temp"] and draws["temp"].shape == (1000,)
    assert slow_draws["temp"].shape == (1000,)
    assert slow / fast >= 10, f"vectorised {1e3 * fast:.1f} ms, loop {1e3 * slow:.1f} ms"
    a, b = float(trainer.param("a")), float(trainer.param("b"))
    assert float(draws["temp"].mean()) == pytest.approx(a, abs=4 * b / math.sqrt(1000))
    assert float(draws["temp"].std()) == pytest.approx(b, rel=0.1)
    exact_mean, exact_sd = temperature.exact_posterior()
    assert float(draws["temp"].mean()) == pytest.approx(exact_mean, abs=0.15)
    assert float(draws["temp"].std()) == pytest.approx(exact_sd, rel=0.12)


def test_sample_posterior_without_return_sites_gives_the_latents_only(trained_temperature):
    samples = trained_temperature.sample_posterior(500)
    assert list(samples) == ["temp"]  # the observed "sensor" is left out
    assert torch.equal(samples["temp"], predictive.sample_latents(trained_temperature, 500)["temp"])
    with_data = trained_temperature.sample_posterior(20, return_sites=["temp", "sensor"])
    assert set(with_data) == {"temp", "sensor"}


@pytest.mark.parametrize("model", [regression_model, scalar_only_model])
def test_posterior_predictive_matches_the_exact_predictive(model):
    trainer = Trainer(model, exact_guide, args=(X, Y), seed=1)
    x_new = torch.tensor([-2.0, 0.0, 0.5, 3.0])
    num = 4000 if model is regression_model else 400  # the loop is slow: fewer draws
    draws = predictive.posterior_predictive(trainer, x_new, num_samples=num)
    assert draws["obs"].shape == (num, 4)
    mean, cov = exact_weights()
    phi = features(x_new).double()
    f_mean = phi @ mean
    f_var = (phi @ cov * phi).sum(-1)
    y_sd = torch.sqrt(f_var + NOISE**2)
    obs = draws["obs"].double()
    assert (obs.mean(0) - f_mean).abs().max() <= 4 * float((y_sd / math.sqrt(num)).max())
    assert torch.allclose(obs.std(0), y_sd, rtol=6 / math.sqrt(num))
    if model is regression_model:  # the deterministic site comes too: the mean function
        f = draws["mean"].double()
        assert torch.allclose(f.mean(0), f_mean, atol=4 * float(f_var.sqrt().max()) / 60)
        assert torch.allclose(f.std(0), f_var.sqrt(), rtol=0.1)
        band = predictive.summarize_draws(draws, prob=0.9)["obs"]
        exact_high = f_mean + stats.norm.ppf(0.95) * y_sd
        assert torch.allclose(band.high, exact_high, atol=float(y_sd.max()) * 0.1)


def test_posterior_predictive_without_inputs_replicates_the_data():
    trainer = Trainer(regression_model, exact_guide, args=(X, Y), seed=1)
    draws = predictive.posterior_predictive(trainer, num_samples=300)
    assert draws["obs"].shape == (300, len(X))
    assert not torch.equal(draws["obs"][0], Y)  # fresh observations, not the data
    assert float((draws["obs"].mean(0) - Y).abs().mean()) < 0.5


def test_autonormal_summary_is_in_the_constrained_space():
    """mu: Normal prior, known noise; tau: Gamma prior on a precision, known mean 0.
    Both posteriors are conjugate and factorise, so a mean-field AutoNormal can match them
    (q(tau) is log-normal, close to the Gamma(101, .) posterior)."""
    y_mu = torch.tensor([1.2, 0.8, 1.9, 1.4, 0.7, 1.1, 1.6, 1.0])
    y_tau = 0.7 * torch.randn(200, generator=torch.Generator().manual_seed(3))

    def model(y_mu, y_tau):
        mu = pyro.sample("mu", dist.Normal(0.0, 3.0))
        tau = pyro.sample("tau", dist.Gamma(2.0, 1.0))
        with pyro.plate("a", len(y_mu)):
            pyro.sample("y_mu", dist.Normal(mu, 1.0), obs=y_mu)
        with pyro.plate("b", len(y_tau)):
            pyro.sample("y_tau", dist.Normal(0.0, tau.rsqrt()), obs=y_tau)

    options = dict(lr=0.05, optim="clipped_adam", optim_args={"lrd": 0.995})
    options.update(num_particles=16, vectorize_particles=True, elbo="meanfield")
    trainer = Trainer(model, AutoNormal(model), args=(y_mu, y_tau), seed=0, **options)
    trainer.run(600, progress=False)
    summary = predictive.posterior_summary(trainer, num_samples=4000, prob=0.9)
    mu_precision = 1 / 9 + len(y_mu)
    mu_mean, mu_sd = float(y_mu.sum()) / mu_precision, mu_precision**-0.5
    tau_post = stats.gamma(2.0 + len(y_tau) / 2, scale=1 / (1.0 + float((y_tau**2).sum()) / 2))
    for name, mean, sd, (low, high) in [
        ("mu", mu_mean, mu_sd, stats.norm(mu_mean, mu_sd).ppf([0.05, 0.95])),
        ("tau", tau_post.mean(), tau_post.std(), tau_post.ppf([0.05, 0.95])),
    ]:
        s = summary[name]
        assert float(s.mean) == pytest.approx(mean, abs=0.2 * sd), name
        assert float(s.sd) == pytest.approx(sd, rel=0.15), name
        assert float(s.low) == pytest.approx(low, abs=0.3 * sd), name
        assert float(s.high) == pytest.approx(high, abs=0.3 * sd), name
    # params() gives the autoguide's location in tau's own units (q's median), not log tau
    median = float(trainer.params()["AutoNormal.locs.tau"])
    assert median == pytest.approx(float(summary["tau"].median), rel=0.05)
    with trainer.scope:  # the store keeps the unconstrained value the optimiser moves
        assert pyro.get_param_store()["AutoNormal.locs.tau"].item() == pytest.approx(
            math.log(median), abs=1e-6
        )
    table = predictive.format_summary(summary)
    assert table.splitlines()[0].split() == ["mean", "sd", "5%", "50%", "95%"]
    assert table.splitlines()[2].split()[0] == "tau"


@pytest.mark.parametrize(
    "call, match",
    [
        (
            lambda t: predictive.sample_latents(t, 0),
            "num_samples must be a whole number >= 1, got 0",
        ),
        (lambda t: predictive.sample_latents(t, 10, sites=["tmp"]), r"got \['tmp'\].*'temp'"),
        (lambda t: predictive.posterior_predictive(t, return_sites=["y"]), r"got \['y'\]"),
        (
            lambda t: predictive.posterior_summary(t, prob=90),
            "prob must be between 0 and 1, got 90.0",
        ),
    ],
)
def test_bad_input_gets_a_clear_error(trained_temperature, call, match):
    with pytest.raises((ValueError, KeyError), match=match):
        call(trained_temperature)


def test_draws_leave_the_training_stream_alone(trained_temperature):
    trainer = temperature.make_trainer(seed=5)
    twin = temperature.make_trainer(seed=5)
    trainer.step(3)
    predictive.sample_latents(trainer, 50)
    predictive.posterior_predictive(trainer, num_samples=20)
    trainer.step(3)
    twin.step(6)
    assert trainer.history.loss == twin.history.loss
