"""The references of the Gaussian exercise (:mod:`.gaussian`), and the model's fixed settings
they share with it: the priors, the course's 100 observations and the check of the data.

* :func:`cavi`: coordinate-ascent VI. For this model the best q(mu) given q(gamma) is a
  Normal and the best q(gamma) given q(mu) a Gamma, both in closed form; iterating them
  reaches the *mean-field optimum*, the answer SVI with the exercise's guide should find.
* :func:`exact_posterior`: the true posterior p(mu, gamma | x) on a 2-D grid, normalised
  numerically; its marginals show what the mean-field factorisation gives up.

Reached as ``gaussian.cavi``, ``gaussian.exact_posterior``...: this module never imports
the exercise module.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy import special, stats

from ..datasets import make_gaussian_data

MU_LOC, MU_SCALE = 0.0, 10000.0  # prior of mu: Normal(loc, scale), scale = sd
GAMMA_CONCENTRATION, GAMMA_RATE = 1.0, 1.0  # prior of gamma: Gamma(concentration, rate)
PARAMETER_NAMES = ("mu_loc", "mu_scale", "gamma_concentration", "gamma_rate")  # of guide()


def course_data() -> torch.Tensor:
    """The course's data: 100 draws from Normal(5, 1), seed 0."""
    return make_gaussian_data(num_points=100, loc=5.0, scale=1.0, seed=0)


