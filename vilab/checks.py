"""Checks of a model/guide pair before training, with messages in course language.

The engine runs :func:`check_traces` on one trace of the guide and one of the model
(replayed against the guide) before the first step; pass ``check=False`` to the Trainer
to skip it.
"""

from __future__ import annotations

import math

import pyro.poutine as poutine
import torch

from .errors import ModelGuideMismatch


def latent_sites(model_trace) -> list[str]:
    """Names of the model's sample sites that the guide must provide."""
    return [
        name
        for name, site in model_trace.nodes.items()
        if site["type"] == "sample"
        and not site["is_observed"]
        and not site["infer"].get("is_auxiliary")
        and not site["infer"].get("enumerate")
        and not name.startswith("_")
    ]


def check_traces(model_trace, guide_trace) -> None:
    """Raise :class:`ModelGuideMismatch` if a latent site of the model is missing from the guide.

    Without this check Pyro silently samples the missing variable from its prior, and the
    "posterior" you plot is wrong (pyro issue #2288).
    """
    guide_samples = [
        name for name, site in guide_trace.nodes.items() if site["type"] == "sample"
    ]
    missing = [name for name in latent_sites(model_trace) if name not in guide_samples]
    if missing:
        listed = ", ".join(repr(name) for name in missing)
        raise ModelGuideMismatch(
            f"The guide has no sample site for the model's latent variable(s) {listed}. "
            f"Pyro would silently draw them from the prior, so the posterior would be wrong.\n"
            f"  model latent sites: {latent_sites(model_trace)}\n"
            f"  guide sample sites: {guide_samples}\n"
            f"Fix: add pyro.sample({missing[0]!r}, ...) to the guide, with exactly the same "
            f"name as in the model."
        )


def check_data(args: tuple, kwargs: dict) -> None:
    """Refuse data containing NaN or inf before any training, naming the argument."""
    named = [(f"args[{i}]", value) for i, value in enumerate(args)]
    named += [(f"kwargs[{key!r}]", value) for key, value in kwargs.items()]
    for label, value in named:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            bad = ~torch.isfinite(value)
            if bad.any():
                count = int(bad.sum())
                first = tuple(int(i) for i in bad.nonzero()[0])
                raise ValueError(
                    f"The data in {label} contain {count} NaN/inf value(s) (first at index "
                    f"{first}). Pyro cannot compute an ELBO from them. Fix: drop or impute "
                    f"those entries, e.g. x = x[torch.isfinite(x)] for a vector."
                )


def trace_guide(guide, args: tuple, kwargs: dict):
    """Trace one call of the guide, explaining the usual signature mistake."""
    try:
        return poutine.trace(guide).get_trace(*args, **kwargs)
    except TypeError as exc:
        if "argument" not in str(exc):
            raise
        raise ModelGuideMismatch(
            f"The guide could not be called with the model's arguments ({exc}). Pyro calls "
            f"model and guide with the same arguments: give the guide the same signature as "
            f"the model, e.g. def guide(data): ... when the model is def model(data): ..."
        ) from exc


def count_observed(model_trace) -> int:
    """Data points behind the observed sites (a minibatch counts as the full data set)."""
    total = 0.0
    for site in model_trace.nodes.values():
        if site["type"] == "sample" and site["is_observed"]:
            batch_shape = site["fn"].batch_shape
            scale = site["scale"]
            scale = float(scale) if not isinstance(scale, torch.Tensor) else float(scale.max())
            total += math.prod(batch_shape) * scale
    return max(1, round(total))


def plate_nesting(*traces) -> int:
    """How many plate dimensions the model and guide use (what Pyro would otherwise guess,
    logging a message each time)."""
    dims = [
        -frame.dim
        for trace in traces
        for site in trace.nodes.values()
        if site["type"] == "sample"
        for frame in site["cond_indep_stack"]
        if frame.vectorized
    ]
    return max(dims, default=0)
