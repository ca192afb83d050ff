"""Regression pictures: data with a posterior mean line and its bands, and sample densities.

Pure functions: they take arrays (no trainer, no model), draw on ``ax`` (a new figure when
None) and return it. Used by the linear regression exercise and reusable for any 1-D fit.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from .axes import new_axes


def plot_regression_fit(
    x,
    y,
    x_grid,
    mean,
    mean_band=None,
    y_band=None,
    ax=None,
    label: str = "posterior mean",
    color: str | None = None,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str = "Posterior predictive",
):
    """Scatter of (x, y), the mean line on ``x_grid`` and two shaded bands.

    ``mean_band`` (2 x len(x_grid): lower, upper) is the band of the *mean* line, i.e. what
    we don't know about the line itself (epistemic); ``y_band`` also includes the noise, so
    it is where new observations are expected. Several calls on one ``ax`` (different
    ``label``/``color``) overlay groups.
    """
    ax = ax or new_axes()
    x_grid, mean = np.asarray(x_grid, dtype=float), np.asarray(mean, dtype=float)
    line = ax.plot(x_grid, mean, lw=2, color=color, label=label)[0]
    color = line.get_color()
    if y_band is not None:
        lower, upper = np.asarray(y_band, dtype=float)
        ax.fill_between(
            x_grid, lower, upper, color=color, alpha=0.12, label=f"{label}: 95% band for y"
        )
    if mean_band is not None:
        lower, upper = np.asarray(mean_band, dtype=float)
        ax.fill_between(
            x_grid, lower, upper, color=color, alpha=0.35, label=f"{label}: 95% band for the mean"
        )
    ax.scatter(
        np.asarray(x, dtype=float),
        np.asarray(y, dtype=float),
        s=12,
        color=color,
        alpha=0.7,
        edgecolors="none",
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_sample_densities(
    samples: dict,
    xlabel: str,
    title: str,
    ax=None,
    num_points: int = 300,
    mark: float | None = None,
):
    """Kernel density estimates of several sets of draws {label: 1-D array} on one grid,
    e.g. a parameter's VI and NUTS posteriors. ``mark`` draws a vertical line (e.g. at 0)."""
    ax = ax or new_axes()
    arrays = {label: np.asarray(values, dtype=float).ravel() for label, values in samples.items()}
    low = min(values.min() for values in arrays.values())
    high = max(values.max() for values in arrays.values())
    pad = 0.1 * (high - low)
    grid = np.linspace(low - pad, high + pad, num_points)
    for (label, values), style in zip(arrays.items(), ["-", "--", ":", "-."] * 4):
        ax.plot(grid, stats.gaussian_kde(values)(grid), style, lw=2, label=label)
    if mark is not None:
        ax.axvline(mark, color="grey", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(fontsize="small")
    return ax
