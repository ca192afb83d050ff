"""The pictures of exercise 1 (``temperature.plots``): the VI density over the exact one.

The figures module of the exercise contract (:mod:`vilab.exercises.base`): ``live_plot`` for
the training panel, ``figures(report)`` for ``vilab run``, and the exercise's own plots. It
draws only from what it is given (a trainer and its ``context``, a report), never from the
default data.
"""

from __future__ import annotations

import numpy as np

from ..plots import plot_density_comparison
from . import temperature


def plot_posterior(
    vi_loc: float, vi_scale: float, ax=None, sensor: float = float(temperature.SENSOR_READING)
):
    """The VI density q(temp) drawn over the exact posterior density given ``sensor``."""
    mean, std = temperature.exact_posterior(sensor)
    grid = np.linspace(mean - 4.5 * std, mean + 4.5 * std, 400)
    return plot_density_comparison(
        grid,
        {
            f"exact posterior N({mean:.2f}, {std:.3f})": (mean, std),
            f"VI q(temp) N({vi_loc:.2f}, {vi_scale:.3f})": (vi_loc, vi_scale),
        },
        xlabel="temperature",
        title=f"Posterior of the temperature given sensor = {sensor:.1f}",
        ax=ax,
    )


# -- the two pieces every figures module has ------------------------------------------------------
def live_plot(trainer, ax) -> None:
    """The "posterior now" view for the training panel: q(temp) moving onto the exact density
    for the trainer's own reading (``trainer.context``)."""
    ax.clear()
    plot_posterior(
        *temperature.vi_posterior(trainer), ax=ax, sensor=temperature.reading_of(trainer)
    )


def figures(report) -> dict:
    """``{file stem: Figure}`` for ``vilab run temperature``: the trained q(temp) over the
    exact posterior, from the report's numbers and its trainer's reading."""
    post = report.summary["posterior"]["temp"]
    sensor = temperature.reading_of(report.trainers["VI"])
    ax = plot_posterior(post["vi_mean"], post["vi_std"], sensor=sensor)
    return {"posterior": ax.figure}
