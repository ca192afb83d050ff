"""Exercise: factor analysis on MNIST, the "VAE with linear transformations".

Model (decoder), for each image n with D = 784 pixels and K = 2 factors:
z_n ~ N(0, I_K),  x_n | z_n ~ N(W z_n + mu, diag(psi)): a linear decoder with one noise
variance per pixel (PPCA has one shared sigma^2; here psi_d lets blank border pixels be
quiet and stroke pixels noisy). W, mu and psi are point estimates (``pyro.param``), like a
VAE's decoder weights. Guide (encoder): q(z_n | x_n) = N(loc_n, diag(scale_n^2)) with
[loc_n, pre_n] = A (x_n - mu) + b and scale_n = softplus(pre_n): amortised, and linear.

For this model the exact posterior p(z_n | x_n) is Gaussian with a mean linear in x_n and a
covariance the same for every image, so the linear encoder can be exact and maximising the
ELBO reaches maximum likelihood. The reference is scikit-learn's ``FactorAnalysis`` (EM on
the same data, :func:`reference`); both are scored by the exact held-out log-likelihood
x ~ N(mu, W W^T + diag(psi)), averaged per image (``FactorAnalysis.score``).

The noise floor: pixels that are 0 in every training image would drive psi_d to 0 and the
log-likelihood to +infinity. Both fits therefore see the same dequantised pixels,
x + N(0, 0.03^2) jitter drawn once with a fixed seed, so every psi_d stays >= ~9e-4.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints
from pyro.infer import TraceMeanField_ELBO

from ..config import pick_steps, resolve_smoke
from ..data_matrix import check_data_matrix, check_latent_dim
from ..datasets import load_mnist_split
from ..engine import Trainer
from ..plots.loadings import canonical_rotation
from ..validation import real_number
from .base import ExerciseReport, choose_guide, lazy_plots

NAME = "factor_analysis"
TITLE = "Factor analysis on MNIST: a linear VAE against scikit-learn's FactorAnalysis"
LATENT_DIM, DIGITS = 2, (0, 1, 2)
NUM_TRAIN, NUM_HELDOUT, SMOKE_TRAIN, SMOKE_HELDOUT = 2000, 500, 300, 100
JITTER_SCALE = 0.03  # dequantisation noise: psi's floor is about its variance, 9e-4
PSI_MIN = 1e-4  # a numerical guard below that floor (never reached with the jitter)
FULL_STEPS, SMOKE_STEPS = 500, 80
DEFAULT_OPTIONS = {
    "lr": 0.05,
    "optim": "clipped_adam",
    "optim_args": {"lrd": 0.996},
    "elbo": "meanfield",
}


@dataclass(frozen=True)
class FAData:
    """Jittered training and held-out images (N x 784 floats) with their digit labels."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_heldout: torch.Tensor
    y_heldout: torch.Tensor
    jitter_scale: float
    source: str


def load_data(
    num_train=None,
    num_heldout=None,
    digits=DIGITS,
    jitter_scale=JITTER_SCALE,
    smoke=None,
    seed=0,
    data_dir=None,
) -> FAData:
    """The first ``num_train + num_heldout`` MNIST test-split images of ``digits`` (2,000 +
    500; 300 + 100 in smoke mode), pixels in [0, 1] plus N(0, jitter_scale^2) noise drawn
    with ``seed``; the first ``num_train`` train, the rest are held out."""
    small = resolve_smoke(smoke)
    num_train = num_train or (SMOKE_TRAIN if small else NUM_TRAIN)
    num_heldout = num_heldout or (SMOKE_HELDOUT if small else NUM_HELDOUT)
    if real_number("jitter_scale", jitter_scale, fix="pass 0 (no jitter) or more.") < 0:
        raise ValueError(
            f"jitter_scale must be a number >= 0, got {jitter_scale!r}. Fix: pass 0 (no "
            f"jitter) or more; the exercise uses {JITTER_SCALE}."
        )
    mnist = load_mnist_split(num_train, num_heldout, digits=list(digits), data_dir=data_dir)
    shape = (num_train + num_heldout, mnist.x_train.shape[1])
    noise = jitter_scale * torch.randn(shape, generator=torch.Generator().manual_seed(seed))
    return FAData(
        mnist.x_train + noise[:num_train],
        mnist.y_train,
        mnist.x_heldout + noise[num_train:],
        mnist.y_heldout,
        float(jitter_scale),
        mnist.source,
    )


