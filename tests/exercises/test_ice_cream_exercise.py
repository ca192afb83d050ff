"""The Day-1 exercise: the exact posterior of mean_temp (checked by Gaussian conditioning),
loop and plate models agree, VI against the exact answer and against NUTS.

Tolerances (VI with the exercise's options, VI_STEPS steps; 1000 for the humidity model):
means of mean_temp (and mean_humidity) within 0.25 posterior sd of the reference, their sds
within 20% (25% for the humidity model, on the small side: mean-field); the expected sales
on a typical day within 5%. alpha and beta are not compared: they lie on a ridge that a
mean-field guide cannot follow (see the module docstring)."""

from __future__ import annotations

import os

import pyro.poutine as poutine
import pytest
import torch

from vilab.exercises import ice_cream as ex

_CACHE: dict = {}
VI_STEPS = 1500  # humidity starts at its prior median 80: at 600 steps it is 0.2-0.35 short


def test_exact_mean_temp_matches_gaussian_conditioning():
    """Condition the joint Gaussian of (mean_temp, sensor_1..10) on the readings directly."""
    n = len(ex.READINGS)
    prior_var = ex.PRIOR_SCALE**2
    reading_var = ex.DAY_SCALE**2 + ex.SENSOR_SCALE**2
    cov_xx = prior_var * torch.ones(n, n, dtype=torch.float64) + reading_var * torch.eye(
        n, dtype=torch.float64
    )
    cov_mx = prior_var * torch.ones(1, n, dtype=torch.float64)
    x = ex.READINGS.double() - ex.PRIOR_LOC
    gain = cov_mx @ torch.linalg.inv(cov_xx)
    mean = ex.PRIOR_LOC + float(gain @ x)
    sd = float(prior_var - gain @ cov_mx.T) ** 0.5
    exact = ex.exact_mean_temp()
    assert exact == pytest.approx((mean, sd), abs=1e-9)
    assert (round(exact[0], 2), round(exact[1], 3)) == (19.22, 0.667)  # the course's numbers


def test_loop_and_plate_models_have_the_same_density():
    plate = poutine.trace(ex.temperature_model).get_trace(ex.READINGS)
    temps = plate.nodes["temp"]["value"]
    values = {"mean_temp": plate.nodes["mean_temp"]["value"]}
    values.update({f"temp_{i}": temps[i] for i in range(len(temps))})
    loop = poutine.trace(poutine.condition(ex.temperature_model_loop, data=values)).get_trace(
        ex.READINGS
    )
    assert float(loop.log_prob_sum()) == pytest.approx(float(plate.log_prob_sum()), rel=1e-5)
    assert len([n for n in loop.nodes if n.startswith("sensor_")]) == 10


def test_make_trainer_trains_the_model_it_is_given():
    trainer = ex.make_trainer(model=ex.temperature_model, seed=0)
    assert trainer.model is ex.temperature_model and trainer.args == (ex.READINGS,)
    trainer.run(5, progress=False)
    assert set(ex.posterior_summary(trainer, num_samples=10)) == {"mean_temp", "temp"}


def test_vi_on_the_plate_model_reaches_the_exact_posterior():
    trainer = ex.make_trainer(model=ex.temperature_model, seed=0)
    trainer.run(VI_STEPS, progress=False)
    vi = ex.posterior_summary(trainer)["mean_temp"]
    exact_mean, exact_sd = ex.exact_mean_temp()
    assert abs(vi["mean"] - exact_mean) < 0.25 * exact_sd
    # mean-field: q ignores the correlation of mean_temp with the days, so its sd is smaller
    assert 0.8 * exact_sd < vi["std"] <= 1.02 * exact_sd


def _vi(model_fn):
    if model_fn not in _CACHE:
        trainer = ex.make_trainer(model=model_fn, seed=0)
        trainer.run(VI_STEPS, progress=False)
        _CACHE[model_fn] = ex.posterior_summary(trainer)
    return _CACHE[model_fn]


def test_ice_cream_vi_against_a_short_nuts_run():
    """NUTS: 150 warmup + 150 draws, jit (14 s on a loaded core; a shorter warmup tunes a
    smaller step and runs longer)."""
    nuts = ex.nuts_reference(ex.model, seed=0, warmup_steps=150, num_samples=150)
    vi = _vi(ex.model)
    assert (
        abs(vi["mean_temp"]["mean"] - nuts["mean_temp"]["mean"]) < 0.25 * nuts["mean_temp"]["std"]
    )
    assert vi["mean_temp"]["std"] == pytest.approx(nuts["mean_temp"]["std"], rel=0.2)
    assert ex.typical_sales(vi) == pytest.approx(ex.typical_sales(nuts), rel=0.05)
    # the ridge: NUTS spreads alpha over tens of ice creams, mean-field VI does not
    assert nuts["alpha"]["std"] > 10 * vi["alpha"]["std"]


