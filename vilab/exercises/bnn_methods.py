"""The inference methods of the BNN exercise, side by side, and how to measure what each one
says about the gap.

Every method is one :class:`Method` in :data:`METHODS`: the network size, the noise, the
guide (or NUTS) and the training budget. The notebook, ``vilab run bnn`` and the tests all
take their settings from here, so the tests check exactly what the notebook shows.

Why several methods? Mean-field VI (AutoNormal: every weight independent) cannot widen its
band *between* two clouds of data in a one-hidden-layer network (Foong et al. 2019,
"In-Between Uncertainty in Bayesian Neural Networks"): measure it with
:func:`uncertainty_profile`. NUTS on a small network shows what the posterior itself does;
a full-covariance Gaussian (AutoMultivariateNormal) sits in between.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import pyro
import torch
from pyro.infer.autoguide import AutoMultivariateNormal, AutoNormal
from pyro.infer.autoguide.initialization import init_to_sample, init_to_value

from ..datasets import make_bnn_data
from ..device import resolve_device, to_device
from ..engine import Trainer
from ..reference import run_nuts
from ..validation import one_of
from .base import choose_guide
from .bnn_model import WEIGHT_SITES, fit_plain_nn, mean_function, model

GUIDES = {"mean_field": AutoNormal, "full_rank": AutoMultivariateNormal}
DEFAULT_OPTIONS = {"jit": True}  # every method; its lr and particles come from its Method
NUM_POINTS, DATA_SEED = 600, 0
GAP = (0.0, 5.0)  # no training data in 0 < x < 5
# Where the spread of the mean functions is compared (uncertainty_profile):
REGIONS = {"dense": (-8.0, -2.0), "gap": (1.0, 4.0), "beyond": (11.0, 15.0)}
GRID = torch.linspace(-14.0, 16.0, 301)  # inputs for plots and profiles
PLAIN_NN_STEPS = 2000  # Adam steps of every plain (least-squares) fit


@dataclass(frozen=True)
class Method:
    """One way of getting the posterior over the weights.

    ``inference`` is "mean_field" (AutoNormal), "full_rank" (AutoMultivariateNormal) or
    "nuts". For SVI ``num_steps`` are training steps; for NUTS they are posterior samples
    after ``warmup_steps`` of tuning. ``noise_scale=None`` learns the noise.
    """

    label: str
    inference: str
    hidden: int
    num_steps: int
    smoke_steps: int
    noise_scale: float | None = 1.0
    lr: float = 0.01
    lr_decay: float = 1.0  # the learning rate is multiplied by this after every step
    init_scale: float = 0.1
    num_particles: int = 1  # samples per ELBO estimate (vectorised)
    warm_start: bool = False  # start the guide's means at the plain network's weights
    warmup_steps: int = 0
    max_tree_depth: int = 6


METHODS = {
    # the course's BNN: 50 tanh units, every weight an independent Gaussian
    "mean_field": Method(
        "mean-field VI, 50 units", "mean_field", hidden=50, num_steps=2000, smoke_steps=100, lr=0.02
    ),
    # the same three methods on one small network, so only the inference differs
    "mean_field_small": Method(
        "mean-field VI, 10 units", "mean_field", hidden=10, num_steps=2000, smoke_steps=100, lr=0.02
    ),
    # (widens beyond the data by ~1.3x, not in the gap: a richer guide alone is not enough)
    "full_rank": Method(
        "full-covariance VI, 10 units",
        "full_rank",
        hidden=10,
        num_steps=2000,
        smoke_steps=100,
        lr=0.02,
    ),
    # the reference: the exact posterior widens ~4-6x in the gap and beyond
    "nuts": Method(
        "NUTS, 10 units", "nuts", hidden=10, num_steps=100, smoke_steps=10, warmup_steps=100
    ),
    # the optional course exercise: learn sigma instead of fixing it at 1. From a random
    # start mean-field VI first explains nearly everything as noise (sigma near 5) and needs
    # thousands of steps to recover; starting at the plain network's weights and averaging
    # 8 samples per ELBO estimate settles in a few hundred.
    "learned_noise": Method(
        "mean-field VI, 10 units, learned noise",
        "mean_field",
        hidden=10,
        num_steps=750,
        smoke_steps=50,
        noise_scale=None,
        init_scale=0.01,
        num_particles=8,
        warm_start=True,
    ),
}


def get_method(method: str | Method) -> Method:
    if isinstance(method, Method):
        return method
    return METHODS[
        one_of("method", method, METHODS, fix="pass a name of bnn.METHODS or a Method(...).")
    ]


def load_data(smoke: bool | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The exercise's data set, ``(x, y)``: 600 points, seed 0 (400 left of the gap, 200
    right). The same in smoke mode (``smoke`` is accepted for the common shape): 600 points
    cost nothing, and fewer would change the gap the exercise is about."""
    return make_bnn_data(num_points=NUM_POINTS, seed=DATA_SEED)


