"""The network of the Bayesian neural network exercise: one hidden tanh layer, as a Pyro
model (weights are random variables) and as a plain torch fit (weights are numbers).

    u = x / X_SCALE                                      (inputs standardised to about [-2, 2])
    w1, b1, w2 ~ Normal(0, 1) (H values each),  b2 ~ Normal(0, 1)          p(weights)
    f(x) = b2 + sum_j w2_j tanh(w1_j u + b1_j)                             the mean function
    y_n ~ Normal(f(x_n), sigma)                                            p(y | x, weights)

``sigma`` is fixed (the course fixes it at 1) or, with ``noise_scale=None``, learned with
the prior sigma ~ HalfNormal(5). Dividing x by 5 keeps the tanh units in their useful range
for N(0, 1) weights: on the raw x in [-10, 10] almost every unit would be saturated.
"""

from __future__ import annotations

import pyro
import pyro.distributions as dist
import torch

from ..validation import real_number, whole_number

X_SCALE = 5.0  # u = x / 5: the data x in [-10, 10] become u in [-2, 2]
PRIOR_SCALE = 1.0  # every weight and bias ~ Normal(0, 1)
NOISE_PRIOR_SCALE = 5.0  # sigma ~ HalfNormal(5) when the noise is learned
WEIGHT_SITES = ("w1", "b1", "w2", "b2")


def mean_function(x: torch.Tensor, w1, b1, w2, b2) -> torch.Tensor:
    """f(x) = b2 + sum_j w2_j tanh(w1_j x / X_SCALE + b1_j).

    ``x`` has shape (N,), ``w1, b1, w2`` shape (..., H) and ``b2`` shape (...); batch dims
    follow Pyro's plate layout, the last one lining up with x: weights (H,) give f of
    shape (N,); weights (S, 1, H) with b2 (S, 1) give (S, N), one row per weight sample
    (see :func:`vilab.exercises.bnn_methods.mean_functions`).
    """
    hidden = torch.tanh((x / X_SCALE)[:, None] * w1 + b1)  # (..., N, H)
    return (hidden * w2).sum(-1) + b2


def model(
    x: torch.Tensor,
    y: torch.Tensor | None = None,
    hidden: int = 50,
    noise_scale: float | None = 1.0,
) -> torch.Tensor:
    """p(weights) p(y | x, weights): a one-hidden-layer tanh network with random weights.

    ``noise_scale=None`` makes the observation noise a latent variable too. The mean
    function is recorded as the deterministic site "f" so that Predictive can return it.
    """
    _check_hidden(hidden)
    # p(weights): each vector is one sample site; .to_event(1) says its H entries belong
    # together (one random vector), so the guide sees four sites, not 3H + 1 scalars.
    w1 = pyro.sample("w1", dist.Normal(0.0, PRIOR_SCALE).expand([hidden]).to_event(1))
    b1 = pyro.sample("b1", dist.Normal(0.0, PRIOR_SCALE).expand([hidden]).to_event(1))
    w2 = pyro.sample("w2", dist.Normal(0.0, PRIOR_SCALE).expand([hidden]).to_event(1))
    b2 = pyro.sample("b2", dist.Normal(0.0, PRIOR_SCALE))
    if noise_scale is None:
        sigma = pyro.sample("sigma", dist.HalfNormal(NOISE_PRIOR_SCALE))
    else:
        sigma = _check_noise_scale(noise_scale)
    f = pyro.deterministic("f", mean_function(x, w1, b1, w2, b2))
    # p(y | x, weights): the data points are independent given the weights
    with pyro.plate("data", x.shape[0]):
        pyro.sample("y", dist.Normal(f, sigma), obs=y)
    return f


def fit_plain_nn(
    x: torch.Tensor,
    y: torch.Tensor,
    hidden: int = 50,
    num_steps: int = 3000,
    lr: float = 0.01,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """The same network trained the usual way: one set of weights minimising the squared
    error (Adam, full batch). Returns the weights {"w1", "b1", "w2", "b2"}; evaluate with
    ``mean_function(grid, **weights)``. One function, no error bars: it looks as sure of
    itself in the gap as next to the data."""
    _check_hidden(hidden)
    generator = torch.Generator().manual_seed(seed)
    shapes = {"w1": (hidden,), "b1": (hidden,), "w2": (hidden,), "b2": ()}
    weights = {
        name: (PRIOR_SCALE * torch.randn(shape, generator=generator)).requires_grad_()
        for name, shape in shapes.items()
    }
    optimizer = torch.optim.Adam(weights.values(), lr=lr)
    for _ in range(num_steps):
        optimizer.zero_grad()
        loss = ((mean_function(x, **weights) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
    return {name: value.detach() for name, value in weights.items()}


def _check_hidden(hidden) -> int:
    return whole_number(
        "hidden (the number of hidden units)",
        hidden,
        fix="the course uses 50 to 250; NUTS is only practical for about 10 to 20.",
    )


def _check_noise_scale(noise_scale) -> float:
    return real_number(
        "noise_scale (the sd of y around f(x))",
        noise_scale,
        positive=True,
        fix="the course fixes it at 1.0; pass None to learn it.",
    )
