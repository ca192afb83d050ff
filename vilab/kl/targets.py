"""One-dimensional targets p(z) for the KL explorer: two modes, a skew, heavy tails.

Each target is a normalised density with a Pyro distribution (what the reverse-KL fit
trains against), its mean and sd in closed form (what the forward-KL fit matches) and the
range where its mass lives (for plots and quadrature)::

    >>> p = two_modes(separation=6.0, weight=0.3)
    >>> round(p.mean, 3), round(p.sd, 3)
    (1.2, 2.926)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from torch.distributions.utils import broadcast_all

from ..validation import one_of, real_number, refuse

KINDS = ("two modes", "skewed", "heavy tails")


class SkewNormal(dist.TorchDistribution):
    """Azzalini's skew normal: density 2/scale phi(u) Phi(skew u), u = (z - loc)/scale."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, skew, validate_args=None):
        self.loc, self.scale, self.skew = broadcast_all(loc, scale, skew)
        super().__init__(self.loc.shape, validate_args=validate_args)

    def log_prob(self, value):
        u = (value - self.loc) / self.scale
        log_phi = -0.5 * u**2 - 0.5 * math.log(2 * math.pi)
        return math.log(2.0) - self.scale.log() + log_phi + torch.special.log_ndtr(self.skew * u)

    def rsample(self, sample_shape=()):
        # z = loc + scale (delta |u0| + sqrt(1 - delta^2) u1), u0, u1 ~ N(0, 1)
        shape = self._extended_shape(torch.Size(sample_shape))
        u0, u1 = torch.randn(shape, dtype=self.loc.dtype), torch.randn(shape, dtype=self.loc.dtype)
        delta = self.skew / (1 + self.skew**2).sqrt()
        return self.loc + self.scale * (delta * u0.abs() + (1 - delta**2).sqrt() * u1)


@dataclass(frozen=True)
class Target:
    """A target density p(z) on the real line.

    ``kind`` is one of :data:`KINDS`; ``params`` its settings; ``mean`` and ``sd`` are
    exact; ``components`` lists (weight, loc, scale) of a mixture (empty otherwise);
    ``low``/``high`` bound the region worth drawing.
    """

    kind: str
    params: dict
    mean: float
    sd: float
    low: float
    high: float
    components: tuple = ()

    def distribution(self, dtype=torch.float32) -> dist.TorchDistribution:
        """p(z) as a Pyro distribution (float32 to train against, float64 for quadrature)."""
        t = lambda *values: torch.tensor(values, dtype=dtype)  # noqa: E731
        if self.kind == "two modes":
            weights, locs, scales = zip(*self.components)
            return dist.MixtureSameFamily(
                dist.Categorical(probs=t(*weights)), dist.Normal(t(*locs), t(*scales))
            )
        if self.kind == "skewed":
            p = self.params
            return SkewNormal(t(p["loc"])[0], t(p["scale"])[0], t(p["skew"])[0])
        return dist.StudentT(t(self.params["df"])[0], t(0.0)[0], t(1.0)[0])

    def log_prob(self, z) -> torch.Tensor:
        """log p(z) in float64 (``z``: anything torch.as_tensor accepts)."""
        z = torch.as_tensor(z, dtype=torch.float64)
        return self.distribution(torch.float64).log_prob(z)

    def pdf(self, z):
        """p(z) as a NumPy array."""
        return self.log_prob(z).exp().numpy()

    @property
    def label(self) -> str:
        """A short name with the settings, for titles."""
        hidden = () if self.kind == "two modes" else ("loc", "scale")
        settings = ", ".join(f"{k} {v:g}" for k, v in self.params.items() if k not in hidden)
        return f"{self.kind} ({settings})"


def two_modes(separation: float = 6.0, weight: float = 0.5, scale: float = 1.0) -> Target:
    """p = weight N(-separation/2, scale) + (1 - weight) N(+separation/2, scale)."""
    separation = _check_number("separation", separation, 0.0, math.inf, "e.g. separation=6.0")
    weight = _check_number("weight", weight, 0.0, 1.0, "the weight of the left mode, e.g. 0.3")
    scale = _check_number("scale", scale, 1e-3, math.inf, "e.g. scale=1.0", closed_low=False)
    locs = (-separation / 2, separation / 2)
    weights = (weight, 1.0 - weight)
    mean = sum(w * m for w, m in zip(weights, locs))
    variance = sum(w * (scale**2 + m**2) for w, m in zip(weights, locs)) - mean**2
    components = tuple((w, m, scale) for w, m in zip(weights, locs))
    params = {"separation": separation, "weight": weight, "scale": scale}
    margin = 6 * scale
    return Target("two modes", params, mean, math.sqrt(variance), locs[0] - margin,
                  locs[1] + margin, components)  # fmt: skip


def skewed(skew: float = 5.0) -> Target:
    """A skew normal with shape ``skew``, shifted and scaled to mean 0 and sd 1 (so the
    forward-KL fit is N(0, 1) whatever the skew, while the mode moves)."""
    skew = _check_number("skew", skew, -50.0, 50.0, "e.g. skew=5.0 (0 is a plain Normal)")
    delta = skew / math.sqrt(1 + skew**2)
    scale = 1 / math.sqrt(1 - 2 * delta**2 / math.pi)
    loc = -scale * delta * math.sqrt(2 / math.pi)
    params = {"skew": skew, "loc": loc, "scale": scale}
    return Target("skewed", params, 0.0, 1.0, -5.0, 5.0)


def heavy_tailed(df: float = 3.0) -> Target:
    """A Student-t with ``df`` degrees of freedom (df > 2: its variance must be finite,
    or no Gaussian has a finite forward KL to it)."""
    df = _check_number(
        "df", df, 2.0, 1e6, "choose df > 2 (the variance is infinite below)", closed_low=False
    )
    return Target("heavy tails", {"df": df}, 0.0, math.sqrt(df / (df - 2)), -8.0, 8.0)


def make_target(kind: str, **settings) -> Target:
    """The target called ``kind`` (one of :data:`KINDS`) with its settings."""
    makers = {"two modes": two_modes, "skewed": skewed, "heavy tails": heavy_tailed}
    one_of("kind", kind, KINDS, fix='e.g. make_target("two modes", separation=6.0).')
    return makers[kind](**settings)


def _check_number(name, value, low, high, fix, closed_low=True) -> float:
    number = real_number(name, value, finite=False, fix=f"{fix}.", error=TypeError)
    if not ((number >= low if closed_low else number > low) and number <= high):
        bracket = "[" if closed_low else "("
        refuse(name, f"in {bracket}{low:g}, {high:g}]", value, f"{fix}.")
    return number
