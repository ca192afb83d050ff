"""Exercise: probabilistic PCA, point estimates (MAP) against VI, and model criticism.

Model (Tipping & Bishop, 1999), for N points in D dimensions with K latent dimensions:
W ~ N(0, 2^2) elementwise (D x K),  z_n ~ N(0, I_K),  x_n | W, z_n ~ N(W z_n, sigma^2 I_D),
sigma = 0.5 known. Integrating z out, x_n ~ N(0, W W^T + sigma^2 I): W is identified only up
to a rotation (and sign), so fits are compared through W W^T and principal directions.

Guides: ``map_guide`` puts a point (Delta) on W and on every z_n, so maximising the ELBO
maximises the joint density p(x, z, W): MAP. ``vi_guide`` is mean-field VI, q(W) q(z) with
a Normal per entry. ``em_guide`` (variational EM) keeps a point W and a Normal q(z_n).
Reference: the closed-form maximum-likelihood W of Tipping & Bishop,
W_ML = U_K (L_K - sigma^2 I)^(1/2), from the top-K eigenpairs of S = X^T X / N.

The lesson: joint MAP is *not* maximum likelihood. Profiling the z_n out of log p(x, z, W)
leaves, per direction of length a, N lambda a^2 / (2 sigma^2 (a^2 + sigma^2)) - a^2 / (2 s^2):
the likelihood part grows with a forever (z_n = W^T x_n / (a^2 + sigma^2) shrinks to 0 while
W inflates, and a point z has no spread to pay for it); only the prior W ~ N(0, s^2) stops
it, at a^2 = s sqrt(N lambda) - sigma^2 (:func:`joint_map_norms`). VI keeps q(z_n)'s
spread and lands on W_ML when N >> D. (Rescaling W -> cW, z -> z/c changes the mean-field
ELBO only through the entropies, by (D - N) K log c, plus the priors: with D = 784 pixels
and few images, q(W)'s entropy pulls |W| up, so the MNIST part uses ``em_guide``.)
"""

from __future__ import annotations

import warnings

import numpy as np
import pyro
import pyro.distributions as dist
import pyro.poutine as poutine
import torch
from pyro.distributions import constraints

from ..config import pick_steps, smoke_mode
from ..datasets import DatasetUnavailable, DataSourceNotice, load_mnist, make_ppca_data
from ..engine import Trainer
from ..plots.latent import plot_latent_scatter
from ..plots.loadings import (
    align_loadings,
    canonical_rotation,
    plot_direction_over_data,
    plot_generated_over_real,
    plot_w_posterior,
)
from .base import ExerciseReport

NAME = "ppca"
TITLE = "Probabilistic PCA: MAP against VI, the closed-form ML answer and model criticism"
LATENT_DIM, NOISE_SCALE, W_SCALE = 1, 0.5, 2.0
NUM_POINTS, SMOKE_POINTS = 5000, 1000
FULL_STEPS, SMOKE_STEPS = 1000, 150
# VI: 5 vectorised particles and a learning rate decaying 0.4% per step take the noise of
# the 5,000 local q(z_n) out of W; W W^T then settles within ~2% of the closed form.
VI_OPTIONS = {
    "lr": 0.1,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.996},
    "elbo": "meanfield",
    "num_particles": 5,
    "vectorize_particles": True,
}
# MAP: plain Adam without decay, so the drift of |W| towards the joint-MAP optimum shows.
MAP_OPTIONS = {"lr": 0.1, "optim": "adam"}
MNIST_DIGITS, MNIST_NOISE_SCALE = (0, 1, 2), 0.2  # sigma ~ ML estimate 0.21 for K=2
MNIST_POINTS, MNIST_SMOKE_POINTS, MNIST_STEPS, MNIST_SMOKE_STEPS = 2000, 300, 600, 60
MNIST_OPTIONS = {
    "lr": 0.05,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.995},
    "elbo": "meanfield",
}


