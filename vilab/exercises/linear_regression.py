"""Exercise: Bayesian linear regression on terrain ruggedness and GDP (Nunn & Puga, 2012).

The question: is rugged terrain bad for a country's economy everywhere? Nunn & Puga found
that it is outside Africa but that inside Africa the relation flips (rugged terrain
protected people from the slave trades). We fit log GDP per capita against ruggedness:

* one model per group ("africa", "non_africa"), the slope s being the quantity of interest:
      s ~ Normal(0, 1),  b ~ Normal(0, 1000),  theta ~ Gamma(1, 1)       (theta: precision)
      log_gdp_i ~ Normal(b + s * rugged_i, 1 / sqrt(theta))              for every country i
* one "interaction" model for all 170 countries at once:
      a, bA, bR, bAR ~ Normal(0, 10),  sigma ~ HalfNormal(5)
      log_gdp_i ~ Normal(a + bA africa_i + bR rugged_i + bAR africa_i rugged_i, sigma)
  so the slope is bR outside Africa and bR + bAR inside. Normal(0, 10) is weak on the log
  scale (GDP ratios up to e^20 within 2 sd); HalfNormal(5) (rather than the tutorial's
  Uniform(0, 10)) has the same support (0, inf) as a LogNormal guide, so no guide sample
  can fall outside the prior's support and give log p = -inf.

Guides: "manual" (written below: Normal for the coefficients, Gamma for the precision,
LogNormal for sigma) or "auto" (Pyro's AutoNormal). The reference is NUTS on the same model
(:func:`reference`, draws from :func:`nuts_reference`); least squares (:func:`least_squares`)
is the classical answer. The columns each model takes and least squares live in
:mod:`.linear_regression_data`, the lines read from posterior draws in
:mod:`.linear_regression_lines` (both reached from here); the pictures in
:mod:`.linear_regression_figures`, reached as ``linear_regression.plots``.
"""

from __future__ import annotations

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer.autoguide import AutoNormal, init_to_value

from ..config import pick_steps, resolve_smoke
from ..datasets import RuggedData
from ..engine import Trainer
from ..reference import run_nuts
from ..validation import one_of
from .base import ExerciseReport, choose_guide, lazy_plots
from .linear_regression_data import (
    GROUPS,
    ModelData,
    least_squares,
    least_squares_interaction,
    load_data,
    model_args,
)
from .linear_regression_lines import (  # noqa: F401 (linear_regression.prob_positive...)
    line_samples,
    predictive_bands,
    prob_positive,
    summarize_lines,
)

NAME = "linear_regression"
TITLE = "Bayesian linear regression: does terrain ruggedness hurt GDP everywhere?"
FULL_STEPS, SMOKE_STEPS = 2000, 200
# Why these options (measured on the African group; NUTS slope mean 0.191): the intercept's
# prior sd is 1000 and a guide started at b = 0 must first carry b to ~7.3, sending the slope
# to ~1.9 meanwhile to fit the data's level. We start b's loc at the mean log GDP (a data
# summary, not a fit: the intercept of a flat line). From b = 0, plain Adam with lr=0.01
# still had the slope at 1.15 after 2000 steps; from the mean it was within 0.02 of NUTS
# after 25. With the defaults below, the slope is within 0.05 after ~25 steps (~175 from
# b = 0), within 0.02 after ~600 and within 0.01 after ~1500: the large lr (0.05) moves fast
# and ClippedAdam's decay lr_t = 0.05 * 0.998^t (0.0009 at 2000 steps) then quiets Adam's
# noise. 10 vectorised particles and closed-form KL terms ("meanfield") cut gradient noise.
DEFAULT_OPTIONS = {
    "lr": 0.05,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.998},
    "elbo": "meanfield",
    "num_particles": 10,
    "vectorize_particles": True,
}
# NUTS reference: 300 warmup + 500 draws per model (Monte Carlo error of the slope's mean
# ~0.01); a full mass matrix because intercept and slope are strongly correlated (the mean
# ruggedness is ~1.3, not 0). jit_compile=True saves only ~20% here, so it stays off.
NUTS_OPTIONS = {"num_samples": 500, "warmup_steps": 300, "full_mass": True}
GROUP_SITES, INTERACTION_SITES = ("s", "b", "theta"), ("a", "bA", "bR", "bAR", "sigma")


# -- models and guides ----------------------------------------------------------------------


def group_model(rugged: torch.Tensor, log_gdp: torch.Tensor | None = None) -> None:
    """p(s) p(b) p(theta) prod_i p(log_gdp_i | b + s rugged_i, theta^-1/2)."""
    s = pyro.sample("s", dist.Normal(0.0, 1.0))
    b = pyro.sample("b", dist.Normal(0.0, 1000.0))
    theta = pyro.sample("theta", dist.Gamma(1.0, 1.0))
    with pyro.plate("data", rugged.shape[0]):
        pyro.sample("obs", dist.Normal(b + s * rugged, theta.rsqrt()), obs=log_gdp)


