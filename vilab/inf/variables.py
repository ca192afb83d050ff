"""The building blocks of a builder: random variables, parameters, the datamodel and the
Q-model's view of the data.

Every constructor returns a plain ``torch.Tensor`` (the sampled or observed value), so
arithmetic, ``.clamp`` and ``torch.nn`` modules work on it directly; what vilab knows about
the variable is in ``model.vars``. Inside ``inf.datamodel()`` a variable has one row per
data point; every other dimension is an event dimension, so students never write
``.to_event``.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np
import pyro
import pyro.distributions as dist
import torch
from pyro.distributions import constraints

from .context import current_run
from .errors import InfError, user_line


def as_tensor(value, dtype=None) -> torch.Tensor:
    """Numbers, lists and numpy arrays as tensors of torch's default float dtype."""
    if isinstance(value, torch.Tensor):
        return value if dtype is None else value.to(dtype)
    return torch.as_tensor(np.asarray(value), dtype=dtype or torch.get_default_dtype())


def _record(run, name, kind, local, value, fn=None, row_shape=()):
    run.records[name] = {
        "kind": kind,
        "local": local,
        "value": value,
        "distribution": type(fn.base_dist if hasattr(fn, "base_dist") else fn).__name__
        if fn is not None
        else None,
        "row_shape": tuple(row_shape),
    }


def _row_events(fn, name, run, local):
    """Make every non-plate dimension an event dimension; expand a local variable whose
    parameters are the same for every row to one row per data point."""
    batch = tuple(fn.batch_shape)
    if not local:
        return (fn.to_event(len(batch)) if batch else fn), batch
    known = run.event_shapes.get(name) if run.event_shapes is not None else None
    if known is None:  # structure trace (or an unknown Q name): a leading rows axis is rows
        has_rows = len(batch) >= 1 and batch[0] == run.rows
        row = batch[1:] if has_rows else batch
    elif batch == (run.rows, *known):
        has_rows, row = True, known
    elif batch == tuple(known):
        has_rows, row = False, known
    else:
        raise InfError(
            f"Expected the parameters of {name!r} to have shape {tuple(known)} (the same for "
            f"every row) or {(run.rows, *known)} (one row per data point), got {batch} at "
            f"{user_line()}. Fix: check the shapes of the arguments (and of the data)."
        )
    if not has_rows:
        fn = fn.expand(torch.Size((run.rows, *row)))
    return (fn.to_event(len(row)) if row else fn), row


def _constructor(dist_class):
    def make(*args, name=None, **kwargs):
        run = current_run(f"inf.{dist_class.__name__}")
        if name is None or name in run.records:
            run.claim(name, "random variable", user_line())
        local = run.in_datamodel
        if run.role == "q" and name in run.inputs:  # InferPy's placeholder for the data
            return observed(name)
        fn = dist_class(*map(_parameter, args), **{k: _parameter(v) for k, v in kwargs.items()})
        fn, row = _row_events(fn, name, run, local)
        obs = run.observed_value(name, local) if run.role == "p" else None
        value = pyro.sample(name, fn, obs=obs)
        _record(run, name, "random", local, value, fn, row)
        return value

    make.__name__ = make.__qualname__ = dist_class.__name__
    make.__doc__ = (
        f"A random variable with distribution ``pyro.distributions.{dist_class.__name__}``; "
        f"``name=`` is required. Returns its value (a tensor)."
    )
    return make


def _parameter(value):
    if isinstance(value, (int, float, list, tuple, np.ndarray, np.generic)):
        return as_tensor(value)
    return value


def Parameter(initial_value, name=None, constraint=constraints.real):  # noqa: N802
    """A point parameter trained by VI (``pyro.param``). Inside ``inf.datamodel()`` it has
    one row per data point (a non-amortised local parameter: usable for the training rows
    only)."""
    run = current_run("inf.Parameter")
    if name is None or name in run.records:
        run.claim(name, "parameter", user_line())
    init = as_tensor(initial_value)
    if run.in_datamodel:
        rows = (run.size, *init.shape)
        value = pyro.param(
            name, lambda: init.expand(rows).clone(), constraint=constraint, event_dim=init.dim()
        )
        run.per_row_params.add(name)
    else:
        value = pyro.param(name, lambda: init.clone(), constraint=constraint)
    _record(run, name, "parameter", run.in_datamodel, value, row_shape=init.shape)
    return value


def observed(name: str) -> torch.Tensor:
    """In a Q-model: the data of the P-model's observed variable ``name`` (what an encoder
    reads). InferPy wrote the same as a placeholder variable, ``inf.Normal(0, 1, name="x")``."""
    run = current_run("inf.observed")
    if run.role != "q":
        raise InfError(
            f"inf.observed({name!r}) reads data in a Q-model, got it in a P-model at "
            f"{user_line()}. Fix: in the P-model declare {name!r} as a random variable, e.g. "
            f'inf.Normal(0., 1., name="{name}"); the data then make it observed.'
        )
    local = run.event_shapes is not None and name in run.event_shapes
    value = run.observed_value(name, local)
    if value is None:
        given = sorted(run.data) or "none"
        raise InfError(
            f"Expected data for {name!r}, which the Q-model reads, got data for {given}. "
            f"Fix: pass it, e.g. posterior('z', data={{{name!r}: ...}})."
        )
    run.inputs_read.add(name)
    _record(run, name, "input", local, value)
    return value


@contextmanager
def datamodel(size: int | None = None):
    """The plate of the data: one row per data point. Its size comes from the data at fit
    or query time (``size`` is used only when no data give it). One level only."""
    run = current_run("inf.datamodel()")
    if run.in_datamodel:
        raise InfError(
            f"Expected one level of inf.datamodel(), got one inside another at {user_line()}. "
            f"Fix: put all the per-data-point variables in a single datamodel block."
        )
    if run.size is None:
        run.size = 1 if size is None else int(size)
    with pyro.plate("data", run.size, subsample=run.idx, dim=-1) as rows:
        run.in_datamodel = True
        try:
            yield rows
        finally:
            run.in_datamodel = False


Normal = _constructor(dist.Normal)
Bernoulli = _constructor(dist.Bernoulli)
Beta = _constructor(dist.Beta)
Binomial = _constructor(dist.Binomial)
Categorical = _constructor(dist.Categorical)
Cauchy = _constructor(dist.Cauchy)
Dirichlet = _constructor(dist.Dirichlet)
Exponential = _constructor(dist.Exponential)
Gamma = _constructor(dist.Gamma)
HalfCauchy = _constructor(dist.HalfCauchy)
HalfNormal = _constructor(dist.HalfNormal)
InverseGamma = _constructor(dist.InverseGamma)
Laplace = _constructor(dist.Laplace)
LogNormal = _constructor(dist.LogNormal)
MultivariateNormal = _constructor(dist.MultivariateNormal)
OneHotCategorical = _constructor(dist.OneHotCategorical)
Poisson = _constructor(dist.Poisson)
StudentT = _constructor(dist.StudentT)
Uniform = _constructor(dist.Uniform)

DISTRIBUTIONS = [
    "Bernoulli", "Beta", "Binomial", "Categorical", "Cauchy", "Dirichlet", "Exponential",
    "Gamma", "HalfCauchy", "HalfNormal", "InverseGamma", "Laplace", "LogNormal",
    "MultivariateNormal", "Normal", "OneHotCategorical", "Poisson", "StudentT", "Uniform",
]  # fmt: skip
