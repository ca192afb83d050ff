"""Pictures of what VI minimises: q over p, the KL split into cross-entropy minus entropy,
and the ELBO climbing towards ln p(x). Pure drawing: numbers in, Axes out."""

from __future__ import annotations

import numpy as np

from ..history import History
from .axes import new_axes
from .elbo import downsample, moving_average


def plot_target_and_q(grid, p_density, q_density, ax=None, title: str = "", q_label="q(z)"):
    """The target density (filled) with the Gaussian q on top (line)."""
    ax = ax or new_axes((6.0, 3.5))
    grid = np.asarray(grid, dtype=float)
    ax.fill_between(grid, np.asarray(p_density), color="C0", alpha=0.3, label="target p(z)")
    ax.plot(grid, np.asarray(q_density), color="C3", lw=2, label=q_label)
    ax.set_xlim(grid[0], grid[-1])
    ax.set_ylim(bottom=0)
    ax.set_xlabel("z")
    ax.set_ylabel("density")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize="small")
    return ax


def plot_kl_split(split, ax=None, title: str = "KL = cross-entropy - entropy (nats)"):
    """Bars of both divergences and their parts, from a :class:`vilab.kl.KLSplit`:
    KL(q||p) = H(q,p) - H(q) and KL(p||q) = H(p,q) - H(p)."""
    ax = ax or new_axes((5.0, 3.5))
    groups = {
        "KL(q||p)\nreverse, VI": (split.cross_entropy_qp, split.entropy_q, split.reverse_kl),
        "KL(p||q)\nforward": (split.cross_entropy_pq, split.entropy_p, split.forward_kl),
    }
    parts = ("cross-entropy", "entropy", "KL")
    width = 0.26
    for index, (part, colour) in enumerate(zip(parts, ("C7", "C2", "C3"))):
        values = [group[index] for group in groups.values()]
        positions = np.arange(len(groups)) + (index - 1) * width
        bars = ax.bar(positions, values, width, color=colour, label=part)
        ax.bar_label(bars, fmt="%.3f", fontsize="x-small", padding=1)
    ax.set_xticks(np.arange(len(groups)), list(groups))
    ax.axhline(0.0, color="black", lw=0.8)
    highest = max(max(group) for group in groups.values())
    ax.set_ylim(top=1.3 * highest if highest > 0 else 1.0)  # room for the legend
    ax.set_ylabel("nats")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper center", ncol=3)
    return ax


def plot_elbo_gap(
    history: History,
    log_evidence,
    ax=None,
    gap_ax=None,
    smoothing: int = 20,
    max_points: int = 2000,
):
    """ELBO per data point climbing to ln p(x) per data point (a dashed line above it),
    and, on ``gap_ax`` (optional), the gap ln p(x) - ELBO = KL(q || posterior), log scale.

    ``log_evidence``: ln p(x) for the whole data set, a number or one value per step.
    The ELBO of one training step is a noisy estimate (it can even land above ln p(x)):
    it is drawn faintly, and the gap uses the precise estimates recorded by
    :func:`vilab.evidence.record_elbo_estimate` (``history.extras["elbo_estimate"]``,
    with 2 standard errors drawn as the noise floor), or else the step ELBO smoothed over
    ``smoothing`` steps.
    """
    ax = ax or new_axes((6.4, 4.0))
    steps = np.asarray(history.step, dtype=float)
    evidence = np.broadcast_to(np.asarray(log_evidence, dtype=float), steps.shape)
    scale = 1.0 / history.num_data
    elbo = np.asarray(history.elbo, dtype=float) * scale
    precise = np.asarray(history.extras.get("elbo_estimate", []), dtype=float) * scale
    error = np.asarray(history.extras.get("elbo_standard_error", []), dtype=float) * scale
    measured = np.flatnonzero(np.isfinite(precise))
    x, y = downsample(steps, elbo, max_points)
    ax.plot(x, y, color="C0", alpha=0.35 if len(measured) else 1.0, lw=1, label="ELBO, each step")
    if len(measured):
        ax.plot(steps[measured], precise[measured], "o-", color="C0", ms=3, label="ELBO, precise")
    x, y = downsample(steps, evidence * scale, max_points)
    ax.plot(x, y, color="black", ls="--", label="ln p(x)")
    ax.set_xlabel("step")
    ax.set_ylabel("nats per data point")
    ax.set_title("ln p(x) = ELBO + KL(q || posterior)")
    ax.legend(loc="lower right")
    if gap_ax is None:
        return ax
    if len(measured):
        gap_steps, gap = steps[measured], evidence[measured] * scale - precise[measured]
        gap_ax.plot(gap_steps, np.where(gap > 0, gap, np.nan), "o-", color="C3", ms=3,
                    label="ln p(x) - precise ELBO")  # fmt: skip
        gap_ax.plot(gap_steps, 2 * error[measured], ":", color="gray",
                    label="2 standard errors: below, the gap is noise")  # fmt: skip
        gap_ax.legend(loc="upper right", fontsize="small")
        title = "The gap: KL(q || posterior)"
    else:
        gap = moving_average(evidence * scale - elbo, smoothing)
        x, y = downsample(steps, np.where(gap > 0, gap, np.nan), max_points)
        gap_ax.plot(x, y, color="C3")
        title = f"The gap, step ELBO smoothed over {smoothing} steps"
    gap_ax.set_yscale("log")
    gap_ax.set_xlabel("step")
    gap_ax.set_ylabel("nats per data point")
    gap_ax.set_title(title)
    return ax