def group_guide(rugged: torch.Tensor, log_gdp: torch.Tensor | None = None) -> None:
    """q(s) q(b) q(theta) = Normal(s_loc, s_scale) Normal(b_loc, b_scale) Gamma(alpha, beta).

    The Gamma family matches the prior (support theta > 0, analytic KL to Gamma(1, 1));
    b_loc starts at the mean log GDP and the precision's mean at 1/var(log GDP).
    """
    mean, var = _data_moments(log_gdp)
    s_loc = pyro.param("s_loc", torch.tensor(0.0))
    s_scale = pyro.param("s_scale", torch.tensor(0.1), constraint=constraints.positive)
    b_loc = pyro.param("b_loc", mean)
    b_scale = pyro.param("b_scale", torch.tensor(0.1), constraint=constraints.positive)
    alpha = pyro.param("theta_concentration", torch.tensor(10.0), constraint=constraints.positive)
    beta = pyro.param("theta_rate", 10.0 * var, constraint=constraints.positive)
    pyro.sample("s", dist.Normal(s_loc, s_scale))
    pyro.sample("b", dist.Normal(b_loc, b_scale))
    pyro.sample("theta", dist.Gamma(alpha, beta))


def interaction_model(
    africa: torch.Tensor, rugged: torch.Tensor, log_gdp: torch.Tensor | None = None
) -> None:
    """p(a, bA, bR, bAR, sigma) prod_i p(log_gdp_i | a + bA af_i + bR r_i + bAR af_i r_i, sigma)."""
    a = pyro.sample("a", dist.Normal(0.0, 10.0))
    b_a = pyro.sample("bA", dist.Normal(0.0, 10.0))
    b_r = pyro.sample("bR", dist.Normal(0.0, 10.0))
    b_ar = pyro.sample("bAR", dist.Normal(0.0, 10.0))
    sigma = pyro.sample("sigma", dist.HalfNormal(5.0))
    mean = a + b_a * africa + b_r * rugged + b_ar * africa * rugged
    with pyro.plate("data", rugged.shape[0]):
        pyro.sample("obs", dist.Normal(mean, sigma), obs=log_gdp)


def interaction_guide(
    africa: torch.Tensor, rugged: torch.Tensor, log_gdp: torch.Tensor | None = None
) -> None:
    """Normal q for a, bA, bR, bAR (a starting at the mean log GDP), LogNormal q for sigma."""
    mean, var = _data_moments(log_gdp)
    for name in ("a", "bA", "bR", "bAR"):
        loc = pyro.param(f"{name}_loc", mean if name == "a" else torch.tensor(0.0))
        scale = pyro.param(f"{name}_scale", torch.tensor(0.1), constraint=constraints.positive)
        pyro.sample(name, dist.Normal(loc, scale))
    sigma_loc = pyro.param("sigma_loc", 0.5 * var.log())  # log of the data's sd
    sigma_scale = pyro.param("sigma_scale", torch.tensor(0.1), constraint=constraints.positive)
    pyro.sample("sigma", dist.LogNormal(sigma_loc, sigma_scale))


# The contract's names for the course's first model and guide (notebook 03, exercises 1-2).
model, guide = group_model, group_guide
# "manual" is the hand-written guide of the chosen model (interaction_guide for
# "interaction"); "auto" is an AutoNormal that make_trainer starts where the manual one does.
GUIDES = {"manual": group_guide, "auto": AutoNormal}


