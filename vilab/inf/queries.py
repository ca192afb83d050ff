"""Queries: ``prior``, ``posterior``, ``posterior_predictive`` and ``predict``.

Each returns a :class:`Query`; ``.sample()`` runs it once and ``.sample(n)`` n times
(stacked on a new first axis), giving numpy arrays by name, or the bare array for a single
target, as InferPy did. Any number of rows works in one call: the datamodel takes its size
from the data given to the query (InferPy required the training size: its issues #179 and
#207).
"""

from __future__ import annotations

import numpy as np
import pyro.poutine as poutine
import torch

from ..validation import whole_number
from .errors import InfError, names
from .inference import MCMC

_SIZE_FIX = "pass a number of draws, e.g. size=100."


class Query:
    """A query of a model: ``draw()`` gives name -> (value, distribution) for one run."""

    def __init__(self, p, targets: list[str], draw, samples=None):
        self.p, self.targets, self._draw, self._samples = p, targets, draw, samples

    def _runs(self, size):
        size = whole_number("size", size, fix=_SIZE_FIX, error=InfError)
        with self.p.parameters_active():
            return [self._draw() for _ in range(size)]

    def sample(self, size: int = 1, simplify_result: bool = True):
        """One draw (``size=1``: no extra axis) or ``size`` draws stacked on axis 0."""
        runs = self._runs(size)
        out = {}
        for name in self.targets:
            values = [_numpy(run[name][0]) for run in runs]
            out[name] = values[0] if size == 1 else np.stack(values)
        return _simplify(out) if simplify_result else out

    def parameters(self, names=None, simplify_result: bool = True):
        """The parameters of each target's distribution, e.g. ``{"loc": ..., "scale": ...}``
        (after MCMC: ``{"samples": ...}``); ``names`` picks some of them. A variable under
        the automatic guide (AutoNormal) of a constrained support, e.g. positive, reports the
        loc and scale of its unconstrained (log) value."""
        if self._samples is not None:
            out = {t: {"samples": _numpy(self._samples[t])} for t in self.targets}
        else:
            (run,) = self._runs(1)
            out = {t: _distribution_parameters(run[t][1]) for t in self.targets}
        if names is not None:
            wanted = [names] if isinstance(names, str) else list(names)
            out = {t: {k: v for k, v in d.items() if k in wanted} for t, d in out.items()}
        return _simplify(out) if simplify_result else out


def prior(p, targets, data, size) -> Query:
    """Draws from the P-model; ``data`` fixes variables, ``size`` is the datamodel's size
    when the data do not give it."""
    tensors, rows = p.prepare_data(data, "the data of prior()")
    size = whole_number("size", size, fix=_SIZE_FIX, error=InfError)
    targets = _targets(p, targets, p.random_names(), "prior")
    model = p.pyro_model(tensors, rows or size)
    return Query(p, targets, lambda: _sites(poutine.trace(model).get_trace()))


def posterior(p, targets, data) -> Query:
    """q of the unobserved variables; with ``data``, of the local ones for those rows."""
    _require_fit(p, "posterior")
    targets = _targets(p, targets, p.latent_names(), "posterior")
    observed = [t for t in targets if t in p.observed]
    if observed:
        raise InfError(
            f"Expected unobserved variables for posterior(), got {names(observed)}, which were "
            f"observed in fit: they have no posterior. Fix: posterior_predictive("
            f"{observed[0]!r}) draws them given the posterior."
        )
    tensors, rows = p.prepare_data(data, "the data of posterior()")
    local = [t for t in targets if p.vars[t].local]
    if isinstance(p.inference, MCMC):
        if rows is not None and local:
            raise InfError(
                f"Expected no new data for the local {names(local)} after MCMC, which sampled "
                f"them for the training rows only. Fix: posterior({local[0]!r}) without data."
            )
        return _mcmc_query(p, targets)
    guide = p.inference.guide
    if rows is not None and local:
        _require_amortised(guide, local)
    size = rows or p.train_size
    data = tensors if rows is not None else {**p.train_data, **tensors}

    def draw():
        with poutine.trace() as capture:
            guide.run_q(data, size)
        return _sites(capture.trace)

    return Query(p, targets, draw)