def check_data_matrix(x, name: str = "x") -> torch.Tensor:
    """``x`` as an (N, D) float tensor, or a TypeError/ValueError that says how to fix it."""
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(x)
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"Expected {name} to be a torch.Tensor of shape (N, D), got "
            f"{type(x).__name__}. Convert it with torch.as_tensor({name})."
        )
    if not x.is_floating_point():
        raise TypeError(
            f"Expected {name} to hold floats, got dtype {x.dtype}. Convert it, e.g. "
            f"{name}.float() (or {name}.float() / 255 for 0-255 pixel values)."
        )
    if x.dim() != 2 or x.shape[0] < 2:
        raise ValueError(
            f"Expected {name} of shape (N, D) with N >= 2 points as rows, got shape "
            f"{tuple(x.shape)}. Flatten images with {name}.reshape(len({name}), -1)."
        )
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contains NaN/inf values: drop or impute those rows first.")
    return x.float()


def check_latent_dim(latent_dim, data_dim: int) -> int:
    """``latent_dim`` as a whole number between 1 and the data dimension D."""
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int):
        raise TypeError(f"Expected latent_dim to be an int, got {latent_dim!r}.")
    if not 1 <= latent_dim <= data_dim:
        raise ValueError(
            f"Expected 1 <= latent_dim <= {data_dim} (the data dimension), got {latent_dim}: "
            f"a K-dimensional code can only span at most D directions."
        )
    return latent_dim


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


GUIDES = {
    "map": (map_guide, MAP_OPTIONS),
    "vi": (vi_guide, VI_OPTIONS),
    "em": (em_guide, VI_OPTIONS),
}


# -- references ------------------------------------------------------------------------


def closed_form_ml(x, latent_dim: int = LATENT_DIM, noise_scale: float = NOISE_SCALE):
    """W_ML = U_K (L_K - sigma^2 I)^(1/2) (Tipping & Bishop, 1999, with sigma known), from the
    eigenpairs of S = X^T X / N (the model has no mean: centre the data first)."""
    x = check_data_matrix(x).double()
    check_latent_dim(latent_dim, x.shape[1])
    eigenvalues, eigenvectors = torch.linalg.eigh(x.T @ x / len(x))  # ascending order
    top, vectors = eigenvalues.flip(0)[:latent_dim], eigenvectors.flip(1)[:, :latent_dim]
    return (vectors * (top - noise_scale**2).clamp(min=0).sqrt()).float()


def joint_map_norms(x, latent_dim=LATENT_DIM, noise_scale=NOISE_SCALE, w_scale=W_SCALE):
    """Column lengths of the exact joint MAP of (W, z): a_k^2 = s sqrt(N lambda_k) - sigma^2,
    with s the prior scale of W. Grows like N^(1/4): no number of points makes it W_ML."""
    x = check_data_matrix(x).double()
    top = torch.linalg.eigvalsh(x.T @ x / len(x)).flip(0)[:latent_dim]
    return (w_scale * (len(x) * top).sqrt() - noise_scale**2).clamp(min=0).sqrt().float()


def marginal_log_likelihood(w, x, noise_scale: float = NOISE_SCALE) -> float:
    """log p(x | W) per point, z integrated out: x_n ~ N(0, W W^T + sigma^2 I)."""
    x, w = check_data_matrix(x), torch.as_tensor(w, dtype=torch.float32)
    diag = torch.full((x.shape[1],), noise_scale**2)
    marginal = dist.LowRankMultivariateNormal(torch.zeros(x.shape[1]), w, diag)
    return float(marginal.log_prob(x).mean())


def subspace_cosine(w, w_ref) -> float:
    """Cosine of the largest principal angle between the column spans of two W's: |cos| of
    the two directions when K = 1; 1 when the spans agree, whatever the rotation."""
    q, _ = torch.linalg.qr(torch.as_tensor(w, dtype=torch.float64))
    q_ref, _ = torch.linalg.qr(torch.as_tensor(w_ref, dtype=torch.float64))
    return float(torch.linalg.svdvals(q.T @ q_ref).min())


def relative_frobenius(w, w_ref) -> float:
    """||W W^T - W_ref W_ref^T||_F / ||W_ref W_ref^T||_F: rotation-free distance of two fits."""
    w, w_ref = torch.as_tensor(w, dtype=torch.float64), torch.as_tensor(w_ref, dtype=torch.float64)
    return float(torch.linalg.norm(w @ w.T - w_ref @ w_ref.T) / torch.linalg.norm(w_ref @ w_ref.T))