def _data_moments(log_gdp: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean and variance of the response, used only to place the guide's starting point."""
    if log_gdp is None:  # called for prediction before training: neutral values
        return torch.tensor(0.0), torch.tensor(1.0)
    return log_gdp.mean().detach(), log_gdp.var().detach()


def initial_values(group: str, args: tuple) -> dict[str, torch.Tensor]:
    """The starting point of the manual guide, for AutoNormal's ``init_loc_fn``.

    Every value is a tensor of its own: AutoNormal keeps the given tensor as the parameter
    itself, so one shared ``zero`` for bA, bR and bAR would tie the three into one
    parameter (measured: all three ended at -0.18 and Africa's slope at -0.36).
    """
    mean, var = _data_moments(args[-1])
    if group == "interaction":
        values = {"a": mean, "bA": 0.0, "bR": 0.0, "bAR": 0.0, "sigma": var.sqrt()}
    else:
        values = {"s": 0.0, "b": mean, "theta": 1.0 / var}
    return {name: torch.tensor(float(value)) for name, value in values.items()}


def make_guide(group: str = "africa", guide="manual", args: tuple | None = None):
    """The guide function for ``group``: the hand-written one, an AutoNormal started at the
    same point (AutoNormal's default start, a prior draw, would put b hundreds away), or
    your own guide function."""
    one_of("group", group, GROUPS, fix='pass one of these names, e.g. group="africa".')
    model = interaction_model if group == "interaction" else group_model
    if guide == "manual":
        return interaction_guide if group == "interaction" else group_guide
    if guide == "auto":
        args = model_args(group) if args is None else args
        return AutoNormal(model, init_loc_fn=init_to_value(values=initial_values(group, args)))
    return choose_guide(guide, GUIDES, model)  # your own guide function, or a clear error


def make_trainer(
    data: RuggedData | tuple | None = None,
    guide="manual",
    seed: int = 0,
    *,
    group: str = "africa",
    model=None,
    **options,
) -> Trainer:
    """A Trainer for one of :data:`GROUPS` (``data``: the table, default :func:`load_data`,
    or that group's columns) with the "manual" or "auto" guide, or your own guide function;
    ``model`` replaces the exercise's model (e.g. the notebook's); ``options`` override
    :data:`DEFAULT_OPTIONS` (e.g. ``lr=0.01``, ``num_particles=1``)."""
    args = model_args(group, load_data() if data is None else data)
    if model is None:
        model = interaction_model if group == "interaction" else group_model
    return Trainer(
        model,
        make_guide(group, guide, args),
        args=args,
        seed=seed,
        context=ModelData(group, args),
        **{**DEFAULT_OPTIONS, **options},
    )


def is_interaction(trainer: Trainer) -> bool:
    """Whether ``trainer`` fits the interaction model (its context says; a Trainer built by
    hand, without one, is judged by its model)."""
    if isinstance(trainer.context, ModelData):
        return trainer.context.group == "interaction"
    return trainer.model is interaction_model


# -- posteriors -----------------------------------------------------------------------------


def posterior_samples(trainer: Trainer, num_samples: int = 2000) -> dict[str, np.ndarray]:
    """Draws of every latent site from the trainer's current guide (vectorised, and without
    advancing the trainer's random stream)."""
    sites = INTERACTION_SITES if is_interaction(trainer) else GROUP_SITES
    samples = trainer.sample_posterior(num_samples)
    return {name: samples[name].reshape(num_samples).numpy() for name in sites}


def nuts_reference(
    group: str = "africa", data: RuggedData | None = None, seed: int = 0, **options
) -> dict[str, np.ndarray]:
    """NUTS draws of the latent sites of ``group``'s model (:data:`NUTS_OPTIONS`, overridable)."""
    args = model_args(group, data)
    model = interaction_model if group == "interaction" else group_model
    samples = run_nuts(
        model,
        args=args,
        seed=seed,
        init_strategy=init_to_value(values=initial_values(group, args)),
        **{**NUTS_OPTIONS, **options},
    )
    return {name: value.numpy() for name, value in samples.items()}


def reference(data: RuggedData | None = None, seed: int = 0, **options) -> dict:
    """The NUTS answer for every model: :func:`summarize_lines` of :func:`nuts_reference`,
    {group: {line: {"intercept"/"slope"/"sigma": {"mean", "sd"}, "p_slope_positive"}}}."""
    data = load_data() if data is None else data
    return {
        group: summarize_lines(nuts_reference(group, data=data, seed=seed, **options), group)
        for group in GROUPS
    }


# -- the whole exercise -----------------------------------------------------------------------


def train(
    num_steps: int | None = None,
    seed: int = 0,
    smoke: bool | None = None,
    progress: bool = True,
    nuts: bool | None = None,
) -> ExerciseReport:
    """Train every group and guide (what ``vilab run linear_regression`` does); compare the
    slopes with NUTS in full mode (``nuts=False`` skips it, smoke mode skips it by default).
    The NUTS slope draws go into the summary for ``plots.figures``."""
    use_smoke = resolve_smoke(smoke)
    num_steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke)
    nuts = not use_smoke if nuts is None else nuts
    data = load_data(smoke)
    trainers, summary = {}, {"num_steps": num_steps}
    for group in GROUPS:
        for guide in GUIDES:
            trainer = make_trainer(data, guide, seed=seed, group=group)
            trainer.run(num_steps, progress=progress)
            trainers[f"{group} ({guide})"] = trainer
            summary[f"{group} ({guide})"] = summarize_lines(posterior_samples(trainer), group)
        if nuts:
            draws = nuts_reference(group, data=data, seed=seed)
            summary[f"{group} (NUTS)"] = reference = summarize_lines(draws, group)
            if group != "interaction":
                summary.setdefault("nuts_slope_draws", {})[group] = draws["s"].tolist()
            for guide in GUIDES:  # VI slope mean - NUTS slope mean, per line
                vi = summary[f"{group} ({guide})"]
                summary.setdefault("slope_mean_vi_minus_nuts", {})[f"{group} ({guide})"] = {
                    line: vi[line]["slope"]["mean"] - reference[line]["slope"]["mean"]
                    for line in reference
                }
    least = {g: least_squares(*model_args(g, data)).tolist() for g in GROUPS[:2]}
    summary["least_squares"] = {
        "lines": least,
        "interaction": least_squares_interaction(*model_args("interaction", data)),
    }
    return ExerciseReport(NAME, trainers, summary)


__getattr__ = lazy_plots(__name__)
