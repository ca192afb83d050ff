"""The pictures of the Day-1 exercise (``ice_cream.plots``): the shop's sales against the
temperature with the fitted expected sales, and q against the reference posterior.

The figures module of the exercise contract (:mod:`vilab.exercises.base`): it draws from a
trainer's ``context`` (its :class:`~vilab.exercises.ice_cream.ShopData`) and a report's
numbers, never from the default data.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..plots import plot_density_comparison
from ..plots.axes import new_axes
from . import ice_cream

LIVE_NUM_SAMPLES = 300  # draws of q per live redraw: a few ms on the shop's model


def plot_sales_fit(data, summary: dict, ax=None):
    """The ten days (sensor reading, sales) and the expected sales alpha + beta temp
    (+ gamma humidity at the posterior mean humidity) from the posterior means in
    ``summary`` ({site: {"mean": ...}}, e.g. ``ice_cream.posterior_summary(trainer)``)."""
    ax = ax or new_axes()
    ax.plot(data.sensor, data.sales, "o", color="0.3", label="the ten days")
    grid = np.linspace(float(data.sensor.min()) - 1, float(data.sensor.max()) + 1, 50)
    humidity = summary.get("mean_humidity", {}).get("mean", 0.0)
    ax.plot(
        grid,
        ice_cream.typical_sales(summary, grid, humidity),
        lw=2,
        label="expected sales (VI means)",
    )
    ax.set_xlabel("temperature reading (°C)")
    ax.set_ylabel("ice creams sold")
    ax.set_title("Sales against the temperature")
    ax.legend()
    return ax


def plot_site_posterior(site: str, vi: tuple, reference: tuple, reference_name: str, ax=None):
    """q(site) = N(*vi) over the reference N(*reference) called ``reference_name`` (each a
    (mean, std) pair)."""
    (vi_mean, vi_std), (mean, std) = vi, reference
    half = 4 * max(std, vi_std)
    grid = np.linspace(min(mean, vi_mean) - half, max(mean, vi_mean) + half, 300)
    return plot_density_comparison(
        grid,
        {
            f"{reference_name} N({mean:.2f}, {std:.3f})": (mean, std),
            f"VI q N({vi_mean:.2f}, {vi_std:.3f})": (vi_mean, vi_std),
        },
        xlabel=site,
        title=f"Posterior of {site}",
        ax=ax,
    )


def live_plot(trainer, ax) -> None:
    """The shop now: the fitted expected sales over the trainer's days; for a model without
    sales (the temperature model of 0a), q(mean_temp) over its exact posterior."""
    ax.clear()
    data = trainer.context
    summary = ice_cream.posterior_summary(trainer, num_samples=LIVE_NUM_SAMPLES)
    if "alpha" in summary and "beta" in summary:
        plot_sales_fit(data, summary, ax=ax)
    else:
        vi = summary["mean_temp"]
        exact = ice_cream.exact_mean_temp(data.sensor)
        plot_site_posterior("mean_temp", (vi["mean"], vi["std"]), exact, "exact", ax=ax)


def figures(report) -> dict:
    """``{file stem: Figure}`` for ``vilab run ice_cream``: q against NUTS for mean_temp and
    mean_humidity ("posterior"), and the fitted sales over the days ("sales")."""
    posterior = report.summary["posterior"]
    figure, axes = plt.subplots(1, len(posterior), figsize=(5.2 * len(posterior), 3.8))
    for ax, (site, numbers) in zip(np.atleast_1d(axes), posterior.items()):
        vi = (numbers["vi_mean"], numbers["vi_std"])
        plot_site_posterior(site, vi, (numbers["nuts_mean"], numbers["nuts_std"]), "NUTS", ax=ax)
    figure.tight_layout()
    data = report.trainers["VI"].context
    sales = plot_sales_fit(data, report.summary["vi"]).figure
    return {"posterior": figure, "sales": sales}
