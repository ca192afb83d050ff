"""The pictures of the VAE exercise (``vae.plots``): the latent space, reconstructions, the
decoder's map, the ELBO split, and the KL-weight comparison.

The figures module of the exercise contract (:mod:`vilab.exercises.base`): ``live_plot`` for
the training panel, ``figures(report)`` for ``vilab run vae``, and the exercise's own plots.
It draws from what it is given (a trainer and its ``context``, a report), never from the
default data. The latent-space plots of :mod:`vilab.plots.latent` are here under the same
names, so a notebook reaches every VAE picture as ``vae.plots.<name>``.
"""

from __future__ import annotations

from matplotlib.figure import Figure

from ..plots.latent import (
    plot_elbo_split,
    plot_interpolation,
    plot_latent_scatter,
    plot_manifold,
    plot_prior_samples,
    plot_reconstructions,
)
from .vae_kl_weight import kl_weight_summary

__all__ = [
    "figures",
    "live_plot",
    "plot_elbo_split",
    "plot_heldout_codes",
    "plot_interpolation",
    "plot_kl_weights",
    "plot_latent_scatter",
    "plot_manifold",
    "plot_prior_samples",
    "plot_reconstructions",
]


def plot_heldout_codes(trainer, ax=None, title: str = "Held-out digits in latent space", **style):
    """The trainer's held-out images (``trainer.context.data``) at their encoder means,
    coloured by digit (``style``: e.g. ``point_size``, see ``plot_latent_scatter``)."""
    context = trainer.context
    with trainer.activated():
        z = context.vae.encode(context.data.x_heldout)
    return plot_latent_scatter(z, context.data.y_heldout, ax=ax, title=title, **style)


def live_plot(trainer, ax) -> None:
    """The held-out images' encoder means coloured by digit: watch the clusters form."""
    ax.clear()
    title = f"Held-out digits in latent space, step {trainer.num_steps_done}"
    plot_heldout_codes(trainer, ax=ax, title=title)


def figures(report) -> dict:
    """``{file stem: Figure}`` for ``vilab run vae``: the held-out codes, ten held-out
    digits and their reconstructions, the decoder's map (z_dim 2) and the ELBO split
    (when it was recorded), from the report's trainer and its ``context``."""
    trainer = report.trainers["VAE"]
    vae, data = trainer.context.vae, trainer.context.data
    with trainer.activated():
        reconstructions = vae.reconstruct(data.x_heldout[:10])
    pictures = {
        "latent_scatter": plot_heldout_codes(trainer, title="Data in latent space").figure,
        "reconstructions": plot_reconstructions(data.x_heldout[:10], reconstructions).figure,
    }
    if vae.z_dim == 2:
        pictures["manifold"] = plot_manifold(vae.decode).figure
    if "kl" in trainer.history.extras:
        pictures["elbo_split"] = plot_elbo_split(trainer.history).figure
    return pictures


def plot_kl_weights(trainers: dict, num_images: int = 8, figure=None):
    """One column per weight (``vae.train_kl_weights``): held-out codes in latent
    space (top, the same axis limits in every column, so the spread compares) and
    reconstructions (bottom), titled with the ELBO split and the objective each VAE was
    trained on."""
    figure = figure or Figure(figsize=(4.2 * len(trainers), 7.0), layout="constrained")
    axes = figure.subplots(2, len(trainers), squeeze=False, height_ratios=[3, 1])
    summary = kl_weight_summary(trainers)
    for column, (weight, trainer) in enumerate(trainers.items()):
        data, s = trainer.context.data, summary[weight]
        with trainer.activated():
            reconstructions = trainer.context.vae.reconstruct(data.x_heldout[:num_images])
        plot_heldout_codes(
            trainer,
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
