"""Parameters that will bite later: a scale with no positivity constraint, and a value left
in Pyro's global parameter store by an earlier run.

*Unconstrained scale.* ``pyro.param("b", torch.tensor(1.0))`` passed as the scale of a
Normal is fine until an optimiser step takes it below zero; then the Normal is invalid and
training stops. We find the parameters whose tensor *is* a positive-only argument of a
distribution (same storage: the parameter itself or a view of it, not ``exp(b)``) while the
parameter was declared without a constraint.

*Stale parameters* (pyro issue #3094). ``pyro.param(name, init)`` returns the stored value
whenever the global store already holds ``name``: re-running a notebook cell continues
from the earlier run, and an init of a new shape is ignored. A :class:`~vilab.Trainer`
keeps its own private store and is immune; :func:`vilab.checks.check` on plain Pyro code
compares the global store with the inits.
"""

from __future__ import annotations

import pyro
import torch

from .messages import Diagnostic
from .supports import describe_support, interval_of
from .traces import sample_sites


def _storage(tensor) -> int | None:
    try:
        return tensor.untyped_storage().data_ptr()
    except (AttributeError, RuntimeError):
        return None


def _distribution_parts(fn):
    """The distribution and the ones it wraps (.to_event, .expand, .mask, transforms)."""
    while fn is not None:
        yield fn
        fn = getattr(fn, "base_dist", None)


def _is_unconstrained(value) -> bool:
    """Was this parameter declared without a constraint? The param store hands out the
    unconstrained tensor itself exactly then (PyroModule params, e.g. AutoNormal's
    scales, are traced with constraint=real even when constrained, so we do not read it)."""
    unconstrained = getattr(value, "unconstrained", None)
    return callable(unconstrained) and unconstrained() is value


def scale_uses(*traces) -> list[tuple]:
    """(param, site, distribution, argument, its constraint) for each unconstrained
    parameter used directly as an argument that must be positive (a scale, a rate, a
    concentration...) or within bounds (a probability)."""
    params = {}
    for trace in traces:
        for name, site in trace.nodes.items():
            if site["type"] == "param" and _is_unconstrained(site["value"]):
                storage = _storage(site["value"])
                if storage is not None:
                    params[storage] = name
    found, seen = [], set()
    for trace in traces:
        for site_name, site in sample_sites(trace).items():
            for fn in _distribution_parts(site["fn"]):
                for arg, required in getattr(fn, "arg_constraints", {}).items():
                    value = vars(fn).get(arg)
                    if not isinstance(value, torch.Tensor) or _storage(value) not in params:
                        continue
                    bounds = interval_of(required)
                    if bounds is None or bounds[0] < 0:  # loc-like arguments may be negative
                        continue
                    key = (params[_storage(value)], site_name, arg)
                    if key not in seen:
                        seen.add(key)
                        found.append((*key[:2], type(fn).__name__, arg, required))
    return found


def constraint_text(required) -> str:
    """How to write ``required`` in a pyro.param call."""
    lo, hi = interval_of(required)
    if (lo, hi) == (0.0, float("inf")):
        return "constraints.positive"
    if (lo, hi) == (0.0, 1.0):
        return "constraints.unit_interval"
    if hi == float("inf"):
        return f"constraints.greater_than({lo:g})"
    return f"constraints.interval({lo:g}, {hi:g})"


def _init_text(value: torch.Tensor) -> str:
    if value.dim() == 0:
        return f"torch.tensor({round(float(value.detach()), 4)!r})"
    return f"torch.ones({tuple(value.shape)})"


def unconstrained_scales(model_trace, guide_trace) -> list[Diagnostic]:
    """Diagnostic 7, before training: a positive-only argument fed by an unconstrained param."""
    uses: dict[str, list] = {}
    for param, site, dist_name, arg, required in scale_uses(guide_trace, model_trace):
        uses.setdefault(param, []).append((site, dist_name, arg, required))
    found = []
    for param, where in uses.items():
        value = (guide_trace.nodes.get(param) or model_trace.nodes[param])["value"]
        site, dist_name, arg, required = where[0]
        sites = " and ".join(f"the {a} of the {d} at {s!r}" for s, d, a, _ in where)
        found.append(
            Diagnostic(
                "unconstrained-scale",
                param,
                f"The parameter {param!r} is {sites}, which only accept "
                f"{describe_support(required)}, but {param!r} was declared without a "
                f"constraint. As soon as an optimiser step takes it out of that range, the "
                f"{dist_name} is invalid and training stops (ValueError or NaN).",
                model=f"the {dist_name}'s {arg} accepts only {describe_support(required)}",
                guide=f"pyro.param({param!r}, ...) with no constraint: any real number",
                labels=("needs", "param"),
                fix=f"pyro.param({param!r}, {_init_text(value)}, "
                f"constraint={constraint_text(required)})  "
                f"(from pyro.distributions import constraints).",
            )
        )
    return found


def stale_params(init_values: dict[str, torch.Tensor], store=None) -> list[Diagnostic]:
    """Diagnostic 10: the global store already holds some of these params (an earlier run).

    ``init_values`` are the values the model and guide create in an *empty* store.
    """
    store = pyro.get_param_store() if store is None else store
    found = []
    for name, init in init_values.items():
        if name not in store.keys():
            continue
        held = store[name].detach()
        if held.shape != init.shape:
            found.append(
                Diagnostic(
                    "stale-param-shape",
                    name,
                    f"Pyro's global parameter store still holds {name!r} from an earlier run, "
                    f"with shape {tuple(held.shape)}; the code now creates it with shape "
                    f"{tuple(init.shape)}. pyro.param ignores the new init and returns the "
                    f"old tensor, so shapes will not fit.",
                    model=f"shape {tuple(init.shape)} (what the code creates)",
                    guide=f"shape {tuple(held.shape)} (left by an earlier run)",
                    labels=("init", "store"),
                    fix="run pyro.clear_param_store() before training (or train with "
                    "vilab.Trainer, which keeps its own parameters).",
                )
            )
        elif not torch.allclose(held.to(init.dtype), init.detach(), equal_nan=True):
            found.append(
                Diagnostic(
                    "stale-param-value",
                    name,
                    f"Pyro's global parameter store already holds {name!r} with a value that "
                    f"differs from its init: you are continuing from an earlier run (e.g. a "
                    f"re-run notebook cell), not starting fresh.",
                    model=_summary(init),
                    guide=_summary(held),
                    labels=("init", "store"),
                    fix="pyro.clear_param_store() to start fresh (a vilab.Trainer always "
                    "starts from its own empty store).",
                )
            )
    return found


def _summary(value: torch.Tensor) -> str:
    if value.numel() == 1:
        return f"{float(value):.4g}"
    return f"shape {tuple(value.shape)}, mean {float(value.float().mean()):.4g}"
