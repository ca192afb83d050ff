"""A 2-D posterior density as filled contours, with an approximation drawn over it as lines.

The picture behind "mean-field": q(a) q(b) is a product of its marginals, so its contours
are axis-aligned, whatever shape the exact joint posterior has.
"""

from __future__ import annotations

import numpy as np

from .axes import new_axes


def plot_joint_density(
    x_grid,
    y_grid,
    density,
    overlay=None,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str = "Joint posterior",
    labels=("exact posterior", "approximation"),
    ax=None,
):
    """Filled contours of ``density[i, j]`` at ``(x_grid[i], y_grid[j])`` and, if given,
    line contours of ``overlay`` on the same grid. Returns the Axes."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    ax = ax or new_axes()
    x_grid, y_grid = np.asarray(x_grid, dtype=float), np.asarray(y_grid, dtype=float)
    density = np.asarray(density, dtype=float)
    if density.shape != (len(x_grid), len(y_grid)):
        raise ValueError(
            f"Expected density of shape (len(x_grid), len(y_grid)) = "
            f"{(len(x_grid), len(y_grid))}, got {density.shape}. Fix: evaluate it as "
            f"density[i, j] = p(x_grid[i], y_grid[j]) (transpose it if you built it the other way)."
        )
    ax.contourf(x_grid, y_grid, density.T, levels=12, cmap="Blues")
    handles = [Patch(color="tab:blue", alpha=0.6, label=labels[0])]
    if overlay is not None:
        ax.contour(
            x_grid,
            y_grid,
            np.asarray(overlay, dtype=float).T,
            levels=6,
            colors="tab:red",
            linewidths=1.2,
        )
        handles.append(Line2D([], [], color="tab:red", label=labels[1]))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(handles=handles, loc="upper right")
    return ax
