"""Exercise: a variational autoencoder (VAE) on binarised MNIST digits.

Model (decoder), for each image n:   z_n ~ N(0, I),   x_n | z_n ~ Bernoulli(decoder(z_n))
pixel by pixel. Guide (encoder):     q(z_n | x_n) = N(loc(x_n), diag(scale(x_n)^2)),
one network shared by all images (amortised inference). Both are MLPs with one hidden
layer (:mod:`vilab.exercises.vae_networks`), registered with ``pyro.module`` so the
Trainer's optimiser updates their weights. :func:`model` and :func:`guide` take the
networks as ``networks=`` (a :class:`VAE`); :func:`make_trainer` passes the trainer's own
and keeps them, the data and the minibatch schedule as ``trainer.context``
(:class:`VAEContext`).

ELBO per image = E_q[log p(x|z)] (reconstruction) - KL(q(z|x) || p(z)). Training uses
minibatches of B images out of N: ``pyro.plate("data", size=N, subsample_size=B)`` scales
the minibatch's log-densities by N/B, so each step's ELBO estimates the full-data ELBO.

Data: the 10,000 real MNIST test images (the only split available offline), split by a
fixed seeded permutation into 8,000 for training and 2,000 held out, binarised once
("static": one fixed Bernoulli(grey level) sample, so every run sees the same 0/1 data and
the held-out ELBO is comparable across runs; ``binarize="dynamic"`` resamples the pixels
of every minibatch instead, a little regularisation). The KL weight (ELBO_beta = recon -
beta KL): ``make_trainer(data, kl_weight=4.0)``, :func:`train_kl_weights` and
``kl_weight_summary`` (from :mod:`~vilab.exercises.vae_kl_weight`); ``vae.plots``
(``vae_figures``) draws.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import pyro
import pyro.distributions as dist
import torch
from pyro.infer import TraceMeanField_ELBO

from ..config import pick_steps, resolve_smoke
from ..datasets import MNISTSplit, load_mnist_split
from ..engine import Trainer
from ..validation import refuse, whole_number
from .base import ExerciseReport, choose_guide, lazy_plots
from .vae_kl_weight import kl_weight_summary, kl_weighted  # noqa: F401 (vae.kl_weight_summary)
from .vae_networks import (  # noqa: F401 (vae.Encoder, vae.elbo_split...)
    VAE,
    Decoder,
    Encoder,
    elbo_split,
    make_networks,
)

NAME = "vae"
TITLE = "Variational autoencoder on binarised MNIST: encoder, decoder, minibatch ELBO"
FULL_STEPS, SMOKE_STEPS = 2000, 40
# steps between two measurements of the reconstruction/KL split (drawn after training, not
# live: 40 points over the class's 2,000 steps; a run's last step is always measured). Every
# 25 steps cost the compiled default step 0.2 ms of its ~6.3 (3%), every 50: half that.
SPLIT_EVERY = 50
# training images the split is measured on: 256 put its mean within ~2 nats of the 8,000
# images' and cost 4.5 ms a measurement (500 cost 8.5 ms)
SPLIT_IMAGES = 256
DEFAULT_OPTIONS = {
    "lr": 3e-3,
    "optim": "adam",
    # torch's fused Adam kernel: the same update in one pass over the 0.6M weights
    # (0.3 ms instead of 0.8 ms for the per-tensor loop, of a ~7.5 ms one-thread CPU step)
    "optim_args": {"fused": True},
    "elbo": "meanfield",  # analytic KL(q(z|x) || p(z)): lower-variance gradients
    # the ELBO traced once by PyTorch's JIT: the step runs as one compiled graph, without
    # Pyro's per-step Python (tracing, checks), and computes the same losses as the plain
    # loop (to 1e-7): one-thread step 0.57-0.63 -> 0.64-0.71 of the matmul-only loop
    # (benchmarks/bench_vae.py), +0.05 s to build the trainer. Only for the course's own
    # model, guide and networks: a model or network of your own trains on the plain loop,
    # where Pyro's per-step checks name what goes wrong (pass jit=True to compile it anyway).
    "jit": True,
}
# z_dim 2 so the latent space can be drawn as is; it still reaches about -160 nats per
# held-out image in a minute (z_dim 10 reaches about -115, see benchmarks/bench_vae.py).
Z_DIM, HIDDEN_DIM, BATCH_SIZE = 2, 400, 128
NUM_TRAIN, NUM_HELDOUT = 8000, 2000
SMOKE_TRAIN, SMOKE_HELDOUT = 500, 200
# Held-out ELBO per image (nats) the defaults reach on the full split, by z_dim, as measured
# for this course (notebook 08, benchmarks/bench_vae.py): the expected answer, not an exact one.
EXPECTED_HELDOUT_ELBO = {"z_dim_2": -160.0, "z_dim_10": -115.0}


def load_data(
    smoke: bool | None = None,
    num_train: int | None = None,
    num_heldout: int | None = None,
    binarize: str = "static",
    split_seed: int = 0,
    data_dir=None,
) -> MNISTSplit:
    """The MNIST test split, shuffled with ``split_seed`` and cut into ``num_train`` training
    and ``num_heldout`` held-out images (8,000 / 2,000; 500 / 200 in smoke mode), held-out
    images binarised once (:func:`vilab.datasets.load_mnist_split`)."""
    small = resolve_smoke(smoke)
    num_train = num_train or (SMOKE_TRAIN if small else NUM_TRAIN)
    num_heldout = num_heldout or (SMOKE_HELDOUT if small else NUM_HELDOUT)
    if binarize not in ("static", "dynamic"):
        raise ValueError(
            f"Expected binarize='static' or 'dynamic' (the decoder is Bernoulli, so pixels must "
            f"be 0/1), got {binarize!r}."
        )
    return load_mnist_split(
        num_train, num_heldout, shuffle=True, seed=split_seed, binarize=binarize, data_dir=data_dir
    )


class EpochBatches:
    """``batch_fn`` for the Trainer: step -> ``(minibatch,)``, the images shuffled afresh
    (seeded) every epoch. The last incomplete batch of an epoch is dropped, so every step
    sees ``batch_size`` images and the plate's N/B scaling is the same at every step.
    With ``binarize="dynamic"`` each minibatch's pixels are a fresh 0/1 sample."""

    def __init__(self, x: torch.Tensor, batch_size: int, seed: int = 0, binarize: str = "static"):
        expected = f"a whole number from 1 to {len(x)} (the number of training images)"
        fix = f"the course uses batch_size={min(BATCH_SIZE, len(x))}."
        batch_size = whole_number("batch_size", batch_size, fix=fix)
        if batch_size > len(x):
            refuse("batch_size", expected, batch_size, fix)
        self.x, self.batch_size, self.seed, self.binarize = x, batch_size, seed, binarize
        self.num_data = len(x)
        self.batches_per_epoch = len(x) // batch_size
        self._epoch, self._order = None, None

    def _generator(self, counter: int) -> torch.Generator:
        return torch.Generator().manual_seed((self.seed * 1_000_003 + counter) % 2**63)

    def __call__(self, step: int) -> tuple[torch.Tensor]:
        epoch, position = divmod(step, self.batches_per_epoch)
        if epoch != self._epoch:
            self._order = torch.randperm(self.num_data, generator=self._generator(epoch))
            self._order, self._epoch = self._order.to(self.x.device), epoch
        start = position * self.batch_size
        # index_select copies the rows 3x faster than x[indices] (a 0.4 ms gather per step)
        x = self.x.index_select(0, self._order[start : start + self.batch_size])
        if self.binarize == "dynamic":
            x = torch.bernoulli(x.cpu(), generator=self._generator(-1 - step)).to(x.device)
        return (x,)


