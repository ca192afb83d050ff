"""Exercise: Bayesian logistic regression. Is a country African, given its terrain
ruggedness and its GDP? (Ruggedness data, Nunn & Puga 2012: 170 countries, 49 African.)

The two inputs are *standardised* with the training countries' mean and sd, so that one
prior scale suits every coefficient and the intercept is the log-odds of an average
country. Model, for country i with standardised inputs (r_i, g_i):

    intercept, w_rugged, w_gdp ~ Normal(0, 2.5)                 each, independently
    africa_i ~ Bernoulli(logits = intercept + w_rugged r_i + w_gdp g_i)

(2.5 on the log-odds scale per sd of an input: large effects allowed, absurd ones not.)
Guide: one Normal(loc, scale) per coefficient, or an AutoNormal. Reference: NUTS on the
same model. 30% of the countries (seeded split) are held out to measure accuracy and
calibration of the posterior predictive probabilities. The pictures live in
:mod:`.logistic_regression_figures`, reached as ``logistic_regression.plots``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer.autoguide import AutoNormal

from ..config import pick_steps, resolve_smoke
from ..engine import Trainer
from ..plots.calibration import reliability_curve
from ..reference import run_nuts, summarize
from .base import ExerciseReport, choose_guide, lazy_plots

NAME = "logistic_regression"
TITLE = "Bayesian logistic regression: African or not, from ruggedness and GDP (VI vs NUTS)"
SITES = ("intercept", "w_rugged", "w_gdp")
FEATURES = ("terrain ruggedness index", "log GDP per capita (2000)")
PRIOR_SCALE = 2.5  # sd of the Normal prior of every coefficient (standardised inputs)
TEST_FRACTION, SPLIT_SEED = 0.3, 0
FULL_STEPS, SMOKE_STEPS = 2000, 400
NUTS_FULL = {"warmup_steps": 300, "num_samples": 400}
NUTS_SMOKE = {"warmup_steps": 100, "num_samples": 100}
DEFAULT_OPTIONS = {
    "lr": 0.05,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.999},
    "elbo": "meanfield",
    "num_particles": 8,
    "vectorize_particles": True,
}


def check_xy(x, y=None) -> None:
    """Inputs as an (N, 2) float tensor, labels (if given) as N floats equal to 0 or 1."""
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        got = x.dtype if isinstance(x, torch.Tensor) else type(x).__name__
        raise TypeError(
            f"Expected x as a float torch.Tensor, got {got}. "
            f"Fix: x = torch.as_tensor(x, dtype=torch.float32)."
        )
    if x.dim() != 2 or x.shape[1] != 2:
        raise ValueError(
            f"Expected x of shape (N, 2): one row per country, columns (ruggedness, log GDP), "
            f"got shape {tuple(x.shape)}. Fix: x = torch.stack([rugged, log_gdp], dim=-1)."
        )
    if y is None:
        return
    if not isinstance(y, torch.Tensor) or not y.is_floating_point():
        got = y.dtype if isinstance(y, torch.Tensor) else type(y).__name__
        raise TypeError(
            f"Expected y as a float torch.Tensor of 0.0/1.0 (Bernoulli observations "
            f"are floats in Pyro), got {got}. Fix: y = y.float()."
        )
    if y.shape != (len(x),):
        raise ValueError(
            f"Expected y of shape ({len(x)},), one label per row of x, got shape "
            f"{tuple(y.shape)}. Fix: y = y.reshape(-1) if it holds one label per row."
        )
    if not bool(((y == 0) | (y == 1)).all()):
        raise ValueError(
            f"Expected labels 0 or 1 (1 = African), got the values "
            f"{torch.unique(y)[:6].tolist()}. Fix: y = (labels == positive_class).float()."
        )


def model(x: torch.Tensor, y: torch.Tensor | None = None) -> None:
    """p(intercept) p(w_rugged) p(w_gdp) prod_i Bernoulli(africa_i | sigmoid(logit_i))."""
    check_xy(x, y)
    intercept = pyro.sample("intercept", dist.Normal(0.0, PRIOR_SCALE))
    w_rugged = pyro.sample("w_rugged", dist.Normal(0.0, PRIOR_SCALE))
    w_gdp = pyro.sample("w_gdp", dist.Normal(0.0, PRIOR_SCALE))
    logits = intercept + w_rugged * x[:, 0] + w_gdp * x[:, 1]
    with pyro.plate("countries", len(x)):
        pyro.sample("africa", dist.Bernoulli(logits=logits), obs=y)


def guide(x: torch.Tensor, y: torch.Tensor | None = None) -> None:
    """q = prod over the coefficients of Normal(<name>_loc, <name>_scale), scale > 0."""
    for name in SITES:
        loc = pyro.param(f"{name}_loc", torch.tensor(0.0))
        scale = pyro.param(f"{name}_scale", torch.tensor(0.1), constraint=constraints.positive)
        pyro.sample(name, dist.Normal(loc, scale))


GUIDES = {"manual": guide, "auto": AutoNormal}


# -- data --------------------------------------------------------------------------------


@dataclass
class SplitData:
    """Standardised train/test inputs and labels; ``x_mean``/``x_std`` (of the training
    countries) convert raw inputs with :meth:`standardise`."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    x_mean: torch.Tensor
    x_std: torch.Tensor

    def standardise(self, x_raw) -> torch.Tensor:
        return (torch.as_tensor(x_raw, dtype=torch.float32) - self.x_mean) / self.x_std

    def raw(self, x) -> torch.Tensor:
        return x * self.x_std + self.x_mean