# -- training and reading the answer -----------------------------------------------------


def make_trainer(
    x=None,
    method: str = "vi",
    seed: int = 0,
    latent_dim: int = LATENT_DIM,
    noise_scale: float = NOISE_SCALE,
    w_scale: float = W_SCALE,
    model=None,
    guide=None,
    **options,
) -> Trainer:
    """A Trainer for ``method`` "vi" (:func:`vi_guide`), "map" (:func:`map_guide`) or "em"
    (:func:`em_guide`) on ``x`` (default: 5,000 points of
    :func:`vilab.datasets.make_ppca_data` with ``seed``); ``options`` override
    :data:`VI_OPTIONS` ("vi", "em") or :data:`MAP_OPTIONS` ("map"). ``model`` and ``guide``
    replace the exercise's (e.g. the notebook's), trained with the method's options."""
    if method not in GUIDES:
        raise ValueError(f"Expected method 'vi', 'map' or 'em', got {method!r}.")
    x = make_ppca_data(NUM_POINTS, seed=seed).x if x is None else check_data_matrix(x)
    check_latent_dim(latent_dim, x.shape[1])
    method_guide, defaults = GUIDES[method]
    kwargs = {"latent_dim": latent_dim, "noise_scale": noise_scale, "w_scale": w_scale}
    return Trainer(
        globals()["model"] if model is None else model,
        method_guide if guide is None else guide,
        args=(x,),
        kwargs=kwargs,
        seed=seed,
        **{**defaults, **options},
    )


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


def live_plot(trainer: Trainer, ax) -> None:
    """The current W direction over the data, with the closed-form ML direction."""
    x, latent_dim = trainer.args[0], trainer.kwargs["latent_dim"]
    w_ml = closed_form_ml(x, latent_dim, trainer.kwargs["noise_scale"])
    w = align_loadings(loadings(trainer), w_ml)
    ax.clear()
    plot_direction_over_data(
        x,
        {"current W": w, "closed-form W_ML": w_ml},
        ax=ax,
        title=f"W at step {trainer.num_steps_done}",
    )


# -- MNIST: the same model on images -------------------------------------------------------


def load_mnist_centred(num_instances=None, digits=MNIST_DIGITS, smoke=None, data_dir=None):
    """(x, y, mean): MNIST test-split images of ``digits`` minus their mean image (the model
    has no mean), their labels, and the mean. 2,000 images (300 in smoke mode)."""
    small = smoke_mode() if smoke is None else smoke
    num_instances = num_instances or (MNIST_SMOKE_POINTS if small else MNIST_POINTS)
    with warnings.catch_warnings():  # the notice names a local path
        warnings.simplefilter("ignore", DataSourceNotice)
        data = load_mnist(
            "test",
            num_instances=num_instances,
            digits=list(digits),
            data_dir=data_dir,
            progress=False,
        )
    mean = data.x.mean(0)
    return data.x - mean, data.y, mean


def make_mnist_trainer(
    x, seed: int = 0, latent_dim: int = 2, method: str = "em", **options
) -> Trainer:
    """PPCA on centred images ``x`` (N x 784), sigma = 0.2 known; by default variational EM
    (:func:`em_guide`): with D = 784 pixels, mean-field q(W) is pulled off the ML answer."""
    return make_trainer(
        x, method, seed, latent_dim, MNIST_NOISE_SCALE, **{**MNIST_OPTIONS, **options}
    )


def mnist_projection(trainer: Trainer) -> torch.Tensor:
    """The means of q(z_n) in the canonical frame of W (see :mod:`vilab.plots.loadings`)."""
    rotation = torch.as_tensor(canonical_rotation(loadings(trainer)), dtype=torch.float32)
    return latents(trainer) @ rotation


# -- the whole exercise ----------------------------------------------------------------------


