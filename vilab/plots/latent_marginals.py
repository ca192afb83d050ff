"""Marginals of a trained model's latent variables, drawn from samples, for any model.

- :func:`plot_prior_vs_posterior`: per latent (scalar sites, and the first elements of
  vector sites), the prior and q's density on one axes: what the data taught the model;
- :func:`default_live_plot`: q's marginals of up to four scalar latents, the training
  panel's moving picture when an exercise brings none (:func:`can_draw_default_live_plot`
  says whether a model has such latents). It updates its lines in place: ~a few ms a draw.
"""

from __future__ import annotations

import math

import numpy as np

MAX_LIVE_PANELS = 4
LIVE_NUM_SAMPLES = 300
GRID_POINTS = 120


def site_elements(draws: dict, max_elements: int = 4, max_site_size: int | None = None):
    """[(label, 1-D numpy draws)] for every site of ``draws`` ({name: (S, *shape)}), element by
    element: a scalar site gives one entry, a vector site its first ``max_elements`` (``w[0]``,
    ...); sites with more than ``max_site_size`` elements are left out."""
    elements = []
    for name, values in draws.items():
        values = np.asarray(values.detach().cpu() if hasattr(values, "detach") else values)
        flat = values.reshape(len(values), -1).astype(float)
        size = flat.shape[1]
        if max_site_size is not None and size > max_site_size:
            continue
        shape = values.shape[1:]
        for i in range(min(size, max_elements)):
            index = ",".join(map(str, np.unravel_index(i, shape))) if shape else ""
            elements.append((f"{name}[{index}]" if shape else name, flat[:, i]))
    return elements


