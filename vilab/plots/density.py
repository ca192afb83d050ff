"""Densities drawn over each other: VI against an exact or reference posterior."""

from __future__ import annotations

import numpy as np
from scipy import stats

from .axes import new_axes


def plot_density_comparison(grid, normals: dict, xlabel: str, title: str, ax=None):
    """Normal densities {label: (mean, std)} evaluated on ``grid``, one line each."""
    ax = ax or new_axes()
    grid = np.asarray(grid, dtype=float)
    for (label, (mean, std)), style in zip(normals.items(), ["-", "--", ":", "-."] * 4):
        ax.plot(grid, stats.norm.pdf(grid, mean, std), style, lw=2, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend()
    return ax
