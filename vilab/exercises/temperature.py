"""Exercise 1: the temperature/sensor model, the smallest posterior one can check by hand.

Model p(temp) p(sensor | temp):  temp ~ Normal(15, 2),  sensor ~ Normal(temp, 1),
with the sensor reading 18.0 observed. Guide q(temp) = Normal(a, b), b > 0.

Both are Gaussian, so the exact posterior is known (conjugate update):
precision 1/2^2 + 1/1^2 = 1.25, mean (15/4 + 18/1) / 1.25 = 17.4, i.e. Normal(17.4, sqrt(0.8)).
VI with this guide can reach it exactly, which makes it the first sanity check of the course.
"""

from __future__ import annotations

import math

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints

from ..config import pick_steps
from ..engine import Trainer
from ..plots import plot_density_comparison
from .base import ExerciseReport

NAME = "temperature"
TITLE = "Temperature/sensor model: VI against the exact Gaussian posterior"
PRIOR_LOC, PRIOR_SCALE, SENSOR_SCALE = 15.0, 2.0, 1.0
SENSOR_READING = torch.tensor(18.0)
FULL_STEPS, SMOKE_STEPS = 1500, 60
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


def model(sensor: torch.Tensor) -> None:
    """p(temp) p(sensor | temp)."""
    temp = pyro.sample("temp", dist.Normal(PRIOR_LOC, PRIOR_SCALE))
    pyro.sample("sensor", dist.Normal(temp, SENSOR_SCALE), obs=sensor)


def guide(sensor: torch.Tensor) -> None:
    """q(temp) = Normal(a, b) with learnable a and b > 0."""
    a = pyro.param("a", torch.tensor(PRIOR_LOC))
    b = pyro.param("b", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("temp", dist.Normal(a, b))


def exact_posterior(sensor: float = float(SENSOR_READING)) -> tuple[float, float]:
    """Mean and standard deviation of p(temp | sensor), from the conjugate Gaussian update."""
    precision = 1 / PRIOR_SCALE**2 + 1 / SENSOR_SCALE**2
    mean = (PRIOR_LOC / PRIOR_SCALE**2 + sensor / SENSOR_SCALE**2) / precision
    return mean, math.sqrt(1 / precision)


def make_trainer(
    seed: int = 0, model=model, guide=guide, sensor: float = float(SENSOR_READING), **options
) -> Trainer:
    """A Trainer on the observed ``sensor`` reading (18.0) with the course's model and guide,
    or yours (``model=``, ``guide=``); ``options`` override :data:`DEFAULT_OPTIONS`
    (e.g. ``lr=0.01``, ``optim="adam"``)."""
    reading = torch.as_tensor(sensor, dtype=torch.float32)
    return Trainer(model, guide, args=(reading,), seed=seed, **{**DEFAULT_OPTIONS, **options})


def vi_posterior(trainer: Trainer) -> tuple[float, float]:
    """Current q(temp) as (mean, std): the params ``a`` and ``b`` of the course's guide, or,
    for a guide with other names, the mean and sd of 4000 draws."""
    params = trainer.params()
    if {"a", "b"} <= set(params):
        return float(params["a"]), float(params["b"])
    draws = trainer.sample_posterior(4000, parallel=True)["temp"]
    return float(draws.mean()), float(draws.std())


def reading_of(trainer: Trainer) -> float:
    """The sensor reading a trainer was made with."""
    return float(trainer.args[0])


def plot_posterior(vi_loc: float, vi_scale: float, ax=None, sensor: float = float(SENSOR_READING)):
    """The VI density q(temp) drawn over the exact posterior density given ``sensor``."""
    mean, std = exact_posterior(sensor)
    grid = np.linspace(mean - 4.5 * std, mean + 4.5 * std, 400)
    return plot_density_comparison(
        grid,
        {
            f"exact posterior N({mean:.2f}, {std:.3f})": (mean, std),
            f"VI q(temp) N({vi_loc:.2f}, {vi_scale:.3f})": (vi_loc, vi_scale),
        },
        xlabel="temperature",
        title=f"Posterior of the temperature given sensor = {sensor:.1f}",
        ax=ax,
    )


def live_plot(trainer: Trainer, ax) -> None:
    """The "posterior now" view for the training panel: q(temp) moving onto the exact density."""
    ax.clear()
    plot_posterior(*vi_posterior(trainer), ax=ax, sensor=reading_of(trainer))


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Train the exercise end to end (what ``vilab run temperature`` does)."""
    num_steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke)
    trainer = make_trainer(seed=seed)
    trainer.run(num_steps, progress=progress)
    vi_loc, vi_scale = vi_posterior(trainer)
    exact_loc, exact_scale = exact_posterior()
    summary = {
        "posterior": {
            "temp": {
                "vi_mean": vi_loc,
                "vi_std": vi_scale,
                "exact_mean": exact_loc,
                "exact_std": exact_scale,
            }
        },
        "abs_error": {"mean": abs(vi_loc - exact_loc), "std": abs(vi_scale - exact_scale)},
    }
    figure = plot_posterior(vi_loc, vi_scale).figure
    return ExerciseReport(NAME, {"VI": trainer}, summary, {"posterior": figure})
