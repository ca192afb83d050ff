"""The pictures of the Gaussian exercise (``gaussian.plots``): the exact joint posterior
with the mean-field q on top, and the marginals of exact, CAVI and SVI.

The figures module of the exercise contract (:mod:`vilab.exercises.base`): it draws from a
trainer's ``context`` (its observations) and a report's numbers, never from the default data.
"""

from __future__ import annotations

import numpy as np

from ..plots.joint import plot_joint_density
from ..plots.marginals import plot_marginals
from . import gaussian

LIVE_GRID = 151  # grid points per axis for the live exact posterior (coarser: redrawn often)


def plot_joint(exact: gaussian.GridPosterior, q_joint=None, ax=None):
    """The exact joint posterior (filled) with a factorised q(mu) q(gamma) on top (lines)."""
    ax = plot_joint_density(
        exact.mu_grid,
        exact.gamma_grid,
        exact.joint,
        q_joint,
        xlabel="mean mu",
        ylabel="precision gamma",
        labels=("exact p(mu, gamma | x)", "VI q(mu) q(gamma)"),
        title="Joint posterior: exact (filled) and mean-field VI (lines)",
        ax=ax,
    )
    ax.set_xlim(*_central(exact.mu_grid, exact.mu_density))
    ax.set_ylim(*_central(exact.gamma_grid, exact.gamma_density))
    return ax


def plot_comparison(
    vi: gaussian.MeanFieldPosterior,
    reference: gaussian.MeanFieldPosterior,
    exact: gaussian.GridPosterior,
    axes=None,
):
    """Marginals of mu and gamma: exact (grid), the CAVI optimum and the SVI answer."""
    grids = {"mean mu": exact.mu_grid, "precision gamma": exact.gamma_grid}
    densities = {"exact (grid)": [exact.mu_density, exact.gamma_density]}
    for label, q in (("CAVI optimum", reference), ("SVI", vi)):
        densities[label] = list(q.densities(exact.mu_grid, exact.gamma_grid).values())
    by_name = {label: dict(zip(grids, pair)) for label, pair in densities.items()}
    axes = plot_marginals(grids, by_name, axes=axes)
    axes[0].set_xlim(*_central(exact.mu_grid, exact.mu_density))
    return axes


def _central(grid, density, level: float = 1e-4) -> tuple[float, float]:
    """The part of the grid where the density exceeds ``level`` x its peak (for zooming)."""
    inside = grid[density > level * density.max()]
    return float(inside[0]), float(inside[-1])


def joint_with_q(exact: gaussian.GridPosterior, q: gaussian.MeanFieldPosterior, ax=None):
    """:func:`plot_joint` with the factorised density of ``q`` on the exact posterior's grid."""
    densities = q.densities(exact.mu_grid, exact.gamma_grid)
    return plot_joint(exact, np.outer(densities["mu"], densities["gamma"]), ax=ax)


def live_plot(trainer, ax) -> None:
    """The current q(mu) q(gamma) over the exact joint posterior of the trainer's own
    observations (``trainer.context``), for the training panel."""
    if trainer.context is None:  # exact_posterior(None) would draw the default data instead
        raise ValueError(
            "live_plot draws the trainer's own data, trainer.context, but this trainer has "
            "none. Fix: gaussian.make_trainer(x, ...), or Trainer(..., args=(x,), context=x)."
        )
    exact = gaussian.exact_posterior(trainer.context, num_grid=LIVE_GRID)
    q = gaussian.MeanFieldPosterior.from_params(trainer.params())
    ax.clear()
    joint_with_q(exact, q, ax=ax)


def figures(report) -> dict:
    """``{file stem: Figure}`` for ``vilab run gaussian``: the marginals of exact, CAVI and
    SVI ("marginals") and the joint posterior with SVI's q ("joint")."""
    exact = gaussian.exact_posterior(report.trainers["VI"].context)
    mean_field = report.summary["mean_field"]
    vi = gaussian.MeanFieldPosterior(**mean_field["vi"])
    best = gaussian.MeanFieldPosterior(**mean_field["cavi"])
    return {
        "marginals": plot_comparison(vi, best, exact)[0].figure,
        "joint": joint_with_q(exact, vi).figure,
    }
