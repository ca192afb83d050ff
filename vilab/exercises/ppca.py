"""Exercise: probabilistic PCA, point estimates (MAP) against VI, and model criticism.

Model (Tipping & Bishop, 1999), for N points in D dimensions with K latent dimensions:
W ~ N(0, 2^2) elementwise (D x K),  z_n ~ N(0, I_K),  x_n | W, z_n ~ N(W z_n, sigma^2 I_D),
sigma = 0.5 known. Integrating z out, x_n ~ N(0, W W^T + sigma^2 I): W is identified only up
to a rotation (and sign), so fits are compared through W W^T and principal directions.

Guides: ``map_guide`` puts a point (Delta) on W and on every z_n, so maximising the ELBO
maximises the joint density p(x, z, W): MAP. ``vi_guide`` is mean-field VI, q(W) q(z) with
a Normal per entry. ``em_guide`` (variational EM) keeps a point W and a Normal q(z_n).
Reference (:func:`reference`): the closed-form maximum-likelihood W of Tipping & Bishop,
W_ML = U_K (L_K - sigma^2 I)^(1/2), from the top-K eigenpairs of S = X^T X / N.

The lesson: joint MAP is *not* maximum likelihood. Profiling the z_n out of log p(x, z, W)
leaves, per direction of length a, N lambda a^2 / (2 sigma^2 (a^2 + sigma^2)) - a^2 / (2 s^2):
the likelihood part grows with a forever (z_n = W^T x_n / (a^2 + sigma^2) shrinks to 0 while
W inflates, and a point z has no spread to pay for it); only the prior W ~ N(0, s^2) stops
it, at a^2 = s sqrt(N lambda) - sigma^2 (:func:`joint_map_norms`). VI keeps q(z_n)'s
spread and lands on W_ML when N >> D. (Rescaling W -> cW, z -> z/c changes the mean-field
ELBO only through the entropies, by (D - N) K log c, plus the priors: with D = 784 pixels
and few images, q(W)'s entropy pulls |W| up, so the MNIST part uses ``em_guide``.)

The model, the guides and what a trained guide says (W, z, new data) are written in
:mod:`.ppca_model`, the closed form in :mod:`.ppca_closed_form` (both reached from here);
the pictures are in ``ppca.plots`` (:mod:`.ppca_figures`).
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from ..config import pick_steps, resolve_smoke
from ..data_matrix import check_data_matrix, check_latent_dim
from ..datasets import DatasetUnavailable, PPCAData, load_mnist_split, make_ppca_data
from ..engine import Trainer
from ..plots.loadings import canonical_rotation
from .base import ExerciseReport, choose_guide, lazy_plots
from .ppca_closed_form import (
    LATENT_DIM,
    NOISE_SCALE,
    W_SCALE,
    closed_form_ml,
    joint_map_norms,
    marginal_log_likelihood,
    relative_frobenius,
    subspace_cosine,
)
from .ppca_model import (  # noqa: F401 (ppca.map_guide, ppca.generate...)
    em_guide,
    generate,
    latents,
    loadings,
    map_guide,
    model,
    vi_guide,
)

NAME = "ppca"
TITLE = "Probabilistic PCA: MAP against VI, the closed-form ML answer and model criticism"
NUM_POINTS, SMOKE_POINTS = 5000, 1000
FULL_STEPS, SMOKE_STEPS = 1000, 150
# VI: 5 vectorised particles and a learning rate decaying 0.4% per step take the noise of
# the 5,000 local q(z_n) out of W; W W^T then settles within ~2% of the closed form.
DEFAULT_OPTIONS = {
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
MNIST_LABEL = "variational EM (MNIST)"  # the report's label of the MNIST trainer
MNIST_OPTIONS = {
    "lr": 0.05,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.995},
    "elbo": "meanfield",
}


class CentredImages(NamedTuple):
    """MNIST images minus their mean image (N x 784), their digit labels and the mean."""

    x: torch.Tensor
    y: torch.Tensor
    mean: torch.Tensor


def load_data(smoke: bool | None = None) -> PPCAData:
    """The synthetic data set: 5,000 points in 2-D (1,000 in smoke mode), seed 0."""
    return make_ppca_data(SMOKE_POINTS if resolve_smoke(smoke) else NUM_POINTS, seed=0)


GUIDES = {"vi": vi_guide, "map": map_guide, "em": em_guide}  # the course's first
guide = vi_guide
# the Trainer options each method is tuned with ("em" shares VI's)
METHOD_OPTIONS = {"vi": DEFAULT_OPTIONS, "map": MAP_OPTIONS, "em": DEFAULT_OPTIONS}


# -- the reference ----------------------------------------------------------------------


def reference(data=None, latent_dim: int = LATENT_DIM, noise_scale: float = NOISE_SCALE):
    """The closed-form answers on ``data`` (default :func:`load_data`): W_ML, its length,
    log p(x | W_ML) per point, and the length of the exact joint MAP that MAP drifts to."""
    x = _matrix(load_data() if data is None else data)
    w_ml = closed_form_ml(x, latent_dim, noise_scale)
    return {
        "w_ml": w_ml,
        "w_ml_norm": float(torch.linalg.norm(w_ml)),
        "marginal_loglik_per_point": marginal_log_likelihood(w_ml, x, noise_scale),
        "joint_map_norm": float(
            torch.linalg.norm(joint_map_norms(x, latent_dim, noise_scale, W_SCALE))
        ),
    }


# -- training and reading the answer -----------------------------------------------------


def make_trainer(
    data=None,
    guide=None,
    seed: int = 0,
    method: str | None = None,
    latent_dim: int = LATENT_DIM,
    noise_scale: float = NOISE_SCALE,
    w_scale: float = W_SCALE,
    model=None,  # noqa: F811 (None: the course's model, ppca.model)
    **options,
) -> Trainer:
    """A Trainer on ``data`` (a ``PPCAData``, ``CentredImages`` or an N x D matrix; default
    :func:`load_data`). ``method`` "vi", "map" or "em" picks the guide (:func:`vi_guide`,
    :func:`map_guide`, :func:`em_guide`) and the options it is tuned with
    (:data:`METHOD_OPTIONS`); ``guide`` a name of :data:`GUIDES` (which sets the method) or
    a guide of your own (trained with the method's options, "vi" by default). ``model``
    replaces the exercise's (e.g. the notebook's); ``options`` override the method's."""
    method = method or (guide if isinstance(guide, str) else "vi")
    if method not in METHOD_OPTIONS:
        raise ValueError(
            f"Expected method 'vi', 'map' or 'em', got {method!r}. Fix: 'vi' for q(W) q(z), "
            f"'map' for points, 'em' for a point W with Normal q(z_n)."
        )
    data = load_data() if data is None else data
    x = check_data_matrix(_matrix(data))
    check_latent_dim(latent_dim, x.shape[1])
    model = globals()["model"] if model is None else model
    return Trainer(
        model,
        choose_guide(method if guide is None else guide, GUIDES, model),
        args=(x,),
        kwargs={"latent_dim": latent_dim, "noise_scale": noise_scale, "w_scale": w_scale},
        seed=seed,
        context=data if hasattr(data, "x") else PPCAData(x, None, None),
        **{**METHOD_OPTIONS[method], **options},
    )


