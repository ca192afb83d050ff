"""Posterior samples as an ArviZ ``InferenceData``: vilab's results in the field's own tools.

Any source of samples goes through one function, :func:`from_samples` (a dict of arrays, the
first axis the draws); :func:`from_trainer` (VI: draws from the trained guide, vectorised),
:func:`from_nuts` (the dict of :func:`vilab.reference.run_nuts`) and :func:`from_mcmc` (a
Pyro ``MCMC``, with its divergences) call it. Given the model and its data, the groups
``observed_data`` and ``posterior_predictive`` are filled in, and every axis that belongs to
a ``pyro.plate`` is named after it (dims ``("chain", "draw", "data")`` for a site in
``pyro.plate("data", N)``), so VI and NUTS line up in ``az.plot_forest``::

    import arviz as az
    from vilab.arviz_export import from_nuts, from_trainer
    vi = from_trainer(trainer)                            # q's draws, data, predictions
    nuts = from_nuts(samples, model=model, args=(x, y))
    az.summary(vi)
    az.plot_forest([vi, nuts], model_names=["VI", "NUTS"], var_names=["w"])
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pyro.poutine as poutine
import torch

from .checks.pair import trace_pair
from .checks.traces import is_deterministic, latent_sites, observed_sites, sample_sites
from .scope import PrivateScope
from .validation import whole_number


def _arviz():
    """ArviZ, imported on first use (it is slow to import), without its 1.0 banner."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "\\s*ArviZ is undergoing", FutureWarning)
        import arviz

    return arviz


@dataclass
class SiteLayout:
    """What one trace of the model says about its sites: their shapes, the names of their
    axes (a plate's name, else ``<site>_dim_<i>``), the plates' coordinates and the data."""

    shapes: dict[str, tuple] = field(default_factory=dict)
    dims: dict[str, list[str]] = field(default_factory=dict)
    coords: dict[str, np.ndarray] = field(default_factory=dict)
    latent: list[str] = field(default_factory=list)
    observed: dict[str, np.ndarray] = field(default_factory=dict)


def site_layout(model_trace) -> SiteLayout:
    """Read shapes, plate dims and observed data from one trace of a model."""
    layout = SiteLayout()
    data_sites = observed_sites(model_trace)
    for name, site in sample_sites(model_trace).items():
        shape = tuple(site["value"].shape)
        batch_ndim = len(shape) - site["fn"].event_dim
        dims = [f"{name}_dim_{i}" for i in range(len(shape))]
        for frame in site["cond_indep_stack"]:
            axis = batch_ndim + frame.dim if frame.vectorized else -1
            size = len(layout.coords.get(frame.name, range(frame.size)))
            if 0 <= axis < batch_ndim and shape[axis] == frame.size == size:
                dims[axis] = frame.name  # a broadcast axis of size 1 keeps its own name
                layout.coords[frame.name] = np.arange(frame.size)
        layout.shapes[name], layout.dims[name] = shape, dims
        if name in data_sites:
            layout.observed[name] = _numpy(site["value"])
    deterministic = [n for n, s in sample_sites(model_trace).items() if is_deterministic(s)]
    layout.latent = latent_sites(model_trace) + deterministic
    return layout


def from_samples(
    posterior: dict,
    *,
    posterior_predictive: dict | None = None,
    observed_data: dict | None = None,
    sample_stats: dict | None = None,
    num_chains: int = 1,
    layout: SiteLayout | None = None,
    dims: dict | None = None,
    coords: dict | None = None,
    attrs: dict | None = None,
):
    """An ``InferenceData`` from dicts of samples (torch tensors or numpy arrays).

    In ``posterior``, ``posterior_predictive`` and ``sample_stats`` the first axis holds the
    draws; with ``num_chains > 1`` it holds the chains one after the other (as
    ``MCMC.get_samples()`` returns them). ``observed_data`` has no draw axis. ``layout``
    (from :func:`site_layout`) names the plate axes; ``dims``/``coords`` add or override
    names, e.g. ``dims={"w": ["feature"]}, coords={"feature": ["rugged", "gdp"]}``.
    """
    if not isinstance(posterior, dict) or not posterior:
        raise TypeError(
            f"Expected the posterior samples as a non-empty dict {{site name: array with the "
            f"draws on axis 0}}, got {type(posterior).__name__}. Fix: pass e.g. "
            f"trainer.sample_posterior(1000) or the dict that run_nuts returns."
        )
    num_chains = whole_number(
        "num_chains", num_chains, fix="num_chains=1 for one stream of draws (the default)."
    )
    layout = layout or SiteLayout()
    groups = {"posterior": posterior, "posterior_predictive": posterior_predictive}
    groups["sample_stats"] = sample_stats
    arrays = {
        group: {name: _by_chain(name, value, num_chains) for name, value in samples.items()}
        for group, samples in groups.items()
        if samples
    }
    observed = {k: _numpy(v) for k, v in (observed_data or layout.observed).items()}
    all_dims = {}
    for samples in [*arrays.values(), observed]:
        for name, value in samples.items():
            shape = value.shape if samples is observed else value.shape[2:]
            if tuple(shape) == layout.shapes.get(name):
                all_dims[name] = layout.dims[name]
    all_dims.update(dims or {})
    used = {d for names in all_dims.values() for d in names}
    all_coords = {k: v for k, v in layout.coords.items() if k in used}
    all_coords.update(coords or {})
    return _arviz().from_dict(
        **arrays,
        observed_data=observed or None,
        dims=all_dims,
        coords=all_coords,
        attrs={"created_by": "vilab", **(attrs or {})},
    )


