"""ELBO-versus-step plots, the first thing to look at after any training run."""

from __future__ import annotations

import numpy as np

from ..history import History
from .axes import new_axes


def downsample(steps: np.ndarray, values: np.ndarray, max_points: int = 2000):
    """At most ``max_points`` evenly spaced points (always keeping the last one), so a line of
    100,000 steps draws as fast as one of 2,000."""
    n = len(steps)
    if n <= max_points:
        return steps, values
    index = np.unique(np.linspace(0, n - 1, max_points).round().astype(int))
    return steps[index], values[index]


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` steps (shorter at the start), same length as ``values``."""
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    index = np.arange(1, len(values) + 1)
    start = np.maximum(0, index - window)
    return (cumsum[index] - cumsum[start]) / (index - start)


def plot_elbo(
    histories,
    ax=None,
    per_point: bool = True,
    smoothing: int = 1,
    max_points: int = 2000,
    title: str = "ELBO during training",
):
    """Draw the ELBO of one History, or of a dict {label: History}, against the step."""
    ax = ax or new_axes()
    if isinstance(histories, History):
        histories = {"ELBO": histories}
    for label, history in histories.items():
        values = history.elbo_per_point if per_point else history.elbo
        steps, values = downsample(
            np.asarray(history.step), moving_average(values, smoothing), max_points
        )
        ax.plot(steps, values, label=label)
    ax.set_xlabel("step")
    ax.set_ylabel("ELBO per data point" if per_point else "ELBO")
    ax.set_title(title)
    ax.legend()
    return ax