def test_humidity_vi_against_the_stored_nuts_reference():
    """The full 1000 steps (at 600, mean_humidity is still 0.3 sd short). Mean-field q ignores
    the correlations of mean_temp with the day temperatures and the coefficients: its sds
    come out 10-25% small (measured: 0.53 against 0.675 for mean_temp)."""
    trainer = ex.make_trainer(model=ex.humidity_model, seed=0)
    trainer.run(ex.FULL_STEPS, progress=False)
    vi = ex.posterior_summary(trainer)
    for site, (nuts_mean, nuts_sd) in ex.HUMIDITY_NUTS_REFERENCE.items():
        assert abs(vi[site]["mean"] - nuts_mean) < 0.25 * nuts_sd, site
        assert 0.75 * nuts_sd < vi[site]["std"] < 1.05 * nuts_sd, site
    assert ex.typical_sales(vi) == pytest.approx(49.0, rel=0.05)  # mean sales 49.5


@pytest.mark.skipif(
    os.environ.get("VILAB_RECOMPUTE_REFERENCES") != "1",
    reason="recomputes the stored NUTS reference (about 2 min): VILAB_RECOMPUTE_REFERENCES=1",
)
def test_stored_nuts_reference():
    nuts = ex.nuts_reference(ex.humidity_model, seed=0, warmup_steps=500, num_samples=1000)
    for site, (mean, sd) in ex.HUMIDITY_NUTS_REFERENCE.items():
        assert nuts[site]["mean"] == pytest.approx(mean, abs=0.05)
        assert nuts[site]["std"] == pytest.approx(sd, abs=0.05)


def test_train_reports_vi_against_nuts():
    report = ex.train(num_steps=5, progress=False)
    assert set(report.summary["posterior"]) == {"mean_temp", "mean_humidity"}
    assert report.trainers["VI"].num_steps_done == 5
    figures = ex.plots.figures(report)
    assert [ax.get_xlabel() for ax in figures["posterior"].axes] == ["mean_temp", "mean_humidity"]
    (days,) = figures["sales"].axes[0].get_lines()[:1]
    assert list(days.get_ydata()) == ex.SALES.tolist()


def test_reference_is_exact_for_the_readings_and_nuts_for_humidity():
    reference = ex.reference()
    assert reference["temperature_model"]["mean_temp"] == dict(
        zip(("mean", "std"), ex.exact_mean_temp())
    )
    assert reference["humidity_model"]["mean_humidity"] == {"mean": 86.259, "std": 0.718}


def test_reference_on_other_days_runs_nuts_on_them(monkeypatch):
    calls = []

    def fake_nuts(model_fn, data=None, **settings):  # NUTS itself: the tests above
        calls.append((model_fn, data))
        return {site: {"mean": 1.0, "std": 2.0} for site in ("mean_temp", "mean_humidity")}

    monkeypatch.setattr(ex, "nuts_reference", fake_nuts)
    days = ex.ShopData(ex.READINGS, ex.SALES, ex.HUMIDITY_READINGS + 10)
    reference = ex.reference(days)
    assert calls == [(ex.humidity_model, days)]
    assert reference["humidity_model"]["mean_humidity"] == {"mean": 1.0, "std": 2.0}
    assert reference["temperature_model"]["mean_temp"]["mean"] == pytest.approx(19.222, abs=1e-3)
    assert ex.reference() and len(calls) == 1  # the course's days: the stored run


def test_the_trainer_keeps_its_days_and_refuses_other_data():
    days = ex.ShopData(ex.READINGS + 5, ex.SALES, ex.HUMIDITY_READINGS)
    trainer = ex.make_trainer(days, model=ex.humidity_model)
    assert trainer.context is days and torch.equal(trainer.args[0], ex.READINGS + 5)
    assert isinstance(trainer.guide, ex.ShopAutoNormal)
    with pytest.raises(ValueError, match=r"data must be the shop's days as an ice_cream.ShopData"):
        ex.make_trainer(data=(ex.READINGS, ex.SALES))
    with pytest.raises(ValueError, match=r"model must take 1 to 3 arguments.*got 4"):
        ex.make_trainer(model=lambda a, b, c, d: None)
