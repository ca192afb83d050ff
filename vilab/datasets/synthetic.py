"""Seeded toy data sets for the exercises, where the true answer is known.

Each generator draws from its own ``torch.Generator`` seeded with ``seed``: the same seed
gives the same data on every machine, and calling a generator never disturbs the global
RNG that Pyro and your model use.

    >>> from vilab.datasets import make_bnn_data
    >>> x, y = make_bnn_data(num_points=600, seed=0)
    >>> x.shape
    torch.Size([600])
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..validation import real_number, whole_number


def _generator(seed: int) -> torch.Generator:
    seed = whole_number("seed", seed, minimum=0, fix="pass an int such as seed=0.", error=TypeError)
    return torch.Generator().manual_seed(seed)


def make_gaussian_data(
    num_points: int = 100, loc: float = 5.0, scale: float = 1.0, seed: int = 0
) -> torch.Tensor:
    """``num_points`` draws from Normal(loc, scale^2): the first exercise, inferring a mean.

    Returns a float32 tensor of shape (num_points,).
    """
    num_points = whole_number("num_points", num_points)
    scale = real_number("scale", scale, positive=True)
    noise = torch.randn(num_points, generator=_generator(seed))
    return loc + scale * noise


def make_bnn_data(num_points: int = 600, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """1-D regression data with a gap, for Bayesian neural networks.

    y = 0.5 x + 7 sin(0.75 x) + eps, eps ~ Normal(0, 3^2). Two thirds of the x are uniform
    on [-10, 0] and one third on [5, 10]: no data in (0, 5), where a good posterior
    predictive should widen. Returns ``x, y``, float32 tensors of shape (num_points,),
    sorted by x so that ``plt.plot(x, ...)`` draws a clean curve.
    """
    num_points = whole_number("num_points", num_points)
    generator = _generator(seed)
    num_right = num_points // 3
    num_left = num_points - num_right
    u = torch.rand(num_points, generator=generator)
    x = torch.cat([-10.0 + 10.0 * u[:num_left], 5.0 + 5.0 * u[num_left:]])
    noise = 3.0 * torch.randn(num_points, generator=generator)
    y = 0.5 * x + 7.0 * torch.sin(0.75 * x) + noise
    order = torch.argsort(x)
    return x[order], y[order]


class PPCAData(NamedTuple):
    """Observations ``x`` (N x D) with the true loadings ``w`` (D x K) and latents ``z`` (N x K)."""

    x: torch.Tensor
    w: torch.Tensor
    z: torch.Tensor


def make_ppca_data(
    num_points: int = 5000,
    data_dim: int = 2,
    latent_dim: int = 1,
    noise_scale: float = 0.5,
    w_scale: float = 2.0,
    seed: int = 0,
) -> PPCAData:
    """Data from probabilistic PCA, x_n = W z_n + eps_n, to check a fitted W against the truth.

    W_dk ~ Normal(0, w_scale^2), z_n ~ Normal(0, I_K), eps_n ~ Normal(0, noise_scale^2 I_D),
    so Cov(x) = W W^T + noise_scale^2 I. Note W is identified only up to rotation (and
    sign): compare W W^T, not W itself.
    """
    num_points = whole_number("num_points", num_points)
    data_dim = whole_number("data_dim", data_dim)
    latent_dim = whole_number("latent_dim", latent_dim)
    noise_scale = real_number("noise_scale", noise_scale, positive=True)
    w_scale = real_number("w_scale", w_scale, positive=True)
    generator = _generator(seed)
    w = w_scale * torch.randn(data_dim, latent_dim, generator=generator)
    z = torch.randn(num_points, latent_dim, generator=generator)
    eps = noise_scale * torch.randn(num_points, data_dim, generator=generator)
    return PPCAData(x=z @ w.T + eps, w=w, z=z)
