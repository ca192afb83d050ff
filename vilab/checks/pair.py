"""Checking a model/guide pair: what the Trainer runs before its first step, and
:func:`check` for plain Pyro code.

Example::

    from vilab.checks import check
    print(check(model, guide, data))      # "vilab found no problem..." or the messages
"""

from __future__ import annotations

import pyro
import pyro.poutine as poutine

from ..errors import ModelGuideMismatch
from ..scope import PrivateScope, get_rng_state, set_rng_state
from .data import (
    data_diagnostics,
    integer_observations,
    minibatch_unscaled,
    observed_types,
    plate_mismatch,
)
from .messages import Diagnostic, Diagnostics, report
from .params import stale_params, unconstrained_scales
from .sites import (
    empty_bodies,
    guide_samples_observed,
    missing_guide_sites,
    shape_mismatch,
    unknown_guide_sites,
)
from .supports import support_mismatch
from .traces import trace_guide, trace_model

# The checks that need only the two traces, in the order a student should fix them.
SITE_CHECKS = (
    missing_guide_sites,
    unknown_guide_sites,
    guide_samples_observed,
    shape_mismatch,
    support_mismatch,
)


def diagnose_traces(model_trace, guide_trace, num_data: int | None = None) -> Diagnostics:
    """Every diagnostic readable from one guide trace and the model trace replayed on it.

    ``num_data`` is the full data set's size when the caller minibatches (diagnostic 9).
    """
    found = Diagnostics(empty_bodies(model_trace, guide_trace))
    found.extend(observed_types(model_trace))
    for site_check in SITE_CHECKS:
        found.extend(site_check(model_trace, guide_trace))
    found.extend(unconstrained_scales(model_trace, guide_trace))
    found.extend(plate_mismatch(model_trace))
    found.extend(integer_observations(model_trace))
    if num_data is not None:
        found.extend(minibatch_unscaled(model_trace, num_data))
    return found


def check_traces(model_trace, guide_trace, num_data: int | None = None) -> None:
    """Warn about soft problems and raise :class:`ModelGuideMismatch` for the errors."""
    report(diagnose_traces(model_trace, guide_trace, num_data))


def trace_pair(model, guide, args: tuple, kwargs: dict, explain: bool = True):
    """(guide trace, model trace replayed on it), as the ELBO computes them.

    If the model fails on the guide's values (a guide site of the wrong shape often makes
    the model's arithmetic fail), and ``explain`` is on, we trace the model on its own prior
    and raise a :class:`ModelGuideMismatch` naming the site, chained to the original error.
    """
    guide_trace = trace_guide(guide, args, kwargs, model=model)
    try:
        return guide_trace, trace_model(model, guide_trace, args, kwargs)
    except Exception as exc:
        if not explain:
            raise
        found = _explain_replay_failure(model, guide_trace, args, kwargs)
        if not found:
            raise
        error = ModelGuideMismatch(
            f"The model failed when run on the guide's samples ({type(exc).__name__}: {exc}). "
            f"The likely reason:\n\n" + "\n\n".join(map(str, found))
        )
        error.diagnostics = found
        raise error from exc


def _explain_replay_failure(model, guide_trace, args, kwargs) -> list[Diagnostic]:
    rng = get_rng_state()
    try:
        prior_trace = poutine.trace(model).get_trace(*args, **kwargs)
    except Exception:
        return []
    finally:
        set_rng_state(rng)
    found = []
    for site_check in SITE_CHECKS:
        found.extend(site_check(prior_trace, guide_trace))
    return [d for d in found if d.severity == "error"]


def diagnose(
    model,
    guide,
    args: tuple = (),
    kwargs: dict | None = None,
    *,
    num_data: int | None = None,
    store=None,
) -> Diagnostics:
    """:func:`check` with explicit ``args``/``kwargs`` and options.

    The pair is traced in a private, empty parameter store with its own random stream, so
    checking changes neither Pyro's global store nor the random state; what the global
    ``store`` (default: Pyro's) already holds is compared with the inits (diagnostic 10).
    """
    kwargs = dict(kwargs or {})
    found = Diagnostics(data_diagnostics(args, kwargs))
    if any(d.severity == "error" for d in found):
        return found
    scope = PrivateScope(seed=0)
    try:
        with scope:
            guide_trace, model_trace = trace_pair(model, guide, args, kwargs)
    except ModelGuideMismatch as error:
        if not hasattr(error, "diagnostics"):
            raise
        found.extend(error.diagnostics)
        return found
    found.extend(diagnose_traces(model_trace, guide_trace, num_data))
    inits = {
        name: site["value"].detach()
        for trace in (guide_trace, model_trace)
        for name, site in trace.nodes.items()
        if site["type"] == "param"
    }
    found.extend(stale_params(inits, pyro.get_param_store() if store is None else store))
    return found


def check(model, guide, *args, **kwargs) -> Diagnostics:
    """Diagnose a model/guide pair called with ``(*args, **kwargs)``, without training.

    Returns a list of :class:`~vilab.checks.Diagnostic` (empty when all is well) that prints
    as the messages. Works on plain Pyro code too; nothing is raised or warned, and
    Pyro's global parameter store and random state are left as they were.

    Example::

        print(check(model, guide, data))
    """
    return diagnose(model, guide, args, kwargs)
