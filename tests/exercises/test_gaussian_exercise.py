"""The Gaussian exercise: CAVI against the exact posterior and closed forms, SVI against CAVI,
and the messages students get for badly shaped data."""

from __future__ import annotations

import json
import math

import numpy as np
import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer import Trace_ELBO

from vilab.datasets import make_gaussian_data
from vilab.engine import Trainer
from vilab.exercises import gaussian

SVI_STEPS = 1000  # a shorter schedule than class (3000): the means settle within ~0.7%


@pytest.fixture(scope="module")
def x():
    return gaussian.load_data()


@pytest.fixture(scope="module")
def reference(x):
    return gaussian.cavi(x)


# -- the references ------------------------------------------------------------------------


def test_cavi_means_match_the_exact_posterior_on_a_grid(x, reference):
    exact = gaussian.exact_posterior(x)
    cavi, grid = reference.moments(), exact.moments()
    assert cavi["mu"]["mean"] == pytest.approx(grid["mu"]["mean"], rel=1e-4)
    assert cavi["gamma"]["mean"] == pytest.approx(grid["gamma"]["mean"], rel=1e-3)
    # mean field ignores that mu's spread depends on gamma: its q(mu) is too narrow
    assert cavi["mu"]["std"] < grid["mu"]["std"]
    # the grid is wide enough: no mass piles up on its edges
    edge = max(exact.joint[[0, -1], :].max(), exact.joint[:, [0, -1]].max())
    assert edge < 1e-6 * exact.joint.max()


@pytest.mark.parametrize(
    "data",
    [None, make_gaussian_data(num_points=20, loc=-3.0, scale=2.0, seed=1)],
    ids=["course-data", "other-data"],
)
def test_cavi_fixed_point_has_the_closed_form_of_a_vague_prior(data, x):
    """With prior sd 1e4 on mu, the fixed point solves m = mean(x) and
    b = b0 + S/2 + b/(2a), so E[gamma] = (a - 1/2) / (b0 + S/2) with a = a0 + N/2."""
    data = x if data is None else data
    result = gaussian.cavi(data)
    values = data.double().numpy()
    n, scatter = len(values), float(np.sum((values - values.mean()) ** 2))
    a = gaussian.GAMMA_CONCENTRATION + n / 2
    e_gamma = (a - 0.5) / (gaussian.GAMMA_RATE + scatter / 2)
    assert result.gamma_concentration == pytest.approx(a)
    assert result.gamma_concentration / result.gamma_rate == pytest.approx(e_gamma, rel=1e-6)
    assert result.mu_loc == pytest.approx(values.mean(), rel=1e-6)
    assert result.mu_scale == pytest.approx(1 / math.sqrt(n * e_gamma), rel=1e-6)


def test_cavi_elbo_never_decreases_and_its_fixed_point_is_a_maximum(x, reference):
    elbo = np.asarray(reference.elbo)
    assert len(elbo) >= 3 and np.all(np.diff(elbo) >= -1e-9)
    names = ("mu_loc", "mu_scale", "gamma_concentration", "gamma_rate")
    best = {name: getattr(reference, name) for name in names}
    top = gaussian.mean_field_elbo(x, **best)
    assert top == pytest.approx(elbo[-1], abs=1e-9)
    for name in names:
        for change in (-0.03, 0.03):
            moved = dict(best)
            moved[name] = best[name] + change if name == "mu_loc" else best[name] * (1 + change)
            assert gaussian.mean_field_elbo(x, **moved) < top, (name, change)


def test_closed_form_elbo_matches_pyros_monte_carlo_estimate(x, reference):
    def fixed_guide(x):
        pyro.sample("mu", dist.Normal(reference.mu_loc, reference.mu_scale))
        pyro.sample("gamma", dist.Gamma(reference.gamma_concentration, reference.gamma_rate))

    estimator = Trace_ELBO(num_particles=20000, vectorize_particles=True, max_plate_nesting=1)
    monte_carlo = -estimator.loss(gaussian.model, fixed_guide, x)
    closed_form = gaussian.mean_field_elbo(
        x, reference.mu_loc, reference.mu_scale, reference.gamma_concentration, reference.gamma_rate
    )
    assert monte_carlo == pytest.approx(closed_form, abs=0.05)


