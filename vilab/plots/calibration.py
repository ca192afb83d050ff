"""Calibration of predicted probabilities: the reliability curve and its plot.

A classifier is *calibrated* when, among the cases it gives probability p, a fraction p
is positive. The reliability curve groups the predictions into bins of predicted
probability and compares each bin's mean prediction with the observed frequency of the
positive class; a calibrated model lies on the diagonal.

    curve = reliability_curve(prob, y, num_bins=5)
    plot_reliability_curve(curve.mean_predicted, curve.observed, curve.counts)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import whole_number
from .axes import new_axes


@dataclass
class ReliabilityCurve:
    """Per bin of predicted probability: edges, mean prediction, observed frequency of the
    positive class and the number of cases. Empty bins hold NaN and count 0."""

    bin_edges: np.ndarray
    mean_predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray

    @property
    def expected_calibration_error(self) -> float:
        """Mean |observed - predicted| over the bins, weighted by their number of cases."""
        used = self.counts > 0
        weights = self.counts[used] / self.counts.sum()
        return float(np.sum(weights * np.abs(self.observed[used] - self.mean_predicted[used])))


def reliability_curve(prob, y, num_bins: int = 10) -> ReliabilityCurve:
    """Bin ``prob`` (predicted P(y = 1), in [0, 1]) into ``num_bins`` equal-width bins and
    compare with the labels ``y`` (0 or 1), both 1-D of the same length."""
    prob = np.asarray(prob, dtype=float)
    y = np.asarray(y, dtype=float)
    if prob.ndim != 1 or y.shape != prob.shape:
        raise ValueError(
            f"Expected prob and y as 1-D arrays of the same length, got shapes "
            f"{prob.shape} and {y.shape}. Fix: pass one probability and one label per case, "
            f"e.g. prob.reshape(-1)."
        )
    if np.any((prob < 0) | (prob > 1)) or not np.all(np.isfinite(prob)):
        raise ValueError(
            "Expected probabilities in [0, 1], got values outside. Did you pass logits? "
            "Fix: prob = torch.sigmoid(logits)."
        )
    if not np.all((y == 0) | (y == 1)):
        raise ValueError(
            f"Expected labels 0 or 1, got the values {np.unique(y)[:6].tolist()}. "
            f"Fix: encode the positive class as 1 and the other as 0."
        )
    num_bins = whole_number("num_bins", num_bins, fix="num_bins=10 bins of width 0.1.")
    edges = np.linspace(0.0, 1.0, num_bins + 1)
    # bin k holds edges[k] <= p < edges[k+1]; p = 1 goes into the last bin
    index = np.clip(np.searchsorted(edges, prob, side="right") - 1, 0, num_bins - 1)
    counts = np.bincount(index, minlength=num_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(index, weights=prob, minlength=num_bins) / counts
        observed = np.bincount(index, weights=y, minlength=num_bins) / counts
    return ReliabilityCurve(edges, mean_predicted, observed, counts)


def plot_reliability_curve(
    mean_predicted,
    observed,
    counts=None,
    label: str = "model",
    title: str = "Reliability curve (calibration)",
    ax=None,
):
    """Observed frequency against mean predicted probability per bin, with the diagonal of
    perfect calibration; with ``counts`` the marker areas show how many cases each bin
    holds (a bin of 2 cases says little). Empty bins (NaN) are skipped. Returns the Axes."""
    ax = ax or new_axes(figsize=(5.0, 4.5))
    mean_predicted = np.asarray(mean_predicted, dtype=float)
    observed = np.asarray(observed, dtype=float)
    used = np.isfinite(mean_predicted) & np.isfinite(observed)
    ax.plot([0, 1], [0, 1], ":", color="grey", label="perfectly calibrated")
    ax.plot(mean_predicted[used], observed[used], "-", color="tab:blue", alpha=0.6)
    sizes = 40 if counts is None else 15 + 200 * np.asarray(counts)[used] / max(1, np.max(counts))
    ax.scatter(
        mean_predicted[used],
        observed[used],
        s=sizes,
        color="tab:blue",
        zorder=3,
        label=label if counts is None else f"{label} (area: cases per bin)",
    )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("mean predicted probability in bin")
    ax.set_ylabel("observed frequency of the positive class")
    ax.set_title(title)
    ax.legend(loc="upper left")
    return ax
