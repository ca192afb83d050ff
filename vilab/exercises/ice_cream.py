"""Day 1: ten sensor readings, then the ice-cream shop (the course's PPLs_Intro models).

Temperature from ten readings (a Python loop of sites, then ``pyro.plate``)::

    mean_temp ~ Normal(15, 2);   temp_i ~ Normal(mean_temp, 2);   sensor_i ~ Normal(temp_i, 1)

Integrating temp_i out gives sensor_i ~ Normal(mean_temp, sqrt(2^2 + 1^2)), so the exact
posterior of mean_temp is Gaussian: precision 1/4 + 10/5 = 2.25, mean (15/4 + 197.5/5) / 2.25
= 19.22, sd 1/1.5 = 0.667.

The ice-cream shop adds the daily sales and a Poisson rate that grows with the temperature::

    alpha, beta ~ Normal(0, 100);   sales_i ~ Poisson(max(0.001, alpha + beta * temp_i))

and the exercise (humidity) adds mean_humidity ~ Normal(80, 5), gamma ~ Normal(0, 100),
humidity_i ~ Normal(mean_humidity, 2), sensor_humidity_i ~ Normal(humidity_i, 1) and the
rate alpha + beta temp_i + gamma humidity_i. These are not conjugate: the reference is NUTS.
alpha and beta (and gamma) lie on a long ridge (only alpha + beta * 19 is pinned down by the
sales), so NUTS gives them sds of 30+ while a mean-field guide picks one point of the ridge
with a small sd: the quantities to compare are mean_temp, mean_humidity and the expected
sales on a typical day (:func:`typical_sales`).
"""

from __future__ import annotations

import inspect
import math
from typing import NamedTuple

import pyro
import pyro.distributions as dist
import torch
from pyro.infer.autoguide import AutoNormal
from pyro.infer.autoguide.initialization import init_to_median, init_to_value

from ..config import pick_steps
from ..engine import Trainer
from ..reference import run_nuts, summarize
from .base import ExerciseReport, choose_guide, lazy_plots

NAME = "ice_cream"
TITLE = "Day 1: ten temperature readings and the ice-cream shop (VI against NUTS)"
FULL_STEPS, SMOKE_STEPS = 1000, 100
DEFAULT_OPTIONS = {
    "lr": 0.05,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.999},
    "elbo": "meanfield",
    "num_particles": 8,
    "vectorize_particles": True,
}

READINGS = torch.tensor([18.0, 18.7, 19.2, 17.8, 20.3, 22.4, 20.3, 21.2, 19.5, 20.1])
SALES = torch.tensor([46.0, 47.0, 49.0, 44.0, 50.0, 54.0, 51.0, 52.0, 49.0, 53.0])
HUMIDITY_READINGS = torch.tensor([82.8, 87.6, 69.1, 74.2, 80.3, 94.2, 91.2, 92.2, 99.1, 93.2])
PRIOR_LOC, PRIOR_SCALE, DAY_SCALE, SENSOR_SCALE = 15.0, 2.0, 2.0, 1.0
HUMIDITY_LOC, HUMIDITY_SCALE = 80.0, 5.0
COEFFICIENT_SCALE = 100.0  # alpha, beta, gamma ~ Normal(0, 100)
RATE_FLOOR = 0.001
GLOBAL_SITES = ("mean_temp", "mean_humidity", "alpha", "beta", "gamma")
NUTS_SETTINGS = {"warmup_steps": 200, "num_samples": 300, "jit_compile": True}
# NUTS (500 warmup + 1000 draws, seed 0, jit) on the humidity model: mean and sd per site
# (11 min on a loaded 2-core machine). The same run gave alpha 7.3 (sd 36.6), beta 1.72 (sd
# 2.07), gamma 0.10 (sd 0.35): the ridge. Expected sales on a typical day: 48.9.
# Recomputed by tests/exercises/test_ice_cream_exercise.py::test_stored_nuts_reference.
HUMIDITY_NUTS_REFERENCE = {
    "mean_temp": (19.256, 0.675),
    "mean_humidity": (86.259, 0.718),
}


class ShopData(NamedTuple):
    """Ten days at the shop: the temperature sensor's readings, the sales and the humidity
    sensor's readings (named as the models' arguments)."""

    sensor: torch.Tensor
    sales: torch.Tensor
    sensor_humidity: torch.Tensor


def load_data(smoke: bool | None = None) -> ShopData:
    """The course's ten days (the same in smoke mode: ten numbers are cheap)."""
    return ShopData(READINGS, SALES, HUMIDITY_READINGS)