# -- SVI against CAVI ------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_svi_means_are_within_2_percent_of_cavi(x, reference, seed):
    trainer = gaussian.make_trainer(x, seed=seed, num_steps=SVI_STEPS)
    trainer.run(SVI_STEPS, progress=False)
    vi, cavi = gaussian.vi_moments(trainer), reference.moments()
    for site in ("mu", "gamma"):
        error = abs(vi[site]["mean"] / cavi[site]["mean"] - 1)
        assert error < 0.02, f"{site}: SVI {vi[site]['mean']:.4f} vs CAVI {cavi[site]['mean']:.4f}"


def test_autonormal_option_lands_near_cavi(x, reference):
    trainer = gaussian.make_trainer(x, guide="auto", seed=0, num_steps=600)
    trainer.run(600, progress=False)
    vi, cavi = gaussian.vi_moments(trainer), reference.moments()
    for site in ("mu", "gamma"):  # a LogNormal q(gamma), not a Gamma: a slightly other optimum
        assert abs(vi[site]["mean"] / cavi[site]["mean"] - 1) < 0.03


def test_same_seed_same_answer(x):
    runs = []
    for _ in range(2):
        trainer = gaussian.make_trainer(x, seed=3, num_steps=30)
        trainer.run(30, progress=False)
        runs.append(trainer.params())
    for name, value in runs[0].items():
        assert torch.equal(value, runs[1][name]), name


def test_train_reports_json_ready_summary_and_figures():
    report = gaussian.train(num_steps=50, seed=0, progress=False)
    json.dumps(report.summary, allow_nan=False)
    figures = gaussian.plots.figures(report)
    assert set(figures) == {"marginals", "joint"}
    assert set(report.summary["percent_error_vs_cavi"]) == {"mu", "gamma"}
    best = gaussian.cavi(gaussian.load_data())
    assert report.summary["mean_field"]["cavi"] == best.parameters()
    for figure in figures.values():
        for ax in figure.axes:
            if ax.get_label() != "<colorbar>":
                assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert report.trainers["VI"].num_steps_done == 50


def test_live_plot_draws_the_current_guide(x):
    import matplotlib.pyplot as plt

    trainer = gaussian.make_trainer(x, num_steps=10)
    trainer.run(10, progress=False)
    _, ax = plt.subplots()
    gaussian.plots.live_plot(trainer, ax)
    assert ax.get_xlabel() == "mean mu" and ax.get_legend() is not None
    by_hand = Trainer(gaussian.model, gaussian.guide, args=(x,))  # no context
    with pytest.raises(ValueError, match=r"trainer.context, but this trainer has none"):
        gaussian.plots.live_plot(by_hand, ax)


def test_reference_holds_cavi_and_the_grid_and_the_guides_are_named(x, reference):
    both = gaussian.reference(x)
    assert both["cavi"] == reference.moments()
    assert both["exact"] == gaussian.exact_posterior(x).moments()
    assert gaussian.make_trainer(x, num_steps=10).context is x
    with pytest.raises(ValueError, match=r"guide must be one of 'manual', 'auto'"):
        gaussian.make_trainer(x, guide="mean_field")


# -- mistakes students make --------------------------------------------------------------------


def test_two_dimensional_data_is_refused_with_the_fix(x):
    with pytest.raises(ValueError, match=r"1-D tensor.*shape \(10, 10\).*reshape"):
        gaussian.make_trainer(x.reshape(10, 10))
    with pytest.raises(ValueError, match="1-D"):
        gaussian.model(x[:, None])


@pytest.mark.parametrize(
    "bad, match",
    [(torch.arange(10), "floating-point"), ([1.0, 2.0], "torch.Tensor")],
    ids=["integers", "list"],
)
def test_data_of_the_wrong_type_is_refused_with_the_fix(bad, match):
    with pytest.raises(TypeError, match=match):
        gaussian.cavi(bad)


def test_a_normal_guide_on_the_precision_does_not_train_silently(x):
    def normal_guide(x):  # q(gamma) = Normal: it puts mass on negative precisions
        pyro.sample("mu", dist.Normal(pyro.param("mu_loc", torch.tensor(0.0)), 1.0))
        pyro.sample("gamma", dist.Normal(pyro.param("gamma_loc", torch.tensor(1.0)), 1.0))

    with pytest.raises((ValueError, FloatingPointError)):
        trainer = gaussian.make_trainer(x, guide=normal_guide, num_steps=200)
        trainer.run(200, progress=False)
