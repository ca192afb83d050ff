"""Autoguides left at Pyro's start begin at the mode of the log joint (vilab.autoguide_start):
at least squares on a regression, nowhere up a funnel, never for a start the student chose,
a hand-written guide, AutoDelta or a minibatch; reproducible after a reset and a rebuild."""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import pytest
import torch
from pyro.infer.autoguide import (
    AutoDelta,
    AutoDiagonalNormal,
    AutoMultivariateNormal,
    AutoNormal,
    init_to_median,
    init_to_value,
)
from pyro.infer.autoguide.initialization import init_to_feasible

from vilab import Trainer
from vilab.autoguide_start import can_start_at_map, find_mode, start_at_map
from vilab.scope import PrivateScope

# A regression whose intercept (~9) sits 0.9 prior sd from the prior's centre, as in the
# course's rugged regression: Pyro's start puts it at 0.
X = torch.linspace(0.0, 3.0, 40)
Y = 9.0 + 0.5 * X + 0.3 * torch.sin(7.0 * X)  # fixed "noise": the numbers below are exact


def regression(x, y):
    a = pyro.sample("a", dist.Normal(0.0, 10.0))
    b = pyro.sample("b", dist.Normal(0.0, 10.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(5.0))
    with pyro.plate("data", len(x)):
        pyro.sample("y", dist.Normal(a + b * x, sigma), obs=y)


def least_squares():
    design = torch.stack([torch.ones_like(X), X], dim=1)
    coef = torch.linalg.lstsq(design, Y.unsqueeze(1)).solution.squeeze(1)
    return coef, (Y - design @ coef).pow(2).mean().sqrt()


def locations(trainer) -> dict:
    """The guide's locations (unconstrained), per site, as floats."""
    guide = trainer.guide
    with trainer.scope, torch.no_grad():
        if isinstance(guide, AutoNormal):
            return {name: float(getattr(guide.locs, name)) for name in ("a", "b", "sigma")}
        return dict(zip(("a", "b", "sigma"), guide.loc.tolist()))


@pytest.mark.parametrize("autoguide", [AutoNormal, AutoMultivariateNormal, AutoDiagonalNormal])
def test_a_default_autoguide_starts_at_least_squares(autoguide):
    coef, rms = least_squares()
    trainer = Trainer(regression, autoguide(regression), args=(X, Y), seed=0)
    start = locations(trainer)
    # a prior sd of 10 moves the mode by < 0.002 from least squares; sigma's mode on the log
    # scale (with the Jacobian) is the residual rms shrunk by sqrt(n / (n + 1))-ish
    assert start["a"] == pytest.approx(float(coef[0]), abs=0.005)
    assert start["b"] == pytest.approx(float(coef[1]), abs=0.005)
    assert torch.exp(torch.tensor(start["sigma"])) == pytest.approx(float(rms), rel=0.05)


def test_without_the_map_start_the_intercept_starts_at_pyros_zero():
    trainer = Trainer(regression, AutoNormal(regression), args=(X, Y), autoguide_start=None)
    assert locations(trainer) == {"a": 0.0, "b": 0.0, "sigma": 0.0}


def test_the_map_start_takes_hundreds_of_steps_off_the_intercepts_trip():
    errors = {}
    for start in ("map", None):
        trainer = Trainer(regression, AutoNormal(regression), args=(X, Y), autoguide_start=start)
        trainer.step(100)
        errors[start] = abs(locations(trainer)["a"] - float(least_squares()[0][0]))
    assert errors["map"] < 0.1 < 2.0 < errors[None]  # at lr 0.1, 100 steps carry a ~<7 from 0


@pytest.mark.parametrize("autoguide", [AutoNormal, AutoMultivariateNormal])
def test_reset_and_a_rebuilt_trainer_repeat_the_run_from_the_map_start(autoguide):
    guide = autoguide(regression)
    first = Trainer(regression, guide, args=(X, Y), seed=5)
    start = locations(first)
    first.step(40)
    trace = list(first.history.loss)
    first.reset()
    assert locations(first) == start
    first.step(40)
    assert first.history.loss == trace
    again = Trainer(regression, guide, args=(X, Y), seed=5)  # the guide is trained and set up
    assert locations(again) == start
    again.step(40)
    assert again.history.loss == trace


def test_a_start_the_student_chose_is_kept():
    values = {"a": torch.tensor(1.0), "b": torch.tensor(2.0), "sigma": torch.tensor(1.0)}
    chosen = init_to_value(values=values)
    guide = AutoNormal(regression, init_loc_fn=chosen)
    assert not can_start_at_map(guide)
    trainer = Trainer(regression, guide, args=(X, Y))
    assert locations(trainer) == {"a": 1.0, "b": 2.0, "sigma": 0.0}
    assert not can_start_at_map(AutoMultivariateNormal(regression, init_loc_fn=init_to_feasible))
    assert not can_start_at_map(AutoNormal(regression, init_loc_fn=init_to_median))


def test_a_guide_called_before_the_trainer_keeps_its_start():
    guide = AutoNormal(regression)
    assert can_start_at_map(guide)
    with PrivateScope(0):
        guide(X, Y)  # the student looked at a draw: the guide is set up, at Pyro's start
    assert not can_start_at_map(guide)


def test_hand_written_guides_autodelta_and_minibatches_are_left_alone():
    def guide(x, y):
        for name in ("a", "b"):
            pyro.sample(name, dist.Normal(pyro.param(f"{name}_loc", torch.tensor(0.0)), 1.0))
        pyro.sample("sigma", dist.LogNormal(pyro.param("s_loc", torch.tensor(0.0)), 0.1))

    assert not can_start_at_map(guide)
    assert not can_start_at_map(AutoDelta(regression))  # MAP itself: nothing left to watch
    plain = [Trainer(regression, guide, args=(X, Y), autoguide_start=s) for s in ("map", None)]
    for trainer in plain:
        trainer.step(20)
    assert plain[0].history.loss == plain[1].history.loss
    assert plain[0].param("a_loc") == plain[1].param("a_loc")
    batched = Trainer(regression, AutoNormal(regression), batch_fn=lambda step: (X, Y))
    assert locations(batched) == {"a": 0.0, "b": 0.0, "sigma": 0.0}


def test_a_subsampled_plate_is_not_searched():
    def minibatch_model(x, y):
        a = pyro.sample("a", dist.Normal(0.0, 10.0))
        with pyro.plate("data", len(x), subsample_size=10) as index:
            pyro.sample("y", dist.Normal(a, 1.0), obs=y[index])

    guide = AutoNormal(minibatch_model)
    with PrivateScope(0):
        guide(X, Y)
        assert find_mode(minibatch_model, guide, (X, Y)) is None


# Eight schools (Rubin 1981): the centred form is a funnel (theta_j -> mu, tau -> 0 sends the
# log joint to +inf), the non-centred one has a mode.
Y8 = torch.tensor([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
S8 = torch.tensor([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def centred(y, s):
    mu = pyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(5.0))
    with pyro.plate("schools", len(y)):
        theta = pyro.sample("theta", dist.Normal(mu, tau))
        pyro.sample("y", dist.Normal(theta, s), obs=y)


def non_centred(y, s):
    mu = pyro.sample("mu", dist.Normal(0.0, 5.0))
    tau = pyro.sample("tau", dist.HalfCauchy(5.0))
    with pyro.plate("schools", len(y)):
        eta = pyro.sample("eta", dist.Normal(0.0, 1.0))
        pyro.sample("y", dist.Normal(mu + tau * eta, s), obs=y)


@pytest.mark.parametrize("autoguide", [AutoNormal, AutoMultivariateNormal])
def test_a_funnel_keeps_pyros_start(autoguide):
    guide = autoguide(centred)
    with PrivateScope(0):
        guide(Y8, S8)
        before = {k: v.detach().clone() for k, v in pyro.get_param_store().named_parameters()}
        assert start_at_map(centred, guide, (Y8, S8)) is False
        after = dict(pyro.get_param_store().named_parameters())
        assert all(torch.equal(before[k], after[k]) for k in before)


def test_a_funnel_climbs_without_a_mode_and_is_refused():
    def funnel(y):  # the centred funnel with the data taken out: nothing holds tau up
        tau = pyro.sample("tau", dist.LogNormal(0.0, 3.0))
        with pyro.plate("groups", 8):
            pyro.sample("theta", dist.Normal(0.0, tau))

    guide = AutoNormal(funnel)
    with PrivateScope(0):
        guide(Y8)
        search = find_mode(funnel, guide, (Y8,))
    assert not search.found
    assert search.end_value > search.start_value  # it did climb: the log joint is unbounded


def test_the_non_centred_schools_start_at_a_finite_mode():
    trainer = Trainer(non_centred, AutoNormal(non_centred), args=(Y8, S8), seed=0)
    with trainer.scope:
        mu, tau = float(trainer.guide.locs.mu), float(trainer.guide.locs.tau)
    # the mode on the unconstrained scale (log tau's Jacobian keeps tau off 0): measured
    assert mu == pytest.approx(1.43, abs=0.01)
    assert torch.exp(torch.tensor(tau)) == pytest.approx(29.1, rel=0.02)


def test_a_model_that_fails_off_its_start_keeps_pyros_start_silently():
    calls = []

    def fragile(x, y):
        calls.append(1)
        if len(calls) > 3:  # the set-up and the checks run it; the search's runs fail
            raise RuntimeError("model broke")
        regression(x, y)

    guide = AutoNormal(fragile)
    with PrivateScope(0):
        guide(X, Y)
        assert start_at_map(fragile, guide, (X, Y)) is False


def test_a_bad_option_is_named():
    with pytest.raises(ValueError, match=r"autoguide_start must be one of 'map', None, got 'mle'"):
        Trainer(regression, AutoNormal(regression), args=(X, Y), autoguide_start="mle")


def test_a_saddle_at_pyros_start_is_not_taken_for_a_mode():
    def product(y):  # y ~ N(w1 w2, 1): at w = 0 the gradient is 0 and the Hessian indefinite
        w1 = pyro.sample("w1", dist.Normal(0.0, 1.0))
        w2 = pyro.sample("w2", dist.Normal(0.0, 1.0))
        pyro.sample("y", dist.Normal(w1 * w2, 1.0), obs=y)

    guide = AutoNormal(product)
    with PrivateScope(0):
        guide(torch.tensor(2.0))
        search = find_mode(product, guide, (torch.tensor(2.0),))
    assert search.expected_gain == float("inf") and not search.found


def test_a_model_with_many_latent_numbers_is_left_to_pyro():
    def wide(y):
        pyro.sample("w", dist.Normal(torch.zeros(101), 1.0).to_event(1))

    guide = AutoNormal(wide)
    with PrivateScope(0):
        guide(None)
        assert find_mode(wide, guide, (None,)) is None


def test_a_prior_median_thousands_away_is_replaced_by_the_mode():
    x = 5.0 + torch.linspace(-1.0, 1.0, 50)

    def vague(x):  # the course's simple Gaussian: a mean with prior sd 1e4, a precision
        mu = pyro.sample("mu", dist.Normal(0.0, 1e4))
        precision = pyro.sample("precision", dist.Gamma(1.0, 1.0))
        with pyro.plate("data", len(x)):
            pyro.sample("x", dist.Normal(mu, precision.rsqrt()), obs=x)

    mu_loc = {}
    for start in ("map", None):
        trainer = Trainer(vague, AutoMultivariateNormal(vague), args=(x,), autoguide_start=start)
        with trainer.scope:
            mu_loc[start] = float(trainer.guide.loc[0])
    assert abs(mu_loc[None]) > 1000  # Pyro's start: a median of 15 prior draws (seed 0)
    assert mu_loc["map"] == pytest.approx(5.0, abs=1e-3)
