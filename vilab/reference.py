"""Trustworthy reference answers to compare VI against: NUTS samples and their summaries.

Used by the exercises (regression, logistic regression, small BNNs) and their tests:
"how good is the VI answer?" needs an answer computed another way.
"""

from __future__ import annotations

import numpy as np
import torch
from pyro.infer import MCMC, NUTS

from .scope import PrivateScope


def run_nuts(
    model,
    args: tuple = (),
    kwargs: dict | None = None,
    num_samples: int = 500,
    warmup_steps: int = 300,
    seed: int = 0,
    num_chains: int = 1,
    progress: bool = False,
    **nuts_options,
) -> dict[str, torch.Tensor]:
    """Posterior samples of every latent site of ``model`` by NUTS, in a private scope (the
    global param store and random state are left untouched)."""
    with PrivateScope(seed):
        kernel = NUTS(model, **nuts_options)
        mcmc = MCMC(
            kernel,
            num_samples=num_samples,
            warmup_steps=warmup_steps,
            num_chains=num_chains,
            disable_progbar=not progress,
        )
        mcmc.run(*args, **(kwargs or {}))
        return {name: value.detach() for name, value in mcmc.get_samples().items()}


def summarize(samples: dict[str, torch.Tensor], quantiles=(0.025, 0.5, 0.975)) -> dict:
    """Mean, standard deviation and quantiles of each site, as plain floats/lists (JSON-ready)."""
    summary = {}
    for name, values in samples.items():
        array = np.asarray(values.detach().cpu(), dtype=float)
        entry = {"mean": array.mean(0), "std": array.std(0)}
        for q in quantiles:
            entry[f"q{q:g}"] = np.quantile(array, q, axis=0)
        summary[name] = {k: (v.tolist() if np.ndim(v) else float(v)) for k, v in entry.items()}
    return summary
