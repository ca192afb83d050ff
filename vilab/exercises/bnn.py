"""Exercise 5: a Bayesian neural network on data with a gap. Does it know what it does not
know?

Data: y = 0.5 x + 7 sin(0.75 x) + Normal(0, 3^2), with x in [-10, 0] and [5, 10] and no
data in the gap 0 < x < 5 (:func:`vilab.datasets.make_bnn_data`). Network: one hidden tanh
layer with Normal(0, 1) weights, inputs divided by 5 (:mod:`.bnn_model`); the methods and
their settings are in :mod:`.bnn_methods`, the pictures in ``bnn.plots``
(:mod:`.bnn_figures`).

The exercise, in order:

1. a plain network (least squares): one curve, equally confident everywhere;
2. the course's BNN, mean-field VI with AutoNormal: a band, but hardly wider in the gap or
   beyond the data than next to it;
3. the same small network (10 units) by mean-field VI, full-covariance VI and NUTS: the
   true posterior (NUTS) widens 4-6x in the gap and beyond; full covariance a little
   beyond the data only; mean-field does neither (Foong et al. 2019).
   :func:`uncertainty_profile` puts numbers on it: the sd of the mean function where the
   data are dense, in the gap, and beyond the data;
4. the optional course exercise: learn the noise sigma instead of fixing it at 1.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from ..config import pick_steps, resolve_smoke
from ..engine import Trainer
from .base import ExerciseReport, lazy_plots
from .bnn_methods import (
    DEFAULT_OPTIONS,
    GAP,
    GRID,
    GUIDES,
    METHODS,
    PLAIN_NN_STEPS,
    REGIONS,
    BNNContext,
    Method,
    get_method,
    load_data,
    make_trainer,
    mean_functions,
    noise_sd,
    posterior_weights,
    ratios,
    sample_nuts,
    uncertainty_profile,
)
from .bnn_model import fit_plain_nn, mean_function, model

NAME = "bnn"
TITLE = "Bayesian neural network: uncertainty in a gap of the data"
FULL_STEPS, SMOKE_STEPS = METHODS["mean_field"].num_steps, METHODS["mean_field"].smoke_steps
TRUE_NOISE_SD = 3.0
PLAIN_NN = {"hidden": 50, "num_steps": PLAIN_NN_STEPS, "smoke_steps": 200, "lr": 0.01}
NUM_FUNCTION_SAMPLES = 500
guide = GUIDES["mean_field"]  # the course's guide: AutoNormal, built on the model by make_trainer

__all__ = [
    "DEFAULT_OPTIONS",
    "GAP",
    "GRID",
    "GUIDES",
    "METHODS",
    "REGIONS",
    "BNNContext",
    "Method",
    "fit_plain_nn",
    "load_data",
    "make_trainer",
    "mean_function",
    "model",
    "guide",
    "sample_nuts",
    "uncertainty_profile",
    "fit_method",
    "method_result",
    "reference",
    "train",
]


@dataclass
class MethodResult:
    """What one method says: sampled mean functions on :data:`GRID` and their summary."""

    name: str
    method: Method
    weights: dict
    functions: torch.Tensor  # (S, G)
    noise_sd: float
    seconds: float
    num_steps: int
    trainer: object = None  # the Trainer for SVI methods, None for NUTS

    @property
    def profile(self) -> dict[str, float]:
        return uncertainty_profile(self.functions)

    @property
    def predictive_sd(self) -> torch.Tensor:
        """sd of a new observation y: epistemic spread of f plus the noise, in quadrature."""
        return (self.functions.var(0) + self.noise_sd**2).sqrt()

    def train_rmse(self, x, y) -> float:
        """Root mean squared error of the posterior mean function on the training data."""
        f = mean_functions(self.weights, x).mean(0)
        return float((f - y).pow(2).mean().sqrt())


def method_result(name: str, source, seconds: float = 0.0) -> MethodResult:
    """Sample the mean functions of a trained Trainer, or of NUTS samples, for method
    ``name`` (what the notebook calls after ``trainer.run(num_steps)``)."""
    method = get_method(name)
    weights = posterior_weights(source, NUM_FUNCTION_SAMPLES)
    trainer = source if isinstance(source, Trainer) else None
    num_steps = trainer.num_steps_done if trainer else len(weights["b2"])
    return MethodResult(
        name,
        method,
        weights,
        mean_functions(weights),
        noise_sd(weights, method.noise_scale),
        seconds,
        num_steps,
        trainer,
    )


def fit_method(
    name: str,
    x=None,
    y=None,
    num_steps: int | None = None,
    seed: int = 0,
    smoke: bool | None = None,
    progress: bool = True,
) -> MethodResult:
    """Run method ``name`` of :data:`METHODS` (SVI steps or NUTS samples as configured,
    fewer in smoke mode; ``num_steps`` overrides the SVI steps) and sample its functions."""
    method = get_method(name)
    if x is None or y is None:
        x, y = load_data()
    start = time.perf_counter()
    if method.inference == "nuts":
        steps = pick_steps(method.num_steps, method.smoke_steps, smoke)
        warmup = pick_steps(method.warmup_steps, method.smoke_steps, smoke)
        source = sample_nuts(method, x, y, num_samples=steps, warmup_steps=warmup, seed=seed)
    else:
        source = make_trainer((x, y), seed=seed, method=name)
        source.run(
            num_steps or pick_steps(method.num_steps, method.smoke_steps, smoke), progress=progress
        )
    return method_result(name, source, time.perf_counter() - start)


def profile_table(results: dict) -> str:
    """The uncertainty profiles as a text table, one row per method."""
    lines = [
        f"{'method':<42}{'dense':>7}{'gap':>7}{'beyond':>8}{'gap/dense':>11}{'beyond/dense':>14}"
    ]
    for result in results.values():
        p = result.profile
        r = ratios(p)
        lines.append(
            f"{result.method.label:<42}{p['dense']:>7.2f}{p['gap']:>7.2f}"
            f"{p['beyond']:>8.2f}{r['gap/dense']:>11.2f}{r['beyond/dense']:>14.2f}"
        )
    return "\n".join(lines)


def summarize(results: dict, x, y) -> dict:
    """JSON-ready numbers: the uncertainty profile of every method, the learned noise."""
    summary = {"profiles": {}}
    for name, result in results.items():
        summary["profiles"][name] = {
            "label": result.method.label,
            **result.profile,
            **ratios(result.profile),
            "steps": result.num_steps,
            "seconds": round(result.seconds, 2),
        }
        if result.method.noise_scale is None:
            summary["learned_noise"] = {
                "method": name,
                "sigma": result.noise_sd,
                "train_rmse": result.train_rmse(x, y),
                "true_noise_sd": TRUE_NOISE_SD,
            }
    return summary


def reference(data=None) -> dict:
    """What the exact posterior says (NUTS on the 10-unit network, class settings): the sd
    of the mean function in each region and the ratios gap/dense, beyond/dense."""
    x, y = load_data() if data is None else data
    result = fit_method("nuts", x, y, smoke=False)
    return {"method": result.method.label, **result.profile, **ratios(result.profile)}


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Every method of :data:`METHODS` on the exercise's data (what ``vilab run bnn`` does).
    ``num_steps`` overrides the SVI steps of all VI methods. The summary keeps what the
    figures need beyond the trainers: the plain network's weights and the NUTS draws."""
    smoke = resolve_smoke(smoke)
    x, y = load_data(smoke)
    plain = fit_plain_nn(
        x,
        y,
        PLAIN_NN["hidden"],
        seed=seed,
        lr=PLAIN_NN["lr"],
        num_steps=pick_steps(PLAIN_NN["num_steps"], PLAIN_NN["smoke_steps"], smoke),
    )
    results = {name: fit_method(name, x, y, num_steps, seed, smoke, progress) for name in METHODS}
    summary = summarize(results, x, y)
    plain_rmse = float((mean_function(x, **plain) - y).pow(2).mean().sqrt())
    summary["plain_nn"] = {"train_rmse": plain_rmse, "weights": _lists(plain)}
    summary["posterior_samples"] = {
        name: _lists(r.weights) for name, r in results.items() if r.trainer is None
    }
    trainers = {r.method.label: r.trainer for r in results.values() if r.trainer is not None}
    return ExerciseReport(NAME, trainers, summary)


def _lists(weights: dict) -> dict:
    return {name: value.tolist() for name, value in weights.items()}


__getattr__ = lazy_plots(__name__)