def model(x, latent_dim=LATENT_DIM):
    """Decoder p(x_n | z_n) = N(W z_n + mu, diag(psi)), prior p(z_n) = N(0, I)."""
    num_points, data_dim = x.shape
    w = pyro.param("w", lambda: 0.01 * torch.randn(data_dim, latent_dim))
    mu = pyro.param("mu", lambda: x.mean(0))
    psi = pyro.param(
        "psi",
        lambda: x.var(0).clamp(min=10 * PSI_MIN),
        constraint=constraints.greater_than(PSI_MIN),
    )
    with pyro.plate("data", num_points):
        z = pyro.sample("z", dist.Normal(0.0, 1.0).expand([latent_dim]).to_event(1))
        pyro.sample("x", dist.Normal(z @ w.T + mu, psi.sqrt()).to_event(1), obs=x)


def encoder(x, latent_dim=LATENT_DIM):
    """The linear encoder: (loc, scale) of q(z_n | x_n), each N x K, from x_n - mu.

    It reads the decoder's current mean image mu as a constant (``.detach()``): centred
    inputs leave the weights only the deviations from the mean digit to learn, which about
    halves the encoder's error after a few hundred steps (same family of q)."""
    a = pyro.param("encoder_weight", lambda: torch.zeros(2 * latent_dim, x.shape[1]))
    b = pyro.param("encoder_bias", lambda: torch.zeros(2 * latent_dim))
    mu = pyro.param("mu", lambda: x.mean(0)).detach()
    h = (x - mu) @ a.T + b
    return h[:, :latent_dim], torch.nn.functional.softplus(h[:, latent_dim:])


def guide(x, latent_dim=LATENT_DIM):
    """q(z) = prod_n N(z_n | loc(x_n), diag(scale(x_n)^2)), from the linear encoder."""
    loc, scale = encoder(x, latent_dim)
    with pyro.plate("data", x.shape[0]):
        pyro.sample("z", dist.Normal(loc, scale).to_event(1))


GUIDES = {"linear_encoder": guide}


def make_trainer(
    data: FAData | None = None,
    guide="linear_encoder",
    seed: int = 0,
    latent_dim: int = LATENT_DIM,
    model=None,
    **options,
) -> Trainer:
    """A Trainer on ``data.x_train`` (default :func:`load_data`) with the exercise's model and
    guide, or yours (``model=``, ``guide=``); ``options`` override :data:`DEFAULT_OPTIONS`.
    The data ride along as ``trainer.context`` (for the plots)."""
    data = load_data() if data is None else data
    x = check_data_matrix(data.x_train, "data.x_train")
    check_latent_dim(latent_dim, x.shape[1])
    model = globals()["model"] if model is None else model
    return Trainer(
        model,
        choose_guide(guide, GUIDES, model),
        args=(x,),
        kwargs={"latent_dim": latent_dim},
        seed=seed,
        context=data,
        **{**DEFAULT_OPTIONS, **options},
    )


# -- reading the answer -----------------------------------------------------------------


def encode(trainer: Trainer, x) -> torch.Tensor:
    """Means of q(z_n | x_n) for images ``x`` (N x 784)."""
    x = check_data_matrix(x).to(trainer.device)
    with trainer.activated(), torch.no_grad():
        return encoder(x, trainer.kwargs["latent_dim"])[0].cpu()


def reconstruct(trainer: Trainer, x) -> torch.Tensor:
    """W E_q[z_n] + mu: the decoder's mean image at each encoded image."""
    params = trainer.params()
    return encode(trainer, x) @ params["w"].T + params["mu"]


def log_likelihood(w, mu, psi, x) -> float:
    """Exact log p(x_n) per image, z integrated out: x_n ~ N(mu, W W^T + diag(psi))."""
    x = check_data_matrix(x)
    w, mu, psi = (torch.as_tensor(v, dtype=torch.float32) for v in (w, mu, psi))
    expected = (x.shape[1],)
    if w.dim() != 2 or w.shape[0] != x.shape[1] or mu.shape != expected or psi.shape != expected:
        raise ValueError(
            f"Expected W (D, K), mu (D,) and psi (D,) with D = {x.shape[1]}, got "
            f"{tuple(w.shape)}, {tuple(mu.shape)} and {tuple(psi.shape)}."
        )
    return float(dist.LowRankMultivariateNormal(mu, w, psi).log_prob(x).mean())


