"""The pictures of the factor-analysis exercise (``factor_analysis.plots``): held-out digits
in latent space for the training panel, and :func:`figures` for ``vilab run
factor_analysis`` (the factors beside scikit-learn's, the latent space, reconstructions and
the manifold of decoded images)."""

from __future__ import annotations

import numpy as np

from ..plots.latent import plot_latent_scatter, plot_manifold, plot_reconstructions
from ..plots.loadings import plot_loading_images
from .factor_analysis import decoder_mean, latent_codes, reconstruct


def live_plot(trainer, ax) -> None:
    """Held-out images of the trainer's data in latent space coloured by digit: watch the
    clusters form."""
    data = trainer.context
    ax.clear()
    plot_latent_scatter(
        latent_codes(trainer, data.x_heldout),
        data.y_heldout,
        ax=ax,
        title=f"Held-out digits in latent space, step {trainer.num_steps_done}",
    )


def figures(report) -> dict:
    """What ``vilab run factor_analysis`` saves, from the VI trainer (its data in
    ``trainer.context``) and scikit-learn's loadings in the summary."""
    trainer = report.trainers["VI"]
    data = trainer.context
    sklearn_w = np.asarray(report.summary["sklearn_loadings"])
    return {
        "factors": plot_loading_images(
            {"vilab VI": trainer.param("w"), "scikit-learn": sklearn_w}
        ).figure,
        "latent_space": plot_latent_scatter(
            latent_codes(trainer, data.x_heldout),
            data.y_heldout,
            title="Held-out digits: means of q(z|x)",
        ).figure,
        "reconstructions": plot_reconstructions(
            data.x_heldout[:10], reconstruct(trainer, data.x_heldout[:10])
        ).figure,
        "manifold": plot_manifold(decoder_mean(trainer), grid_size=12).figure,
    }
