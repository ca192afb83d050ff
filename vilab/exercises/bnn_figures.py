"""The pictures of the BNN exercise (``bnn.plots``): one method's posterior predictive, the
plain network's single curve, the uncertainty profiles side by side, the live band for the
training panel, and :func:`figures` for ``vilab run bnn``."""

from __future__ import annotations

import torch

from ..plots.predictive import plot_fit, plot_predictive, plot_uncertainty_profile
from .bnn import method_result
from .bnn_methods import GAP, GRID, REGIONS, mean_functions, noise_sd, posterior_weights
from .bnn_model import mean_function


def plot_method(result, x, y, ax=None):
    """The posterior predictive of one method (a ``bnn.MethodResult``), its profile in the
    title."""
    p = result.profile
    title = (
        f"{result.method.label}\nsd of f: dense {p['dense']:.2f}, gap {p['gap']:.2f}, "
        f"beyond {p['beyond']:.2f}"
    )
    return plot_predictive(
        GRID,
        result.functions.mean(0),
        result.functions.std(0),
        x,
        y,
        predictive_sd=result.predictive_sd,
        mean_functions=result.functions,
        gaps=[GAP],
        ax=ax,
        title=title,
    )


def plot_plain_nn(weights: dict, x, y, ax=None):
    """The plain network's single curve over the data."""
    return plot_fit(
        GRID,
        mean_function(GRID, **weights),
        x,
        y,
        gaps=[GAP],
        ax=ax,
        title="Plain neural network (least squares): no uncertainty at all",
        label="plain NN fit",
    )


def plot_profiles(results: dict, ax=None):
    """sd of the mean function against x for every method, regions shaded."""
    sds = {r.method.label: r.functions.std(0) for r in results.values()}
    return plot_uncertainty_profile(GRID, sds, REGIONS, ax=ax)


def live_plot(trainer, ax) -> None:
    """The current posterior predictive band of a BNN Trainer, drawn on ``ax`` (for the
    training panel: watch the band form while the ELBO climbs)."""
    context = trainer.context
    weights = posterior_weights(trainer, 100)
    functions = mean_functions(weights)
    predictive_sd = (functions.var(0) + noise_sd(weights, context.method.noise_scale) ** 2).sqrt()
    ax.clear()
    plot_predictive(
        GRID,
        functions.mean(0),
        functions.std(0),
        context.x,
        context.y,
        predictive_sd=predictive_sd,
        mean_functions=functions,
        gaps=[GAP],
        ax=ax,
        title=f"Posterior predictive after {trainer.num_steps_done} steps",
    )


def figures(report) -> dict:
    """What ``vilab run bnn`` saves: the plain network, every method's predictive (SVI
    methods from their trainers, NUTS from its draws in the summary) and the profiles."""
    by_name = {trainer.context.name: trainer for trainer in report.trainers.values()}
    any_context = next(iter(report.trainers.values())).context
    x, y = any_context.x, any_context.y
    results = {}
    for name in report.summary["profiles"]:
        if name in report.summary.get("posterior_samples", {}):
            samples = report.summary["posterior_samples"][name]
            source = {site: torch.tensor(values) for site, values in samples.items()}
        else:
            source = by_name[name]
        results[name] = method_result(name, source)
    plain = {k: torch.tensor(v) for k, v in report.summary["plain_nn"]["weights"].items()}
    drawn = {
        "plain_nn": plot_plain_nn(plain, x, y).figure,
        "profiles": plot_profiles(results).figure,
    }
    drawn.update({f"predictive_{name}": plot_method(r, x, y).figure for name, r in results.items()})
    return drawn