def _matrix(data):
    """The N x D matrix of a data object (``.x``) or the matrix itself."""
    return data.x if hasattr(data, "x") else data


# -- MNIST: the same model on images -------------------------------------------------------


def load_mnist_centred(
    num_instances=None, digits=MNIST_DIGITS, smoke=None, data_dir=None
) -> CentredImages:
    """MNIST test-split images of ``digits`` minus their mean image (the model has no
    mean), their labels, and the mean: 2,000 images (300 in smoke mode), in file order."""
    num_instances = num_instances or (MNIST_SMOKE_POINTS if resolve_smoke(smoke) else MNIST_POINTS)
    split = load_mnist_split(num_instances, digits=list(digits), centre=True, data_dir=data_dir)
    return CentredImages(split.x_train, split.y_train, split.mean)


def make_mnist_trainer(
    data, seed: int = 0, latent_dim: int = 2, method: str = "em", **options
) -> Trainer:
    """PPCA on centred images (:func:`load_mnist_centred`, or an N x 784 matrix), sigma =
    0.2 known; by default variational EM (:func:`em_guide`): with D = 784 pixels,
    mean-field q(W) is pulled off the ML answer."""
    return make_trainer(
        data,
        seed=seed,
        method=method,
        latent_dim=latent_dim,
        noise_scale=MNIST_NOISE_SCALE,
        **{**MNIST_OPTIONS, **options},
    )


def mnist_projection(trainer: Trainer) -> torch.Tensor:
    """The means of q(z_n) in the canonical frame of W (see :mod:`vilab.plots.loadings`)."""
    rotation = torch.as_tensor(canonical_rotation(loadings(trainer)), dtype=torch.float32)
    return latents(trainer) @ rotation


# -- the whole exercise ----------------------------------------------------------------------


def _mnist_part(seed, smoke, num_steps, progress):
    try:
        images = load_mnist_centred(smoke=smoke)
    except DatasetUnavailable as error:
        return {"skipped": f"MNIST unavailable: {str(error).splitlines()[0]}"}, None
    trainer = make_mnist_trainer(images, seed=seed)
    trainer.run(num_steps or pick_steps(MNIST_STEPS, MNIST_SMOKE_STEPS, smoke), progress=progress)
    w_ml = closed_form_ml(images.x, 2, MNIST_NOISE_SCALE)
    summary = {
        "num_images": len(images.x),
        "digits": list(MNIST_DIGITS),
        "noise_scale": MNIST_NOISE_SCALE,
        "method": "em (point W, Normal q(z_n))",
        "subspace_cosine_vs_ml": subspace_cosine(loadings(trainer), w_ml),
        "relative_frobenius_vs_ml": relative_frobenius(loadings(trainer), w_ml),
    }
    return summary, trainer


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
    """MAP and VI on the synthetic data against the closed form, then variational EM on
    MNIST (``ppca.plots.figures(report)`` draws them)."""
    small = resolve_smoke(smoke)
    data = make_ppca_data(SMOKE_POINTS if small else NUM_POINTS, seed=seed)
    steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, small)
    trainers = {method: make_trainer(data, method, seed=seed) for method in ("map", "vi")}
    for trainer in trainers.values():
        trainer.run(steps, progress=progress)
    synthetic = compare_with_closed_form(data, trainers["map"], trainers["vi"])
    mnist, mnist_trainer = _mnist_part(seed, small, num_steps, progress)
    all_trainers = {"MAP": trainers["map"], "VI": trainers["vi"]}
    if mnist_trainer is not None:
        all_trainers[MNIST_LABEL] = mnist_trainer
    return ExerciseReport(NAME, all_trainers, {"synthetic": synthetic, "mnist": mnist})


__getattr__ = lazy_plots(__name__)