def from_trainer(trainer, num_samples: int = 1000, *, predictive: bool = True, **options):
    """The guide's current posterior q as an ``InferenceData``: ``num_samples`` draws of
    every latent site, the observed data (of the trainer's next step), and with
    ``predictive=True`` the observed sites drawn anew from the model given each draw
    (posterior predictive; ``pyro.deterministic`` values go to the posterior).

    The draws come from :func:`vilab.predictive.sample_latents` and
    :func:`~vilab.predictive.posterior_predictive`: one vectorised call where the model
    allows it, else a loop; the trainer's random stream is untouched, so the same call gives
    the same draws. ``options`` go to :func:`from_samples` (``dims``, ``coords``).
    """
    from .predictive import posterior_predictive, sample_latents

    args, kwargs = trainer._step_args(trainer.num_steps_done)  # the data of the next step
    with trainer.activated(), torch.no_grad():
        _, model_trace = trace_pair(trainer.model, trainer.guide, args, kwargs, explain=False)
    layout = site_layout(model_trace)
    draws = sample_latents(trainer, num_samples)
    if predictive:  # the same latent draws (the same random state), then the data
        draws.update(posterior_predictive(trainer, num_samples=num_samples))
    attrs = {"inference": "SVI", "num_steps": trainer.num_steps_done}
    if len(trainer.history):
        attrs["final_elbo"] = -float(trainer.history.loss[-1])
    return _split(draws, layout, attrs, options)


def from_nuts(
    samples: dict,
    *,
    model=None,
    args: tuple = (),
    kwargs: dict | None = None,
    num_chains: int = 1,
    predictive: bool = True,
    seed: int = 0,
    vectorize: bool | None = None,
    **options,
):
    """NUTS (or any posterior) samples, e.g. from :func:`vilab.reference.run_nuts`. With
    the ``model`` and its data, the plate dims, the observed data and (``predictive=True``)
    the posterior predictive draws (seeded by ``seed``) are added."""
    if model is None:
        return from_samples(samples, num_chains=num_chains, attrs={"inference": "NUTS"}, **options)
    kwargs = dict(kwargs or {})
    with PrivateScope(seed), torch.no_grad():
        layout = site_layout(poutine.trace(model).get_trace(*args, **kwargs))
        samples = {k: torch.as_tensor(v) for k, v in samples.items()}
        draws = dict(samples)
        if predictive:
            num_samples = len(next(iter(samples.values())))
            sites = list(layout.observed) + [n for n in layout.latent if n not in samples]
            predicted = _predict(model, args, kwargs, num_samples, sites, vectorize, samples)
            draws.update(predicted)
    return _split(draws, layout, {"inference": "NUTS"}, {"num_chains": num_chains, **options})


def from_mcmc(mcmc, *, model=None, args: tuple = (), kwargs: dict | None = None, **options):
    """A Pyro ``MCMC`` after ``run``: its samples by chain plus its divergences in
    ``sample_stats["diverging"]``; ``model``/``args`` as in :func:`from_nuts`."""
    samples = mcmc.get_samples(group_by_chain=True)
    num_chains, num_draws = next(iter(samples.values())).shape[:2]
    flat = {k: v.reshape((num_chains * num_draws,) + v.shape[2:]) for k, v in samples.items()}
    divergences = mcmc.diagnostics().get("divergences", {})
    diverging = np.zeros((num_chains, num_draws), dtype=bool)
    for chain, (_, where) in enumerate(sorted(divergences.items())):
        diverging[chain, where] = True
    options.setdefault("sample_stats", {"diverging": diverging.reshape(-1)})
    return from_nuts(flat, model=model, args=args, kwargs=kwargs, num_chains=num_chains, **options)


def _split(draws: dict, layout: SiteLayout, attrs: dict, options: dict):
    """Sort the draws into posterior and posterior predictive, in the trace's shapes."""
    posterior, predictive = {}, {}
    for name, value in draws.items():
        shape = layout.shapes.get(name)
        if shape is not None and value[0].numel() == int(np.prod(shape)):
            value = value.reshape((len(value),) + shape)  # Predictive pads plate axes
        (predictive if name in layout.observed else posterior)[name] = value
    options.setdefault("posterior_predictive", predictive)
    return from_samples(posterior, layout=layout, attrs=attrs, **options)


def _predict(model, args, kwargs, num_samples, sites, vectorize, samples) -> dict:
    """Pyro's Predictive given posterior ``samples``, with the data sites freed (drawn anew).
    Vectorised first (one call for all draws); a model that cannot run vectorised (it
    indexes or reshapes its own batch axes) falls back to a loop unless ``vectorize``."""
    from pyro.infer import Predictive

    from .predictive import _FreeObservations  # uncondition, but for data sites only

    def draw(parallel: bool) -> dict:
        predictive = Predictive(
            _FreeObservations()(model),
            posterior_samples=samples,
            num_samples=num_samples,
            return_sites=sites,
            parallel=parallel,
        )
        return {k: v.detach() for k, v in predictive(*args, **kwargs).items()}

    if vectorize is not None:
        return draw(vectorize)
    try:
        return draw(True)
    except (RuntimeError, ValueError, IndexError):
        return draw(False)


def _by_chain(name: str, value, num_chains: int) -> np.ndarray:
    array = _numpy(value)
    if array.ndim == 0 or len(array) % num_chains:
        raise ValueError(
            f"Expected the samples of {name!r} with the draws on axis 0, a multiple of "
            f"num_chains={num_chains}, got shape {array.shape}. Fix: stack the draws on axis 0."
        )
    return array.reshape((num_chains, len(array) // num_chains) + array.shape[1:])


def _numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)
