"""KL divergences between a target p(z) and a Gaussian q(z) = N(loc, scale), by quadrature.

Both directions, each split into cross-entropy minus entropy:

    KL(q || p) = H(q, p) - H(q),   H(q, p) = -E_q[log p],  H(q) = 1/2 log(2 pi e scale^2)
    KL(p || q) = H(p, q) - H(p),   H(p, q) = -E_p[log q]   (closed form from p's mean, sd)

Reverse KL(q || p) is what VI minimises (it only needs log p up to a constant, and q's
samples); forward KL(p || q) is minimised by matching p's mean and sd (:func:`moment_match`).

With p = N(0, 1) (two modes at no distance) and q = N(0, 2^2), the closed forms are
KL(q || p) = ln(1/2) + 4/2 - 1/2 = 0.8069 and KL(p || q) = ln 2 + 1/8 - 1/2 = 0.3181:

    >>> from vilab.kl import two_modes
    >>> split = kl_split(two_modes(separation=0.0), loc=0.0, scale=2.0)
    >>> round(split.reverse_kl, 4), round(split.forward_kl, 4)
    (0.8069, 0.3181)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy import optimize

from .targets import Target

CORE_POINTS, TAIL_POINTS, TAIL_REACH = 6001, 1500, 1e5


@dataclass(frozen=True)
class KLSplit:
    """Both KL divergences of q = N(loc, scale) and a target p, with their parts (nats)."""

    loc: float
    scale: float
    reverse_kl: float  # KL(q || p) = cross_entropy_qp - entropy_q
    cross_entropy_qp: float  # H(q, p) = -E_q[log p]
    entropy_q: float  # H(q)
    forward_kl: float  # KL(p || q) = cross_entropy_pq - entropy_p
    cross_entropy_pq: float  # H(p, q) = -E_p[log q]
    entropy_p: float  # H(p)

    def as_text(self) -> str:
        """Two lines of numbers, for a status line or a print."""
        return (
            f"KL(q||p) = {self.reverse_kl:.4f} = H(q,p) {self.cross_entropy_qp:.4f} "
            f"- H(q) {self.entropy_q:.4f}\n"
            f"KL(p||q) = {self.forward_kl:.4f} = H(p,q) {self.cross_entropy_pq:.4f} "
            f"- H(p) {self.entropy_p:.4f}"
        )


def quadrature_grid(target: Target, loc: float | None = None, scale: float | None = None):
    """Points covering p and q finely (uniform over both cores) and their tails coarsely
    (geometric spacing out to +-1e5, for heavy tails)."""
    low, high = target.low, target.high
    if loc is not None:
        low, high = min(low, loc - 12 * scale), max(high, loc + 12 * scale)
    core = np.linspace(low, high, CORE_POINTS)
    reach = np.geomspace(core[1] - core[0], TAIL_REACH, TAIL_POINTS)  # spacing grows smoothly
    grid = np.concatenate([low - reach[::-1], core, high + reach])
    return torch.as_tensor(grid, dtype=torch.float64)


def _integrate(values: torch.Tensor, grid: torch.Tensor) -> float:
    return float(torch.trapezoid(values, grid))


def gaussian_log_prob(z: torch.Tensor, loc: float, scale: float) -> torch.Tensor:
    return -0.5 * ((z - loc) / scale) ** 2 - math.log(scale) - 0.5 * math.log(2 * math.pi)


def gaussian_entropy(scale: float) -> float:
    """H(N(loc, scale)) = 1/2 log(2 pi e scale^2), in nats."""
    return 0.5 * math.log(2 * math.pi * math.e * scale**2)


def target_entropy(target: Target) -> float:
    """H(p) = -E_p[log p] by quadrature."""
    grid = quadrature_grid(target)
    log_p = target.log_prob(grid)
    return -_integrate(torch.where(log_p > -700, log_p.exp() * log_p, 0.0), grid)


def kl_split(target: Target, loc: float, scale: float, entropy_p: float | None = None) -> KLSplit:
    """KL(q || p), KL(p || q) and their cross-entropy/entropy parts for q = N(loc, scale).
    ``entropy_p`` (from :func:`target_entropy`) saves recomputing H(p) for many q's."""
    loc, scale = float(loc), float(scale)
    if not (math.isfinite(loc) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"Expected a finite loc and a scale > 0, got loc={loc}, scale={scale}.")
    grid = quadrature_grid(target, loc, scale)
    q = gaussian_log_prob(grid, loc, scale).exp()
    cross_qp = -_integrate(q * target.log_prob(grid).clamp(min=-1e300), grid)
    entropy_q = gaussian_entropy(scale)
    # H(p, q) = 1/2 log(2 pi scale^2) + (var_p + (mean_p - loc)^2) / (2 scale^2): exact
    cross_pq = 0.5 * math.log(2 * math.pi * scale**2) + (
        target.sd**2 + (target.mean - loc) ** 2
    ) / (2 * scale**2)
    entropy_p = target_entropy(target) if entropy_p is None else entropy_p
    return KLSplit(
        loc, scale, cross_qp - entropy_q, cross_qp, entropy_q, cross_pq - entropy_p, cross_pq,
        entropy_p,
    )  # fmt: skip


def moment_match(target: Target) -> tuple[float, float]:
    """The forward-KL optimum argmin_q KL(p || q) over Gaussians: q = N(mean_p, sd_p)."""
    return target.mean, target.sd


def reverse_kl_optimum(
    target: Target, init_loc: float | None = None, init_scale: float | None = None
) -> tuple[float, float]:
    """The Gaussian minimising KL(q || p), by deterministic quadrature and Nelder-Mead
    from (init_loc, init_scale) (default: p's mean + sd/4 and sd/4, as the SVI fit). With
    two modes the answer depends on the start (each mode is a local optimum): this is the
    SVI fit's reference."""
    loc0 = target.mean + 0.25 * target.sd if init_loc is None else init_loc
    scale0 = 0.25 * target.sd if init_scale is None else init_scale
    grid = quadrature_grid(target, loc0, scale0)
    log_p = target.log_prob(grid).clamp(min=-1e300)

    def reverse_kl(theta):
        loc, log_scale = (float(v) for v in theta)
        q = gaussian_log_prob(grid, loc, math.exp(log_scale)).exp()
        return -_integrate(q * log_p, grid) - gaussian_entropy(math.exp(log_scale))

    result = optimize.minimize(
        reverse_kl, [loc0, math.log(scale0)], method="Nelder-Mead",
        options={"xatol": 1e-7, "fatol": 1e-12, "maxiter": 4000},
    )  # fmt: skip
    return float(result.x[0]), float(math.exp(result.x[1]))
