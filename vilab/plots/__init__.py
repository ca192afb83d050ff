"""Pure plotting: functions take arrays (or a History, or a trained Trainer) and draw on an Axes.

Each function accepts ``ax=None`` (a new figure is made) and returns the Axes it drew on;
``ax.figure`` is the Figure. Nothing here trains or imports widgets. Every plotting function
of the modules below is reachable from here (``from vilab.plots import plot_predictive``);
each module is imported on first use, so ``import vilab.plots`` stays quick.
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "calibration": ["plot_reliability_curve", "reliability_curve"],
    "density": ["plot_density_comparison"],
    "elbo": ["plot_elbo"],
    "images": ["image_mosaic", "show_mosaic"],
    "joint": ["plot_joint_density"],
    "kl": ["plot_elbo_gap", "plot_kl_split", "plot_target_and_q"],
    "latent": [
        "plot_elbo_split",
        "plot_interpolation",
        "plot_latent_scatter",
        "plot_manifold",
        "plot_prior_samples",
        "plot_reconstructions",
    ],
    "latent_marginals": [
        "can_draw_default_live_plot",
        "default_live_plot",
        "plot_prior_posterior_draws",
        "plot_prior_vs_posterior",
    ],
    "loadings": [
        "plot_direction_over_data",
        "plot_generated_over_real",
        "plot_loading_images",
        "plot_w_posterior",
    ],
    "marginals": ["plot_marginals"],
    "predictive": [
        "plot_fit",
        "plot_posterior_predictive",
        "plot_predictive",
        "plot_uncertainty_profile",
    ],
    "probability_map": ["plot_probability_map"],
    "regression": ["plot_regression_fit", "plot_sample_densities"],
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'vilab.plots' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # the next look-up is a plain one
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
