"""The model of probabilistic PCA and its three guides (:mod:`.ppca`), and what a trained
guide says: its W and z (:func:`loadings`, :func:`latents`) and new data generated with
them (:func:`generate`, for model criticism). Reached as ``ppca.model``, ``ppca.vi_guide``,
``ppca.loadings``...: this module never imports the exercise module.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import pyro.poutine as poutine
import torch
from pyro.distributions import constraints

from ..engine import Trainer
from .ppca_closed_form import LATENT_DIM, NOISE_SCALE, W_SCALE


def model(x, latent_dim=LATENT_DIM, noise_scale=NOISE_SCALE, w_scale=W_SCALE):
    """p(W) prod_n p(z_n) p(x_n | W, z_n)."""
    num_points, data_dim = x.shape
    w = pyro.sample("w", dist.Normal(0.0, w_scale).expand([data_dim, latent_dim]).to_event(2))
    with pyro.plate("data", num_points):
        z = pyro.sample("z", dist.Normal(0.0, 1.0).expand([latent_dim]).to_event(1))
        loc = (w @ z.unsqueeze(-1)).squeeze(-1)  # W z_n for every n (and every particle)
        pyro.sample("x", dist.Normal(loc, noise_scale).to_event(1), obs=x)


def map_guide(x, latent_dim=LATENT_DIM, noise_scale=NOISE_SCALE, w_scale=W_SCALE):
    """q(W) q(z) = Delta(W_map) prod_n Delta(z_n,map): a point, so the ELBO is log p(x, z, W)."""
    num_points, data_dim = x.shape
    w_map = pyro.param("w_map", lambda: 0.1 * torch.randn(data_dim, latent_dim))
    pyro.sample("w", dist.Delta(w_map).to_event(2))
    z_map = pyro.param("z_map", lambda: 0.1 * torch.randn(num_points, latent_dim))
    with pyro.plate("data", num_points):
        pyro.sample("z", dist.Delta(z_map).to_event(1))


def _local_normals(num_points, latent_dim):
    """q(z_n) = N(z_loc[n], diag(z_scale[n]^2)): one Normal per point (local parameters)."""
    z_loc = pyro.param("z_loc", lambda: 0.1 * torch.randn(num_points, latent_dim))
    z_sd = pyro.param(
        "z_scale",
        lambda: torch.full((num_points, latent_dim), 0.5),
        constraint=constraints.positive,
    )
    with pyro.plate("data", num_points):
        pyro.sample("z", dist.Normal(z_loc, z_sd).to_event(1))


def vi_guide(x, latent_dim=LATENT_DIM, noise_scale=NOISE_SCALE, w_scale=W_SCALE):
    """Mean field: q(W) = prod N(w_loc, w_scale^2), q(z_n) = N(z_loc[n], diag(z_scale[n]^2))."""
    num_points, data_dim = x.shape
    w_loc = pyro.param("w_loc", lambda: 0.1 * torch.randn(data_dim, latent_dim))
    w_sd = pyro.param(
        "w_scale", lambda: torch.full((data_dim, latent_dim), 0.1), constraint=constraints.positive
    )
    pyro.sample("w", dist.Normal(w_loc, w_sd).to_event(2))
    _local_normals(num_points, latent_dim)


def em_guide(x, latent_dim=LATENT_DIM, noise_scale=NOISE_SCALE, w_scale=W_SCALE):
    """Variational EM: a point for W, q(W) = Delta(W_map), and a Normal q(z_n) per point. The
    exact p(z_n | x_n, W) is Gaussian, so the ELBO can reach log p(x | W) + log p(W)."""
    w_map = pyro.param("w_map", lambda: 0.1 * torch.randn(x.shape[1], latent_dim))
    pyro.sample("w", dist.Delta(w_map).to_event(2))
    _local_normals(x.shape[0], latent_dim)


def loadings(trainer: Trainer) -> torch.Tensor:
    """The current W: the MAP point, or the mean of q(W)."""
    params = trainer.params()
    return params["w_map"] if "w_map" in params else params["w_loc"]


def latents(trainer: Trainer) -> torch.Tensor:
    """The current z (N x K): the MAP points, or the means of q(z_n)."""
    params = trainer.params()
    return params["z_map"] if "z_map" in params else params["z_loc"]


def generate(trainer: Trainer, keep=("w", "z"), seed: int = 0) -> torch.Tensor:
    """New data from the model with the latents in ``keep`` replaced by the guide's values
    (the MAP points, or one draw from q): ``keep=("w", "z")`` re-generates each point from
    its inferred z_n; ``keep=("w",)`` draws fresh z_n ~ N(0, I), a prior predictive check."""
    with trainer.activated(), torch.no_grad():
        pyro.set_rng_seed(seed)  # inside activated(): the training's random stream is kept
        guide_trace = poutine.trace(trainer.guide).get_trace(*trainer.args, **trainer.kwargs)
        inferred = {name: guide_trace.nodes[name]["value"] for name in keep}
        # condition fixes the latents; uncondition turns the observed x into a sampled one
        generator = poutine.condition(poutine.uncondition(trainer.model), data=inferred)
        return (
            poutine.trace(generator).get_trace(*trainer.args, **trainer.kwargs).nodes["x"]["value"]
        )
