"""The VAE with a weight on its KL term: ELBO_beta = reconstruction - beta KL(q(z|x) || p(z)).

Part of the ``vae`` exercise (its numbers; ``vae.plots.plot_kl_weights`` draws them).
beta = 1 is the VAE's ELBO; beta < 1 lets each q(z|x) drift from N(0, I) (sharper
reconstructions, a ragged latent space); beta > 1 pulls them all towards it (a smoother,
more overlapping latent space, blurrier images). The weight is applied with an effect
handler that scales the log-densities of the latent site "z" in both model and guide:
Pyro then weights exactly the KL term (its analytic value with ``elbo="meanfield"``).
``vae.make_trainer(data, kl_weight=4.0)`` trains one such VAE.

    >>> trainers = train_kl_weights((0.1, 1.0, 4.0), num_steps=2000)   # doctest: +SKIP
    >>> vae.plots.plot_kl_weights(trainers)                            # doctest: +SKIP
"""

from __future__ import annotations

import functools
import math

from pyro.poutine.messenger import Messenger

from ..engine import Trainer
from . import vae


class _ScaleSite(Messenger):
    """Multiply the log-density of one named sample site by ``scale``."""

    def __init__(self, site: str, scale: float):
        super().__init__()
        self.site, self.scale = site, scale

    def _process_message(self, msg):
        if msg["type"] == "sample" and msg["name"] == self.site:
            msg["scale"] = self.scale * msg["scale"]


def kl_weighted(fn, kl_weight: float, site: str = "z"):
    """``fn`` (a model or guide) with the log-density of ``site`` scaled by ``kl_weight``
    (``fn`` itself for 1, the plain ELBO)."""
    if isinstance(kl_weight, bool) or not isinstance(kl_weight, (int, float)):
        raise TypeError(f"Expected kl_weight to be a number, got {kl_weight!r}.")
    if not (math.isfinite(kl_weight) and kl_weight > 0):
        raise ValueError(
            f"Expected kl_weight > 0, got {kl_weight!r}. Fix: 1.0 is the VAE's ELBO; try 0.1 "
            f"(weaker pull to the prior) or 4.0 (stronger)."
        )
    if kl_weight == 1:
        return fn

    @functools.wraps(fn)
    def weighted(*args, **kwargs):
        with _ScaleSite(site, kl_weight):
            return fn(*args, **kwargs)

    return weighted


def train_kl_weights(
    kl_weights=(0.1, 1.0, 4.0),
    num_steps: int = 2000,
    data=None,
    seed: int = 0,
    progress: bool = True,
    **options,
) -> dict[float, Trainer]:
    """One VAE per weight (:func:`vilab.exercises.vae.make_trainer` with ``kl_weight``),
    same data, seed and steps, trained one after the other (a progress bar each):
    {kl_weight: trainer}."""
    data = data if data is not None else vae.load_data()
    trainers = {}
    for weight in kl_weights:
        trainers[weight] = vae.make_trainer(data, seed=seed, kl_weight=weight, **options)
        trainers[weight].run(num_steps, progress=progress)
    return trainers


def kl_weight_summary(trainers: dict) -> dict:
    """Per weight, on the held-out images: reconstruction, KL, the ELBO (recon - KL) and
    the weighted objective (recon - weight x KL), nats per image."""
    summary = {}
    for weight, trainer in trainers.items():
        with trainer.activated():
            recon, kl = vae.elbo_split(trainer.context.vae, trainer.context.data.x_heldout)
        summary[weight] = {
            "reconstruction": recon,
            "kl": kl,
            "elbo": recon - kl,
            "weighted_objective": recon - weight * kl,
        }
    return summary