def make_data(
    rugged=None, test_fraction: float = TEST_FRACTION, seed: int = SPLIT_SEED
) -> SplitData:
    """Split the countries at random (seeded) and standardise with the training statistics
    only, so nothing about the held-out countries leaks into training."""
    if rugged is None:
        from ..datasets import load_rugged

        rugged = load_rugged()
    if not 0 < test_fraction < 1:
        raise ValueError(f"Expected 0 < test_fraction < 1, got {test_fraction!r}.")
    x = torch.stack([rugged.rugged, rugged.log_gdp], dim=-1).float()
    y = rugged.cont_africa.float()
    check_xy(x, y)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    num_test = round(test_fraction * len(x))
    test, train = order[:num_test], order[num_test:]
    x_mean, x_std = x[train].mean(0), x[train].std(0)
    scaled = (x - x_mean) / x_std
    return SplitData(scaled[train], y[train], scaled[test], y[test], x_mean, x_std)


def load_data(smoke: bool | None = None) -> SplitData:
    """The course's split (seed 0, 30% held out), made once per session (the same in smoke
    mode: 170 countries are few, smoke mode only shortens the runs)."""
    return _course_split()


@functools.lru_cache(maxsize=1)
def _course_split() -> SplitData:
    return make_data()


# -- training and references -------------------------------------------------------------


def make_trainer(
    data: SplitData | None = None, guide="manual", seed: int = 0, **options
) -> Trainer:
    """A Trainer on the training countries of ``data`` (default :func:`load_data`), kept as
    ``trainer.context`` for the plots; ``guide`` is "manual" (:func:`guide`), "auto"
    (``AutoNormal``) or your own guide; ``options`` override :data:`DEFAULT_OPTIONS`."""
    data = load_data() if data is None else data
    return Trainer(
        model,
        choose_guide(guide, GUIDES, model),
        args=(data.x_train, data.y_train),
        seed=seed,
        context=data,
        **{**DEFAULT_OPTIONS, **options},
    )


def vi_samples(trainer: Trainer, num_samples: int = 2000) -> dict[str, torch.Tensor]:
    """Draws of the coefficients from the trained guide, {site: (num_samples,) tensor}: one
    vectorised call of the guide (``trainer.sample_posterior``), leaving the training's
    random stream alone."""
    samples = trainer.sample_posterior(num_samples)
    return {name: samples[name].reshape(-1) for name in SITES}


