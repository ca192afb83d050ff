"""The generic pictures: prior against posterior, the default live plot, the predictive band."""

import time

import matplotlib
import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer.autoguide import AutoNormal

from vilab import predictive
from vilab.engine import Trainer
from vilab.exercises import temperature
from vilab.plots import (
    can_draw_default_live_plot,
    default_live_plot,
    plot_posterior_predictive,
    plot_prior_vs_posterior,
)
from vilab.plots.latent_marginals import density_from_draws

matplotlib.use("Agg")

X = torch.linspace(-1.0, 1.0, 20)
Y = 0.5 + 2.0 * X + 0.3 * torch.cos(9.0 * X)


def regression(x, y=None):
    w = pyro.sample("w", dist.Normal(0.0, 1.0))
    b = pyro.sample("b", dist.Normal(0.0, 1.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(1.0))
    with pyro.plate("data", len(x)):
        pyro.sample("obs", dist.Normal(b + w * x, sigma), obs=y)


@pytest.fixture(scope="module")
def regression_trainer():
    trainer = Trainer(regression, AutoNormal(regression), args=(X, Y), lr=0.05, seed=0)
    trainer.run(150, progress=False)
    return trainer


def test_density_from_draws_integrates_to_one_and_follows_the_true_density():
    values = np.random.default_rng(0).normal(3.0, 0.5, 4000)
    grid = np.linspace(0.0, 6.0, 601)
    density = density_from_draws(values, grid)
    assert np.trapezoid(density, grid) == pytest.approx(1.0, abs=0.01)
    exact = np.exp(-0.5 * ((grid - 3.0) / 0.5) ** 2) / (0.5 * np.sqrt(2 * np.pi))
    assert np.abs(density - exact).max() < 0.08 * exact.max()


def test_prior_vs_posterior_has_one_axes_per_latent_with_both_densities(regression_trainer):
    axes = plot_prior_vs_posterior(regression_trainer, num_samples=500)
    visible = [ax for ax in axes if ax.get_visible()]
    assert [ax.get_xlabel() for ax in visible] == ["w", "b", "sigma"]
    for ax in visible:
        labels = [line.get_label() for line in ax.lines]
        assert labels == ["prior", "posterior q"]
        prior, posterior = (line.get_ydata() for line in ax.lines)
        assert posterior.max() > prior.max()  # 20 points teach more than the prior knew
    summary = predictive.posterior_summary(regression_trainer, num_samples=500)
    peak = visible[0].lines[1]
    x_peak = peak.get_xdata()[np.argmax(peak.get_ydata())]
    assert x_peak == pytest.approx(float(summary["w"].mean), abs=2 * float(summary["w"].sd))


def test_default_live_plot_draws_q_of_each_scalar_latent_quickly(regression_trainer):
    from vilab.ui.live_plot import PosteriorFigure

    assert can_draw_default_live_plot(regression_trainer)
    figure = PosteriorFigure(default_live_plot)
    times = []
    for _ in range(6):
        start = time.perf_counter()
        figure.draw(regression_trainer)
        times.append(time.perf_counter() - start)
    panels = [ax for ax in figure.figure.axes if ax is not figure.ax]
    assert len(panels) == 3  # made once, updated in place
    assert [ax.get_title().split(":")[0] for ax in panels] == ["q(w)", "q(b)", "q(sigma)"]
    assert np.median(times) < 0.1, f"median draw {1e3 * np.median(times):.1f} ms"
    figure.render_png()


def test_default_live_plot_for_one_latent_draws_on_the_axes_itself():
    from vilab.ui.live_plot import PosteriorFigure

    trainer = temperature.make_trainer()
    figure = PosteriorFigure(default_live_plot)
    figure.draw(trainer)
    figure.draw(trainer)
    assert figure.figure.axes == [figure.ax] and len(figure.ax.lines) == 1
    line = figure.ax.lines[0]
    mode = line.get_xdata()[np.argmax(line.get_ydata())]
    assert mode == pytest.approx(float(trainer.param("a")), abs=0.4)


def test_no_default_live_plot_without_small_latents():
    def model(y):
        z = pyro.sample("z", dist.Normal(torch.zeros(50), 1.0).to_event(1))
        pyro.sample("y", dist.Normal(z, 1.0).to_event(1), obs=y)

    trainer = Trainer(model, AutoNormal(model), args=(torch.zeros(50),))
    assert not can_draw_default_live_plot(trainer)


def test_plot_posterior_predictive_draws_the_band_over_the_data(regression_trainer):
    x_new = torch.linspace(-1.5, 1.5, 9)
    draws = predictive.posterior_predictive(regression_trainer, x_new, num_samples=300)
    ax = plot_posterior_predictive(x_new, draws, data=(X, Y), num_draws=3)
    labels = [line.get_label() for line in ax.lines]
    assert labels[-2:] == ["predictive mean", "data"] and labels.count("single draws") == 1
    mean = ax.lines[-2].get_ydata()
    assert np.allclose(mean, draws["obs"].mean(0).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match=r"Expected a site of shape \(num_samples, 4\)"):
        plot_posterior_predictive(x_new[:4], draws)
