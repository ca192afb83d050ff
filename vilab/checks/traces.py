"""Tracing a model/guide pair once, the way ``Trace_ELBO`` does, and reading the traces.

Pyro runs the guide, then the model *replayed* against the guide's samples. The engine
does the same once before training: the traces create the parameters, feed every check,
count the data points and tell how many plate dimensions there are.
"""

from __future__ import annotations

import inspect
import math

import pyro.poutine as poutine
import torch
from pyro.distributions import Unit
from pyro.poutine.util import site_is_subsample

from ..errors import ModelGuideMismatch
from .messages import Diagnostic


def sample_sites(trace) -> dict:
    """The real sample sites of a trace (not plates' subsample sites), by name."""
    return {
        name: site
        for name, site in trace.nodes.items()
        if site["type"] == "sample" and not site_is_subsample(site)
    }


def is_deterministic(site) -> bool:
    return bool(site["infer"].get("_deterministic"))


def latent_sites(model_trace) -> list[str]:
    """Names of the model's sample sites that the guide must provide."""
    return [
        name
        for name, site in sample_sites(model_trace).items()
        if not site["is_observed"]
        and not site["infer"].get("is_auxiliary")
        and not site["infer"].get("enumerate")
        and not name.startswith("_")
    ]


def observed_sites(model_trace) -> dict:
    """The model's data sites (``obs=...``), without ``pyro.deterministic`` records and
    ``pyro.factor`` terms (which Pyro also records as observed sites)."""
    return {
        name: site
        for name, site in sample_sites(model_trace).items()
        if site["is_observed"] and not is_deterministic(site) and not isinstance(site["fn"], Unit)
    }


def guide_sites(guide_trace) -> dict:
    """The guide's sample sites that stand for model variables (auxiliary ones excluded)."""
    return {
        name: site
        for name, site in sample_sites(guide_trace).items()
        if not site["infer"].get("is_auxiliary") and not site["is_observed"]
    }


def _signature(fn, role: str) -> str:
    try:
        return f"{role}{inspect.signature(fn)}"
    except (TypeError, ValueError):
        return f"{role}(...)"


def _bind_error(fn, args: tuple, kwargs: dict) -> str | None:
    """Why ``fn(*args, **kwargs)`` cannot bind, or None if it can (or we cannot tell)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # no signature available (some builtins)
        return None
    try:
        signature.bind(*args, **kwargs)
    except TypeError as exc:
        return str(exc)
    return None


def signature_diagnostic(model, guide, args: tuple, kwargs: dict, reason: str) -> Diagnostic:
    passed = ", ".join([type(a).__name__ for a in args] + [f"{k}=..." for k in kwargs])
    return Diagnostic(
        "signature-mismatch",
        None,
        f"The guide cannot be called with the model's arguments ({reason}). Pyro calls the "
        f"model and the guide with the same arguments at every step: here ({passed}).",
        model=_signature(model, "def model") if model is not None else "",
        guide=_signature(guide, "def guide"),
        fix="give the guide exactly the model's parameters, e.g. def guide(data): ... when "
        "the model is def model(data): ... (a guide may ignore arguments it does not need).",
    )


def trace_guide(guide, args: tuple, kwargs: dict, model=None):
    """Trace one call of the guide, explaining the usual signature mistake.

    Raises :class:`ModelGuideMismatch` (with a ``diagnostics`` attribute) when the guide's
    parameters do not accept the model's arguments.
    """
    reason, cause = _bind_error(guide, args, kwargs), None
    if reason is None:
        try:
            return poutine.trace(guide).get_trace(*args, **kwargs)
        except TypeError as exc:
            # A guide whose signature we could read and that binds the arguments raised
            # this TypeError itself: the student's own bug, shown as it is.
            if _has_signature(guide) or "argument" not in str(exc):
                raise
            reason, cause = str(exc), exc
    diagnostic = signature_diagnostic(model, guide, args, kwargs, reason)
    error = ModelGuideMismatch(str(diagnostic))
    error.diagnostics = [diagnostic]
    raise error from cause


def _has_signature(fn) -> bool:
    try:
        inspect.signature(fn)
    except (TypeError, ValueError):
        return False
    return True


def trace_model(model, guide_trace, args: tuple, kwargs: dict):
    """The model's trace, replayed against the guide's samples (what the ELBO sees)."""
    return poutine.trace(poutine.replay(model, trace=guide_trace)).get_trace(*args, **kwargs)


def count_observed(model_trace) -> int:
    """Data points behind the observed sites (a minibatch counts as the full data set)."""
    total = 0.0
    for site in observed_sites(model_trace).values():
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
