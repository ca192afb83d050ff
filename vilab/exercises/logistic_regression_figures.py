"""Pictures of the logistic regression (``logistic_regression.plots``): the probability map
over (ruggedness, log GDP), VI against NUTS per coefficient, the reliability curve of the
held-out countries, ``live_plot`` for the training panel and ``figures(report)`` for
``vilab run logistic_regression``. Every picture of a trainer uses its own split
(``trainer.context``), never the course's default one.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy import stats

from ..plots.calibration import plot_reliability_curve
from ..plots.marginals import plot_marginals
from ..plots.probability_map import plot_probability_map
from .logistic_regression import FEATURES, SITES, SplitData, predict_proba, vi_samples


def plot_map(
    samples: dict, data: SplitData, num_grid: int = 80, ax=None, title=None, colorbar=True
):
    """Posterior mean P(African) over (ruggedness, log GDP) in raw units, with the
    training (and test) countries on top."""
    x_raw = data.raw(torch.cat([data.x_train, data.x_test]))
    y = torch.cat([data.y_train, data.y_test])
    low, high = x_raw.min(0).values, x_raw.max(0).values
    pad = 0.05 * (high - low)
    grid1 = torch.linspace(float(low[0] - pad[0]), float(high[0] + pad[0]), num_grid)
    grid2 = torch.linspace(float(low[1] - pad[1]), float(high[1] + pad[1]), num_grid)
    mesh = torch.stack(torch.meshgrid(grid1, grid2, indexing="ij"), dim=-1).reshape(-1, 2)
    prob = predict_proba(samples, data.standardise(mesh)).reshape(num_grid, num_grid)
    return plot_probability_map(
        grid1,
        grid2,
        prob,
        x_raw,
        y,
        xlabel=FEATURES[0],
        ylabel=FEATURES[1],
        class_names=("not African", "African"),
        title=title or "Posterior mean probability that a country is African",
        ax=ax,
        colorbar=colorbar,
    )


def plot_coefficients(vi: dict, nuts: dict, axes=None):
    """Posterior of each coefficient: VI draws against NUTS draws (kernel density estimates)."""
    grids, densities = {}, {"NUTS (reference)": {}, "VI": {}}
    for name in SITES:
        both = torch.cat([vi[name], nuts[name]]).numpy()
        grids[name] = np.linspace(both.min(), both.max(), 200)
        for label, samples in (("NUTS (reference)", nuts), ("VI", vi)):
            densities[label][name] = stats.gaussian_kde(samples[name].numpy())(grids[name])
    return plot_marginals(grids, densities, title="Posterior of {}", axes=axes)


def live_plot(trainer, ax) -> None:
    """The probability map of the current guide over the trainer's own countries (for the
    training panel); a Trainer built by hand needs ``context=data`` (its SplitData)."""
    data = trainer.context
    if not isinstance(data, SplitData):
        raise ValueError(
            f"Expected trainer.context to be the SplitData the trainer learns from, got "
            f"{type(data).__name__}. Fix: Trainer(model, guide, args=(data.x_train, "
            f"data.y_train), context=data, ...) or logistic_regression.make_trainer(data)."
        )
    ax.clear()
    plot_map(vi_samples(trainer, 300), data, num_grid=40, ax=ax, colorbar=False)


def figures(report) -> dict:
    """The figures of ``logistic_regression.train``: the probability map, the reliability
    curve of the held-out countries and the coefficients against NUTS (draws kept in the
    summary)."""
    trainer, summary = report.trainers["VI"], report.summary
    vi = vi_samples(trainer)  # the same draws as train's: sampling leaves the stream alone
    nuts = {name: torch.tensor(draws) for name, draws in summary["nuts_draws"].items()}
    bins = summary["reliability"]
    reliability = plot_reliability_curve(
        _none_to_nan(bins["mean_predicted"]),
        _none_to_nan(bins["observed"]),
        np.asarray(bins["counts"]),
        label="VI, held-out countries",
    )
    return {
        "probability_map": plot_map(vi, trainer.context).figure,
        "reliability": reliability.figure,
        "coefficients": plot_coefficients(vi, nuts)[0].figure,
    }


def _none_to_nan(values) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)
