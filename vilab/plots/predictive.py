"""Posterior predictive plots for 1-D regression: is the model honest about what it does
not know?

A Bayesian regression gives, at every input x, a spread of mean functions f(x) (the
*epistemic* uncertainty, about the weights) and, adding the observation noise, a spread of
new observations y (the *predictive* uncertainty). The two bands drawn here make the
difference visible; a shaded input range (e.g. a gap with no training data) shows where a
good posterior should widen.
"""

from __future__ import annotations

import numpy as np

from .axes import new_axes


def plot_predictive(
    grid,
    mean,
    epistemic_sd,
    x=None,
    y=None,
    predictive_sd=None,
    mean_functions=None,
    gaps=(),
    ax=None,
    num_sd: float = 2.0,
    title: str = "Posterior predictive",
    label: str = "predictive mean",
    max_functions: int = 20,
):
    """Data, predictive mean, ``num_sd`` bands and a few sampled mean functions.

    Arguments:
        grid: inputs (G,) at which the other curves are evaluated, sorted.
        mean, epistemic_sd: mean and standard deviation (G,) of the sampled mean functions.
        x, y: training data (N,), drawn as dots when given.
        predictive_sd: standard deviation (G,) of new observations (epistemic and noise);
            drawn as a lighter, wider band when given.
        mean_functions: sampled mean functions (S, G); the first ``max_functions`` are drawn
            as thin lines, so the reader sees *functions*, not only a band.
        gaps: input ranges ``(low, high)`` without data, shaded grey.
        num_sd: half-width of the bands in standard deviations (2 is about 95%).

    Returns the Axes (``ax.figure`` is the Figure).
    """
    ax = ax or new_axes()
    grid, mean = _as_array(grid), _as_array(mean)
    epistemic_sd = _as_array(epistemic_sd)
    for low, high in gaps:
        ax.axvspan(low, high, color="0.9", zorder=0, label=f"no data ({low:g} < x < {high:g})")
    if x is not None and y is not None:
        ax.plot(_as_array(x), _as_array(y), ".", ms=3, color="0.45", alpha=0.6, label="data")
    if predictive_sd is not None:
        predictive_sd = _as_array(predictive_sd)
        ax.fill_between(
            grid,
            mean - num_sd * predictive_sd,
            mean + num_sd * predictive_sd,
            color="C0",
            alpha=0.15,
            lw=0,
            label=f"predictive ±{num_sd:g} sd (with noise)",
        )
    ax.fill_between(
        grid,
        mean - num_sd * epistemic_sd,
        mean + num_sd * epistemic_sd,
        color="C0",
        alpha=0.35,
        lw=0,
        label=f"epistemic ±{num_sd:g} sd (mean f)",
    )
    if mean_functions is not None:
        functions = _as_array(mean_functions)[:max_functions]
        for i, f in enumerate(functions):
            ax.plot(
                grid,
                f,
                color="C1",
                lw=0.7,
                alpha=0.5,
                label="sampled mean functions" if i == 0 else None,
            )
    ax.plot(grid, mean, color="C0", lw=2, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_fit(
    grid, mean, x=None, y=None, gaps=(), ax=None, title: str = "Fit", label: str = "fitted function"
):
    """A single fitted function (e.g. a plain neural network) over the data: no band at all,
    which is the point: the fit looks equally sure everywhere."""
    ax = ax or new_axes()
    for low, high in gaps:
        ax.axvspan(low, high, color="0.9", zorder=0, label=f"no data ({low:g} < x < {high:g})")
    if x is not None and y is not None:
        ax.plot(_as_array(x), _as_array(y), ".", ms=3, color="0.45", alpha=0.6, label="data")
    ax.plot(_as_array(grid), _as_array(mean), color="C3", lw=2, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="best")
    return ax


def plot_uncertainty_profile(
    grid,
    sds: dict,
    regions: dict | None = None,
    ax=None,
    title: str = "Epistemic uncertainty along x",
):
    """Standard deviation of the mean function against x, one line per method
    (``sds``: {label: sd array (G,)}); ``regions`` {name: (low, high)} are marked so the
    dense / gap / beyond comparison can be read off."""
    ax = ax or new_axes()
    grid = _as_array(grid)
    for (name, (low, high)), colour in zip((regions or {}).items(), ["C2", "0.7", "C3"] * 3):
        ax.axvspan(low, high, color=colour, alpha=0.15, zorder=0, label=name)
    for label, sd in sds.items():
        ax.plot(grid, _as_array(sd), lw=2, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("sd of the mean function f(x)")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="best")
    return ax


def _as_array(values) -> np.ndarray:
    """Tensors (also with gradients) and lists alike, as float numpy arrays."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)