def _mnist_part(seed, smoke, num_steps, progress):
    try:
        x, y, _ = load_mnist_centred(smoke=smoke)
    except DatasetUnavailable as error:
        return {"skipped": f"MNIST unavailable: {str(error).splitlines()[0]}"}, None, {}
    trainer = make_mnist_trainer(x, seed=seed)
    trainer.run(num_steps or pick_steps(MNIST_STEPS, MNIST_SMOKE_STEPS, smoke), progress=progress)
    w_ml = closed_form_ml(x, 2, MNIST_NOISE_SCALE)
    summary = {
        "num_images": len(x),
        "digits": list(MNIST_DIGITS),
        "noise_scale": MNIST_NOISE_SCALE,
        "method": "em (point W, Normal q(z_n))",
        "subspace_cosine_vs_ml": subspace_cosine(loadings(trainer), w_ml),
        "relative_frobenius_vs_ml": relative_frobenius(loadings(trainer), w_ml),
    }
    figure = plot_latent_scatter(
        mnist_projection(trainer), y, title="MNIST digits 0-2 projected by PPCA (means of q(z))"
    ).figure
    return summary, trainer, {"mnist_projection": figure}


def compare_with_closed_form(data, map_trainer: Trainer, vi_trainer: Trainer) -> dict:
    """The synthetic-data summary: |W| of the truth, ML, MAP, VI and the exact joint MAP, the
    MAP bias |W_MAP| / |W_ML|, direction cosines and W W^T errors against the closed form,
    q(W)'s standard deviations and each W's marginal log-likelihood per point."""
    w_ml = closed_form_ml(data.x)
    w = {"true": data.w, "ml": w_ml, "map": loadings(map_trainer), "vi": loadings(vi_trainer)}
    norms = {name: float(torch.linalg.norm(value)) for name, value in w.items()}
    norms["joint_map_optimum"] = float(torch.linalg.norm(joint_map_norms(data.x)))
    return {
        "num_points": len(data.x),
        "noise_scale": NOISE_SCALE,
        "num_steps": {"map": map_trainer.num_steps_done, "vi": vi_trainer.num_steps_done},
        "w_norm": norms,
        "map_bias": norms["map"] / norms["ml"],
        "cosine_with_ml": {m: subspace_cosine(w[m], w_ml) for m in ("map", "vi", "true")},
        "relative_frobenius_wwt": {m: relative_frobenius(w[m], w_ml) for m in ("map", "vi")},
        "vi_w_std": vi_trainer.param("w_scale").tolist(),
        "marginal_loglik_per_point": {m: marginal_log_likelihood(v, data.x) for m, v in w.items()},
    }


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """MAP and VI on the synthetic data against the closed form, then VI on MNIST."""
    small = smoke_mode() if smoke is None else smoke
    data = make_ppca_data(SMOKE_POINTS if small else NUM_POINTS, seed=seed)
    steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, small)
    trainers = {method: make_trainer(data.x, method, seed=seed) for method in ("map", "vi")}
    for trainer in trainers.values():
        trainer.run(steps, progress=progress)
    synthetic = compare_with_closed_form(data, trainers["map"], trainers["vi"])
    mnist, mnist_trainer, figures = _mnist_part(seed, small, num_steps, progress)
    w_ml = closed_form_ml(data.x)
    aligned = {
        name: align_loadings(value, w_ml)
        for name, value in {
            "true": data.w,
            "map": loadings(trainers["map"]),
            "vi": loadings(trainers["vi"]),
        }.items()
    }
    figures["directions"] = plot_direction_over_data(
        data.x, {"closed-form ML": w_ml, "MAP": aligned["map"], "VI": aligned["vi"]}
    ).figure
    figures["criticism"] = plot_generated_over_real(
        data.x,
        {
            "VI, z inferred": generate(trainers["vi"], seed=seed),
            "MAP, fresh z ~ N(0, 1)": generate(trainers["map"], keep=("w",), seed=seed),
        },
    ).figure
    figures["w_posterior"] = plot_w_posterior(
        aligned["vi"],
        trainers["vi"].param("w_scale"),
        {"closed-form ML": w_ml, "true": aligned["true"]},
    )
    all_trainers = {"MAP": trainers["map"], "VI": trainers["vi"]}
    if mnist_trainer is not None:
        all_trainers["variational EM (MNIST)"] = mnist_trainer
    return ExerciseReport(NAME, all_trainers, {"synthetic": synthetic, "mnist": mnist}, figures)