# Pyro checks every distribution's parameters and observed values at every step (0/1
# pixels, finite logits, positive scales: ~3% of a CPU step). Here the pixels are checked
# once (make_trainer), the scale is a softplus and the engine stops on a non-finite loss
# or gradient, so the model and guide skip the per-step checks.
UNCHECKED = {"validate_args": False}


def minibatch_plate(x: torch.Tensor, num_data: int | None):
    """The plate over the images of a minibatch ``x`` out of ``num_data``: log-densities are
    scaled by num_data / len(x). ``subsample`` names the rows EpochBatches already drew, so
    the plate does not draw random indices of its own (a randperm of N per step)."""
    positions = torch.arange(len(x), device=x.device)
    return pyro.plate("data", size=num_data or len(x), subsample=positions)


def model(x: torch.Tensor, num_data: int | None = None, *, networks: VAE) -> None:
    """p(z) p(x|z) for a minibatch ``x`` (B x 784) of a data set of ``num_data`` images,
    decoded by ``networks.decoder``."""
    pyro.module("decoder", networks.decoder)
    with minibatch_plate(x, num_data):
        z_loc = x.new_zeros(len(x), networks.z_dim)
        z = pyro.sample("z", dist.Normal(z_loc, 1.0, **UNCHECKED).to_event(1))  # p(z) = N(0, I)
        logits = networks.decoder(z)  # p(x|z): independent Bernoulli pixels
        pyro.sample("x", dist.Bernoulli(logits=logits, **UNCHECKED).to_event(1), obs=x)