def data_for(model_fn, data: ShopData | None = None) -> tuple:
    """The observed data a model of this module takes, by its number of arguments:
    (sensor,), (sensor, sales) or (sensor, sensor_humidity, sales) of ``data``
    (default :func:`load_data`)."""
    data = load_data() if data is None else data
    choices = {
        1: (data.sensor,),
        2: (data.sensor, data.sales),
        3: (data.sensor, data.sensor_humidity, data.sales),
    }
    count = len(inspect.signature(model_fn).parameters)
    if count not in choices:
        raise ValueError(
            f"model must take 1 to 3 arguments, (sensor), (sensor, sales) or (sensor, "
            f"sensor_humidity, sales), got {count}. Fix: write def model(sensor, sales): ..."
        )
    return choices[count]


def temperature_model_loop(sensor: torch.Tensor) -> None:
    """mean_temp, then one temp_i / sensor_i pair of sites per reading (a Python loop)."""
    mean_temp = pyro.sample("mean_temp", dist.Normal(PRIOR_LOC, PRIOR_SCALE))
    for i in range(len(sensor)):
        temp = pyro.sample(f"temp_{i}", dist.Normal(mean_temp, DAY_SCALE))
        pyro.sample(f"sensor_{i}", dist.Normal(temp, SENSOR_SCALE), obs=sensor[i])


def temperature_model(sensor: torch.Tensor) -> None:
    """The same model with ``pyro.plate``: one vectorised site for the ten days."""
    mean_temp = pyro.sample("mean_temp", dist.Normal(PRIOR_LOC, PRIOR_SCALE))
    with pyro.plate("days", len(sensor)):
        temp = pyro.sample("temp", dist.Normal(mean_temp, DAY_SCALE))
        pyro.sample("sensor", dist.Normal(temp, SENSOR_SCALE), obs=sensor)


def exact_mean_temp(sensor: torch.Tensor = READINGS) -> tuple[float, float]:
    """Mean and sd of p(mean_temp | readings): temp_i integrated out, then the conjugate
    update with sensor_i ~ Normal(mean_temp, sqrt(DAY_SCALE^2 + SENSOR_SCALE^2))."""
    sensor = torch.as_tensor(sensor, dtype=torch.float64)
    reading_var = DAY_SCALE**2 + SENSOR_SCALE**2
    precision = 1 / PRIOR_SCALE**2 + len(sensor) / reading_var
    mean = (PRIOR_LOC / PRIOR_SCALE**2 + float(sensor.sum()) / reading_var) / precision
    return mean, math.sqrt(1 / precision)


def sales_rate(*terms: torch.Tensor) -> torch.Tensor:
    """max(0.001, sum of terms): a Poisson rate must be positive."""
    return torch.clamp(sum(terms), min=RATE_FLOOR)


def model(sensor: torch.Tensor, sales: torch.Tensor) -> None:
    """The ice-cream shop: sales grow with the (unobserved) temperature of the day."""
    mean_temp = pyro.sample("mean_temp", dist.Normal(PRIOR_LOC, PRIOR_SCALE))
    alpha = pyro.sample("alpha", dist.Normal(0.0, COEFFICIENT_SCALE))
    beta = pyro.sample("beta", dist.Normal(0.0, COEFFICIENT_SCALE))
    with pyro.plate("days", len(sensor)):
        temp = pyro.sample("temp", dist.Normal(mean_temp, DAY_SCALE))
        pyro.sample("sensor", dist.Normal(temp, SENSOR_SCALE), obs=sensor)
        pyro.sample("sales", dist.Poisson(sales_rate(alpha, beta * temp)), obs=sales)


def humidity_model(sensor: torch.Tensor, sensor_humidity: torch.Tensor, sales: torch.Tensor):
    """The exercise: humidity, measured by its own sensor, also drives the sales."""
    mean_temp = pyro.sample("mean_temp", dist.Normal(PRIOR_LOC, PRIOR_SCALE))
    mean_humidity = pyro.sample("mean_humidity", dist.Normal(HUMIDITY_LOC, HUMIDITY_SCALE))
    alpha = pyro.sample("alpha", dist.Normal(0.0, COEFFICIENT_SCALE))
    beta = pyro.sample("beta", dist.Normal(0.0, COEFFICIENT_SCALE))
    gamma = pyro.sample("gamma", dist.Normal(0.0, COEFFICIENT_SCALE))
    with pyro.plate("days", len(sensor)):
        temp = pyro.sample("temp", dist.Normal(mean_temp, DAY_SCALE))
        pyro.sample("sensor", dist.Normal(temp, SENSOR_SCALE), obs=sensor)
        humidity = pyro.sample("humidity", dist.Normal(mean_humidity, DAY_SCALE))
        pyro.sample("sensor_humidity", dist.Normal(humidity, SENSOR_SCALE), obs=sensor_humidity)
        rate = sales_rate(alpha, beta * temp, gamma * humidity)
        pyro.sample("sales", dist.Poisson(rate), obs=sales)