def posterior_predictive(p, targets, data) -> Query:
    """The observed variables, with the global latents from the posterior and the local
    ones from the prior unless ``data`` gives them (InferPy's definition)."""
    _require_fit(p, "posterior_predictive")
    targets = _targets(p, targets, [n for n in p.random_names() if n in p.observed], "")
    unobserved = [t for t in targets if t not in p.observed]
    if unobserved:
        raise InfError(
            f"Expected variables observed in fit for posterior_predictive(), got "
            f"{names(unobserved)}. Fix: posterior({unobserved[0]!r}) for a latent variable."
        )
    tensors, rows = p.prepare_data(data, "the data of posterior_predictive()")
    model = p.pyro_model(tensors, rows or p.train_size)
    global_latents = [n for n in p.latent_names() if not p.vars[n].local]

    def draw():
        fixed = _global_draw(p, global_latents)
        return _sites(poutine.trace(poutine.condition(model, data=fixed)).get_trace())

    return Query(p, targets, draw)


def predict(p, targets, data) -> Query:
    """The observed variables not in ``data``, with every latent (local ones included) from
    the Q-model given ``data``: e.g. ``predict("y", data={"x": x})`` through the encoder."""
    _require_fit(p, "predict")
    tensors, rows = p.prepare_data(data, "the data of predict()")
    default = [n for n in p.random_names() if n in p.observed and n not in tensors]
    targets = _targets(p, targets, default, "predict")
    if isinstance(p.inference, MCMC):
        return posterior_predictive(p, targets, data)
    guide, size = p.inference.guide, rows or p.train_size
    latents = p.latent_names()
    if rows is not None:
        _require_amortised(guide, [n for n in latents if p.vars[n].local])
    model = p.pyro_model(tensors, size)

    def draw():
        with poutine.trace() as capture:
            guide.run_q(tensors if rows is not None else p.train_data, size)
        fixed = {n: s[0] for n, s in _sites(capture.trace).items() if n in latents}
        return _sites(poutine.trace(poutine.condition(model, data=fixed)).get_trace())

    return Query(p, targets, draw)


# -- helpers ----------------------------------------------------------------------------------


def _targets(p, targets, default, query) -> list[str]:
    if targets is None:
        return list(default)
    targets = [targets] if isinstance(targets, str) else list(targets)
    unknown = [t for t in targets if t not in p.random_names()]
    if unknown:
        raise InfError(
            f"Expected names of the model's random variables, got {names(unknown)}. The "
            f"model has {names(p.random_names())}."
        )
    return targets


def _require_fit(p, query):
    if p.inference is None:
        raise InfError(
            f"Expected a fitted model for {query}(), got one not fitted yet. Fix: "
            f"p.fit(data, inf.inference.VI(q, epochs=...)) first; prior() needs no fit."
        )


def _require_amortised(guide, local):
    per_row = sorted(guide.per_row)
    if not per_row:
        return
    raise InfError(
        f"Expected a Q-model that computes {names(local)} from the data (an encoder), got one "
        f"with one parameter per training row ({names(per_row)}): its posterior exists only "
        f"for the training rows. Fix: query without data for the training rows, or write "
        f"the Q-model with an encoder, e.g. out = enc(inf.observed('x'))."
    )


def _global_draw(p, global_latents) -> dict:
    if isinstance(p.inference, MCMC):
        samples = p.inference.samples
        i = int(torch.randint(len(next(iter(samples.values()))), ()))
        return {n: samples[n][i] for n in global_latents}
    with poutine.trace() as capture:  # one training row: enough to run the Q-model
        p.inference.guide.run_q(p.train_data, p.train_size, torch.arange(1))
    return {n: s[0] for n, s in _sites(capture.trace).items() if n in global_latents}


def _mcmc_query(p, targets) -> Query:
    samples = p.inference.samples

    def draw():
        i = int(torch.randint(len(samples[targets[0]]), ()))
        return {t: (samples[t][i], None) for t in targets}

    return Query(p, targets, draw, samples=samples)


def _sites(trace) -> dict:
    """name -> (value, distribution). AutoNormal samples a variable as a Delta of its
    ``<name>_unconstrained`` Normal: that Normal is the distribution reported (on the
    unconstrained scale, e.g. log for a positive variable)."""
    sites = {}
    for name, site in trace.nodes.items():
        if site["type"] != "sample" or site["infer"].get("is_auxiliary"):
            continue
        aux = trace.nodes.get(f"{name}_unconstrained")
        sites[name] = (site["value"], aux["fn"] if aux is not None else site["fn"])
    return sites


def _distribution_parameters(fn) -> dict:
    while hasattr(fn, "base_dist"):
        fn = fn.base_dist
    return {k: _numpy(getattr(fn, k)) for k in fn.arg_constraints if hasattr(fn, k)}


def _numpy(value) -> np.ndarray:
    return value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)


def _simplify(out: dict):
    return next(iter(out.values())) if len(out) == 1 else out