def check_x(x) -> torch.Tensor:
    """The data as the model needs them: a 1-D float tensor of observations."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"Expected the data x as a torch.Tensor, got {type(x).__name__}. "
            f"Fix: x = torch.as_tensor(x, dtype=torch.float32)."
        )
    if not x.is_floating_point():
        raise TypeError(
            f"Expected x with a floating-point dtype (the Normal is a continuous "
            f"distribution), got {x.dtype}. Fix: x = x.float()."
        )
    if x.dim() != 1 or len(x) == 0:
        raise ValueError(
            f"Expected x as a 1-D tensor of N observations, shape (N,), got shape "
            f"{tuple(x.shape)}. Each entry is one draw from Normal(mu, 1/sqrt(gamma)); "
            f"fix: x = x.reshape(-1) if every entry is an observation."
        )
    return x


# -- reference 1: the mean-field optimum by coordinate ascent (CAVI) ----------------------


@dataclass
class MeanFieldPosterior:
    """q(mu) = Normal(mu_loc, mu_scale), q(gamma) = Gamma(gamma_concentration, gamma_rate).

    From :func:`cavi` it also holds the ELBO after each sweep (it never decreases) and the
    number of sweeps; :meth:`from_params` reads a trained guide's parameters.
    """

    mu_loc: float
    mu_scale: float
    gamma_concentration: float
    gamma_rate: float
    elbo: list = field(default_factory=list)
    num_iters: int = 0

    @classmethod
    def from_params(cls, params: dict) -> MeanFieldPosterior:
        """From ``trainer.params()`` of a guide with the parameter names of :func:`guide`."""
        names = PARAMETER_NAMES
        missing = [name for name in names if name not in params]
        if missing:
            raise KeyError(
                f"Expected the guide parameters {list(names)}, but {missing} are missing "
                f"(got {sorted(params)}). Name the guide's pyro.param sites like "
                f"vilab.exercises.gaussian.guide, or use vi_moments(trainer)."
            )
        return cls(**{name: float(params[name]) for name in names})

    def parameters(self) -> dict:
        """The four numbers of q (JSON-ready; ``MeanFieldPosterior(**q.parameters())``)."""
        return {name: getattr(self, name) for name in PARAMETER_NAMES}

    def moments(self) -> dict:
        a, b = self.gamma_concentration, self.gamma_rate
        return {
            "mu": {"mean": self.mu_loc, "std": self.mu_scale},
            "gamma": {"mean": a / b, "std": math.sqrt(a) / b},
        }

    def densities(self, mu_grid, gamma_grid) -> dict:
        return {
            "mu": stats.norm.pdf(mu_grid, self.mu_loc, self.mu_scale),
            "gamma": stats.gamma.pdf(
                gamma_grid, self.gamma_concentration, scale=1 / self.gamma_rate
            ),
        }


def mean_field_elbo(x, mu_loc, mu_scale, gamma_concentration, gamma_rate) -> float:
    """The ELBO E_q[log p(x, mu, gamma)] + H[q] of q(mu) q(gamma) in closed form."""
    x = np.asarray(x, dtype=float)
    n, m, v, a, b = len(x), mu_loc, mu_scale**2, gamma_concentration, gamma_rate
    e_gamma, e_log_gamma = a / b, special.digamma(a) - math.log(b)
    e_sq = np.sum((x - m) ** 2) + n * v  # E_q[sum_i (x_i - mu)^2]
    a0, b0 = GAMMA_CONCENTRATION, GAMMA_RATE
    log_lik = 0.5 * n * (e_log_gamma - math.log(2 * math.pi)) - 0.5 * e_gamma * e_sq
    log_p_mu = -0.5 * math.log(2 * math.pi * MU_SCALE**2) - ((m - MU_LOC) ** 2 + v) / (
        2 * MU_SCALE**2
    )
    log_p_gamma = a0 * math.log(b0) - special.gammaln(a0) + (a0 - 1) * e_log_gamma - b0 * e_gamma
    entropy = 0.5 * math.log(2 * math.pi * math.e * v) + stats.gamma.entropy(a, scale=1 / b)
    return float(log_lik + log_p_mu + log_p_gamma + entropy)


def cavi(
    x: torch.Tensor | None = None, max_iters: int = 500, tol: float = 1e-12
) -> MeanFieldPosterior:
    """Iterate the closed-form mean-field updates (float64) until E_q[gamma] stops moving:

    q(mu)    = Normal(m, 1/sqrt(lam)),  lam = tau0 + N E[gamma],
               m = (tau0 m0 + E[gamma] sum_i x_i) / lam          (tau0 = 1/MU_SCALE^2)
    q(gamma) = Gamma(a0 + N/2, b0 + (sum_i (x_i - m)^2 + N/lam) / 2)
    """
    x = np.asarray(check_x(course_data() if x is None else x), dtype=float)
    n, tau0 = len(x), 1 / MU_SCALE**2
    a = GAMMA_CONCENTRATION + n / 2
    e_gamma, elbo = GAMMA_CONCENTRATION / GAMMA_RATE, []  # start from the prior mean
    while len(elbo) < max_iters:
        lam = tau0 + n * e_gamma
        m = (tau0 * MU_LOC + e_gamma * x.sum()) / lam
        b = GAMMA_RATE + 0.5 * (np.sum((x - m) ** 2) + n / lam)
        elbo.append(mean_field_elbo(x, m, 1 / math.sqrt(lam), a, b))
        converged = abs(a / b - e_gamma) <= tol * e_gamma
        e_gamma = a / b
        if converged:
            break
    lam = tau0 + n * e_gamma  # q(mu) matching the final q(gamma)
    m = (tau0 * MU_LOC + e_gamma * x.sum()) / lam
    return MeanFieldPosterior(float(m), 1 / math.sqrt(lam), float(a), float(b), elbo, len(elbo))


# -- reference 2: the exact posterior on a grid --------------------------------------------


@dataclass
class GridPosterior:
    """p(mu, gamma | x) on a grid: ``joint[i, j]`` at ``(mu_grid[i], gamma_grid[j])``, and
    the marginal densities of mu and gamma."""

    mu_grid: np.ndarray
    gamma_grid: np.ndarray
    joint: np.ndarray
    mu_density: np.ndarray
    gamma_density: np.ndarray

    def moments(self) -> dict:
        out = {}
        for name, grid, density in (
            ("mu", self.mu_grid, self.mu_density),
            ("gamma", self.gamma_grid, self.gamma_density),
        ):
            step = grid[1] - grid[0]
            mean = np.sum(grid * density) * step
            out[name] = {
                "mean": float(mean),
                "std": float(np.sqrt(np.sum((grid - mean) ** 2 * density) * step)),
            }
        return out


def exact_posterior(x: torch.Tensor | None = None, num_grid: int = 401) -> GridPosterior:
    """Evaluate log p(mu, gamma, x) on a grid and normalise numerically (float64).

    The likelihood only needs N, the mean and the scatter S = sum (x_i - mean)^2 of x. The
    grid covers gamma's quantiles 1e-8 .. 1 - 1e-8 under Gamma(a0 + (N-1)/2, b0 + S/2) (its
    posterior for a flat prior on mu) and mu +- 7 conditional sds at the smallest gamma, so
    the mass outside it is negligible.
    """
    x = np.asarray(check_x(course_data() if x is None else x), dtype=float)
    n, x_mean = len(x), x.mean()
    scatter = np.sum((x - x_mean) ** 2)
    approx = stats.gamma(GAMMA_CONCENTRATION + (n - 1) / 2, scale=1 / (GAMMA_RATE + scatter / 2))
    gamma_grid = np.linspace(approx.ppf(1e-8), approx.ppf(1 - 1e-8), num_grid)
    half_width = 7 / math.sqrt(n * gamma_grid[0])
    mu_grid = np.linspace(x_mean - half_width, x_mean + half_width, num_grid)
    mu, gamma = mu_grid[:, None], gamma_grid[None, :]
    log_joint = (
        stats.norm.logpdf(mu, MU_LOC, MU_SCALE)
        + stats.gamma.logpdf(gamma, GAMMA_CONCENTRATION, scale=1 / GAMMA_RATE)
        + 0.5 * n * np.log(gamma / (2 * math.pi))
        - 0.5 * gamma * (scatter + n * (x_mean - mu) ** 2)
    )
    joint = np.exp(log_joint - log_joint.max())
    d_mu, d_gamma = mu_grid[1] - mu_grid[0], gamma_grid[1] - gamma_grid[0]
    joint /= joint.sum() * d_mu * d_gamma
    return GridPosterior(mu_grid, gamma_grid, joint, joint.sum(1) * d_gamma, joint.sum(0) * d_mu)
