"""The lines of the ruggedness regression, read from posterior draws of either model
(:mod:`.linear_regression`): intercept, slope and noise sd per group of countries, the
probability of a positive slope, and predictive bands. Plain NumPy on the draws (VI's or
NUTS'), so the same summaries judge both.

    >>> lines = line_samples(draws, "africa")              # doctest: +SKIP
    >>> prob_positive(lines["slope"])                      # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np

from ..validation import one_of
from .linear_regression_data import GROUPS


def line_samples(samples: dict[str, np.ndarray], group: str | None) -> dict[str, np.ndarray]:
    """Intercept, slope and noise sd of the line for ``group`` ("africa" or "non_africa"),
    from draws of either model: the interaction model's lines are a + bA + (bR + bAR) x
    inside Africa and a + bR x outside (a group model's draws describe one line: ``group``
    is not needed for them)."""
    if "theta" in samples:
        return {
            "intercept": samples["b"],
            "slope": samples["s"],
            "sigma": 1.0 / np.sqrt(samples["theta"]),
        }
    one_of("group", group, GROUPS[:2], fix='pass one of these names, e.g. group="africa".')
    inside = group == "africa"
    return {
        "intercept": samples["a"] + inside * samples["bA"],
        "slope": samples["bR"] + inside * samples["bAR"],
        "sigma": samples["sigma"],
    }


def prob_positive(values) -> float:
    """Posterior probability that a quantity is > 0, from its draws."""
    return float(np.mean(np.asarray(values) > 0))


def predictive_bands(
    lines: dict[str, np.ndarray], x_grid, seed: int = 0, level: float = 0.95
) -> dict[str, np.ndarray]:
    """Posterior predictive on ``x_grid`` from :func:`line_samples`: the mean line, a band for
    the mean b + s x (epistemic: what we don't know about the line) and a band for a new y
    (adds the noise sigma: where a new country would fall)."""
    x_grid = np.asarray(x_grid, dtype=float)
    mu = lines["intercept"][:, None] + lines["slope"][:, None] * x_grid  # draws x grid
    # one noise draw per line, shared along x: the same marginal at every x, smooth bands
    noise = np.random.default_rng(seed).standard_normal((len(mu), 1)) * lines["sigma"][:, None]
    tails = [(1 - level) / 2, (1 + level) / 2]
    return {
        "x": x_grid,
        "mean": mu.mean(0),
        "mean_band": np.quantile(mu, tails, axis=0),
        "y_band": np.quantile(mu + noise, tails, axis=0),
    }


def summarize_lines(samples: dict[str, np.ndarray], group: str) -> dict:
    """Posterior mean/sd of intercept, slope and noise sd, and P(slope > 0), for each line the
    model of ``group`` describes (both lines for "interaction")."""
    summary = {}
    for line in GROUPS[:2] if group == "interaction" else (group,):
        lines = line_samples(samples, line)
        summary[line] = {
            name: {"mean": float(v.mean()), "sd": float(v.std())} for name, v in lines.items()
        }
        summary[line]["p_slope_positive"] = prob_positive(lines["slope"])
    return summary