def nuts_samples(
    data: SplitData | None = None, seed: int = 0, smoke: bool | None = None, **options
) -> dict[str, torch.Tensor]:
    """The reference posterior by NUTS (300 warmup + 400 draws; 100 + 100 in smoke mode)."""
    data = load_data() if data is None else data
    settings = {**(NUTS_SMOKE if resolve_smoke(smoke) else NUTS_FULL), **options}
    return run_nuts(model, args=(data.x_train, data.y_train), seed=seed, **settings)


def reference(data: SplitData | None = None, seed: int = 0, smoke: bool | None = None) -> dict:
    """The NUTS answer: mean, std and 95% interval of each coefficient,
    {site: {"mean", "std", "q0.025", "q0.5", "q0.975"}}."""
    return summarize(nuts_samples(data, seed=seed, smoke=smoke))


def predict_proba(samples: dict, x: torch.Tensor) -> torch.Tensor:
    """Posterior predictive P(african | x): sigmoid(logit) averaged over the coefficient
    draws (not the sigmoid of the mean coefficients), for inputs x of shape (M, 2)."""
    check_xy(x)
    intercept, w_rugged, w_gdp = (samples[name].reshape(-1, 1) for name in SITES)
    logits = intercept + w_rugged * x[:, 0] + w_gdp * x[:, 1]
    return torch.sigmoid(logits).mean(0)


def accuracy(prob, y) -> float:
    """Fraction of cases where P > 0.5 picks the observed label."""
    return float(((torch.as_tensor(prob) > 0.5).float() == torch.as_tensor(y)).float().mean())


def majority_rate(y_train, y_test) -> float:
    """Accuracy of always guessing the training set's most common class: the bar to beat."""
    guess = float(torch.as_tensor(y_train).mean() > 0.5)
    return float((torch.as_tensor(y_test) == guess).float().mean())


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Train VI, run NUTS and evaluate on the held-out countries
    (``vilab run logistic_regression``)."""
    num_steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke)
    data = load_data(smoke)
    trainer = make_trainer(data, seed=seed)
    trainer.run(num_steps, progress=progress)
    vi, nuts = vi_samples(trainer), nuts_samples(data, seed=seed, smoke=smoke)
    vi_sum, nuts_sum = summarize(vi), summarize(nuts)
    prob_test = predict_proba(vi, data.x_test)
    curve = reliability_curve(prob_test.numpy(), data.y_test.numpy(), num_bins=5)
    summary = {
        "standardisation": {"mean": data.x_mean.tolist(), "std": data.x_std.tolist()},
        "coefficients": {
            name: {
                "vi_mean": vi_sum[name]["mean"],
                "vi_std": vi_sum[name]["std"],
                "nuts_mean": nuts_sum[name]["mean"],
                "nuts_std": nuts_sum[name]["std"],
                "abs_mean_difference": abs(vi_sum[name]["mean"] - nuts_sum[name]["mean"]),
            }
            for name in SITES
        },
        "num_train": len(data.y_train),
        "num_test": len(data.y_test),
        "test_accuracy": accuracy(prob_test, data.y_test),
        "majority_class_rate": majority_rate(data.y_train, data.y_test),
        "expected_calibration_error": curve.expected_calibration_error,
        "reliability": {  # empty bins (NaN) become null in the JSON summary
            "mean_predicted": _nan_to_none(curve.mean_predicted),
            "observed": _nan_to_none(curve.observed),
            "counts": curve.counts.tolist(),
        },
        "nuts_draws": {name: nuts[name].tolist() for name in SITES},  # for plots.figures
    }
    return ExerciseReport(NAME, {"VI": trainer}, summary)


def _nan_to_none(values) -> list:
    return [None if np.isnan(v) else float(v) for v in values]


__getattr__ = lazy_plots(__name__)
