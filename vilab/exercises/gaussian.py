"""Exercise: a Gaussian with unknown mean *and* precision, where SVI meets CAVI and the truth.

Model p(mu) p(gamma) prod_i p(x_i | mu, gamma), for 100 points drawn from Normal(5, 1):

    mu    ~ Normal(0, 10000)            loc 0, *standard deviation* 10000 (a vague prior)
    gamma ~ Gamma(1, 1)                 concentration 1, rate 1 (mean 1): the precision
    x_i   ~ Normal(mu, 1 / sqrt(gamma)) i = 1..N, independent given (mu, gamma)

Guide (mean-field): q(mu) q(gamma) = Normal(mu_loc, mu_scale) Gamma(gamma_concentration,
gamma_rate), all four learnable, the last three constrained positive.

Two references say how good the VI answer is (written in :mod:`.gaussian_reference`,
reached from here):

* :func:`cavi`: coordinate-ascent VI. For this model the best q(mu) given q(gamma) is a
  Normal and the best q(gamma) given q(mu) a Gamma, both in closed form; iterating them
  reaches the *mean-field optimum*, the answer SVI with our guide should find.
* :func:`exact_posterior`: the true posterior p(mu, gamma | x) on a 2-D grid, normalised
  numerically; its marginals show what the mean-field factorisation gives up.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer.autoguide import AutoNormal

from ..config import pick_steps
from ..engine import Trainer
from .base import ExerciseReport, choose_guide, lazy_plots
from .gaussian_reference import (  # noqa: F401 (gaussian.GridPosterior, gaussian.mean_field_elbo...)
    GAMMA_CONCENTRATION,
    GAMMA_RATE,
    MU_LOC,
    MU_SCALE,
    PARAMETER_NAMES,
    GridPosterior,
    MeanFieldPosterior,
    cavi,
    check_x,
    course_data,
    exact_posterior,
    mean_field_elbo,
)

NAME = "gaussian"
TITLE = "Gaussian with unknown mean and precision: SVI against CAVI and the exact posterior"
FULL_STEPS, SMOKE_STEPS = 3000, 400
# Only the likelihood term of the ELBO is sampled (elbo="meanfield" takes the KL terms
# Normal-Normal and Gamma-Gamma in closed form), with 32 particles per step (vectorised:
# nearly free). Adam's steps keep a size of about lr even at the optimum, so the noise
# floor is set by the learning rate: make_trainer decays it from 0.2 to 0.2/1000 over the
# planned number of steps (ClippedAdam's per-step factor "lrd"). With 3000 steps the
# means land within 0.3% and the sds within 1% of the CAVI optimum.
DEFAULT_OPTIONS = {
    "lr": 0.2,
    "optim": "clipped_adam",
    "elbo": "meanfield",
    "num_particles": 32,
    "vectorize_particles": True,
}
LR_FINAL_FRACTION = 1e-3


def lr_decay(num_steps: int) -> float:
    """ClippedAdam's per-step factor ``lrd``: lr shrinks to LR_FINAL_FRACTION x lr in
    ``num_steps`` steps."""
    return LR_FINAL_FRACTION ** (1 / num_steps)


def model(x: torch.Tensor) -> None:
    """p(mu) p(gamma) prod_i p(x_i | mu, gamma)."""
    check_x(x)
    mu = pyro.sample("mu", dist.Normal(MU_LOC, MU_SCALE))
    gamma = pyro.sample("gamma", dist.Gamma(GAMMA_CONCENTRATION, GAMMA_RATE))
    with pyro.plate("data", len(x)):
        pyro.sample("x", dist.Normal(mu, 1.0 / gamma.sqrt()), obs=x)  # sd = 1/sqrt(precision)


def guide(x: torch.Tensor) -> None:
    """q(mu) q(gamma) = Normal(mu_loc, mu_scale) Gamma(gamma_concentration, gamma_rate)."""
    mu_loc = pyro.param("mu_loc", torch.tensor(0.0))
    mu_scale = pyro.param("mu_scale", torch.tensor(1.0), constraint=constraints.positive)
    concentration = pyro.param(
        "gamma_concentration", torch.tensor(1.0), constraint=constraints.positive
    )
    rate = pyro.param("gamma_rate", torch.tensor(1.0), constraint=constraints.positive)
    pyro.sample("mu", dist.Normal(mu_loc, mu_scale))
    pyro.sample("gamma", dist.Gamma(concentration, rate))


# "manual" is the course's guide; "auto" is AutoNormal: a Normal in unconstrained space,
# i.e. a LogNormal on gamma (built on the model by base.choose_guide).
GUIDES = {"manual": guide, "auto": AutoNormal}


def load_data(smoke: bool | None = None) -> torch.Tensor:
    """The course's data: 100 draws from Normal(5, 1), seed 0 (the same in smoke mode:
    100 numbers are cheap)."""
    return course_data()


# -- the answers: the references together, training, VI's moments ----------------------------


def reference(data: torch.Tensor | None = None) -> dict:
    """The moments of both references on ``data`` (default :func:`load_data`):
    ``{"cavi": {"mu": {"mean", "std"}, "gamma": ...}, "exact": {...}}``."""
    x = check_x(load_data() if data is None else data)
    return {"cavi": cavi(x).moments(), "exact": exact_posterior(x).moments()}


def make_trainer(
    data: torch.Tensor | None = None,
    guide="manual",
    seed: int = 0,
    *,
    num_steps: int = FULL_STEPS,
    **options,
) -> Trainer:
    """A Trainer on the observations ``data`` (default: :func:`load_data`), kept as
    ``trainer.context``.

    ``guide`` is a name from :data:`GUIDES` ("manual": :func:`guide`, "auto": AutoNormal)
    or your own guide function. ``num_steps`` is the number of steps you plan to run: the
    learning rate decays over them (:func:`lr_decay`). ``options`` override
    :data:`DEFAULT_OPTIONS`, e.g. ``lr=0.01``, ``elbo="trace"`` or ``optim_args={"lrd": 1.0}``
    (no decay).
    """
    x = check_x(load_data() if data is None else data)
    chosen = choose_guide(guide, GUIDES, model)
    options = {**DEFAULT_OPTIONS, "optim_args": {"lrd": lr_decay(num_steps)}, **options}
    return Trainer(model, chosen, args=(x,), seed=seed, context=x, **options)


def vi_moments(trainer: Trainer, num_samples: int = 20000) -> dict:
    """Mean and sd of q(mu) and q(gamma): from the parameters of :func:`guide`, by
    sampling otherwise (autoguides, your own guides)."""
    if trainer.guide is guide:
        return MeanFieldPosterior.from_params(trainer.params()).moments()
    samples = trainer.sample_posterior(num_samples)  # one vectorised call of the guide
    return {
        k: {"mean": float(samples[k].mean()), "std": float(samples[k].std())}
        for k in ("mu", "gamma")
    }


def percent_errors(answer: dict, reference: dict) -> dict:
    """|answer / reference - 1| in percent, for the mean and sd of each site of ``moments()``."""
    return {
        site: {
            stat: 100 * abs(answer[site][stat] / reference[site][stat] - 1)
            for stat in ("mean", "std")
        }
        for site in reference
    }


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Train SVI and compare it with CAVI and the exact posterior (``vilab run gaussian``)."""
    num_steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke)
    x = load_data(smoke)
    trainer = make_trainer(x, seed=seed, num_steps=num_steps)
    trainer.run(num_steps, progress=progress)
    vi = MeanFieldPosterior.from_params(trainer.params())
    best, exact = cavi(x), exact_posterior(x)
    answers = {"vi": vi.moments(), "cavi": best.moments(), "exact": exact.moments()}
    summary = {
        "posterior": {
            site: {
                f"{method}_{stat}": answer[site][stat]
                for method, answer in answers.items()
                for stat in ("mean", "std")
            }
            for site in ("mu", "gamma")
        },
        "percent_error_vs_cavi": percent_errors(answers["vi"], answers["cavi"]),
        "cavi_iterations": best.num_iters,
        # q(mu) q(gamma) of SVI and of CAVI, for gaussian.plots.figures
        "mean_field": {"vi": vi.parameters(), "cavi": best.parameters()},
    }
    return ExerciseReport(NAME, {"VI": trainer}, summary)


__getattr__ = lazy_plots(__name__)
