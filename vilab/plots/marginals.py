"""Marginal posterior densities side by side: one panel per variable, one line per method."""

from __future__ import annotations

import numpy as np


def plot_marginals(grids: dict, densities: dict, title: str = "Posterior of the {}", axes=None):
    """Draw precomputed densities, e.g. VI, a reference and the exact answer, per variable.

    ``grids`` maps a variable name (used as the x label) to its grid; ``densities`` maps a
    method label to ``{variable name: density on that grid}``. ``title`` is formatted with
    the variable name. Returns the array of Axes (``axes[0].figure`` is the Figure).

        plot_marginals({"mu": mu_grid}, {"exact": {"mu": p_mu}, "VI": {"mu": q_mu}})
    """
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, len(grids), figsize=(5.5 * len(grids), 4), squeeze=False)
        axes = axes[0]
    styles = ["-", "--", ":", "-."] * 4
    for ax, (name, grid) in zip(axes, grids.items()):
        grid = np.asarray(grid, dtype=float)
        for (label, by_name), style in zip(densities.items(), styles):
            ax.plot(grid, np.asarray(by_name[name], dtype=float), style, lw=2, label=label)
        ax.set_xlabel(name)
        ax.set_ylabel("density")
        ax.set_title(title.format(name))
        ax.legend()
    return axes