def density_from_draws(values, grid) -> np.ndarray:
    """A Gaussian kernel density estimate (Scott's bandwidth) of 1-D ``values`` on ``grid``."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    sd = values.std() if len(values) > 1 else 0.0
    if sd == 0 or not len(values):
        return np.zeros_like(grid, dtype=float)
    bandwidth = sd * len(values) ** -0.2
    z = (np.asarray(grid, dtype=float)[:, None] - values[None, :]) / bandwidth
    return np.exp(-0.5 * z * z).sum(1) / (len(values) * bandwidth * math.sqrt(2 * math.pi))


def _window(posterior, prior=None, widen: float = 3.0) -> np.ndarray:
    """A grid that shows q whole and the prior around it (a prior much wider than q shows
    as a nearly flat line, which is the point)."""
    low, high = np.quantile(posterior, [0.001, 0.999])
    width = max(high - low, 1e-6 * max(1.0, abs(high)))
    low, high = low - 0.1 * width, high + 0.1 * width
    if prior is not None:
        p_low, p_high = np.quantile(prior, [0.01, 0.99])
        centre = (low + high) / 2
        low = min(low, max(p_low, centre - widen * width))
        high = max(high, min(p_high, centre + widen * width))
    return np.linspace(low, high, GRID_POINTS)


def plot_prior_posterior_draws(prior: dict, posterior: dict, max_elements: int = 4, axes=None):
    """Prior and posterior densities from draws ({site: (S, *shape)} each), one axes per
    latent element; returns the array of Axes."""
    pairs = list(zip(site_elements(prior, max_elements), site_elements(posterior, max_elements)))
    if axes is None:
        import matplotlib.pyplot as plt

        ncols = min(3, max(1, len(pairs)))
        nrows = max(1, math.ceil(len(pairs) / ncols))
        _, axes = plt.subplots(
            nrows, ncols, figsize=(4.2 * ncols, 3.2 * nrows), squeeze=False, layout="constrained"
        )
    axes = np.ravel(axes)
    for ax, ((label, p_values), (_, q_values)) in zip(axes, pairs):
        grid = _window(q_values, p_values)
        p_density = density_from_draws(p_values, grid)
        ax.fill_between(grid, p_density, color="0.6", alpha=0.3, lw=0)
        ax.plot(grid, p_density, "--", color="0.35", lw=1.5, label="prior")
        ax.plot(grid, density_from_draws(q_values, grid), color="C0", lw=2, label="posterior q")
        ax.set_xlabel(label)
        ax.set_ylabel("density")
        ax.set_title(f"{label}: mean {q_values.mean():.3g}, sd {q_values.std():.2g}")
        ax.legend(fontsize="small")
    for ax in axes[len(pairs) :]:
        ax.set_visible(False)
    return axes


def plot_prior_vs_posterior(trainer, num_samples: int = 2000, max_elements: int = 4, axes=None):
    """For each latent of ``trainer``'s model (vector sites: the first ``max_elements``
    elements), its prior and its posterior under the trained guide, on one axes each."""
    from ..predictive import sample_latents, sample_prior

    prior, posterior = sample_prior(trainer, num_samples), sample_latents(trainer, num_samples)
    return plot_prior_posterior_draws(prior, posterior, max_elements, axes)


def live_elements(draws: dict):
    """The scalar latents (and elements of sites of at most four) the live plot shows."""
    return site_elements(draws, MAX_LIVE_PANELS, max_site_size=MAX_LIVE_PANELS)[:MAX_LIVE_PANELS]


def can_draw_default_live_plot(trainer) -> bool:
    """Whether :func:`default_live_plot` has something to show: latents with a few elements
    that the guide can draw."""
    from ..predictive import sample_latents

    try:
        return bool(live_elements(sample_latents(trainer, 2)))
    except Exception:
        return False


def default_live_plot(trainer, ax, num_samples: int = LIVE_NUM_SAMPLES) -> None:
    """q's marginal densities of up to four scalar latents, one small panel each in the space
    of ``ax`` (``live_plot(trainer, ax)`` for the training panel)."""
    from ..predictive import sample_latents

    elements = live_elements(sample_latents(trainer, num_samples))
    panels = _panels(ax, len(elements))
    for (panel, line), (label, values) in zip(panels, elements):
        grid = _window(values)
        density = density_from_draws(values, grid)
        line.set_data(grid, density)
        panel.set_xlim(grid[0], grid[-1])
        panel.set_ylim(0, 1.08 * density.max() if density.max() > 0 else 1)
        panel.set_title(f"q({label}): {values.mean():.3g} ± {values.std():.2g}", fontsize=9)


def _panels(ax, count: int) -> list:
    """``count`` (axes, line) pairs laid out in the space of ``ax``: ``ax`` itself for one,
    else sub-axes of its grid cell, made once and kept on ``ax`` for the next draws."""
    if count <= 1:
        cached = getattr(ax, "_vilab_live_line", None)
        if cached is None or cached not in ax.lines:  # the panel clears ax between draws
            (cached,) = ax.plot([], [], color="C0", lw=2)
            ax.set_ylabel("density")
            ax._vilab_live_line = cached
        return [(ax, cached)][:count]
    cached = getattr(ax, "_vilab_live_panels", None)
    if (
        cached is not None
        and len(cached) == count
        and all(p.figure is ax.figure for p, _ in cached)
    ):
        ax.set_axis_off()  # a panel's clear() turns it back on
        return cached
    for panel, _ in cached or ():
        panel.remove()
    ncols = 2 if count == 4 else count
    nrows = math.ceil(count / ncols)
    spec = ax.get_subplotspec()
    cells = spec.subgridspec(nrows, ncols) if spec is not None else None
    panels = []
    for i in range(count):
        if cells is not None:
            panel = ax.figure.add_subplot(cells[i])
        else:  # an Axes placed by hand: panels inside its box
            row, col = divmod(i, ncols)
            box = [col / ncols + 0.02, 1 - (row + 1) / nrows + 0.12, 1 / ncols - 0.04, 0.7 / nrows]
            panel = ax.inset_axes(box)
        panel.tick_params(labelsize=8)
        panel.set_yticks([])
        (line,) = panel.plot([], [], color="C0", lw=2)
        panels.append((panel, line))
    ax.set_axis_off()
    ax._vilab_live_panels = panels
    return panels
