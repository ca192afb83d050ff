"""The VAE with a weight on its KL term: ELBO_beta = reconstruction - beta KL(q(z|x) || p(z)).

beta = 1 is the VAE's ELBO; beta < 1 lets each q(z|x) drift from N(0, I) (sharper
reconstructions, a ragged latent space); beta > 1 pulls them all towards it (a smoother,
more overlapping latent space, blurrier images). The weight is applied with an effect
handler that scales the log-densities of the latent site "z" in both model and guide:
Pyro then weights exactly the KL term (its analytic value with ``elbo="meanfield"``).

    >>> trainers = train_kl_weights((0.1, 1.0, 4.0), num_steps=2000)   # doctest: +SKIP
    >>> plot_kl_weights(trainers)                                      # doctest: +SKIP
"""

from __future__ import annotations

import math

from pyro.poutine.messenger import Messenger

from ..engine import Trainer
from .vae import (
    BATCH_SIZE,
    DEFAULT_OPTIONS,
    HIDDEN_DIM,
    SPLIT_EVERY,
    VAE,
    Z_DIM,
    EpochBatches,
    elbo_split,
    load_data,
    record_elbo_split,
)


class _ScaleSite(Messenger):
    """Multiply the log-density of one named sample site by ``scale``."""

    def __init__(self, site: str, scale: float):
        super().__init__()
        self.site, self.scale = site, scale

    def _process_message(self, msg):
        if msg["type"] == "sample" and msg["name"] == self.site:
            msg["scale"] = self.scale * msg["scale"]


def kl_weighted(fn, kl_weight: float, site: str = "z"):
    """``fn`` (a model or guide) with the log-density of ``site`` scaled by ``kl_weight``."""

    def weighted(*args, **kwargs):
        with _ScaleSite(site, kl_weight):
            return fn(*args, **kwargs)

    return weighted


def make_trainer(
    kl_weight: float = 1.0, data=None, seed: int = 0, smoke: bool | None = None, **options
) -> Trainer:
    """A VAE Trainer (as :func:`vilab.exercises.vae.make_trainer`) maximising
    reconstruction - ``kl_weight`` x KL. ``trainer.history.extras`` records the unweighted
    reconstruction and KL terms; ``trainer.kl_weight`` keeps the weight."""
    if isinstance(kl_weight, bool) or not isinstance(kl_weight, (int, float)):
        raise TypeError(f"Expected kl_weight to be a number, got {kl_weight!r}.")
    if not (math.isfinite(kl_weight) and kl_weight > 0):
        raise ValueError(
            f"Expected kl_weight > 0, got {kl_weight!r}. Fix: 1.0 is the VAE's ELBO; try 0.1 "
            f"(weaker pull to the prior) or 4.0 (stronger)."
        )
    data = data if data is not None else load_data(smoke=smoke)
    vae = VAE(Z_DIM, HIDDEN_DIM, seed=seed)
    batches = EpochBatches(data.x_train.to(vae.device), BATCH_SIZE, seed, data.binarize)
    trainer = Trainer(
        kl_weighted(vae.model, kl_weight),
        kl_weighted(vae.guide, kl_weight),
        batch_fn=batches,
        kwargs={"num_data": batches.num_data},
        seed=seed,
        **{**DEFAULT_OPTIONS, **options},
    )
    trainer.vae, trainer.data, trainer.batches, trainer.kl_weight = vae, data, batches, kl_weight
    record_elbo_split(trainer, data.x_train[:500], every=SPLIT_EVERY)
    return trainer


def train_kl_weights(
    kl_weights=(0.1, 1.0, 4.0),
    num_steps: int = 2000,
    data=None,
    seed: int = 0,
    progress: bool = True,
    **options,
) -> dict[float, Trainer]:
    """One VAE per weight, same data, seed and steps, trained one after the other (a
    progress bar each): {kl_weight: trainer}."""
    data = data if data is not None else load_data()
    trainers = {}
    for weight in kl_weights:
        trainers[weight] = make_trainer(weight, data=data, seed=seed, **options)
        trainers[weight].run(num_steps, progress=progress)
    return trainers


def kl_weight_summary(trainers: dict) -> dict:
    """Per weight, on the held-out images: reconstruction, KL, the ELBO (recon - KL) and
    the weighted objective (recon - weight x KL), nats per image."""
    summary = {}
    for weight, trainer in trainers.items():
        with trainer.activated():
            recon, kl = elbo_split(trainer.vae, trainer.data.x_heldout)
        summary[weight] = {
            "reconstruction": recon,
            "kl": kl,
            "elbo": recon - kl,
            "weighted_objective": recon - weight * kl,
        }
    return summary


def plot_kl_weights(trainers: dict, num_images: int = 8, figure=None):
    """One column per weight: held-out codes in latent space (top, the same axis limits
    in every column, so the spread compares) and reconstructions (bottom), titled with
    the ELBO split and the objective each VAE was trained on."""
    from matplotlib.figure import Figure

    from ..plots.latent import plot_latent_scatter, plot_reconstructions

    figure = figure or Figure(figsize=(4.2 * len(trainers), 7.0), layout="constrained")
    axes = figure.subplots(2, len(trainers), squeeze=False, height_ratios=[3, 1])
    summary = kl_weight_summary(trainers)
    for column, (weight, trainer) in enumerate(trainers.items()):
        data, s = trainer.data, summary[weight]
        with trainer.activated():
            z = trainer.vae.encode(data.x_heldout)
            reconstructions = trainer.vae.reconstruct(data.x_heldout[:num_images])
        plot_latent_scatter(
            z,
            data.y_heldout,
            ax=axes[0, column],
            title=f"KL weight {weight:g}: recon {s['reconstruction']:.1f} - KL {s['kl']:.1f}"
            f" = ELBO {s['elbo']:.1f}\n(trained on recon - {weight:g} KL = "
            f"{s['weighted_objective']:.1f}; nats per image)",
            point_size=3,
        )
        if column > 0:
            axes[0, column].get_legend().remove()
        plot_reconstructions(
            data.x_heldout[:num_images],
            reconstructions,
            num_images=num_images,
            ax=axes[1, column],
            title="originals / reconstructions",
        )
    scatter_axes = axes[0]
    low = min(ax.get_xlim()[0] for ax in scatter_axes), min(ax.get_ylim()[0] for ax in scatter_axes)
    high = (
        max(ax.get_xlim()[1] for ax in scatter_axes),
        max(ax.get_ylim()[1] for ax in scatter_axes),
    )
    for ax in scatter_axes:
        ax.set_xlim(low[0], high[0])
        ax.set_ylim(low[1], high[1])
    return figure