def trainer_log_likelihood(trainer: Trainer, x) -> float:
    """:func:`log_likelihood` of images ``x`` under the trainer's current W, mu and psi."""
    params = trainer.params()
    return log_likelihood(params["w"], params["mu"], params["psi"], x)


def elbo_per_image(trainer: Trainer, x, num_particles: int = 10) -> float:
    """The ELBO per image of ``x`` (<= the exact log-likelihood; equal if q is exact)."""
    x = check_data_matrix(x)
    elbo = TraceMeanField_ELBO(
        num_particles=num_particles, vectorize_particles=True, max_plate_nesting=1
    )
    with trainer.activated(), torch.no_grad():
        return -float(elbo.loss(model, guide, x.to(trainer.device), **trainer.kwargs)) / len(x)


def reference(data: FAData | None = None, latent_dim: int = LATENT_DIM, seed: int = 0) -> dict:
    """scikit-learn's ``FactorAnalysis`` (EM) fitted on the same ``data.x_train`` (default
    :func:`load_data`): its W (D x K), mu, psi, average log-likelihood of the training and
    held-out images, EM iterations and the fitted ``estimator`` (its ``transform`` gives
    sklearn's latent means)."""
    from sklearn.decomposition import FactorAnalysis

    data = load_data() if data is None else data
    x_train, x_heldout = (np.asarray(v, dtype=np.float64) for v in (data.x_train, data.x_heldout))
    fa = FactorAnalysis(n_components=latent_dim, random_state=seed).fit(x_train)
    return {
        "w": fa.components_.T,
        "mu": fa.mean_,
        "psi": fa.noise_variance_,
        "train_loglik": float(fa.score(x_train)),
        "heldout_loglik": float(fa.score(x_heldout)),
        "n_iter": int(fa.n_iter_),
        "estimator": fa,
    }


def latent_codes(trainer: Trainer, x) -> torch.Tensor:
    """Encoder means of ``x`` in the canonical frame of W (so the picture does not spin)."""
    rotation = canonical_rotation(trainer.param("w"))
    return encode(trainer, x) @ torch.as_tensor(rotation, dtype=torch.float32)


def decoder_mean(trainer: Trainer):
    """``decode(z) = mu + W z`` for codes z (M x K) in the frame of :func:`latent_codes`:
    the mean image the linear decoder draws at each latent point (for the manifold plot)."""
    params = trainer.params()
    rotation = torch.as_tensor(canonical_rotation(params["w"]), dtype=torch.float32)
    w, mu = params["w"] @ rotation, params["mu"]

    def decode(z):
        return torch.as_tensor(z, dtype=torch.float32) @ w.T + mu

    return decode


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Fit factor analysis by VI, then compare with scikit-learn on held-out images."""
    data = load_data(smoke=smoke, seed=seed)
    trainer = make_trainer(data, seed=seed)
    trainer.run(num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke), progress=progress)
    answer = reference(data, seed=seed)
    heldout = trainer_log_likelihood(trainer, data.x_heldout)
    psi = trainer.param("psi")
    summary = {
        "heldout_loglik_per_image": {
            "vilab": heldout,
            "sklearn": answer["heldout_loglik"],
            "relative_difference": abs(heldout - answer["heldout_loglik"])
            / abs(answer["heldout_loglik"]),
        },
        "train_loglik_per_image": {
            "vilab": trainer_log_likelihood(trainer, data.x_train),
            "sklearn": answer["train_loglik"],
        },
        "heldout_elbo_per_image": elbo_per_image(trainer, data.x_heldout),
        "psi_min": {"vilab": float(psi.min()), "sklearn": float(answer["psi"].min())},
        "jitter_scale": data.jitter_scale,
        "latent_dim": LATENT_DIM,
        "digits": list(DIGITS),
        "num_train": len(data.x_train),
        "num_heldout": len(data.x_heldout),
        "num_steps": trainer.num_steps_done,
        "sklearn_em_iterations": answer["n_iter"],
        "sklearn_loadings": answer["w"].tolist(),  # D x K, for the factor images
    }
    return ExerciseReport(NAME, {"VI": trainer}, summary)


__getattr__ = lazy_plots(__name__)