@dataclass(frozen=True)
class BNNContext:
    """What a BNN trainer was made for (``trainer.context``): its data and its method, so
    its plots draw its own data with its own noise."""

    x: torch.Tensor
    y: torch.Tensor
    method: Method
    name: str  # the key of METHODS, or "custom" for a Method(...) of your own


def bound_model(method: str | Method, model_fn=None):
    """``model`` (or your ``model_fn`` with the same arguments) with the method's network
    size and noise filled in: a function of (x, y)."""
    method = get_method(method)
    model_fn = model if model_fn is None else model_fn
    return functools.partial(model_fn, hidden=method.hidden, noise_scale=method.noise_scale)


def make_trainer(
    data=None,
    guide=None,
    seed: int = 0,
    method: str | Method = "mean_field",
    model=None,
    **options,
) -> Trainer:
    """A Trainer for an SVI method of :data:`METHODS` on ``data = (x, y)`` (default:
    :func:`load_data`), on the exercise's model or yours (``model=``, with the arguments
    ``(x, y, hidden, noise_scale)``). ``guide`` is None for the method's own (AutoNormal,
    mean field, for the course's BNN), a name of :data:`GUIDES`, or a guide of your own.
    ``options`` go to the Trainer (e.g. ``lr=0.02``); the ELBO is JIT-compiled, which makes
    these small steps about four times faster."""
    name = method if isinstance(method, str) else "custom"
    method = get_method(method)
    if method.inference not in GUIDES:
        raise ValueError(
            f"Method {method.label!r} uses {method.inference!r}, which is not trained by SVI: "
            f"use sample_nuts({method.inference!r}) for NUTS, or one of "
            f"{sorted(name for name, m in METHODS.items() if m.inference in GUIDES)} here."
        )
    x, y = _check_data(load_data() if data is None else data)
    bound = bound_model(method, model)
    guide = method.inference if guide is None else guide
    if isinstance(guide, str) and guide in GUIDES:  # the guide's starting point too
        start = plain_start(method, x, y, seed) if method.warm_start else {}
        device = resolve_device(options.get("device", "cpu"))
        guide = GUIDES[guide](
            bound,
            init_loc_fn=init_loc_fn(to_device(start, device), device),
            init_scale=method.init_scale,
        )
    guide = choose_guide(guide, GUIDES, bound)  # yours passes; an unknown name is explained
    settings = {
        **DEFAULT_OPTIONS,
        "lr": method.lr,
        "num_particles": method.num_particles,
        "vectorize_particles": method.num_particles > 1,
        **options,
    }
    if method.lr_decay != 1.0:
        settings = {"optim": "clipped_adam", "optim_args": {"lrd": method.lr_decay}, **settings}
    context = BNNContext(x, y, method, name)
    return Trainer(bound, guide, args=(x, y), seed=seed, context=context, **settings)


def _check_data(data) -> tuple[torch.Tensor, torch.Tensor]:
    if (
        isinstance(data, (tuple, list))
        and len(data) == 2
        and all(isinstance(v, torch.Tensor) and v.ndim == 1 for v in data)
        and len(data[0]) == len(data[1])
    ):
        return data[0], data[1]
    raise ValueError(
        f"data must be a pair (x, y) of 1-D tensors of the same length, got "
        f"{type(data).__name__}. Fix: data=bnn.load_data(), or data=(x, y) of your own."
    )


