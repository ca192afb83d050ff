"""Exercise 1: the temperature/sensor model, the smallest posterior one can check by hand.

Model p(temp) p(sensor | temp):  temp ~ Normal(15, 2),  sensor ~ Normal(temp, 1),
with the sensor reading 18.0 observed. Guide q(temp) = Normal(a, b), b > 0.

Both are Gaussian, so the exact posterior is known (conjugate update):
precision 1/2^2 + 1/1^2 = 1.25, mean (15/4 + 18/1) / 1.25 = 17.4, i.e. Normal(17.4, sqrt(0.8)).
VI with this guide can reach it exactly, which makes it the first sanity check of the course.

This module is the annotated template of the exercise contract (:mod:`vilab.exercises.base`):
a new exercise starts as a copy of it and of ``temperature_figures.py``. It computes and never
draws; ``temperature.plots`` is the figures module, imported on first use.
"""

from __future__ import annotations

import math

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer.autoguide import AutoNormal

from ..config import pick_steps
from ..engine import Trainer
from ..validation import real_number
from .base import ExerciseReport, choose_guide, lazy_plots

# -- the constants every exercise has ---------------------------------------------------------
NAME = "temperature"  # the registry key: `vilab run temperature`, get_exercise("temperature")
TITLE = "Temperature/sensor model: VI against the exact Gaussian posterior"  # CLI, headings
FULL_STEPS, SMOKE_STEPS = 1500, 60  # class length; CI length (pick_steps chooses)
# The Trainer options the exercise is tuned with; make_trainer(**options) overrides them.
# Adam's noise floor with one sample would leave the mean ~0.05 off; the defaults average
# 10 samples per step (vectorised, cheap), use analytic KL (meanfield) and decay the
# learning rate 0.3% per step, so the answer settles within ~0.02 of the exact one.
DEFAULT_OPTIONS = {
    "lr": 0.1,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.997},
    "elbo": "meanfield",
    "num_particles": 10,
    "vectorize_particles": True,
}

# -- the exercise's own constants -------------------------------------------------------------
PRIOR_LOC, PRIOR_SCALE, SENSOR_SCALE = 15.0, 2.0, 1.0
SENSOR_READING = torch.tensor(18.0)


# -- data: what make_trainer trains on when given none -------------------------------------------
def load_data(smoke: bool | None = None) -> torch.Tensor:
    """The observed sensor reading, 18.0. (One number: smoke mode changes only the step
    count here; a dataset exercise returns its smaller smoke-mode sample when ``smoke``
    resolves to True, through ``vilab.config.resolve_smoke``.)"""
    return SENSOR_READING


# -- the course's model and guide (the notebook's reference answers) ----------------------------
def model(sensor: torch.Tensor) -> None:
    """p(temp) p(sensor | temp)."""
    temp = pyro.sample("temp", dist.Normal(PRIOR_LOC, PRIOR_SCALE))
    pyro.sample("sensor", dist.Normal(temp, SENSOR_SCALE), obs=sensor)


def guide(sensor: torch.Tensor) -> None:
    """q(temp) = Normal(a, b) with learnable a and b > 0."""
    a = pyro.param("a", torch.tensor(PRIOR_LOC))
    b = pyro.param("b", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("temp", dist.Normal(a, b))


# The guides make_trainer(guide=<name>) knows, the course's first (the default). An autoguide
# class is built on the model by base.choose_guide; AutoNormal here learns the same family.
GUIDES = {"normal": guide, "auto_normal": AutoNormal}


# -- the reference answer VI is checked against -------------------------------------------------
def exact_posterior(sensor: float = float(SENSOR_READING)) -> tuple[float, float]:
    """Mean and standard deviation of p(temp | sensor), from the conjugate Gaussian update."""
    precision = 1 / PRIOR_SCALE**2 + 1 / SENSOR_SCALE**2
    mean = (PRIOR_LOC / PRIOR_SCALE**2 + sensor / SENSOR_SCALE**2) / precision
    return mean, math.sqrt(1 / precision)


def reference(data=None) -> dict:
    """The exact posterior of ``temp`` given the reading ``data`` (default: :func:`load_data`),
    as numbers: ``{"temp": {"mean": 17.4, "std": 0.894}}``."""
    mean, std = exact_posterior(_reading(data))
    return {"temp": {"mean": mean, "std": std}}


# -- the trainer: data, guide, seed, then Trainer options -----------------------------------------
def make_trainer(data=None, guide="normal", seed: int = 0, *, model=model, **options):
    """A Trainer on the sensor reading ``data`` (default 18.0) with the guide named ``guide``
    (see :data:`GUIDES`) or a guide function of your own, and the course's model or yours
    (``model=``); ``options`` override :data:`DEFAULT_OPTIONS` (e.g. ``lr=0.01``,
    ``optim="adam"``). The reading is kept as ``trainer.context`` for the plots."""
    reading = torch.tensor(_reading(data))
    return Trainer(
        model,
        choose_guide(guide, GUIDES, model),
        args=(reading,),
        seed=seed,
        context=reading,  # the trainer's own data: live_plot and figures read it from here
        **{**DEFAULT_OPTIONS, **options},
    )


def _reading(data) -> float:
    """``data`` as the reading (a number or 0-d tensor), :func:`load_data` when None."""
    if data is None:
        data = load_data()
    return real_number("data", data, fix="pass the sensor reading, e.g. data=25.0.")


def reading_of(trainer: Trainer) -> float:
    """The sensor reading a trainer was made with (its ``context``)."""
    if trainer.context is None:
        raise ValueError(
            "Expected a trainer that keeps its sensor reading in trainer.context, got one "
            "without. Fix: temperature.make_trainer(data=reading, guide=...), or "
            "Trainer(model, guide, args=(reading,), context=reading)."
        )
    return float(trainer.context)


def vi_posterior(trainer: Trainer) -> tuple[float, float]:
    """Current q(temp) as (mean, std): the params ``a`` and ``b`` of the course's guide, or,
    for a guide with other names, the mean and sd of 4000 draws."""
    params = trainer.params()
    if {"a", "b"} <= set(params):
        return float(params["a"]), float(params["b"])
    draws = trainer.sample_posterior(4000, parallel=True)["temp"]
    return float(draws.mean()), float(draws.std())


# -- end to end: numbers only (temperature.plots.figures(report) draws them) ----------------------
def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Train the exercise end to end (what ``vilab run temperature`` does)."""
    num_steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke)
    trainer = make_trainer(data=load_data(smoke), seed=seed)
    trainer.run(num_steps, progress=progress)
    vi_loc, vi_scale = vi_posterior(trainer)
    exact = reference(trainer.context)["temp"]
    summary = {
        "posterior": {
            "temp": {
                "vi_mean": vi_loc,
                "vi_std": vi_scale,
                "exact_mean": exact["mean"],
                "exact_std": exact["std"],
            }
        },
        "abs_error": {"mean": abs(vi_loc - exact["mean"]), "std": abs(vi_scale - exact["std"])},
    }
    return ExerciseReport(NAME, {"VI": trainer}, summary)


# `temperature.plots` is temperature_figures, imported on first use (the last line of every
# exercise: the numbers module never imports its figures module itself).
__getattr__ = lazy_plots(__name__)
