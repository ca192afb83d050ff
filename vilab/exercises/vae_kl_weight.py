"""The VAE with a weight on its KL term: ELBO_beta = reconstruction - beta KL(q(z|x) || p(z)).

beta = 1 is the VAE's ELBO; beta < 1 lets each q(z|x) drift from N(0, I) (sharper
reconstructions, a ragged latent space); beta > 1 pulls them all towards it (a smoother,
more overlapping latent space, blurrier images). The weight is applied with an effect
handler that scales the log-densities of the latent site "z" in both model and guide:
Pyro then weights exactly the KL term (its analytic value with ``elbo="meanfield"``).
``vae.make_trainer(data, kl_weight=4.0)`` trains one such VAE.

Part of the ``vae`` exercise, which re-exports this module's functions
(``vae.kl_weighted``, ``vae.kl_weight_summary``) and trains one VAE per weight
(``vae.train_kl_weights``); this module never imports ``vae`` (no import circle).
``vae.plots.plot_kl_weights`` draws the comparison.

    >>> trainers = vae.train_kl_weights((0.1, 1.0, 4.0), num_steps=2000)   # doctest: +SKIP
    >>> vae.kl_weight_summary(trainers)[4.0]["kl"]                         # doctest: +SKIP
    >>> vae.plots.plot_kl_weights(trainers)                                # doctest: +SKIP
"""

from __future__ import annotations

import functools

from pyro.poutine.messenger import Messenger

from ..validation import real_number
from .vae_networks import elbo_split


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
    kl_weight = real_number(
        "kl_weight",
        kl_weight,
        positive=True,
        fix="1.0 is the VAE's ELBO; try 0.1 (weaker pull to the prior) or 4.0 (stronger).",
    )
    if kl_weight == 1:
        return fn

    @functools.wraps(fn)
    def weighted(*args, **kwargs):
        with _ScaleSite(site, kl_weight):
            return fn(*args, **kwargs)

    return weighted


def kl_weight_summary(trainers: dict) -> dict:
    """Per weight of ``{kl_weight: trainer}`` (``vae.train_kl_weights``), on the held-out
    images: reconstruction, KL, the ELBO (recon - KL) and the weighted objective
    (recon - weight x KL), nats per image."""
    summary = {}
    for weight, trainer in trainers.items():
        with trainer.activated():
            recon, kl = elbo_split(trainer.context.vae, trainer.context.data.x_heldout)
        summary[weight] = {
            "reconstruction": recon,
            "kl": kl,
            "elbo": recon - kl,
            "weighted_objective": recon - weight * kl,
        }
    return summary
