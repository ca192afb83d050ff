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


def plot_posterior_predictive(
    x,
    samples,
    ax=None,
    data=None,
    site: str | None = None,
    prob: float = 0.9,
    num_draws: int = 0,
    title: str = "Posterior predictive",
):
    """Mean and central ``prob`` band of predictive draws against the inputs ``x`` (N,).

    ``samples`` is a tensor (S, N) or the dict of :func:`vilab.predictive.posterior_predictive`
    (``site`` picks the entry; by default the first one of shape (S, N)); ``data=(x, y)``
    adds the observations as dots, ``num_draws`` a few single draws as thin lines.
    Returns the Axes.
    """
    if isinstance(samples, dict):
        if site is None:
            fits = [k for k, v in samples.items() if tuple(v.shape[1:]) == (len(x),)]
            if not fits:
                shapes = {k: tuple(v.shape) for k, v in samples.items()}
                raise ValueError(
                    f"Expected a site of shape (num_samples, {len(x)}) for the {len(x)} inputs, "
                    f"got {shapes}. Fix: pass site=... or the draws at these inputs."
                )
            site = fits[0]
        samples = samples[site]
    ax = ax or new_axes()
    x, draws = _as_array(x), _as_array(samples).reshape(len(samples), -1)
    order = np.argsort(x)
    x, draws = x[order], draws[:, order]
    low, high = np.quantile(draws, [(1 - prob) / 2, (1 + prob) / 2], axis=0)
    ax.fill_between(x, low, high, color="C0", alpha=0.25, lw=0, label=f"{100 * prob:g}% interval")
    for i, draw in enumerate(draws[:num_draws]):
        ax.plot(x, draw, color="C1", lw=0.6, alpha=0.5, label="single draws" if i == 0 else None)
    ax.plot(x, draws.mean(0), color="C0", lw=2, label="predictive mean")
    if data is not None:
        ax.plot(_as_array(data[0]), _as_array(data[1]), ".", color="0.3", ms=4, label="data")
    ax.set_xlabel("x")
    ax.set_ylabel(site or "y")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="best")
    return ax


def _as_array(values) -> np.ndarray:
    """Tensors (also with gradients) and lists alike, as float numpy arrays."""
    if hasattr(values, "detach"):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)