def init_loc_fn(values: dict | None = None, device="cpu"):
    """Where the guide's means start: at ``values`` where given, sigma at 1, the other
    weights drawn from the prior (Pyro's default puts them all at 0, where every hidden unit
    is the same and training crawls)."""
    return init_to_value(
        values={"sigma": torch.tensor(1.0, device=device), **(values or {})},
        fallback=init_to_sample,
    )


def plain_start(method: Method, x, y, seed: int = 0) -> dict[str, torch.Tensor]:
    """The plain network's least-squares weights, and sigma at its training RMSE."""
    weights = fit_plain_nn(x, y, method.hidden, num_steps=PLAIN_NN_STEPS, seed=seed)
    rmse = (mean_function(x, **weights) - y).pow(2).mean().sqrt()
    return {**weights, "sigma": rmse}


def sample_nuts(
    method: str | Method = "nuts",
    x=None,
    y=None,
    num_samples: int | None = None,
    warmup_steps: int | None = None,
    seed: int = 0,
) -> dict[str, torch.Tensor]:
    """Posterior samples of the weights by NUTS, the reference the VI methods are judged by.
    Only practical for small networks (about 10 to 20 hidden units)."""
    method = get_method(method)
    if x is None or y is None:
        x, y = load_data()
    return run_nuts(
        bound_model(method),
        args=(x, y),
        num_samples=num_samples or method.num_steps,
        warmup_steps=method.warmup_steps if warmup_steps is None else warmup_steps,
        seed=seed,
        jit_compile=True,
        ignore_jit_warnings=True,
        max_tree_depth=method.max_tree_depth,
    )


def posterior_weights(source, num_samples: int = 500) -> dict[str, torch.Tensor]:
    """Weight samples {"w1": (S, H), ..., "b2": (S,)} (and "sigma" if learned) from a
    trained Trainer (drawn from its guide, all at once) or a dict of NUTS samples."""
    if isinstance(source, dict):
        return source
    if not isinstance(source, Trainer):
        raise TypeError(
            f"Expected a Trainer or a dict of posterior samples, got {type(source).__name__}."
        )
    # the guide called inside a plate draws num_samples weight vectors in one go
    with source.activated(), torch.no_grad(), pyro.plate("samples", num_samples, dim=-1):
        return {k: v.detach().cpu() for k, v in source.guide(*source.args).items()}


def mean_functions(weights: dict, grid: torch.Tensor = GRID) -> torch.Tensor:
    """The sampled mean functions f(grid), shape (S, G): one curve per weight sample."""
    w1, b1, w2, b2 = (weights[name] for name in WEIGHT_SITES)
    # a size-1 dim per sample lines the weights up with the grid: (S, 1, H) -> f (S, G)
    return mean_function(grid, w1[:, None, :], b1[:, None, :], w2[:, None, :], b2[:, None])


def noise_sd(weights: dict, noise_scale: float | None = 1.0) -> float:
    """The observation noise sd: the posterior root mean square of sigma when it was
    learned (a "sigma" sample site), else the fixed ``noise_scale``."""
    if "sigma" in weights:
        return float(weights["sigma"].pow(2).mean().sqrt())
    return float(noise_scale)


def uncertainty_profile(
    functions: torch.Tensor, grid: torch.Tensor = GRID, regions: dict = REGIONS
) -> dict[str, float]:
    """The spread of the sampled mean functions (epistemic sd), averaged over each region:
    {"dense": ..., "gap": ..., "beyond": ...}. A posterior that knows what it does not
    know has gap and beyond well above dense."""
    if functions.ndim != 2 or functions.shape[-1] != grid.shape[0]:
        raise ValueError(
            f"Expected functions of shape (samples, {grid.shape[0]}) evaluated "
            f"on the grid, got {tuple(functions.shape)}."
        )
    sd = functions.std(0)
    profile = {}
    for name, (low, high) in regions.items():
        inside = (grid >= low) & (grid <= high)
        if not inside.any():
            raise ValueError(f"The grid has no point in region {name!r} {low}..{high}.")
        profile[name] = float(sd[inside].mean())
    return profile


def ratios(profile: dict[str, float]) -> dict[str, float]:
    """gap/dense and beyond/dense: how many times more uncertain away from the data."""
    return {
        "gap/dense": profile["gap"] / profile["dense"],
        "beyond/dense": profile["beyond"] / profile["dense"],
    }
