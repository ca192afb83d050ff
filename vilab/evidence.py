"""The log evidence ln p(x) of the course's models, and the ELBO measured against it.

For every q, ln p(x) = ELBO(q) + KL(q(z) || p(z | x)): the ELBO is a lower bound and the
gap is exactly how far q is from the posterior. Where ln p(x) is known (in closed form or
by quadrature) the gap can be watched while training::

    >>> round(temperature_log_evidence(18.0), 3)       # ln N(18; 15, sqrt(5))
    -2.624

These are the values the training panel's ``log_evidence=`` takes (a float, or a
function of the trainer where the bound moves with a point estimate, as for PPCA), all
in nats for the whole data set, like ``trainer.history.elbo``. :func:`estimate_elbo`
measures a trainer's ELBO with many samples and its Monte Carlo standard error;
:func:`record_elbo_estimate` does it every few steps while training, for the gap view.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyro
import pyro.distributions as dist
import pyro.poutine as poutine
import torch
from scipy import special

from . import checks
from .exercises import gaussian, temperature
from .validation import real_number, whole_number


def temperature_log_evidence(reading: float = float(temperature.SENSOR_READING)) -> float:
    """ln p(sensor) of the temperature model: integrating temp out, the reading is
    N(15, sqrt(2^2 + 1^2)) distributed."""
    scale = math.hypot(temperature.PRIOR_SCALE, temperature.SENSOR_SCALE)
    return _normal_log_pdf(float(reading), temperature.PRIOR_LOC, scale)


def coin_log_evidence(flips, concentration1: float = 1.0, concentration0: float = 1.0) -> float:
    """ln p(flips) of a coin with bias ~ Beta(concentration1, concentration0) and the 0/1
    ``flips`` (1 = heads) in a given order: ln B(a + heads, b + tails) - ln B(a, b)."""
    flips = np.asarray(flips, dtype=float).reshape(-1)
    if not np.all((flips == 0) | (flips == 1)):
        raise ValueError(
            f"Expected the flips as 0 (tails) and 1 (heads), got {np.unique(flips)[:6]}. "
            f"Fix: flips = (outcomes == 'H').astype(float)."
        )
    fix = "e.g. concentration1=1, concentration0=1 (the uniform prior)."
    a = real_number("concentration1", concentration1, positive=True, fix=fix)
    b = real_number("concentration0", concentration0, positive=True, fix=fix)
    heads = flips.sum()
    return float(special.betaln(a + heads, b + len(flips) - heads) - special.betaln(a, b))


def gaussian_log_evidence(x=None, num_grid: int = 4001) -> float:
    """ln p(x) of the simple Gaussian exercise (mu ~ N(0, 10000), gamma ~ Gamma(1, 1),
    x_i ~ N(mu, 1/sqrt(gamma))). mu integrates out in closed form given gamma; gamma by
    quadrature on a log-spaced grid around its posterior (float64)."""
    x = gaussian.check_x(gaussian.load_data() if x is None else x)
    x = x.double().numpy()
    n, x_mean = len(x), x.mean()
    scatter = np.sum((x - x_mean) ** 2)
    m0, s0 = gaussian.MU_LOC, gaussian.MU_SCALE
    a0, b0 = gaussian.GAMMA_CONCENTRATION, gaussian.GAMMA_RATE
    centre = (a0 + (n - 1) / 2) / (b0 + scatter / 2)  # posterior mean of gamma, flat mu
    log_gamma = np.log(centre) + np.linspace(-12, 12, num_grid) / math.sqrt(max(n, 1))
    gamma = np.exp(log_gamma)
    shrink = 1 + n * gamma * s0**2
    log_lik = (  # ln p(x | gamma), mu integrated out
        0.5 * n * np.log(gamma / (2 * math.pi))
        - 0.5 * gamma * scatter
        - 0.5 * np.log(shrink)
        - 0.5 * n * gamma * (x_mean - m0) ** 2 / shrink
    )
    log_prior = a0 * math.log(b0) - special.gammaln(a0) + (a0 - 1) * log_gamma - b0 * gamma
    integrand = log_lik + log_prior + log_gamma  # d gamma = gamma d log(gamma)
    peak = integrand.max()
    return float(peak + math.log(np.trapezoid(np.exp(integrand - peak), log_gamma)))


def ppca_log_evidence(trainer) -> float:
    """The bound a PPCA trainer with ``method="em"`` climbs to: ln p(x | W) + ln p(W) at its
    current point W (z integrated out: x_n ~ N(0, W W^T + sigma^2 I)). The gap to the
    ELBO is sum_n KL(q(z_n) || p(z_n | x_n, W)). Pass the function itself as the panel's
    ``log_evidence=``: W moves while training, and so does the bound."""
    from .exercises import ppca

    params = trainer.params()
    if "w_map" not in params or "z_loc" not in params:
        raise ValueError(
            f"Expected a PPCA trainer with a point W and Normal q(z_n) (make_trainer(method="
            f"'em')), got parameters {sorted(params)}. With q(W) (method 'vi') ln p(x) has "
            f"no closed form; with 'map' the ELBO is the joint density, not a bound on it."
        )
    x, w = trainer.args[0], params["w_map"]
    log_lik = ppca.marginal_log_likelihood(w, x, trainer.kwargs["noise_scale"]) * len(x)
    log_prior = dist.Normal(0.0, trainer.kwargs["w_scale"]).log_prob(w).sum()
    return float(log_lik + log_prior)


@dataclass(frozen=True)
class ElboEstimate:
    """An ELBO estimate from ``num_particles`` draws of q, in nats for the whole data set.

    ``elbo`` = mean of ln p(x, z) - ln q(z) over the draws, ``standard_error`` its Monte
    Carlo standard error; ``importance_log_evidence`` = ln mean exp(...) of the same draws,
    a tighter (importance-sampled) lower bound on ln p(x)."""

    elbo: float
    standard_error: float
    num_particles: int
    importance_log_evidence: float


def estimate_elbo(trainer, num_particles: int = 10_000, batch_size: int = 1000, seed: int = 0):
    """The ELBO of ``trainer``'s current guide on its training data, from ``num_particles``
    vectorised draws (``batch_size`` at a time), with its standard error. Seeded and run
    in the trainer's scope: the training's random stream is untouched."""
    num_particles = whole_number(
        "num_particles", num_particles, minimum=2, fix="num_particles=10_000 (the default)."
    )
    if trainer.batch_fn is not None:
        raise ValueError(
            "Expected a trainer on its full data: this one trains on minibatches (batch_fn), "
            "so its ELBO is an estimate per batch. Build one with args=(x,) to measure it."
        )
    args, kwargs = trainer.args, trainer.kwargs
    with trainer.activated(), torch.no_grad():
        pyro.set_rng_seed(seed)
        guide_trace, model_trace = checks.trace_pair(trainer.model, trainer.guide, args, kwargs)
        nesting = checks.plate_nesting(model_trace, guide_trace)
        batches, remaining = [], num_particles
        while remaining > 0:
            size = min(batch_size, remaining)
            batches.append(_log_weights(trainer.model, trainer.guide, args, kwargs, size, nesting))
            remaining -= size
    log_w = torch.cat(batches).double()
    return ElboEstimate(
        elbo=float(log_w.mean()),
        standard_error=float(log_w.std() / math.sqrt(num_particles)),
        num_particles=num_particles,
        importance_log_evidence=float(torch.logsumexp(log_w, 0) - math.log(num_particles)),
    )


def record_elbo_estimate(trainer, every: int = 10, num_particles: int = 1000):
    """Every ``every`` steps, store a precise ELBO (:func:`estimate_elbo` with
    ``num_particles`` draws) and its standard error in ``trainer.history.extras``
    ("elbo_estimate", "elbo_standard_error"; NaN at the steps in between, so the series
    line up with ``history.step``). The ELBO of a single training step is too noisy to
    show a gap of 0.001 nats: the gap view reads these. Returns the callback."""

    def record(trainer) -> None:
        estimate = estimate_elbo(trainer, num_particles, seed=trainer.num_steps_done)
        history = trainer.history
        for key, value in (
            ("elbo_estimate", estimate.elbo),
            ("elbo_standard_error", estimate.standard_error),
        ):
            series = history.extras.setdefault(key, [])
            series.extend([math.nan] * (len(history) - len(series)))
            if series:
                series[-1] = value

    return trainer.add_callback(record, every=every)


def _log_weights(model, guide, args, kwargs, size, nesting) -> torch.Tensor:
    """ln p(x, z) - ln q(z) for ``size`` draws z ~ q at once (a particle plate left of the
    model's own plates)."""
    particles = pyro.plate("_elbo_particles", size, dim=-(nesting + 1))
    guide_trace = poutine.trace(particles(guide)).get_trace(*args, **kwargs)
    replayed = poutine.replay(particles(model), trace=guide_trace)
    model_trace = poutine.trace(replayed).get_trace(*args, **kwargs)
    total = torch.zeros(size)
    for trace, sign in ((model_trace, 1.0), (guide_trace, -1.0)):
        trace.compute_log_prob()
        for site in trace.nodes.values():
            if site["type"] == "sample":
                total = total + sign * _per_particle(site["log_prob"], nesting, size)
    return total


def _per_particle(log_prob, nesting: int, size: int) -> torch.Tensor:
    log_prob = torch.as_tensor(log_prob, dtype=torch.float32)
    log_prob = log_prob.reshape((1,) * max(0, nesting + 1 - log_prob.dim()) + log_prob.shape)
    if log_prob.dim() > 1:  # sum over the model's plates (dims right of the particles)
        log_prob = log_prob.sum(dim=tuple(range(1, log_prob.dim())))
    return log_prob.expand(size)


def _normal_log_pdf(x: float, loc: float, scale: float) -> float:
    return -0.5 * ((x - loc) / scale) ** 2 - math.log(scale) - 0.5 * math.log(2 * math.pi)