class ShopAutoNormal(AutoNormal):
    """AutoNormal started where the rate is positive (alpha = beta = 1, gamma = 0): from the
    prior median 0 every rate is clamped to 0.001 and the gradient through the clamp is 0."""

    def __init__(self, model, **options):
        start = {"alpha": torch.tensor(1.0), "beta": torch.tensor(1.0), "gamma": torch.tensor(0.0)}
        options.setdefault("init_loc_fn", init_to_value(values=start, fallback=init_to_median))
        super().__init__(model, **options)


GUIDES = {"auto_normal": ShopAutoNormal}  # an autoguide class: built on the model by choose_guide
guide = ShopAutoNormal  # the course's guide


def make_trainer(
    data: ShopData | None = None, guide="auto_normal", seed: int = 0, *, model=model, **options
) -> Trainer:
    """A Trainer on the shop's days ``data`` (default :func:`load_data`) with the model
    ``model`` (the shop; or e.g. your humidity model: it gets the data its signature asks
    for, :func:`data_for`) and the guide named ``guide`` (:data:`GUIDES`) or yours."""
    data = load_data() if data is None else data
    if not isinstance(data, ShopData):
        raise ValueError(
            f"data must be the shop's days as an ice_cream.ShopData, got "
            f"{type(data).__name__}. Fix: data=ice_cream.ShopData(sensor, sales, "
            f"sensor_humidity), or leave it out for the course's ten days."
        )
    return Trainer(
        model,
        choose_guide(guide, GUIDES, model),
        args=data_for(model, data),
        seed=seed,
        context=data,
        **{**DEFAULT_OPTIONS, **options},
    )


def posterior_summary(trainer: Trainer, num_samples: int = 2000) -> dict:
    """Mean and sd of each global site (and temp/humidity per day) from the guide."""
    samples = trainer.sample_posterior(num_samples, parallel=True)
    latent = {k: v.reshape(num_samples, -1).squeeze(-1) for k, v in samples.items()}
    return summarize({k: v for k, v in latent.items() if k not in ("sensor", "sales")})


def typical_sales(summary: dict, temp: float = 19.2, humidity: float = 86.3) -> float:
    """Expected sales on a typical day, alpha + beta temp (+ gamma humidity), from posterior
    means: the combination the data pin down, unlike alpha and beta themselves."""
    rate = summary["alpha"]["mean"] + summary["beta"]["mean"] * temp
    if "gamma" in summary:
        rate += summary["gamma"]["mean"] * humidity
    return rate


def nuts_reference(
    model_fn=humidity_model, seed: int = 0, data: ShopData | None = None, **settings
) -> dict:
    """NUTS on ``model_fn`` with its data: summaries per site (see :data:`NUTS_SETTINGS`)."""
    samples = run_nuts(
        model_fn,
        args=data_for(model_fn, data),
        seed=seed,
        ignore_jit_warnings=True,
        **{**NUTS_SETTINGS, **settings},
    )
    return summarize(samples)


def reference(data: ShopData | None = None) -> dict:
    """The answers VI is compared with: the exact posterior of mean_temp from the readings
    alone (the temperature model), and NUTS on the humidity model (the stored run for the
    course's days; a :data:`NUTS_SETTINGS` run for other data)."""
    data = load_data() if data is None else data
    mean, std = exact_mean_temp(data.sensor)
    if all(torch.equal(mine, course) for mine, course in zip(data, load_data())):
        nuts = {site: {"mean": m, "std": s} for site, (m, s) in HUMIDITY_NUTS_REFERENCE.items()}
    else:
        nuts = nuts_reference(humidity_model, data=data)
    return {
        "temperature_model": {"mean_temp": {"mean": mean, "std": std}},
        "humidity_model": {site: nuts[site] for site in HUMIDITY_NUTS_REFERENCE},
    }


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Train VI on the humidity model and compare with the stored NUTS reference."""
    num_steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke)
    trainer = make_trainer(data=load_data(smoke), seed=seed, model=humidity_model)
    trainer.run(num_steps, progress=progress)
    vi = posterior_summary(trainer)
    summary = {
        "exact_mean_temp_ten_readings": exact_mean_temp(),
        "posterior": {
            site: {
                "vi_mean": vi[site]["mean"],
                "vi_std": vi[site]["std"],
                "nuts_mean": HUMIDITY_NUTS_REFERENCE[site][0],
                "nuts_std": HUMIDITY_NUTS_REFERENCE[site][1],
            }
            for site in HUMIDITY_NUTS_REFERENCE
        },
        "typical_sales": typical_sales(vi),
        "vi": {site: vi[site] for site in GLOBAL_SITES},  # for the sales plot
    }
    return ExerciseReport(NAME, {"VI": trainer}, summary)


__getattr__ = lazy_plots(__name__)