def guide(x: torch.Tensor, num_data: int | None = None, *, networks: VAE) -> None:
    """q(z|x) = N(encoder(x)): one network gives every image its own posterior."""
    pyro.module("encoder", networks.encoder)
    with minibatch_plate(x, num_data):
        z_loc, z_scale = networks.encoder(x)
        pyro.sample("z", dist.Normal(z_loc, z_scale, **UNCHECKED).to_event(1))


GUIDES = {"amortised": guide}  # the encoder network's q(z|x), shared by all images


@dataclass(frozen=True)
class VAEContext:
    """What a VAE trainer works on, kept as ``trainer.context``: the networks ``vae``
    (encode, decode), the ``data`` (an MNISTSplit), the minibatch schedule ``batches``
    and the ``kl_weight`` on the KL term (1: the ELBO)."""

    vae: VAE
    data: MNISTSplit
    batches: EpochBatches
    kl_weight: float = 1.0


def _is_course_code(model_fn, guide_fn, networks) -> bool:
    """Whether a trainer runs the course's own model, guide and networks: the code the
    exercise's compiled defaults were measured and checked on."""
    return model_fn is model and guide_fn is guide and networks is None


def with_networks(fn, networks: VAE):
    """``fn`` ready for a trainer: the course's :func:`model` or :func:`guide` given these
    ``networks``; a model or guide of your own as it is (it uses its own networks)."""
    return functools.partial(fn, networks=networks) if fn in (model, guide) else fn


def make_trainer(
    data: MNISTSplit | None = None,
    guide="amortised",
    seed: int = 0,
    *,
    model=model,
    z_dim: int = Z_DIM,
    hidden_dim: int = HIDDEN_DIM,
    batch_size: int = BATCH_SIZE,
    device=None,
    split_every: int | None = SPLIT_EVERY,
    networks=None,
    kl_weight: float = 1.0,
    **options,
) -> Trainer:
    """A Trainer of a fresh VAE on minibatches of ``data.x_train`` (default: :func:`load_data`).

    ``guide``: a name from :data:`GUIDES` or a guide of your own; ``model``: the course's
    or yours. ``options`` override :data:`DEFAULT_OPTIONS` (e.g. ``lr=1e-3``; ``jit=False``
    for Pyro's plain loop, which a model, guide or networks of your own get anyway).
    ``device``: "cpu", "cuda", or None for the GPU when there is one (networks and data
    move there). ``networks=(encoder, decoder)`` trains your networks. ``kl_weight``
    multiplies the KL term (:func:`kl_weighted`; 1 is the ELBO). The VAE,
    the data and the minibatch schedule are ``trainer.context`` (:class:`VAEContext`).
    Every ``split_every`` steps the reconstruction and KL terms are recorded in
    ``trainer.history.extras`` (None: off).

        >>> trainer = make_trainer(seed=0)      # doctest: +SKIP
        >>> trainer.run(2000)                   # doctest: +SKIP
        >>> heldout_elbo(trainer, trainer.context.data.x_heldout)   # about -160  # doctest: +SKIP
    """
    data = data if data is not None else load_data()
    if data.binarize == "static" and not bool(((data.x_train == 0) | (data.x_train == 1)).all()):
        raise ValueError(  # checked once here: the model skips Pyro's per-step check
            "Expected 0/1 training pixels with binarize='static' (the decoder is Bernoulli), "
            "got other values. Fix: binarise them (torch.bernoulli(x)) or load the data with "
            "binarize='dynamic'."
        )
    vae = VAE(z_dim, hidden_dim, seed=seed, device=device, networks=networks)
    batches = EpochBatches(data.x_train.to(vae.device), batch_size, seed, data.binarize)
    chosen_guide = choose_guide(guide, GUIDES, model)
    defaults = dict(DEFAULT_OPTIONS)
    if not _is_course_code(model, chosen_guide, networks):
        defaults["jit"] = False  # yours: Pyro's checks at every step (see DEFAULT_OPTIONS)
    trainer = Trainer(
        kl_weighted(with_networks(model, vae), kl_weight),
        kl_weighted(with_networks(chosen_guide, vae), kl_weight),
        batch_fn=batches,
        kwargs={"num_data": batches.num_data},
        seed=seed,
        device=vae.device,
        context=VAEContext(vae, data, batches, float(kl_weight)),
        **{**defaults, **options},
    )
    if split_every:
        images = data.x_train[:SPLIT_IMAGES]
        if data.binarize == "dynamic":  # grey levels: one fixed 0/1 sample, as a minibatch gets
            images = torch.bernoulli(images.cpu(), generator=torch.Generator().manual_seed(seed))
        record_elbo_split(trainer, images, every=split_every)
    return trainer


