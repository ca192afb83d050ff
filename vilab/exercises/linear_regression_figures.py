"""Pictures of the ruggedness regression (``linear_regression.plots``), drawn with the pure
plots of :mod:`vilab.plots.regression`: the data with least-squares or posterior lines,
slope densities, ``live_plot`` for watching a trainer learn and ``figures(report)`` for
``vilab run linear_regression``. Every picture of a trainer uses its own data
(``trainer.context``).
"""

from __future__ import annotations

import numpy as np

from ..plots.axes import new_axes
from ..plots.regression import plot_regression_fit, plot_sample_densities
from .linear_regression import (
    GROUPS,
    is_interaction,
    line_samples,
    posterior_samples,
    predictive_bands,
)

XLABEL, YLABEL = "terrain ruggedness index", "log GDP per capita (2000)"
COLORS = {"africa": "tab:orange", "non_africa": "tab:blue"}
NAMES = {"africa": "African nations", "non_africa": "other nations"}
SLOPE_LABEL = "slope (change in log GDP per unit of ruggedness)"


def ruggedness_grid(rugged, num_points: int = 100) -> np.ndarray:
    """Evenly spaced ruggedness values spanning the data, for drawing lines."""
    rugged = np.asarray(rugged, dtype=float)
    return np.linspace(0.0, rugged.max(), num_points)


def plot_least_squares(rugged, log_gdp, intercept: float, slope: float, group: str, ax=None):
    """The countries of ``group`` and their least-squares line."""
    grid = ruggedness_grid(rugged)
    return plot_regression_fit(
        rugged,
        log_gdp,
        grid,
        intercept + slope * grid,
        ax=ax,
        label=f"{NAMES[group]}: least squares",
        color=COLORS[group],
        xlabel=XLABEL,
        ylabel=YLABEL,
        title="Least squares, one line per group",
    )


def plot_posterior_predictive(
    rugged, log_gdp, bands: dict, group: str | None, ax=None, title: str = "Posterior predictive"
):
    """Data of ``group`` with the posterior mean line and its two 95% bands, from
    :func:`~vilab.exercises.linear_regression.predictive_bands` (a dict of arrays); ``group``
    None draws a neutral "posterior" line."""
    return plot_regression_fit(
        rugged,
        log_gdp,
        bands["x"],
        bands["mean"],
        bands["mean_band"],
        bands["y_band"],
        ax=ax,
        label=NAMES.get(group, "posterior"),
        color=COLORS.get(group),
        xlabel=XLABEL,
        ylabel=YLABEL,
        title=title,
    )


def plot_slope_densities(slopes: dict, group: str, ax=None):
    """Densities of slope draws {label: array} (e.g. VI against NUTS) for one group."""
    return plot_sample_densities(
        slopes, xlabel=SLOPE_LABEL, mark=0.0, ax=ax, title=f"Posterior of the slope, {NAMES[group]}"
    )


def live_plot(trainer, ax, num_samples: int = 300):
    """Redraw ``ax`` with the trainer's current posterior predictive on its own data (both
    lines for the interaction model), named after the group in ``trainer.context``; a
    Trainer built by hand on ``group_model`` gets a neutral "posterior" line."""
    ax.clear()
    samples = posterior_samples(trainer, num_samples)
    interaction = is_interaction(trainer)
    context = trainer.context
    args = trainer.args if context is None else context.args
    groups = GROUPS[:2] if interaction else (getattr(context, "group", None),)
    for group in groups:
        rugged, log_gdp = _group_columns(args, group, interaction)
        bands = predictive_bands(line_samples(samples, group), ruggedness_grid(rugged))
        title = f"Posterior predictive after {trainer.num_steps_done} steps"
        plot_posterior_predictive(rugged, log_gdp, bands, group, ax=ax, title=title)
    return ax


def _group_columns(args: tuple, group: str, interaction: bool):
    """(rugged, log_gdp) of ``group`` as numpy arrays, from a trainer's model arguments."""
    if not interaction:
        return args[0].numpy(), args[1].numpy()
    keep = (args[0] == (1.0 if group == "africa" else 0.0)).numpy()
    return args[1].numpy()[keep], args[2].numpy()[keep]


def figures(report) -> dict:
    """The figures of ``linear_regression.train``: predictive per group, slope densities (VI
    against NUTS when the summary has NUTS draws) and the interaction model's two lines."""
    trainers, nuts_slopes = report.trainers, report.summary.get("nuts_slope_draws", {})
    pictures = {}
    for group in GROUPS[:2]:
        slopes = {}
        for guide in ("manual", "auto"):
            trainer = trainers[f"{group} ({guide})"]
            lines = line_samples(posterior_samples(trainer), group)
            slopes[f"VI ({guide} guide)"] = lines["slope"]
            if guide == "manual":
                rugged, log_gdp = (arg.numpy() for arg in trainer.context.args)
                bands = predictive_bands(lines, ruggedness_grid(rugged))
                ax = plot_posterior_predictive(rugged, log_gdp, bands, group)
                pictures[f"predictive_{group}"] = ax.figure
        if group in nuts_slopes:
            slopes["NUTS"] = np.asarray(nuts_slopes[group])
        pictures[f"slopes_{group}"] = plot_slope_densities(slopes, group).figure
    ax = new_axes()
    pictures["interaction"] = live_plot(trainers["interaction (manual)"], ax).figure
    ax.set_title("Interaction model: both lines from one fit")
    return pictures