def heldout_elbo(trainer: Trainer, x, num_particles: int = 10) -> float:
    """ELBO per image of images ``x`` the VAE never trained on (in nats; higher is better),
    averaged over ``num_particles`` draws of z per image, with analytic KL terms."""
    x = torch.as_tensor(x, device=trainer.context.vae.device)
    elbo = TraceMeanField_ELBO(
        num_particles=num_particles, vectorize_particles=True, max_plate_nesting=1
    )
    with trainer.activated(), torch.no_grad():
        return -float(elbo.loss(trainer.model, trainer.guide, x)) / len(x)


def record_elbo_split(trainer: Trainer, x, every: int = SPLIT_EVERY) -> None:
    """Every ``every`` steps, store the reconstruction and KL terms measured on the fixed
    images ``x`` (scaled to the training-set size, like the loss) in
    ``trainer.history.extras``; the steps in between hold NaN, so the series line up with
    ``history.step``."""

    def record(trainer: Trainer) -> None:
        with trainer.activated():
            recon, kl = elbo_split(trainer.context.vae, x)
        history = trainer.history
        for key, value in (("reconstruction", recon), ("kl", kl)):
            series = history.extras.setdefault(key, [])
            series.extend([math.nan] * (len(history) - len(series)))
            if series:
                series[-1] = value * history.num_data

    trainer.add_callback(record, every=every)


def train_kl_weights(
    kl_weights=(0.1, 1.0, 4.0),
    num_steps: int = 2000,
    data=None,
    seed: int = 0,
    progress: bool = True,
    **options,
) -> dict[float, Trainer]:
    """One VAE per weight (:func:`make_trainer` with ``kl_weight``), same data, seed and
    steps, trained one after the other (a progress bar each): {kl_weight: trainer}, for
    :func:`kl_weight_summary` and ``vae.plots.plot_kl_weights``."""
    data = data if data is not None else load_data()
    trainers = {}
    for weight in kl_weights:
        trainers[weight] = make_trainer(data, seed=seed, kl_weight=weight, **options)
        trainers[weight].run(num_steps, progress=progress)
    return trainers


def independent_pixels_elbo(x_train, x) -> float:
    """Log-likelihood per image of ``x`` under independent Bernoulli pixels with the
    training means: the baseline any VAE must beat (no latent variable at all)."""
    x_train, x = torch.as_tensor(x_train).cpu(), torch.as_tensor(x).cpu()
    probs = x_train.mean(0).clamp(1e-3, 1 - 1e-3)
    return float(dist.Bernoulli(probs=probs).log_prob(x).sum(-1).mean())


def reference(data=None) -> dict:
    """What a trained VAE is judged against, in nats per held-out image (higher is better):
    the independent-pixels baseline, exact on ``data`` (default: :func:`load_data`), which
    any VAE must beat, and the held-out ELBO the defaults reach on the full 8,000 / 2,000
    split, by z_dim (:data:`EXPECTED_HELDOUT_ELBO`, measured; no exact answer exists)."""
    data = data if data is not None else load_data()
    return {
        "independent_pixels_per_image": independent_pixels_elbo(data.x_train, data.x_heldout),
        "expected_heldout_elbo_per_image": dict(EXPECTED_HELDOUT_ELBO),
    }


def train(
    num_steps: int | None = None, seed: int = 0, smoke: bool | None = None, progress: bool = True
) -> ExerciseReport:
    """Train the exercise end to end (what ``vilab run vae`` does); numbers only
    (``vae.plots.figures(report)`` draws them)."""
    num_steps = num_steps or pick_steps(FULL_STEPS, SMOKE_STEPS, smoke)
    trainer = make_trainer(data=load_data(smoke=smoke), seed=seed)
    trainer.run(num_steps, progress=progress)
    data, vae = trainer.context.data, trainer.context.vae
    summary = {
        "heldout_elbo_per_image": heldout_elbo(trainer, data.x_heldout),
        "independent_pixels_baseline_per_image": reference(data)["independent_pixels_per_image"],
        "num_train": len(data.x_train),
        "num_heldout": len(data.x_heldout),
        "z_dim": vae.z_dim,
        "epochs": trainer.num_steps_done / trainer.context.batches.batches_per_epoch,
        "data_source": data.source,
    }
    return ExerciseReport(NAME, {"VAE": trainer}, summary)


__getattr__ = lazy_plots(__name__)
